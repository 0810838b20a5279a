"""The patches applied to LLaMA-Factory when it is imported (see :mod:`.import_hook`).

Two independent, all-or-nothing patches, each guarded on the LLaMA-Factory version
(:data:`univg_plugin.compat.LLAMAFACTORY`):

- when ``llamafactory.data.converter`` is imported: register the ``univg`` dataset converter, so a
  ``dataset_info.json`` entry may say ``"formatting": "univg"`` (or ``"univg:<format>"`` for any
  registered dataset format);
- when ``llamafactory.train.tuner`` is imported: swap the ``FinetuningArguments`` dataclass that the
  training-argument parser uses for :class:`~.hparams.GRPOFinetuningArguments` (which accepts
  ``stage: grpo`` and the GRPO keys, still rejecting unknown ones), and route ``stage: grpo`` from
  ``_training_function`` to :func:`.workflow.run_grpo_training`. Every other stage goes through
  LLaMA-Factory's own function untouched.

An unsupported LLaMA-Factory version gets one warning and no patch at all.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from ...compat import LLAMAFACTORY, installed_version
from . import CONVERTER_NAME, DISABLE_VARIABLE

logger = logging.getLogger("univg_plugin")
#: What was applied in this process (read by :func:`.status.integration_status`).
applied: dict[str, Any] = {"converter": False, "stage": False}


@functools.lru_cache(maxsize=1)
def _supported() -> bool:
    version = installed_version("llamafactory")
    if version is not None and LLAMAFACTORY.accepts(version):
        return True
    logger.warning(
        "univg-plugin: llamafactory %s is not supported (supported: %s); the GRPO stage and the 'univg' "
        "dataset format are off. Install a supported llamafactory, or set %s=1 to silence this.",
        version,
        LLAMAFACTORY.describe(),
        DISABLE_VARIABLE,
    )
    return False


def _converter_factory(format_name: str):
    """What LLaMA-Factory's registry holds: builds a :class:`.converter.UnivgDatasetConverter` on use.

    Registering a factory instead of the class keeps the import of LLaMA-Factory free of ours (and
    of the circular import when our converter module is the one that imports LLaMA-Factory's).
    """

    def build(dataset_attr, data_args):
        from .converter import UnivgDatasetConverter

        return UnivgDatasetConverter(dataset_attr, data_args, format_name)

    return build


def on_converter_imported(module) -> None:
    """Register ``univg`` (our jsonl) and ``univg:<format>`` (every registered dataset format) as converters."""
    if not _supported() or CONVERTER_NAME in module.DATASET_CONVERTERS:
        return
    from ...data.formats import FORMATS

    module.register_dataset_converter(CONVERTER_NAME, _converter_factory("univg"))
    for name in FORMATS.names():
        module.register_dataset_converter(f"{CONVERTER_NAME}:{name}", _converter_factory(name))
    applied["converter"] = True


def requested_stage(args: dict[str, Any] | list[str] | None) -> str | None:
    """The ``stage`` a training call asks for, read from the raw YAML dict or command-line list."""
    if isinstance(args, dict):
        return args.get("stage")
    if isinstance(args, list):
        for index, item in enumerate(args):
            if item.startswith("--stage="):
                return item.split("=", 1)[1]
            if item == "--stage" and index + 1 < len(args):
                return args[index + 1]
    return None


def on_tuner_imported(module) -> None:
    """Accept ``stage: grpo`` in the parser and route it to our workflow (both or neither)."""
    if not _supported():
        return
    from llamafactory.hparams import FinetuningArguments, parser

    from .hparams import GRPOFinetuningArguments

    try:  # check every precondition before changing anything
        position = parser._TRAIN_ARGS.index(FinetuningArguments)
        original = module._training_function
    except (AttributeError, ValueError) as error:
        logger.warning("univg-plugin: LLaMA-Factory's layout is not the expected one (%s); no GRPO stage", error)
        return

    @functools.wraps(original)
    def training_function(config: dict[str, Any]) -> None:
        if requested_stage(config.get("args")) == "grpo":
            from .workflow import run_grpo_training

            return run_grpo_training(config)
        return original(config)

    parser._TRAIN_ARGS[position] = GRPOFinetuningArguments
    module._training_function = training_function
    applied["stage"] = True

"""The patches applied to LLaMA-Factory when it is imported (see :mod:`.startup`).

Two independent, all-or-nothing patches, each guarded on the LLaMA-Factory version:

- when ``llamafactory.data.converter`` is imported: register the ``univg`` dataset converter, so a
  ``dataset_info.json`` entry may say ``"formatting": "univg"``;
- when ``llamafactory.train.tuner`` is imported: swap the ``FinetuningArguments`` dataclass that the
  training-argument parser uses for :class:`~.hparams.GRPOFinetuningArguments` (which accepts
  ``stage: grpo`` and the GRPO keys, still rejecting unknown ones), and route ``stage: grpo`` from
  ``_training_function`` to :func:`.workflow.run_grpo_training`. Every other stage goes through
  LLaMA-Factory's own function untouched.

An unsupported LLaMA-Factory version gets one warning and no patch at all.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import logging
import os
from typing import Any

from .startup import installed

SUPPORTED_VERSIONS = ("0.9.5",)
DISABLE_VARIABLE = "UNIVG_PLUGIN_DISABLE"
CONVERTER_NAME = "univg"

logger = logging.getLogger("univg_plugin")
_state: dict[str, Any] = {"converter": False, "stage": False, "refused": None}


def _llamafactory_version() -> str | None:
    try:
        return importlib.metadata.version("llamafactory")
    except importlib.metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def _supported() -> bool:
    version = _llamafactory_version()
    if version in SUPPORTED_VERSIONS:
        return True
    _state["refused"] = version
    logger.warning(
        "univg-plugin: llamafactory %s is not supported (supported: %s); the GRPO stage and the 'univg' "
        "dataset format are off. Install llamafactory==%s, or set %s=1 to silence this.",
        version,
        ", ".join(SUPPORTED_VERSIONS),
        SUPPORTED_VERSIONS[-1],
        DISABLE_VARIABLE,
    )
    return False


def _univg_converter(dataset_attr, data_args):
    """What the registry holds for ``univg``: builds :class:`.converter.UnivgDatasetConverter` on use.

    Registering this factory instead of the class keeps the import of LLaMA-Factory free of ours (and
    of the circular import when our converter module is the one that imports LLaMA-Factory's).
    """
    from .converter import UnivgDatasetConverter

    return UnivgDatasetConverter(dataset_attr, data_args)


def on_converter_imported(module) -> None:
    """Register the ``univg`` dataset converter in LLaMA-Factory's converter registry."""
    if not _supported() or CONVERTER_NAME in module.DATASET_CONVERTERS:
        return
    module.register_dataset_converter(CONVERTER_NAME, _univg_converter)
    _state["converter"] = True


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
    _state["stage"] = True


def hook_status() -> tuple[bool, str]:
    """For ``univg doctor``: whether the LLaMA-Factory integration works here, and a line saying why (not).

    Returns:
        ``(ok, message)``; ``ok`` is False only when a supported LLaMA-Factory is installed and the
        integration is not active in it although it was not turned off.
    """
    if os.environ.get(DISABLE_VARIABLE, "").lower() in ("1", "true", "yes", "on"):
        return True, f"off ({DISABLE_VARIABLE} is set)"
    version = _llamafactory_version()
    if version is None:
        return True, "inactive (llamafactory is not installed)"
    if version not in SUPPORTED_VERSIONS:
        return True, f"inactive: llamafactory {version} is not supported (supported: {', '.join(SUPPORTED_VERSIONS)})"
    if not installed():
        return False, "inactive: univg_plugin_hook.pth is missing from site-packages (reinstall univg-plugin)"
    importlib.import_module("llamafactory.data.converter")  # importing them triggers the patches
    importlib.import_module("llamafactory.train.tuner")
    if _state["stage"] and _state["converter"]:
        return True, f"active (llamafactory {version}: stage 'grpo' and formatting 'univg' available)"
    return False, f"inactive: the patches did not apply (stage: {_state['stage']}, converter: {_state['converter']})"

"""The patches applied to LLaMA-Factory when it is imported (see :mod:`.import_hook`).

Independent, all-or-nothing patches, each guarded on the LLaMA-Factory version
(:data:`univg_plugin.compat.LLAMAFACTORY`):

- when ``llamafactory.data.converter`` is imported: register the ``univg`` dataset converter, so a
  ``dataset_info.json`` entry may say ``"formatting": "univg"`` (or ``"univg:<format>"`` for any
  registered dataset format);
- when ``llamafactory.data.loader`` is imported: hand the ``univg`` converter the model's family and pixel
  limits, so stage-1 answers are written the way the model writes boxes;
- when ``llamafactory.train.tuner`` is imported: swap the ``FinetuningArguments`` dataclass that the
  training-argument parser uses for :class:`~.hparams.GRPOFinetuningArguments` (which accepts
  ``stage: grpo`` and the GRPO keys, still rejecting unknown ones), and route ``stage: grpo`` from
  ``_training_function`` to :func:`.workflow.run_grpo_training`. Every other stage goes through
  LLaMA-Factory's own function, after one check for every stage: ``use_cpu: true`` with
  ``deepspeed:`` is refused with what to set (:func:`refuse_deepspeed_with_use_cpu`). Under torchrun every
  stage's ranks wait for each other before the process group is torn down (gloo can abort otherwise).

An unsupported LLaMA-Factory version gets one warning and no patch at all.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator
from typing import Any

from ...compat import LLAMAFACTORY, installed_version
from . import CONVERTER_NAME, DISABLE_VARIABLE

logger = logging.getLogger("univg_plugin")
#: What was applied in this process (read by :func:`.status.integration_status`).
applied: dict[str, Any] = {"converter": False, "loader": False, "stage": False}


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


def on_loader_imported(module) -> None:
    """Tell the ``univg`` converter of each dataset which model reads it (stage-1 answers in its family's
    convention, :func:`.converter.answer_convention`): ``_load_single_dataset`` is the loader's last step that
    sees ``model_args``."""
    if not _supported():
        return
    original = module._load_single_dataset

    @functools.wraps(original)
    def load_single_dataset(dataset_attr, model_args, data_args, training_args):
        if str(dataset_attr.formatting).split(":")[0] == CONVERTER_NAME:
            from .converter import answer_convention

            dataset_attr.univg_answers = answer_convention(model_args)
        return original(dataset_attr, model_args, data_args, training_args)

    module._load_single_dataset = load_single_dataset
    applied["loader"] = True


def raw_argument(args: dict[str, Any] | list[str] | None, key: str) -> Any:
    """The value of ``key`` in a training call's raw arguments (the YAML dict or the command-line list)."""
    if isinstance(args, dict):
        return args.get(key)
    if isinstance(args, list):
        for index, item in enumerate(args):
            if item.startswith(f"--{key}="):
                return item.split("=", 1)[1]
            if item == f"--{key}":  # a bare flag is true
                following = args[index + 1] if index + 1 < len(args) else "--"
                return True if following.startswith("--") else following
    return None


def requested_stage(args: dict[str, Any] | list[str] | None) -> str | None:
    """The ``stage`` a training call asks for, read from the raw YAML dict or command-line list."""
    return raw_argument(args, "stage")


def refuse_deepspeed_with_use_cpu(args: dict[str, Any] | list[str] | None) -> None:
    """Refuse ``use_cpu: true`` with ``deepspeed:`` (any stage), before anything is parsed or loaded.

    transformers' ``_setup_devices`` takes its ``use_cpu`` branch before the DeepSpeed one, so DeepSpeed's
    communication is never set up and every rank fails later with "train_batch_size is not equal to ...".
    """
    deepspeed, use_cpu = raw_argument(args, "deepspeed"), raw_argument(args, "use_cpu")
    if deepspeed and str(use_cpu).lower() in {"true", "1", "yes"}:
        raise ValueError(
            f"`use_cpu: true` cannot be combined with `deepspeed: {deepspeed}` (transformers then never sets up "
            "DeepSpeed's processes). To run DeepSpeed on CPUs set `use_cpu: false` and the environment variable "
            "DS_ACCELERATOR=cpu (DeepSpeed then uses gloo); otherwise remove `deepspeed`."
        )


@contextlib.contextmanager
def _ranks_meet_before_teardown() -> Iterator[None]:
    """While a stage runs, ``torch.distributed.destroy_process_group`` first waits for every rank: a rank
    that tears its gloo group down while rank 0 still saves can abort (SIGABRT) in the teardown."""
    import torch.distributed as dist

    destroy = dist.destroy_process_group

    @functools.wraps(destroy)
    def destroy_after_barrier(*args: Any, **kwargs: Any) -> None:
        if dist.is_initialized():
            dist.barrier()
        destroy(*args, **kwargs)

    dist.destroy_process_group = destroy_after_barrier
    try:
        yield
    finally:
        dist.destroy_process_group = destroy


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
        refuse_deepspeed_with_use_cpu(config.get("args"))
        with _ranks_meet_before_teardown():
            if requested_stage(config.get("args")) == "grpo":
                from .workflow import run_grpo_training

                return run_grpo_training(config)
            return original(config)

    parser._TRAIN_ARGS[position] = GRPOFinetuningArguments
    module._training_function = training_function
    applied["stage"] = True

"""The LLaMA-Factory configs of the demo's two stages: the tiny recipes pointed at the demo's model, data
and output, with the plan's sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .plan import DemoPlan, input_pixels, one_token_pixels
from .runner import cpu_cores

#: The ``univg_plugin`` package directory (the recipes ship inside it in a wheel, beside it in a checkout).
_PACKAGE = Path(__file__).resolve().parents[1]


def recipe_path(name: str) -> Path:
    """A recipe shipped with the package (a wheel install) or beside it (a source checkout).

    Example:
        >>> recipe_path("tiny/sft.yaml").name
        'sft.yaml'
    """
    for base in (_PACKAGE / "recipes", _PACKAGE.parent / "recipes"):
        if (base / name).is_file():
            return base / name
    raise FileNotFoundError(f"recipe {name} not found next to {_PACKAGE}; reinstall univg-plugin")


def _recipe(name: str) -> dict[str, Any]:
    import yaml  # the demo extra's; importing the package (e.g. `univg data synth --tasks locate`) needs no yaml

    return yaml.safe_load(recipe_path(name).read_text())


def tiny_recipe(stage: str, family: str) -> str:
    """The tiny recipe of ``stage`` (``sft`` or ``grpo``) for ``family``, relative to ``recipes/``.

    Example:
        >>> tiny_recipe("sft", "qwen2_vl"), tiny_recipe("grpo", "qwen3_vl")
        ('tiny/sft.yaml', 'tiny/qwen3_vl/grpo.yaml')
    """
    return f"tiny/{stage}.yaml" if family == "qwen2_vl" else f"tiny/{family}/{stage}.yaml"


def weighting_name(weighting: str) -> str:
    """The name of a stage-2 run (and of its output directory ``stage2_<name>``) with ``weighting``.

    Example:
        >>> weighting_name("exp"), weighting_name("none")
        ('weighted', 'unweighted')
    """
    return "unweighted" if weighting == "none" else "weighted"


def sft_ranks(plan: DemoPlan) -> int:
    """The stage-1 processes: the plan's ``sft_processes`` where there are as many cores and they split the
    batch evenly, else one."""
    ranks = plan.sft_processes
    return ranks if ranks <= cpu_cores() and plan.sft_batch % ranks == 0 else 1


def stage1_config(plan: DemoPlan, out: Path, seed: int) -> dict[str, Any]:
    """The family's tiny stage-1 recipe (:func:`tiny_recipe`) pointed at the demo's model, data and output,
    with the plan's sizes (the batch split over :func:`sft_ranks` processes)."""
    ranks = sft_ranks(plan)
    config = _recipe(tiny_recipe("sft", plan.family))
    config.update(
        model_name_or_path=str(out / "model"),
        image_max_pixels=input_pixels(plan),
        freeze_vision_tower=False,  # the vision tower is random too: it must learn
        dataset="demo_train",
        dataset_dir=str(out / "data"),
        media_dir=str(out / "data" / "train"),
        output_dir=str(out / "stage1"),
        per_device_train_batch_size=plan.sft_batch // ranks,
        max_steps=plan.sft_steps,
        learning_rate=plan.sft_learning_rate,
        lr_scheduler_type="cosine",
        warmup_ratio=0.03,
        logging_steps=max(1, plan.sft_steps // 50),
        preprocessing_num_workers=ranks,  # one per process: each takes that process's share of the cores
        seed=seed,
    )
    return config


def stage2_config(plan: DemoPlan, out: Path, seed: int, weighting: str) -> dict[str, Any]:
    """The family's tiny GRPO recipe (:func:`tiny_recipe`) from the stage-1 output, difficulty weighting
    ``weighting``."""
    config = _recipe(tiny_recipe("grpo", plan.family))
    config.update(
        model_name_or_path=str(out / "stage1"),
        image_max_pixels=input_pixels(plan),
        image_min_pixels=one_token_pixels(plan.family),
        freeze_vision_tower=False,
        dataset="demo_train",
        dataset_dir=str(out / "data"),
        media_dir=str(out / "data" / "train"),
        output_dir=str(out / f"stage2_{weighting_name(weighting)}"),
        difficulty_weighting=weighting,
        num_generations=plan.num_generations,
        per_device_train_batch_size=plan.grpo_prompts * plan.num_generations,
        max_steps=plan.grpo_steps,
        learning_rate=plan.grpo_learning_rate,
        max_completion_length=plan.max_completion_length,
        loss_type=plan.grpo_loss_type,
        min_p=plan.grpo_min_p,
        warmup_ratio=0.1,
        max_samples=plan.grpo_steps * plan.grpo_prompts,
        logging_steps=1,
        seed=seed,
    )
    return config

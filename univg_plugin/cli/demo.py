"""``univg demo``: the whole pipeline on a laptop CPU."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from ..qwen_vl import MODEL_FAMILIES


def _steps(value: str | None) -> tuple[int | None, int | None]:
    if value is None:
        return None, None
    parts = value.split(",")
    try:
        numbers = [int(part) if part.strip() else None for part in parts]
    except ValueError:
        raise click.BadParameter(f"expected SFT,GRPO step counts such as 1500,60, got {value!r}") from None
    if len(numbers) != 2 or any(n is not None and n < 1 for n in numbers):
        raise click.BadParameter(f"expected SFT,GRPO step counts such as 1500,60, got {value!r}")
    return numbers[0], numbers[1]


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default="demo_out",
    show_default=True,
    help="Output directory: model, data, both stages, evaluation, report.md and plots.",
)
@click.option("--quick", is_flag=True, help="A tiny run (under a minute): the machinery, not the learning.")
@click.option(
    "--long",
    "long_run",
    is_flag=True,
    help="About 40 minutes: a shorter stage 1 and ten times the GRPO, where stage 2 gains over stage 1.",
)
@click.option("--steps", help="Override the step counts as SFT,GRPO (e.g. 3000,100; either may be empty).")
@click.option("--no-ablation", is_flag=True, help="Skip the stage-2 run with the difficulty weighting off.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of data, model and both stages.")
@click.option(
    "--family",
    type=click.Choice(list(MODEL_FAMILIES)),
    default="qwen2_vl",
    show_default=True,
    help="The model family built and trained (its box syntax and space, template and patch size).",
)
def demo(out: Path, quick: bool, long_run: bool, steps: str | None, no_ablation: bool, seed: int, family: str) -> None:
    """Train and evaluate UniVG-R1 end to end on this machine, with no download.

    Builds a small Qwen2-VL (--family: Qwen2.5-VL or Qwen3-VL) from scratch, synthesizes multi-image
    grounding data (easy / medium / hard), runs stage 1 (CoT-SFT) and stage 2 (difficulty-aware GRPO,
    and the same without the weighting) with `llamafactory-cli train`, evaluates every stage and a
    trivial baseline on held-out data with `univg eval`, and writes OUT/report.md with the table and
    the plots. The default run takes about 7 minutes on 2 CPU cores; --quick under a minute; --long
    about 40 minutes (the run in which GRPO improves on stage 1). See docs/demo.md.
    """
    from ..demo import PLANS, run_demo

    if quick and long_run:
        raise click.UsageError("--quick and --long are different plans: pick one")
    plan = replace(PLANS["quick" if quick else "long" if long_run else "default"], family=family)
    sft_steps, grpo_steps = _steps(steps)
    if sft_steps is not None:
        plan = replace(plan, sft_steps=sft_steps)
    if grpo_steps is not None:
        plan = replace(plan, grpo_steps=grpo_steps)
    run_demo(out, plan, seed=seed, ablation=not no_ablation, say=click.echo)

"""The demo's report: ``report.md`` with the results table, the paired comparisons and the plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .evaluation import GROUPS, REPORT_ROWS, Table
from .plan import DemoPlan
from .plots import plot_difficulty, plot_grpo_curves, plot_results


def markdown_table(table: Table) -> str:
    """Rows: the report's runs; columns: Acc@0.5 and mIoU for easy / medium / hard / all (percent).

    Example:
        >>> markdown_table({"stage 1": {"all": {"acc50": 50.0, "miou": 42.25}}}).splitlines()[2]
        '| stage 1 | - | - | - | - | - | - | 50.0 | 42.2 |'
    """
    header = "| | " + " | ".join(f"{level} Acc@0.5 | {level} mIoU" for level in GROUPS) + " |"
    rule = "|---|" + "---:|" * (2 * len(GROUPS))
    lines = [header, rule]
    for label, groups in table.items():
        cells = []
        for level in GROUPS:
            group = groups.get(level)
            cells += [f"{group['acc50']:.1f}", f"{group['miou']:.1f}"] if group else ["-", "-"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _paired_table(paired: dict[str, dict[str, float]]) -> str:
    lines = [
        "| | gained | lost | Acc@0.5 change | paired SE | mIoU change |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row, change in paired.items():
        lines.append(
            f"| {row} | {change['gained']} | {change['lost']} | {change['acc_change']:+.1f} | "
            f"{change['acc_se']:.1f} | {change['miou_change']:+.1f} |"
        )
    return "\n".join(lines)


def _candidates_table(by_count: dict[str, dict[str, float]]) -> str:
    counts = sorted({count for row in by_count.values() for count in row}, key=int)
    lines = ["| | " + " | ".join(counts) + " |", "|---|" + "---:|" * len(counts)]
    lines.append("| chance (1 / candidates) | " + " | ".join(f"{100 / int(c):.1f}" for c in counts) + " |")
    for row, values in by_count.items():
        lines.append(f"| {row} | " + " | ".join(f"{values[c]:.1f}" if c in values else "-" for c in counts) + " |")
    return "\n".join(lines)


def _results_section(table: Table, plan: DemoPlan, seed: int) -> str:
    return f"""# univg demo report

Model family {plan.family}. Seed {seed}. Held-out set: {plan.test_samples} synthetic samples ({plan.image_size} px
images, objects in a {plan.grid}x{plan.grid} grid, 1-4 images per sample), scored with `univg eval` (first box of the
`<answer>`, IoU against the target box, percent).

{markdown_table(table)}

![held-out mIoU](results.png)"""


def _comparison_sections(analysis: dict[str, dict[str, Any]]) -> str:
    return f"""## Stage 2 against stage 1, sample by sample

Samples each stage-2 run hits (IoU >= 0.5) and stage 1 misses (gained), the reverse (lost), and the
change in points. A change is beyond noise when it is larger than about twice its paired standard error.

{_paired_table(analysis["paired"])}

## Accuracy by number of candidates

Acc@0.5 (percent) by how many squares (`locate`) or images (`find`) the target is chosen from. Near
chance, a model finds a square but does not tell the named colour from the others.

{_candidates_table(analysis["candidates"])}"""


_GRPO_SECTION = """## GRPO

Rewards over the stage-2 steps (`grpo_rewards.png`) and the difficulty-bias picture
(`difficulty_bias.png`): the weight phi = e^(1 - mIoU) of each step's prompt groups, and the share
of easy (mIoU > 0.7), medium and hard (mIoU < 0.3) groups.

![GRPO rewards](grpo_rewards.png)

![difficulty bias](difficulty_bias.png)"""


def _settings_section(plan: DemoPlan, timings: dict[str, float], seconds: float) -> str:
    phases = "\n".join(f"| {name} | {value:.0f} s |" for name, value in timings.items())
    return f"""## Settings and time

Stage 1: {plan.sft_steps} steps x batch {plan.sft_batch} on {plan.train_samples} samples, lr
{plan.sft_learning_rate}. Stage 2: {plan.grpo_steps} steps x {plan.grpo_prompts} prompts x
{plan.num_generations} completions, lr {plan.grpo_learning_rate}, loss `{plan.grpo_loss_type}`, min_p
{plan.grpo_min_p}. Configs in `configs/`, logs in `logs/`, per-sample results in `eval/*/results.jsonl`.

| phase | time |
|---|---:|
{phases}
| **total** | **{seconds / 60:.1f} min** |
"""


def write_report(
    out: Path,
    table: Table,
    analysis: dict[str, dict[str, Any]],
    plan: DemoPlan,
    seed: int,
    timings: dict[str, float],
    seconds: float,
    ablation: bool,
) -> Path:
    """Write ``report.md`` and its PNGs into ``out``.

    Args:
        out: The demo's output directory (holds the stage-2 runs' ``trainer_state.json``).
        table: The results table of :func:`~.evaluation.evaluate_runs`.
        analysis: :func:`~.compare.compare_runs` of the per-sample IoUs.
        plan: The run's plan.
        seed: The run's seed.
        timings: Seconds per phase, in order.
        seconds: Total seconds.
        ablation: Whether the unweighted stage-2 run was made.

    Returns:
        The path of ``report.md``.
    """
    runs = {"difficulty-weighted (exp)": out / "stage2_weighted"}
    if ablation:
        runs["unweighted (ablation)"] = out / "stage2_unweighted"
    plot_grpo_curves(runs, out / "grpo_rewards.png")
    plot_difficulty(runs, out / "difficulty_bias.png")
    plot_results(table, out / "results.png")
    sections = (
        _results_section(table, plan, seed),
        _comparison_sections(analysis),
        _GRPO_SECTION,
        _settings_section(plan, timings, seconds),
        _gallery_section(out),
    )
    path = out / "report.md"
    path.write_text("\n\n".join(sections))
    return path


def held_out_gallery(out: Path, count: int = 4) -> Path | None:
    """Write ``out/gallery.html``: stage 1 and each stage-2 run on the same held-out samples, side by side.

    Each run is scored again from ``out/eval/<run>/predictions.jsonl`` with the settings its ``report.json``
    records; None without the held-out set or when fewer than two runs have predictions.
    """
    from ..data import read
    from ..eval import read_predictions, score
    from ..eval.gallery import write_comparison

    test = out / "data" / "test"
    if not (test / "data.jsonl").is_file():
        return None
    samples = list(read(test / "data.jsonl"))
    runs = {}
    stages = [(label, out / "eval" / run) for label, run in REPORT_ROWS if run and run.startswith("stage")]
    for label, folder in stages:
        if not (folder / "predictions.jsonl").is_file():
            continue
        settings = json.loads((folder / "report.json").read_text())["settings"]
        options = {key: settings[key] for key in ("space", "policy", "min_pixels", "max_pixels")}
        predictions = read_predictions(folder / "predictions.jsonl")
        runs[label] = (score(predictions, samples, group_by="difficulty", media_root=test, **options), predictions)
    return write_comparison(runs, samples, out / "gallery.html", count=count) if len(runs) > 1 else None


def _gallery_section(out: Path) -> str:
    page = held_out_gallery(out)
    if page is None:
        return "## Held-out answers, drawn\n\nNo two runs with predictions to show side by side."
    return f"""## Held-out answers, drawn

[{page.name}]({page.name}): stage 1 and stage 2 on the same held-out samples, side by side (a row per
sample: a random few per difficulty and those one run hits at IoU 0.5 and another misses), truth solid,
prediction dashed, with each answer."""

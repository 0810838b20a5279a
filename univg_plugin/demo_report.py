"""The demo's report: ``report.md`` with the results table, and the plots of the two GRPO runs."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_LEVELS = ("easy", "medium", "hard", "all")
_SHARES = (("easy", "#2ca02c"), ("medium", "#ff7f0e"), ("hard", "#d62728"))


def _history(run: Path) -> list[dict[str, Any]]:
    state = run / "trainer_state.json"
    return json.loads(state.read_text())["log_history"] if state.is_file() else []


def _series(history: list[dict[str, Any]], key: str, window: int = 1) -> tuple[list[int], list[float]]:
    """Steps and values of ``key``; with ``window`` > 1, a trailing moving average (per-step values of a
    few prompt groups are noisy)."""
    points = [(entry["step"], entry[key]) for entry in history if key in entry]
    steps, values = [step for step, _ in points], [value for _, value in points]
    if window > 1:
        values = [
            sum(values[max(0, i - window + 1) : i + 1]) / (i + 1 - max(0, i - window + 1)) for i in range(len(values))
        ]
    return steps, values


_WINDOW = 8  # steps in the moving average of the plotted curves


def plot_grpo_curves(runs: dict[str, Path], path: Path) -> Path:
    """Total reward and IoU reward over GRPO steps, one line per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for (label, run), color in zip(runs.items(), ("#1f77b4", "#7f7f7f")):
        history = _history(run)
        for axis, key in zip(axes, ("reward", "rewards/iou/mean")):
            axis.plot(*_series(history, key), color=color, alpha=0.25)
            axis.plot(*_series(history, key, _WINDOW), color=color, label=label)
    titles = (f"total reward (IoU + format), {_WINDOW}-step mean", f"IoU reward (accuracy), {_WINDOW}-step mean")
    for axis, title in zip(axes, titles):
        axis.set_title(title)
        axis.set_xlabel("GRPO step")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_difficulty(runs: dict[str, Path], path: Path) -> Path:
    """The paper's difficulty-bias picture: phi and the share of easy / medium / hard groups per step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, len(runs), figsize=(5.5 * len(runs), 7), squeeze=False, constrained_layout=True)
    for column, (label, run) in enumerate(runs.items()):
        history = _history(run)
        top, bottom = axes[0][column], axes[1][column]
        for key, name in (
            ("difficulty/phi_mean", "mean"),
            ("difficulty/phi_min", "min"),
            ("difficulty/phi_max", "max"),
        ):
            steps, values = _series(history, key, _WINDOW)
            top.plot(steps, values, label=f"phi {name}", linestyle="-" if name == "mean" else ":")
        top.set_title(f"{label}\nweight phi of the groups ({_WINDOW}-step mean)", fontsize=10)
        top.set_ylim(0.9, 2.8)
        top.grid(alpha=0.3)
        top.legend(loc="upper right")
        shares = [_series(history, f"difficulty/{level}_share", _WINDOW) for level, _ in _SHARES]
        steps = shares[0][0]
        if steps:
            bottom.stackplot(
                steps,
                *[values for _, values in shares],
                labels=[f"{level} groups" for level, _ in _SHARES],
                colors=[color for _, color in _SHARES],
                alpha=0.8,
            )
        bottom.set_title("share of groups by mIoU: easy > 0.7, hard < 0.3", fontsize=10)
        bottom.set_xlabel("GRPO step")
        bottom.set_ylim(0, 1)
        if steps:
            bottom.legend(loc="lower left")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_results(table: dict[str, dict[str, dict[str, float]]], path: Path) -> Path:
    """Held-out mIoU per difficulty, one bar group per report row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = list(table)
    width = 0.8 / len(_LEVELS)
    figure, axis = plt.subplots(figsize=(11, 4), constrained_layout=True)
    for index, level in enumerate(_LEVELS):
        values = [table[label].get(level, {}).get("miou", 0.0) for label in labels]
        axis.bar(np.arange(len(labels)) + index * width, values, width, label=level)
    axis.set_xticks(np.arange(len(labels)) + width * (len(_LEVELS) - 1) / 2)
    axis.set_xticklabels([label.replace(": ", ":\n", 1) for label in labels], fontsize=8)
    axis.set_ylabel("held-out mIoU (%)")
    axis.grid(axis="y", alpha=0.3)
    axis.legend()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def paired_change(base: Sequence[float], other: Sequence[float], threshold: float = 0.5) -> dict[str, float]:
    """How ``other`` differs from ``base`` on the same samples (per-sample IoUs, same order).

    Two runs scored on one held-out set are compared sample by sample: the shared difficulty of each
    sample cancels, so the paired standard error of the accuracy change is far below that of either
    accuracy.

    Args:
        base: IoUs of the reference run.
        other: IoUs of the compared run.
        threshold: IoU counted as a hit.

    Returns:
        ``gained`` / ``lost`` (samples that ``other`` hits and ``base`` misses, and the reverse),
        ``acc_change`` and ``miou_change`` (points) and ``acc_se`` (paired standard error, points).

    Example:
        >>> paired_change([1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 0.6, 1.0])
        {'gained': 2, 'lost': 0, 'acc_change': 50.0, 'acc_se': 25.0, 'miou_change': 40.0}
    """
    if len(base) != len(other) or len(base) == 0:
        raise ValueError(f"paired_change needs two equally long, non-empty runs, got {len(base)} and {len(other)}")
    count = len(base)
    hits = [(bool(a >= threshold), bool(b >= threshold)) for a, b in zip(base, other)]
    gained = sum(b and not a for a, b in hits)
    lost = sum(a and not b for a, b in hits)
    change = (gained - lost) / count
    variance = max((gained + lost) / count - change**2, 0.0) / count
    return {
        "gained": gained,
        "lost": lost,
        "acc_change": round(100 * change, 2),
        "acc_se": round(100 * math.sqrt(variance), 2),
        "miou_change": round(100 * float(sum(other) - sum(base)) / count, 2),
    }


def compare_runs(
    ious: dict[str, Sequence[float]], candidates: Sequence[int], base: str, threshold: float = 0.5
) -> dict[str, dict[str, Any]]:
    """The report's two analyses of per-sample IoUs.

    Args:
        ious: Report row -> IoU of each held-out sample (same sample order in every row).
        candidates: Per sample, how many objects the answer is chosen from (squares or images).
        base: The row the later rows are compared with, sample by sample.
        threshold: IoU counted as a hit.

    Returns:
        ``paired``: each row after ``base`` -> :func:`paired_change` against it; ``candidates``: each row
        -> Acc@threshold (percent) per candidate count (keys are strings, for JSON).
    """
    rows = list(ious)
    later = rows[rows.index(base) + 1 :]
    paired = {row: paired_change(ious[base], ious[row], threshold) for row in later}
    by_count: dict[str, dict[str, float]] = {}
    for row, values in ious.items():
        hits: dict[int, list[bool]] = {}
        for count, value in zip(candidates, values):
            hits.setdefault(count, []).append(value >= threshold)
        by_count[row] = {str(count): round(100 * sum(h) / len(h), 1) for count, h in sorted(hits.items())}
    return {"paired": paired, "candidates": by_count}


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


def markdown_table(table: dict[str, dict[str, dict[str, float]]]) -> str:
    """Rows: the report's runs; columns: Acc@0.5 and mIoU for easy / medium / hard / all (percent)."""
    header = "| | " + " | ".join(f"{level} Acc@0.5 | {level} mIoU" for level in _LEVELS) + " |"
    rule = "|---|" + "---:|" * (2 * len(_LEVELS))
    lines = [header, rule]
    for label, groups in table.items():
        cells = []
        for level in _LEVELS:
            group = groups.get(level)
            cells += [f"{group['acc50']:.1f}", f"{group['miou']:.1f}"] if group else ["-", "-"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(
    out: Path,
    table: dict[str, dict[str, dict[str, float]]],
    analysis: dict[str, dict[str, Any]],
    plan,
    seed: int,
    timings: dict[str, float],
    seconds: float,
    ablation: bool,
) -> Path:
    """Write ``report.md`` and its PNGs into ``out``."""
    runs = {"difficulty-weighted (exp)": out / "stage2_weighted"}
    if ablation:
        runs["unweighted (ablation)"] = out / "stage2_unweighted"
    plot_grpo_curves(runs, out / "grpo_rewards.png")
    plot_difficulty(runs, out / "difficulty_bias.png")
    plot_results(table, out / "results.png")
    phases = "\n".join(f"| {name} | {value:.0f} s |" for name, value in timings.items())
    text = f"""# univg demo report

Seed {seed}. Held-out set: {plan.test_samples} synthetic samples ({plan.image_size} px images, objects in a
{plan.grid}x{plan.grid} grid, 1-4 images per sample), scored with `univg eval` (first box of the
`<answer>`, IoU against the target box, percent).

{markdown_table(table)}

![held-out mIoU](results.png)

## Stage 2 against stage 1, sample by sample

Samples each stage-2 run hits (IoU >= 0.5) and stage 1 misses (gained), the reverse (lost), and the
change in points. A change is beyond noise when it is larger than about twice its paired standard error.

{_paired_table(analysis["paired"])}

## Accuracy by number of candidates

Acc@0.5 (percent) by how many squares (`locate`) or images (`find`) the target is chosen from. Near
chance, a model finds a square but does not tell the named colour from the others.

{_candidates_table(analysis["candidates"])}

## GRPO

Rewards over the stage-2 steps (`grpo_rewards.png`) and the difficulty-bias picture
(`difficulty_bias.png`): the weight phi = e^(1 - mIoU) of each step's prompt groups, and the share
of easy (mIoU > 0.7), medium and hard (mIoU < 0.3) groups.

![GRPO rewards](grpo_rewards.png)

![difficulty bias](difficulty_bias.png)

## Settings and time

Stage 1: {plan.sft_steps} steps x batch {plan.sft_batch} on {plan.train_samples} samples, lr
{plan.sft_learning_rate}. Stage 2: {plan.grpo_steps} steps x {plan.grpo_prompts} prompts x
{plan.num_generations} completions, lr {plan.grpo_learning_rate}, loss `{plan.grpo_loss_type}`, min_p
{plan.grpo_min_p}. Configs in `configs/`, logs in `logs/`, per-sample results in `eval/*/results.jsonl`.

| phase | time |
|---|---:|
{phases}
| **total** | **{seconds / 60:.1f} min** |
"""
    path = out / "report.md"
    path.write_text(text)
    return path

"""The demo report's plots: GRPO reward curves, the difficulty-bias picture and held-out mIoU bars."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .evaluation import GROUPS, Table

_WINDOW = 8  # steps in the moving average of the plotted curves
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


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_grpo_curves(runs: dict[str, Path], path: Path) -> Path:
    """Total reward and IoU reward over GRPO steps, one line per run."""
    plt = _pyplot()
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
    plt = _pyplot()
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


def plot_results(table: Table, path: Path) -> Path:
    """Held-out mIoU per difficulty, one bar group per report row."""
    plt = _pyplot()
    labels = list(table)
    width = 0.8 / len(GROUPS)
    figure, axis = plt.subplots(figsize=(11, 4), constrained_layout=True)
    for index, level in enumerate(GROUPS):
        values = [table[label].get(level, {}).get("miou", 0.0) for label in labels]
        axis.bar(np.arange(len(labels)) + index * width, values, width, label=level)
    axis.set_xticks(np.arange(len(labels)) + width * (len(GROUPS) - 1) / 2)
    axis.set_xticklabels([label.replace(": ", ":\n", 1) for label in labels], fontsize=8)
    axis.set_ylabel("held-out mIoU (%)")
    axis.grid(axis="y", alpha=0.3)
    axis.legend()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path

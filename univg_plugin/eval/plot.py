"""The bar chart of a report: Acc@0.3 / 0.5 / 0.7 per row, optionally with the paper's Acc@0.5."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .metrics import GroupMetrics
from .paper import PAPER_MODEL

_SERIES = (("acc30", "Acc@0.3"), ("acc50", "Acc@0.5"), ("acc70", "Acc@0.7"))


def bar_chart(
    rows: Sequence[tuple[str, GroupMetrics]],
    path: str | os.PathLike,
    *,
    title: str,
    paper: Mapping[str, float] | None = None,
) -> Path:
    """Write a PNG bar chart of a report's rows to ``path``.

    Args:
        rows: ``(name, metrics)`` of each bar group (e.g. :meth:`~.report.EvalReport.rows`).
        path: Output file.
        title: The chart's title.
        paper: The paper's Acc@0.5 (its method) by row name, marked on the rows it names.

    Returns:
        ``path``.
    """
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    names = [name for name, _ in rows]
    x = np.arange(len(rows))
    width = 0.8 / len(_SERIES)
    figure = Figure(figsize=(max(6.0, 0.75 * len(rows) + 2.5), 4.5))
    axes = figure.subplots()
    for k, (attribute, label) in enumerate(_SERIES):
        values = [getattr(metrics, attribute) for _, metrics in rows]
        axes.bar(x + (k - 1) * width, values, width, label=label)
    marked = [(i, paper[name]) for i, name in enumerate(names) if name in paper] if paper else []
    if marked:
        positions, values = zip(*marked)
        axes.scatter(positions, values, marker="D", color="black", zorder=3, label=f"paper Acc@0.5 ({PAPER_MODEL})")
    axes.set_xticks(x, names, rotation=30, ha="right")
    axes.set_ylim(0, 100)
    axes.set_ylabel("accuracy (%)")
    axes.set_title(title)
    axes.legend(fontsize="small")
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=110)
    return path

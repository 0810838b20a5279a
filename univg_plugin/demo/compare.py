"""Comparing two runs on the same held-out samples: paired accuracy change, accuracy by candidate count."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


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

"""The demo report's analyses: paired stage-2 vs stage-1 change and accuracy by candidate count."""

from __future__ import annotations

import math
import random

import pytest

from univg_plugin.demo import compare_runs, paired_change


def test_paired_change_counts_gains_and_losses():
    base = [1.0, 1.0, 0.0, 0.0, 0.7, 0.2]
    other = [1.0, 0.0, 1.0, 0.55, 0.7, 0.1]
    change = paired_change(base, other)
    assert (change["gained"], change["lost"]) == (2, 1)
    assert change["acc_change"] == pytest.approx(100 / 6, abs=0.01)
    assert change["miou_change"] == pytest.approx(100 * (sum(other) - sum(base)) / 6, abs=0.01)


def test_paired_se_matches_the_spread_of_resampled_differences():
    rng = random.Random(0)
    base = [float(rng.random() < 0.5) for _ in range(400)]
    other = [b if rng.random() < 0.9 else 1.0 - b for b in base]
    se = paired_change(base, other)["acc_se"]
    pairs = list(zip(base, other))
    diffs = []
    for _ in range(2000):
        sample = [rng.choice(pairs) for _ in pairs]
        diffs.append(100 * sum(b - a for a, b in sample) / len(sample))
    mean = sum(diffs) / len(diffs)
    spread = math.sqrt(sum((d - mean) ** 2 for d in diffs) / len(diffs))
    assert se == pytest.approx(spread, rel=0.1)


def test_identical_runs_change_nothing():
    assert paired_change([0.0, 1.0], [0.0, 1.0]) == {
        "gained": 0,
        "lost": 0,
        "acc_change": 0.0,
        "acc_se": 0.0,
        "miou_change": 0.0,
    }


@pytest.mark.parametrize(("base", "other"), [([], []), ([1.0], [1.0, 0.0])])
def test_paired_change_refuses_mismatched_runs(base, other):
    with pytest.raises(ValueError, match="equally long"):
        paired_change(base, other)


def test_compare_runs_pairs_later_rows_and_groups_by_candidates():
    ious = {
        "untrained": [0.0, 0.0, 0.0, 0.0],
        "stage 1": [1.0, 0.0, 1.0, 0.0],
        "stage 2": [1.0, 1.0, 1.0, 0.0],
    }
    analysis = compare_runs(ious, candidates=[1, 2, 2, 4], base="stage 1")
    assert list(analysis["paired"]) == ["stage 2"]
    assert analysis["paired"]["stage 2"]["gained"] == 1
    assert analysis["candidates"]["stage 1"] == {"1": 100.0, "2": 50.0, "4": 0.0}
    assert analysis["candidates"]["stage 2"] == {"1": 100.0, "2": 100.0, "4": 0.0}

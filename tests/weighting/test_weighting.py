"""phi and difficulty_weights: values, monotonicity, NaN handling, normalization, other packages' methods."""

from __future__ import annotations

import math

import pytest
import torch

from univg_plugin import weighting
from univg_plugin.plugins import Registry
from univg_plugin.weighting import WEIGHTING_METHODS, WeightingMethod, difficulty_weights, group_mean, phi

GRID = torch.linspace(0, 1, 21)


def test_paper_values():
    assert phi(torch.tensor([0.0, 0.5, 1.0]), "exp").tolist() == pytest.approx([math.e, math.exp(0.5), 1.0])
    assert phi(torch.tensor([0.0, 1.0]), "power").tolist() == pytest.approx([1.05, 0.05])
    assert phi(torch.tensor([0.2]), "power", power=2.0).tolist() == pytest.approx([0.85**2])
    assert phi(torch.tensor([0.0, 0.48]), "log").tolist() == pytest.approx([-math.log(0.02), -math.log(0.5)])
    assert phi(torch.tensor([0.0, 1.0]), "linear").tolist() == pytest.approx([2.0, 1.0])
    assert phi(torch.tensor([0.3]), "none").tolist() == [1.0]


@pytest.mark.parametrize("method", [m for m in WEIGHTING_METHODS.builtins if m != "none"])
def test_weights_fall_as_the_group_gets_easier(method):
    values = phi(GRID, method)
    assert torch.all(values[1:] <= values[:-1])
    assert values[0] > values[-1]
    assert torch.all(values >= 0)


def test_log_never_goes_negative_for_perfect_groups():
    assert phi(torch.tensor([0.99, 1.0]), "log").tolist() == [0.0, 0.0]


def test_accuracy_outside_unit_interval_is_clamped():
    assert phi(torch.tensor([-1.0, 2.0]), "exp").tolist() == pytest.approx([math.e, 1.0])


def test_nan_rewards_leave_the_mean_and_empty_groups_weigh_one():
    nan = float("nan")
    rewards = torch.tensor([1.0, nan, nan, nan, 0.0, 0.5])
    assert group_mean(rewards, 2).tolist()[0] == 1.0
    weights = difficulty_weights(rewards, group_size=2)
    assert weights.tolist() == pytest.approx([1.0, 1.0, 1.0, 1.0, math.exp(0.75), math.exp(0.75)])


def test_normalize_rescales_the_batch_to_mean_one():
    weights = difficulty_weights([0.0, 0.0, 1.0, 1.0, 0.5, 0.5], group_size=2, normalize=True)
    assert weights.mean().item() == pytest.approx(1.0)
    raw = difficulty_weights([0.0, 0.0, 1.0, 1.0, 0.5, 0.5], group_size=2)
    assert (weights / raw).std().item() == pytest.approx(0.0, abs=1e-6)


def test_weights_are_constant_within_a_group_and_follow_group_order():
    weights = difficulty_weights([0.9, 0.7, 0.1, 0.3], group_size=2)
    assert weights[0] == weights[1] and weights[2] == weights[3]
    assert weights[2] > weights[0]


def test_bad_arguments_are_refused_with_the_options():
    with pytest.raises(ValueError, match="exp, linear, log, none, power"):
        difficulty_weights([0.0, 1.0], 2, method="cubic")
    with pytest.raises(ValueError, match="its parameters: power, offset"):
        phi(torch.zeros(1), "power", slope=2.0)
    with pytest.raises(ValueError, match="cannot be split into groups of 4"):
        difficulty_weights([0.0, 1.0, 0.5], 4)


def _halving(m: torch.Tensor, *, base: float) -> torch.Tensor:
    """``base`` for a hard group, ``base / 2`` for an easy one."""
    return base - base / 2 * m


def test_a_method_registered_at_run_time_reaches_difficulty_weights(monkeypatch):
    registry = Registry(WEIGHTING_METHODS.group, WEIGHTING_METHODS.kind, WEIGHTING_METHODS.builtins)
    monkeypatch.setattr(weighting, "WEIGHTING_METHODS", registry)
    registry.register("halving", WeightingMethod(_halving, {"base": 2.0}))
    assert difficulty_weights([0.0, 0.0, 1.0, 1.0], 2, method="halving").tolist() == [2.0, 2.0, 1.0, 1.0]
    assert difficulty_weights([1.0, 1.0], 2, method="halving", base=4.0).tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match=r"method 'halving' takes no parameter eps \(its parameters: base\)"):
        phi(torch.zeros(1), "halving", eps=0.1)


def test_a_method_from_another_packages_entry_point_reaches_difficulty_weights(tmp_path, monkeypatch):
    (tmp_path / "halving_weights.py").write_text(
        "import torch\nfrom univg_plugin.weighting import WeightingMethod\n\n"
        "def halving(m, *, base):\n    return base - base / 2 * m\n\n"
        "HALVING = WeightingMethod(halving, {'base': 2.0})\n"
    )
    info = tmp_path / "halving_weights-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: halving-weights\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[univg_plugin.difficulty]\nhalving = halving_weights:HALVING\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry(WEIGHTING_METHODS.group, WEIGHTING_METHODS.kind, WEIGHTING_METHODS.builtins)
    monkeypatch.setattr(weighting, "WEIGHTING_METHODS", registry)
    assert registry.provider("halving") == "halving-weights"
    assert difficulty_weights([0.0, 0.0, 1.0, 1.0], 2, method="halving").tolist() == [2.0, 2.0, 1.0, 1.0]


def test_each_builtin_method_names_its_formula():
    for name in WEIGHTING_METHODS.builtins:
        assert WEIGHTING_METHODS.load(name).summary, name
    assert WEIGHTING_METHODS.load("exp").summary == "``e^(1 - m)``, in [1, e]: the paper's released setting."

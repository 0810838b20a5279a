"""phi and difficulty_weights on NumPy: values, monotonicity, NaN handling, normalization, other packages' methods."""

from __future__ import annotations

import math

import numpy as np
import pytest

from univg_plugin import weighting
from univg_plugin.plugins import Registry
from univg_plugin.weighting import WEIGHTING_METHODS, WeightingMethod, difficulty_weights, group_mean, phi

GRID = np.linspace(0, 1, 21)


def test_numpy_in_numpy_out():
    assert isinstance(phi([0.5]), np.ndarray) and isinstance(group_mean(np.zeros(4), 2), np.ndarray)
    weights = difficulty_weights(np.array([0.0, 0.0, 1.0, 1.0]), group_size=2)
    assert isinstance(weights, np.ndarray) and weights.dtype == np.float64


def test_paper_values():
    assert phi(np.array([0.0, 0.5, 1.0]), "exp").tolist() == pytest.approx([math.e, math.exp(0.5), 1.0])
    assert phi(np.array([0.0, 1.0]), "power").tolist() == pytest.approx([1.05, 0.05])
    assert phi(np.array([0.2]), "power", power=2.0).tolist() == pytest.approx([0.85**2])
    assert phi(np.array([0.0, 0.48]), "log").tolist() == pytest.approx([-math.log(0.02), -math.log(0.5)])
    assert phi(np.array([0.0, 1.0]), "linear").tolist() == pytest.approx([2.0, 1.0])
    assert phi(np.array([0.3]), "none").tolist() == [1.0]


@pytest.mark.parametrize("method", [m for m in WEIGHTING_METHODS.builtins if m != "none"])
def test_weights_fall_as_the_group_gets_easier(method):
    values = phi(GRID, method)
    assert np.all(values[1:] <= values[:-1])
    assert values[0] > values[-1]
    assert np.all(values >= 0)


def test_log_never_goes_negative_for_perfect_groups():
    assert phi(np.array([0.99, 1.0]), "log").tolist() == [0.0, 0.0]


def test_accuracy_outside_unit_interval_is_clamped():
    assert phi(np.array([-1.0, 2.0]), "exp").tolist() == pytest.approx([math.e, 1.0])


def test_nan_rewards_leave_the_mean_and_empty_groups_weigh_one():
    nan = float("nan")
    rewards = np.array([1.0, nan, nan, nan, 0.0, 0.5])
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
        phi(np.zeros(1), "power", slope=2.0)
    with pytest.raises(ValueError, match="cannot be split into groups of 4"):
        difficulty_weights([0.0, 1.0, 0.5], 4)


def _halving(m: np.ndarray, *, base: float) -> np.ndarray:
    """``base`` for a hard group, ``base / 2`` for an easy one."""
    return base - base / 2 * m


def test_a_method_registered_at_run_time_reaches_difficulty_weights(monkeypatch):
    registry = Registry(WEIGHTING_METHODS.group, WEIGHTING_METHODS.kind, WEIGHTING_METHODS.builtins)
    monkeypatch.setattr(weighting, "WEIGHTING_METHODS", registry)
    registry.register("halving", WeightingMethod(_halving, {"base": 2.0}))
    assert difficulty_weights([0.0, 0.0, 1.0, 1.0], 2, method="halving").tolist() == [2.0, 2.0, 1.0, 1.0]
    assert difficulty_weights([1.0, 1.0], 2, method="halving", base=4.0).tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match=r"method 'halving' takes no parameter eps \(its parameters: base\)"):
        phi(np.zeros(1), "halving", eps=0.1)


def test_a_method_from_another_packages_entry_point_reaches_difficulty_weights(tmp_path, monkeypatch):
    (tmp_path / "halving_weights.py").write_text(
        "from univg_plugin.weighting import WeightingMethod\n\n"
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


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("log", {"eps": 0.0}, r"eps must be in \(0, 1\) for method 'log', got 0.0"),
        ("log", {"eps": -0.5}, r"eps must be in \(0, 1\) for method 'log', got -0.5"),
        ("log", {"eps": 1.0}, r"eps must be in \(0, 1\) for method 'log', got 1.0"),
        ("power", {"power": -1.0, "offset": 1.0}, r"offset must be > 1 when power < 0 for method 'power', got 1.0"),
        ("power", {"offset": 0.0}, r"offset must be > 0 for method 'power', got 0.0"),
        ("linear", {"slope": -3.0}, r"intercept \+ slope must be > 0 for method 'linear' \(the weight at m = 0\)"),
        ("linear", {"intercept": 0.0}, r"intercept must be > 0 for method 'linear' \(the weight at m = 1\), got 0.0"),
        ("power", {"power": "two"}, "power must be a number, got 'two'"),
        ("power", {"power": True}, "power must be a number, got True"),
        ("log", {"eps": None}, "eps must be a number, got None"),
        ("power", {"power": float("inf")}, "power must be a finite number, got inf"),
        ("linear", {"slope": float("nan")}, "slope must be a finite number, got nan"),
    ],
    ids=lambda value: value if isinstance(value, str) and " " not in value else None,
)
def test_builtin_parameters_outside_their_range_are_refused(method, params, message):
    with pytest.raises(ValueError, match=message):
        weighting.resolve_method(method, params)
    with pytest.raises(ValueError, match=message):
        difficulty_weights([0.0, 0.0, 1.0, 1.0], 2, method=method, **params)


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("log", {"eps": 1e-6}),
        ("log", {"eps": 0.99}),
        ("power", {"power": -2.0, "offset": 1.01}),
        ("power", {"power": 0.0}),
        ("power", {"power": 3, "offset": 0.5}),
        ("linear", {"intercept": 0.1, "slope": -0.05}),
        ("linear", {"intercept": 2, "slope": 0}),
    ],
)
def test_parameters_inside_the_ranges_give_finite_non_negative_weights(method, params):
    weights = phi(GRID, method, **params)
    assert np.isfinite(weights).all() and (weights >= 0).all() and (weights > 0).any()


def test_a_third_party_method_with_non_finite_or_non_positive_weights_is_refused_naming_it(monkeypatch):
    registry = Registry(WEIGHTING_METHODS.group, WEIGHTING_METHODS.kind, WEIGHTING_METHODS.builtins)
    monkeypatch.setattr(weighting, "WEIGHTING_METHODS", registry)
    registry.register("inverse", WeightingMethod(lambda m, *, scale: scale / m, {"scale": 1.0}))
    registry.register("halving", WeightingMethod(_halving, {"base": 2.0}))
    with pytest.raises(ValueError, match=r"difficulty weighting method 'inverse' gave a non-finite weight \(inf\)"):
        difficulty_weights([0.0, 0.0, 1.0, 1.0], 2, method="inverse")
    with pytest.raises(ValueError, match=r"difficulty weighting method 'halving' gave a weight <= 0 \(-1.0\)"):
        difficulty_weights([0.0, 0.0], 2, method="halving", base=-1.0)


def test_none_in_the_accuracy_rewards_means_not_applicable():
    weights = difficulty_weights([None, None, 0.0, None], group_size=2)
    assert weights.tolist() == pytest.approx([1.0, 1.0, math.e, math.e])


@pytest.mark.parametrize("group_size", [2, 2.0])
def test_an_integral_group_size_is_accepted(group_size):
    assert difficulty_weights([0.0, 0.0, 1.0, 1.0], group_size).tolist() == pytest.approx([math.e, math.e, 1.0, 1.0])
    assert group_mean(np.array([0.0, 1.0]), group_size).tolist() == [0.5]


@pytest.mark.parametrize("group_size", [2.5, True, "2", None, 0, -2])
def test_a_group_size_that_is_not_a_positive_whole_number_is_refused_naming_it(group_size):
    with pytest.raises(ValueError, match=rf"group_size must be a positive whole number, got {group_size!r}"):
        difficulty_weights([0.0, 0.0, 1.0, 1.0], group_size)
    with pytest.raises(ValueError, match="group_size must be a positive whole number"):
        group_mean(np.zeros(4), group_size)

"""Difficulty-aware weights (UniVG-R1): boost the policy gradient of prompt groups the model finds hard.

GRPO normalizes rewards inside each group of ``G`` completions of one prompt, so an easy group (mean
IoU 0.8) gets updates as large as a hard one (mean IoU 0.2). The paper multiplies each completion's
policy term by ``phi(mIoU)``, a weight that falls as the group's mean accuracy reward rises.

A weighting method is a :class:`WeightingMethod` registered by name in :data:`WEIGHTING_METHODS`
(entry-point group ``univg_plugin.difficulty``): the built-ins :data:`EXP` (the paper's), :data:`POWER`,
:data:`LOG`, :data:`LINEAR` and :data:`NONE`, plus any that another package declares, e.g.::

    [project.entry-points."univg_plugin.difficulty"]
    sqrt = "my_package.weights:SQRT"    # SQRT = WeightingMethod(sqrt_weight, {"scale": 1.0})

The arithmetic is NumPy's, and no trainer (nor torch) is imported, so any GRPO implementation can use
it: :func:`phi`, :func:`group_mean` and :func:`difficulty_weights` take a sequence or a NumPy array and
return a NumPy array; given a torch tensor, they return a tensor on its device (its dtype when floating,
else float32). A weight function (:attr:`WeightingMethod.weight`) always receives a NumPy array.

Rewards must be laid out group by group (``G`` consecutive completions per prompt) and must be the
rewards of the whole batch gathered over all processes: a group split across processes is then still
one group.
"""

from __future__ import annotations

import functools
import math
import numbers
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .plugins import Registry

__all__ = [
    "EXP",
    "LINEAR",
    "LOG",
    "NONE",
    "POWER",
    "WEIGHTING_METHODS",
    "WeightingMethod",
    "difficulty_weights",
    "exp_weight",
    "group_mean",
    "linear_weight",
    "log_weight",
    "none_weight",
    "phi",
    "power_weight",
    "resolve_method",
]


@dataclass(frozen=True)
class WeightingMethod:
    """A difficulty weighting method: a weight function and the defaults of its parameters.

    Attributes:
        weight: ``weight(m, **params) -> weights``, where ``m`` is a NumPy float array of group mean
            accuracy rewards already clamped to [0, 1] (NumPy operators and ``np.*`` functions work on
            it; torch functions do not); the weights must be finite and positive (they scale the
            clipped policy term; the built-in ``log`` floors at 0) and should fall as ``m`` rises.
            Another package's method is checked for that on a grid of ``m`` when it is resolved and on
            every batch (``ValueError`` naming it).
        params: The parameters the method takes (the keys of ``difficulty_params``), with defaults.
            Every value must be a finite real number.
        check: ``check(**params)`` raises ``ValueError`` naming the parameter and its valid range when
            the parameters are outside it (the built-ins state their ranges here); None: no range.
    """

    weight: Callable[..., np.ndarray]
    params: Mapping[str, float] = field(default_factory=dict)
    check: Callable[..., None] | None = None

    @property
    def summary(self) -> str:
        """The first line of the weight function's docstring."""
        return (self.weight.__doc__ or "").strip().split("\n")[0]


def exp_weight(m: np.ndarray) -> np.ndarray:
    """``e^(1 - m)``, in [1, e]: the paper's released setting."""
    return np.exp(1.0 - m)


def power_weight(m: np.ndarray, *, power: float, offset: float) -> np.ndarray:
    """``(offset - m)^power``, floored at 0; ``offset > 0``, and ``offset > 1`` when ``power < 0``."""
    return np.maximum(offset - m, 0.0) ** power


def log_weight(m: np.ndarray, *, eps: float) -> np.ndarray:
    """``-log(eps + m)``, floored at 0 so that a group never gets a negative weight; ``0 < eps < 1``."""
    return np.maximum(-np.log(eps + m), 0.0)


def linear_weight(m: np.ndarray, *, intercept: float, slope: float) -> np.ndarray:
    """``intercept + slope * (1 - m)``; ``intercept > 0`` and ``intercept + slope > 0``."""
    return intercept + slope * (1.0 - m)


def none_weight(m: np.ndarray) -> np.ndarray:
    """1 for every group: plain GRPO."""
    return np.ones_like(m)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _check_power(*, power: float, offset: float) -> None:
    """``offset - m`` must stay above 0 where a negative power would make the weight infinite."""
    _require(offset > 0, f"offset must be > 0 for method 'power', got {offset} (every weight would be 0)")
    _require(
        power >= 0 or offset > 1,
        f"offset must be > 1 when power < 0 for method 'power', got {offset} (with power {power}, the weight is "
        "infinite where offset - m reaches 0 for m in [0, 1])",
    )


def _check_log(*, eps: float) -> None:
    """``eps <= 0`` gives infinite or undefined weights, ``eps >= 1`` a weight of 0 for every group."""
    _require(0 < eps < 1, f"eps must be in (0, 1) for method 'log', got {eps}")


def _check_linear(*, intercept: float, slope: float) -> None:
    """The weight must be positive at both ends of [0, 1] (it is linear in between)."""
    _require(intercept > 0, f"intercept must be > 0 for method 'linear' (the weight at m = 1), got {intercept}")
    _require(
        intercept + slope > 0,
        f"intercept + slope must be > 0 for method 'linear' (the weight at m = 0), got {intercept} + {slope}",
    )


EXP = WeightingMethod(exp_weight)
POWER = WeightingMethod(power_weight, {"power": 1.0, "offset": 1.05}, _check_power)
LOG = WeightingMethod(log_weight, {"eps": 0.02}, _check_log)
LINEAR = WeightingMethod(linear_weight, {"intercept": 1.0, "slope": 1.0}, _check_linear)
NONE = WeightingMethod(none_weight)

#: Every difficulty weighting method by name: the built-ins below and other packages' entry points.
WEIGHTING_METHODS = Registry(
    "univg_plugin.difficulty",
    "difficulty weighting method",
    {
        "exp": "univg_plugin.weighting:EXP",
        "power": "univg_plugin.weighting:POWER",
        "log": "univg_plugin.weighting:LOG",
        "linear": "univg_plugin.weighting:LINEAR",
        "none": "univg_plugin.weighting:NONE",
    },
)


def resolve_method(method: str, params: Mapping[str, float] | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """Check a method name and its parameters; the one place that does.

    Args:
        method: A name registered in :data:`WEIGHTING_METHODS`.
        params: Some of the method's parameters (the others keep their defaults).

    Returns:
        The method's weight function with every parameter bound: ``f(m) -> weights`` on NumPy arrays.
        For another package's method, ``f`` also refuses weights that are not finite and positive.

    Raises:
        ValueError: an unknown method (the message lists the known ones), a parameter it does not take,
            a value that is not a finite number, a value outside the method's range (naming the
            parameter and the range), or another package's method giving a weight that is not finite
            and positive for some ``m`` in [0, 1].

    Example:
        >>> resolve_method("linear", {"slope": 2.0})(np.array([0.5])).tolist()
        [2.0]
    """
    try:
        found = WEIGHTING_METHODS.load(method)
    except KeyError as error:
        raise ValueError(error.args[0]) from None
    if not isinstance(found, WeightingMethod):
        raise TypeError(f"difficulty weighting method {method!r} is a {type(found).__name__}, not a WeightingMethod")
    unknown = sorted(set(params or {}) - set(found.params))
    if unknown:
        allowed = ", ".join(found.params) or "none"
        raise ValueError(f"method {method!r} takes no parameter {', '.join(unknown)} (its parameters: {allowed})")
    bound = {**found.params, **(params or {})}
    for name, value in bound.items():
        _check_finite_number(name, value)
    if found.check is not None:
        found.check(**bound)
    weight = functools.partial(found.weight, **bound)
    if method in WEIGHTING_METHODS.builtins:
        return weight
    checked = functools.partial(_checked_weights, method, weight)
    checked(np.linspace(0.0, 1.0, 101))  # refuse a bad method or parameters before any training step
    return checked


def _check_finite_number(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def _checked_weights(method: str, weight: Callable[[np.ndarray], Any], m: np.ndarray) -> np.ndarray:
    """``weight(m)`` as a float array, refused unless every weight is finite and positive (another package's method)."""
    with np.errstate(all="ignore"):  # a division by 0 gives inf, refused below by name
        weights = np.asarray(weight(m), dtype=np.float64)
    accuracy, flat = (array.ravel() for array in np.broadcast_arrays(m, weights))
    bad = np.flatnonzero(~np.isfinite(flat) | (flat <= 0))
    if len(bad):
        value = float(flat[bad[0]])
        problem = "a non-finite weight" if not math.isfinite(value) else "a weight <= 0"
        raise ValueError(
            f"difficulty weighting method {method!r} gave {problem} ({value}) for a group mean accuracy of "
            f"{accuracy[bad[0]]:g}; weights must be finite and > 0"
        )
    return weights


def _as_array(values: Any) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """``values`` as a float64 NumPy array (None -> NaN), and the function that gives a result back in their kind.

    A torch tensor (torch is then already imported: it is never imported here) comes back as a tensor on
    its device, with its dtype when floating (else float32); anything else as a NumPy array.
    """
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(values, torch.Tensor):
        dtype = values.dtype if values.is_floating_point() else torch.float32
        device = values.device
        return values.detach().cpu().double().numpy(), lambda result: torch.from_numpy(result).to(device, dtype)
    array = np.asarray(values)
    if array.dtype == object:
        array = np.where(np.equal(array, None), math.nan, array)
    return array.astype(np.float64), np.asarray


def phi(mean_accuracy: Any, method: str = "exp", **params: float) -> Any:
    """The difficulty weight of groups with mean accuracy reward ``mean_accuracy``.

    Args:
        mean_accuracy: Mean accuracy reward (mIoU) per group (a sequence, a NumPy array or a torch
            tensor); clamped to [0, 1] first.
        method: A registered method: ``exp`` (``e^(1-m)``, default), ``power`` (``(offset-m)^power``),
            ``log`` (``-log(eps+m)``, floored at 0 so that a group never gets a negative weight),
            ``linear`` (``intercept + slope*(1-m)``), ``none`` (1) or another package's.
        **params: The method's parameters (:attr:`WeightingMethod.params`).

    Returns:
        The weights, the shape of ``mean_accuracy``: a NumPy array, or a tensor for a tensor.

    Example:
        >>> phi([0.0, 1.0]).round(4).tolist()
        [2.7183, 1.0]
    """
    means, as_input_kind = _as_array(mean_accuracy)
    return as_input_kind(np.asarray(resolve_method(method, params)(np.clip(means, 0.0, 1.0)), dtype=np.float64))


def group_mean(rewards: Any, group_size: int) -> Any:
    """Mean of each group of ``group_size`` consecutive rewards, ignoring NaN and None (reward not applicable).

    Returns:
        One value per group, NaN for a group with no valid reward: a NumPy array, or a tensor for a tensor.

    Example:
        >>> group_mean([1.0, float("nan"), 0.2, 0.4], 2).tolist()
        [1.0, 0.30000000000000004]
    """
    values, as_input_kind = _as_array(rewards)
    return as_input_kind(_group_means(values, _whole_group_size(group_size)))


def _group_means(rewards: np.ndarray, group_size: int) -> np.ndarray:
    if rewards.size % group_size:
        raise ValueError(f"{rewards.size} rewards cannot be split into groups of {group_size}")
    groups = rewards.reshape(-1, group_size)
    valid = ~np.isnan(groups)
    counts = valid.sum(axis=1)
    sums = np.where(valid, groups, 0.0).sum(axis=1)
    return np.divide(sums, counts, out=np.full(len(groups), math.nan), where=counts > 0)


def _whole_group_size(group_size: object) -> int:
    """``group_size`` as an int: a positive whole number (``2.0`` is 2), never a bool or a string."""
    whole = isinstance(group_size, numbers.Real) and not isinstance(group_size, bool)
    if not whole or not float(group_size).is_integer() or group_size < 1:
        raise ValueError(f"group_size must be a positive whole number, got {group_size!r}")
    return int(group_size)


def difficulty_weights(
    accuracy_rewards: Any | Sequence[float | None],
    group_size: int,
    method: str = "exp",
    normalize: bool = False,
    **params: float,
) -> Any:
    """Per-completion weights ``phi(mIoU of its group)``.

    Args:
        accuracy_rewards: The accuracy reward (IoU) of every completion of the batch, gathered over all
            processes, ``group_size`` consecutive completions per prompt: a sequence, a NumPy array or a
            torch tensor. NaN (or None) means "not applicable" and is left out of the group mean; a group
            with no valid reward gets weight 1.
        group_size: Completions per prompt (``num_generations``): a positive whole number.
        method: See :func:`phi`.
        normalize: Rescale the weights to mean 1 over the batch so the learning rate keeps its
            meaning (an option beyond the paper; off by default).
        **params: The method's parameters.

    Returns:
        One weight per completion: a float NumPy array, or, for a tensor, a tensor on its device.

    Example:
        >>> difficulty_weights([0.0, 0.0, 1.0, 1.0], group_size=2).round(4).tolist()
        [2.7183, 2.7183, 1.0, 1.0]
    """
    rewards, as_input_kind = _as_array(accuracy_rewards)
    group_size = _whole_group_size(group_size)
    means = _group_means(rewards.ravel(), group_size)
    weights = np.where(np.isnan(means), 1.0, phi(np.nan_to_num(means), method, **params))
    if normalize:
        mean_weight = weights.mean() if weights.size else 0.0
        if mean_weight > 0:
            weights = weights / mean_weight
    return as_input_kind(np.repeat(weights, group_size))

"""Difficulty-aware weights (UniVG-R1): boost the policy gradient of prompt groups the model finds hard.

GRPO normalizes rewards inside each group of ``G`` completions of one prompt, so an easy group (mean
IoU 0.8) gets updates as large as a hard one (mean IoU 0.2). The paper multiplies each completion's
policy term by ``phi(mIoU)``, a weight that falls as the group's mean accuracy reward rises.

This module is torch only and imports no trainer, so any GRPO implementation can use it. Rewards must
be laid out group by group (``G`` consecutive completions per prompt) and must be the rewards of the
whole batch gathered over all processes: a group split across processes is then still one group.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["METHODS", "difficulty_weights", "group_mean", "phi"]

#: Weighting methods and their parameters (with defaults).
METHODS: dict[str, dict[str, float]] = {
    "exp": {},  # e^(1 - m), range [1, e]; the paper's released setting
    "power": {"power": 1.0, "offset": 1.05},  # (offset - m)^power
    "log": {"eps": 0.02},  # -log(eps + m), floored at 0
    "linear": {"intercept": 1.0, "slope": 1.0},  # intercept + slope * (1 - m)
    "none": {},  # 1: plain GRPO
}


def _check(method: str, params: dict[str, float]) -> dict[str, float]:
    if method not in METHODS:
        raise ValueError(f"unknown difficulty weighting method {method!r}; expected one of: {', '.join(METHODS)}")
    unknown = sorted(set(params) - set(METHODS[method]))
    if unknown:
        allowed = ", ".join(METHODS[method]) or "none"
        raise ValueError(f"method {method!r} takes no parameter {', '.join(unknown)} (its parameters: {allowed})")
    return {**METHODS[method], **params}


def phi(mean_accuracy: torch.Tensor, method: str = "exp", **params: float) -> torch.Tensor:
    """The difficulty weight of groups with mean accuracy reward ``mean_accuracy``.

    Args:
        mean_accuracy: Mean accuracy reward (mIoU) per group; clamped to [0, 1] first.
        method: ``exp`` (``e^(1-m)``, default), ``power`` (``(offset-m)^power``), ``log``
            (``-log(eps+m)``, floored at 0 so that a group never gets a negative weight), ``linear``
            (``intercept + slope*(1-m)``) or ``none`` (1).
        **params: The method's parameters (see :data:`METHODS`).

    Returns:
        A tensor of weights, the shape of ``mean_accuracy``.

    Example:
        >>> [round(w, 4) for w in phi(torch.tensor([0.0, 1.0])).tolist()]
        [2.7183, 1.0]
    """
    settings = _check(method, params)
    m = mean_accuracy.clamp(0.0, 1.0)
    if method == "exp":
        return torch.exp(1.0 - m)
    if method == "power":
        return (settings["offset"] - m).clamp(min=0.0) ** settings["power"]
    if method == "log":
        return (-torch.log(settings["eps"] + m)).clamp(min=0.0)
    if method == "linear":
        return settings["intercept"] + settings["slope"] * (1.0 - m)
    return torch.ones_like(m)


def group_mean(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """Mean of each group of ``group_size`` consecutive rewards, ignoring NaN (reward not applicable).

    Returns:
        One value per group; NaN for a group with no valid reward.

    Example:
        >>> group_mean(torch.tensor([1.0, float("nan"), 0.2, 0.4]), 2).tolist()
        [1.0, 0.30000001192092896]
    """
    if group_size < 1 or rewards.numel() % group_size:
        raise ValueError(f"{rewards.numel()} rewards cannot be split into groups of {group_size}")
    return torch.nanmean(rewards.reshape(-1, group_size).float(), dim=1)


def difficulty_weights(
    accuracy_rewards: torch.Tensor | Sequence[float],
    group_size: int,
    method: str = "exp",
    normalize: bool = False,
    **params: float,
) -> torch.Tensor:
    """Per-completion weights ``phi(mIoU of its group)``.

    Args:
        accuracy_rewards: The accuracy reward (IoU) of every completion of the batch, gathered over all
            processes, ``group_size`` consecutive completions per prompt. NaN means "not applicable"
            and is left out of the group mean; a group with no valid reward gets weight 1.
        group_size: Completions per prompt (``num_generations``).
        method: See :func:`phi`.
        normalize: Rescale the weights to mean 1 over the batch so the learning rate keeps its
            meaning (an option beyond the paper; off by default).
        **params: The method's parameters.

    Returns:
        A float tensor with one weight per completion, on the rewards' device.

    Example:
        >>> [round(w, 4) for w in difficulty_weights([0.0, 0.0, 1.0, 1.0], group_size=2).tolist()]
        [2.7183, 2.7183, 1.0, 1.0]
    """
    rewards = torch.as_tensor(accuracy_rewards, dtype=torch.float32)
    means = group_mean(rewards, group_size)
    weights = torch.where(torch.isnan(means), torch.ones_like(means), phi(torch.nan_to_num(means), method, **params))
    if normalize:
        mean_weight = weights.mean()
        if mean_weight > 0:
            weights = weights / mean_weight
    return weights.repeat_interleave(group_size)

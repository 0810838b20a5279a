"""Batch scoring for the trainers that take a reward *function* (verl, EasyR1): several rewards, one score.

Shared by :mod:`univg_plugin.integrations.verl` and :mod:`univg_plugin.integrations.easyr1`, which only
adapt their framework's calling convention. A ground truth is what the rewards take as ``solution`` (a
box, boxes, or text with them), or a dict with a ``solution`` key whose other keys, like the
``extra_info`` dict's, are passed as dataset columns (``width``, ``height``, ``image_sizes``,
``target_image``, ``solution_space``, ...).

Absolute imports only: the modules that use it may be loaded from their file paths.
"""

from __future__ import annotations

import functools
import json
import numbers
from collections.abc import Sequence
from typing import Any

from univg_plugin.rewards import load

__all__ = ["DEFAULT_REWARDS", "SCORING_KEYWORDS", "score_batch"]

#: The paper's rewards (summed with weight 1.0 each).
DEFAULT_REWARDS = ("iou", "format")
#: The keywords :func:`score_batch` takes itself; any other is an option of the rewards.
SCORING_KEYWORDS = frozenset({"rewards", "weights", "reward_options", "none_value"})
_RESERVED = frozenset({"completions", "solution"})


@functools.lru_cache(maxsize=64)
def _loaded(key: str) -> tuple[list, list[float]]:
    """The reward functions and weights of a configuration (given as its JSON, to be hashable)."""
    config = json.loads(key)
    functions = load(config["rewards"], config["reward_options"], **config["options"])
    weights = config["weights"] if config["weights"] is not None else [1.0] * len(functions)
    if len(weights) != len(functions):
        raise ValueError(f"{len(weights)} weights for {len(functions)} rewards {config['rewards']}")
    return functions, [float(weight) for weight in weights]


def _config_key(
    rewards: Sequence[str], weights: Sequence[float] | None, reward_options: dict | None, options: dict
) -> str:
    """A configuration as the JSON :func:`_loaded` caches on."""
    config = {
        "rewards": list(rewards),
        "weights": None if weights is None else list(weights),
        "reward_options": reward_options or {},
        "options": options,
    }
    return json.dumps(config, sort_keys=True, default=str)


def _columns(ground_truths: Sequence[Any], extra_infos: Sequence[dict | None] | None) -> tuple[list, dict]:
    """Split the ground truths into solutions and dataset columns (from dict ground truths and extra_info)."""
    rows = [dict(info or {}) for info in extra_infos] if extra_infos is not None else [{} for _ in ground_truths]
    solutions = []
    for row, truth in zip(rows, ground_truths):
        if isinstance(truth, dict):
            truth = dict(truth)
            solutions.append(truth.pop("solution", None))
            row.update(truth)
        else:
            solutions.append(truth)
    names = sorted({name for row in rows for name in row} - _RESERVED)
    return solutions, {name: [row.get(name) for row in rows] for name in names}


def score_batch(
    responses: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[dict | None] | None = None,
    *,
    rewards: Sequence[str] = DEFAULT_REWARDS,
    weights: Sequence[float] | None = None,
    reward_options: dict[str, dict[str, Any]] | None = None,
    none_value: float = 0.0,
    **options: Any,
) -> list[dict[str, float]]:
    """Score a batch of responses with several rewards.

    Args:
        responses: Detokenized responses.
        ground_truths: Ground truth per response (see the module docstring).
        extra_infos: Per-response dicts whose keys become dataset columns.
        rewards: Registry names to compute.
        weights: One weight per reward for ``score`` (default 1.0 each).
        reward_options: Per-name options, e.g. ``{"iou_threshold": {"threshold": 0.7}}``.
        none_value: The value of a reward that does not apply to a response (None from the reward: a row
            without a target box or target image), in its entry and in the sum. verl and EasyR1 need a number
            for every response; 0.0 scores such a row like a wrong answer.
        **options: Options for every reward that takes them (``space``, ``solution_space``, ``policy``, ...).

    Returns:
        One dict per response: ``score`` (the weighted sum) and each reward's value.

    Raises:
        ValueError: ``none_value`` is not a number, or the configuration is wrong (see
            :func:`univg_plugin.rewards.load`).

    Example:
        >>> score_batch(["<think>.</think><answer>(0,0),(100,100)</answer>"], [[0, 0, 100, 50]])
        [{'score': 1.5, 'iou': 0.5, 'format': 1.0}]
    """
    if isinstance(none_value, bool) or not isinstance(none_value, numbers.Real):
        raise ValueError(f"none_value must be a number (every response needs a score), got {none_value!r:.80}")
    fill = float(none_value)
    functions, factors = _loaded(_config_key(rewards, weights, reward_options, options))
    solutions, columns = _columns(ground_truths, extra_infos)
    texts = list(responses)
    values = {f.__name__: f(texts, solution=solutions, **columns) for f in functions}
    values = {name: [fill if v is None else v for v in column] for name, column in values.items()}
    return [
        {
            "score": sum(w * column[i] for w, column in zip(factors, values.values())),
            **{n: v[i] for n, v in values.items()},
        }
        for i in range(len(texts))
    ]

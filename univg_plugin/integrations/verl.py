"""verl custom reward functions backed by our grounding rewards.

verl loads a custom reward function by path and name and calls it with the detokenized response::

    custom_reward_function:
      path: pkg://univg_plugin.integrations.verl   # or the file path of this module
      name: compute_score                          # compute_score_batch with reward_model.reward_manager=batch
      reward_kwargs: {rewards: [iou, format], space: norm1000}

``reward_kwargs`` are passed as keyword arguments: ``rewards`` (registry names, default the paper's
``iou`` and ``format``), ``weights`` (default 1.0 each: the paper's plain sum), ``reward_options``
(per-name options) and any option shared by the rewards (``space``, ``solution_space``, ``policy``, ...).

``ground_truth`` is what the rewards take as ``solution`` (a box, boxes, or text with them), or a dict
with a ``solution`` key whose other keys, like the ``extra_info`` dict's, are passed as dataset
columns (``width``, ``height``, ``image_sizes``, ``target_image``, ``solution_space``, ...).

The module imports nothing from verl and uses absolute imports only, so it also works when loaded from
its file path.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from univg_plugin.rewards import load

__all__ = ["compute_score", "compute_score_batch"]

_DEFAULT_REWARDS = ("iou", "format")
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


def compute_score_batch(
    data_sources: Sequence[str],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[dict | None] | None = None,
    *,
    rewards: Sequence[str] = _DEFAULT_REWARDS,
    weights: Sequence[float] | None = None,
    reward_options: dict[str, dict[str, Any]] | None = None,
    **options: Any,
) -> list[dict[str, float]]:
    """Score a batch (verl's ``BatchRewardManager`` convention).

    Args:
        data_sources: Dataset name per response (unused).
        solution_strs: Detokenized responses.
        ground_truths: Ground truth per response (see the module docstring).
        extra_infos: Per-response dicts whose keys become dataset columns.
        rewards: Registry names to compute.
        weights: One weight per reward for ``score`` (default 1.0 each).
        reward_options: Per-name options, e.g. ``{"iou_threshold": {"threshold": 0.7}}``.
        **options: Options for every reward that takes them (``space``, ``solution_space``, ``policy``, ...).

    Returns:
        One dict per response: ``score`` (the weighted sum) and each reward's value; a reward that does
        not apply to a response counts as 0.0.

    Example:
        >>> compute_score_batch(["mig"], ["<think>.</think><answer>(0,0),(100,100)</answer>"], [[0, 0, 100, 50]])
        [{'score': 1.5, 'iou': 0.5, 'format': 1.0}]
    """
    key = json.dumps(
        {
            "rewards": list(rewards),
            "weights": None if weights is None else list(weights),
            "reward_options": reward_options or {},
            "options": options,
        },
        sort_keys=True,
        default=str,
    )
    functions, factors = _loaded(key)
    solutions, columns = _columns(ground_truths, extra_infos)
    texts = list(solution_strs)
    values = {f.__name__: [v or 0.0 for v in f(texts, solution=solutions, **columns)] for f in functions}
    return [
        {
            "score": sum(w * column[i] for w, column in zip(factors, values.values())),
            **{n: v[i] for n, v in values.items()},
        }
        for i in range(len(texts))
    ]


def compute_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None, **kwargs: Any
) -> dict[str, float]:
    """Score one response (verl's default ``NaiveRewardManager`` convention).

    Args:
        data_source: Dataset name (unused).
        solution_str: The detokenized response.
        ground_truth: The ground truth (see the module docstring).
        extra_info: A dict whose keys become dataset columns.
        **kwargs: ``rewards``, ``weights``, ``reward_options`` and shared options, as in
            :func:`compute_score_batch`.

    Returns:
        ``{"score": weighted sum, <reward name>: value, ...}``.

    Example:
        >>> compute_score("mig", "<answer>[0, 0, 100, 100]</answer>", "[0, 0, 100, 50]", rewards=["iou"])
        {'score': 0.5, 'iou': 0.5}
    """
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info], **kwargs)[0]

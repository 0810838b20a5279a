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
columns (``width``, ``height``, ``image_sizes``, ``target_image``, ``solution_space``, ...); see
:mod:`univg_plugin.integrations.scoring`.

The module imports nothing from verl and uses absolute imports only, so it also works when loaded from
its file path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from univg_plugin.integrations.scoring import score_batch

__all__ = ["compute_score", "compute_score_batch"]


def compute_score_batch(
    data_sources: Sequence[str],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[dict | None] | None = None,
    **kwargs: Any,
) -> list[dict[str, float]]:
    """Score a batch (verl's ``BatchRewardManager`` convention).

    Args:
        data_sources: Dataset name per response (unused).
        solution_strs: Detokenized responses.
        ground_truths: Ground truth per response (see the module docstring).
        extra_infos: Per-response dicts whose keys become dataset columns.
        **kwargs: ``rewards`` (registry names), ``weights`` (one per reward, default 1.0 each),
            ``reward_options`` (per name) and options shared by the rewards (``space``, ...), as in
            :func:`univg_plugin.integrations.scoring.score_batch`.

    Returns:
        One dict per response: ``score`` (the weighted sum) and each reward's value; a reward that does
        not apply to a response counts as 0.0.

    Example:
        >>> compute_score_batch(["mig"], ["<think>.</think><answer>(0,0),(100,100)</answer>"], [[0, 0, 100, 50]])
        [{'score': 1.5, 'iou': 0.5, 'format': 1.0}]
    """
    return score_batch(solution_strs, ground_truths, extra_infos, **kwargs)


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
    return score_batch([solution_str], [ground_truth], [extra_info], **kwargs)[0]

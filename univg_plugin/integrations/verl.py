"""verl custom reward functions backed by our grounding rewards.

verl loads a custom reward function by path and name and calls it with the detokenized response::

    custom_reward_function:
      path: pkg://univg_plugin.integrations.verl   # or the file path of this module
      name: compute_score                          # compute_score_batch with reward_model.reward_manager=batch
      reward_kwargs: {rewards: [iou, format], space: norm1000}

``reward_kwargs`` are passed as keyword arguments: ``rewards`` (registry names, default the paper's
``iou`` and ``format``), ``weights`` (default 1.0 each: the paper's plain sum), ``reward_options``
(per-name options), ``none_value`` (the value of a reward that does not apply to a response, e.g. a row
without a target box: default 0.0, as verl needs a number) and any option shared by the rewards
(``space``, ``solution_space``, ``policy``, ...).

verl adds keywords of its own: its reward loop passes ``reward_router_address`` and
``reward_model_tokenizer`` (for generative reward models; ignored here). Any other keyword that no
configured reward takes is ignored with a warning naming it, so a newer verl keeps working and a
misspelt option is still seen.

``ground_truth`` is what the rewards take as ``solution`` (a box, boxes, or text with them), or a dict
with a ``solution`` key whose other keys, like the ``extra_info`` dict's, are passed as dataset
columns (``width``, ``height``, ``image_sizes``, ``target_image``, ``solution_space``, ...); see
:mod:`univg_plugin.integrations.scoring`.

The module imports nothing from verl and uses absolute imports only, so it also works when loaded from
its file path.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from typing import Any

from univg_plugin.integrations.scoring import DEFAULT_REWARDS, SCORING_KEYWORDS, score_batch
from univg_plugin.rewards import reward_options

__all__ = ["VERL_KEYWORDS", "compute_score", "compute_score_batch"]

#: Keywords verl's reward loop passes to a custom reward function for generative reward models
#: (``verl/experimental/reward_loop/reward_manager/naive.py``); our rewards use none of them.
VERL_KEYWORDS = frozenset({"reward_router_address", "reward_model_tokenizer"})


@functools.lru_cache(maxsize=256)
def _taken(rewards: tuple[str, ...], names: frozenset[str]) -> frozenset[str]:
    """The option ``names`` that at least one of ``rewards`` takes."""
    per_reward = reward_options(rewards, None, **dict.fromkeys(names))
    return frozenset().union(*per_reward.values())


def _scoring_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` without verl's own keywords and any other that no configured reward takes (with a warning)."""
    rewards = tuple(kwargs.get("rewards", DEFAULT_REWARDS))
    options = frozenset(kwargs) - SCORING_KEYWORDS
    taken = _taken(rewards, options)
    for name in sorted(options - taken - VERL_KEYWORDS):
        warnings.warn(
            f"univg_plugin.integrations.verl: ignoring keyword {name!r}, which no reward in {list(rewards)} takes",
            stacklevel=3,
        )
    return {key: value for key, value in kwargs.items() if key in SCORING_KEYWORDS or key in taken}


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
            ``reward_options`` (per name), ``none_value`` and options shared by the rewards (``space``, ...),
            as in :func:`univg_plugin.integrations.scoring.score_batch`; verl's own keywords are ignored.

    Returns:
        One dict per response: ``score`` (the weighted sum) and each reward's value; a reward that does
        not apply to a response counts as ``none_value`` (default 0.0).

    Example:
        >>> compute_score_batch(["mig"], ["<think>.</think><answer>(0,0),(100,100)</answer>"], [[0, 0, 100, 50]])
        [{'score': 1.5, 'iou': 0.5, 'format': 1.0}]
    """
    return score_batch(solution_strs, ground_truths, extra_infos, **_scoring_kwargs(kwargs))


def compute_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None, **kwargs: Any
) -> dict[str, float]:
    """Score one response (verl's default ``NaiveRewardManager`` convention).

    Args:
        data_source: Dataset name (unused).
        solution_str: The detokenized response.
        ground_truth: The ground truth (see the module docstring).
        extra_info: A dict whose keys become dataset columns.
        **kwargs: ``rewards``, ``weights``, ``reward_options``, ``none_value`` and shared options, as in
            :func:`compute_score_batch`.

    Returns:
        ``{"score": weighted sum, <reward name>: value, ...}``.

    Example:
        >>> compute_score("mig", "<answer>[0, 0, 100, 100]</answer>", "[0, 0, 100, 50]", rewards=["iou"])
        {'score': 0.5, 'iou': 0.5}
    """
    return score_batch([solution_str], [ground_truth], [extra_info], **_scoring_kwargs(kwargs))[0]

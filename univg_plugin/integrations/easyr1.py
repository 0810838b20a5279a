"""An EasyR1 reward function backed by our grounding rewards, for every EasyR1 calling convention.

EasyR1 loads a reward function from a file path and passes its configured keyword arguments. Point it
at this module's file::

    python -c "import univg_plugin.integrations.easyr1 as m; print(m.__file__)"

    worker:
      reward:
        reward_function: /path/to/univg_plugin/integrations/easyr1.py:compute_score
        reward_function_kwargs: {rewards: [iou, format], space: norm1000}

(EasyR1 0.3.0 names the keys ``score_function`` and ``score_function_kwargs``.) :func:`compute_score`
answers each way EasyR1 has called a reward function:

| EasyR1 | call | returns |
|---|---|---|
| 0.3.1 and later, batch (the default) | ``compute_score([{"response": ..., "ground_truth": ...}, ...])`` | a list |
| 0.3.1 and later, sequential | ``compute_score({"response": ..., "ground_truth": ...})`` | a dict |
| 0.3.0; sequential before 0.3.1 | ``compute_score(response, ground_truth)`` | a dict |
| batch before 0.3.1 | ``compute_score([response, ...], [ground_truth, ...])`` | a list |

The ground truth is read as in :mod:`univg_plugin.integrations.scoring` (shared with verl, of which
EasyR1 is a fork): a box, boxes, text containing them, or a dict with a ``solution`` key whose other
keys are dataset columns (``width``, ``height``, ``target_image``, ...). A reward that does not apply to
a response (a row without a target box) scores ``none_value``, 0.0 unless the kwargs set another
number: EasyR1 needs one for every response. Absolute imports only: EasyR1 executes this file as a
module named ``custom_reward_fn`` (``custom_score_fn`` in 0.3.0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from univg_plugin.integrations.scoring import score_batch

__all__ = ["REWARD_NAME", "REWARD_TYPE", "compute_score"]

#: Read by EasyR1's ``AutoRewardManager``: the name it prints, and the batch calling convention.
REWARD_NAME = "univg_grounding"
REWARD_TYPE = "batch"

_NO_TRUTH = object()


def _responses_and_truths(reward_inputs: Any, ground_truth: Any) -> tuple[list, list, bool]:
    """The responses, their ground truths, and whether one response was given, from any EasyR1 call shape."""
    if ground_truth is _NO_TRUTH:
        if isinstance(reward_inputs, Mapping):
            return [reward_inputs["response"]], [reward_inputs["ground_truth"]], True
        if isinstance(reward_inputs, Sequence) and all(isinstance(item, Mapping) for item in reward_inputs):
            return [item["response"] for item in reward_inputs], [item["ground_truth"] for item in reward_inputs], False
    elif isinstance(reward_inputs, str):
        return [reward_inputs], [ground_truth], True
    elif (
        isinstance(reward_inputs, Sequence) and isinstance(ground_truth, Sequence) and not isinstance(ground_truth, str)
    ):
        if len(reward_inputs) != len(ground_truth):
            raise ValueError(f"{len(reward_inputs)} responses for {len(ground_truth)} ground truths")
        return list(reward_inputs), list(ground_truth), False
    given = type(reward_inputs).__name__ + ("" if ground_truth is _NO_TRUTH else f", {type(ground_truth).__name__}")
    raise TypeError(
        "compute_score takes EasyR1's reward inputs (a list of {'response', 'response_length', 'ground_truth'} "
        f"dicts, or one), (response, ground_truth) or (responses, ground_truths); got ({given})"
    )


def compute_score(
    reward_inputs: Any, ground_truth: Any = _NO_TRUTH, /, **kwargs: Any
) -> list[dict[str, float]] | dict[str, float]:
    """Score responses the way the calling EasyR1 version asks (see the module docstring's table).

    Args:
        reward_inputs: ``{"response", "response_length", "ground_truth"}`` per response (a list, or one dict);
            before EasyR1 0.3.1, the response (a string) or the responses (a list of strings).
        ground_truth: Before EasyR1 0.3.1 only: the ground truth, or one per response.
        **kwargs: ``rewards`` (registry names, default ``iou`` and ``format``), ``weights`` (default 1.0
            each), ``reward_options`` (per name), ``none_value`` (default 0.0) and options shared by the
            rewards (``space``, ...).

    Returns:
        Per response, a dict: ``overall`` (the weighted sum, what EasyR1 trains on) and each reward's value
        (logged by EasyR1 as a metric); a list of them for a batch, one dict for one response.

    Raises:
        TypeError: a call in none of EasyR1's shapes.

    Example:
        >>> compute_score([{"response": "<answer>(0,0),(100,100)</answer>", "response_length": 9,
        ...                 "ground_truth": "[0, 0, 100, 50]"}], rewards=["iou"])
        [{'overall': 0.5, 'iou': 0.5}]
        >>> compute_score("<answer>(0,0),(100,100)</answer>", "[0, 0, 100, 50]", rewards=["iou"])
        {'overall': 0.5, 'iou': 0.5}
    """
    responses, truths, single = _responses_and_truths(reward_inputs, ground_truth)
    scores = [{"overall": score.pop("score"), **score} for score in score_batch(responses, truths, **kwargs)]
    return scores[0] if single else scores

"""An EasyR1 batch reward function backed by our grounding rewards.

EasyR1 loads a reward function from a file path (``worker.reward.reward_function: PATH:compute_score``)
and passes ``worker.reward.reward_function_kwargs`` as keyword arguments. Point it at this module's file::

    python -c "import univg_plugin.integrations.easyr1 as m; print(m.__file__)"

    worker:
      reward:
        reward_function: /path/to/univg_plugin/integrations/easyr1.py:compute_score
        reward_function_kwargs: {rewards: [iou, format], space: norm1000}

Each reward input is ``{"response": str, "response_length": int, "ground_truth": ...}``; the ground
truth is read as in :mod:`univg_plugin.integrations.scoring` (shared with verl, of which EasyR1 is a
fork): a box, boxes, text containing them, or a dict with a ``solution`` key whose other keys are
dataset columns (``width``, ``height``, ``target_image``, ...). Absolute imports only: EasyR1 executes
this file as a module named ``custom_reward_fn``.
"""

from __future__ import annotations

from typing import Any

from univg_plugin.integrations.scoring import score_batch

__all__ = ["REWARD_NAME", "REWARD_TYPE", "compute_score"]

#: Read by EasyR1's ``AutoRewardManager``: the name it prints, and the batch calling convention.
REWARD_NAME = "univg_grounding"
REWARD_TYPE = "batch"


def compute_score(reward_inputs: list[dict[str, Any]], **kwargs: Any) -> list[dict[str, float]]:
    """Score a batch of responses (EasyR1's ``BatchRewardFunction``).

    Args:
        reward_inputs: ``{"response", "response_length", "ground_truth"}`` per response.
        **kwargs: ``rewards`` (registry names, default ``iou`` and ``format``), ``weights`` (default 1.0
            each), ``reward_options`` (per name) and options shared by the rewards (``space``, ...).

    Returns:
        One dict per response: ``overall`` (the weighted sum, what EasyR1 trains on) and each reward's
        value (logged by EasyR1 as a metric); a reward that does not apply counts as 0.0.

    Example:
        >>> compute_score([{"response": "<answer>(0,0),(100,100)</answer>", "response_length": 9,
        ...                 "ground_truth": "[0, 0, 100, 50]"}], rewards=["iou"])
        [{'overall': 0.5, 'iou': 0.5}]
    """
    scores = score_batch(
        [item["response"] for item in reward_inputs], [item["ground_truth"] for item in reward_inputs], **kwargs
    )
    return [{"overall": score.pop("score"), **score} for score in scores]

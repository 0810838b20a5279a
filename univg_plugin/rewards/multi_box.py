"""The multi-box reward: several targets, matched one to one with the answer's boxes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..boxes import answer_boxes, iou_matrix
from ._convention import as_rewards, completion_texts, logged_as
from ._truth import BoxOptions, GroundTruth, check_answers

__all__ = ["MAX_MATCHED_BOXES", "matched_score", "multi_box_reward"]

#: Answer boxes matched against the targets: the first ones; any beyond count as extra boxes (this bounds the
#: memory and time of a degenerate answer with thousands of boxes: the IoU matrix is at most this x targets).
MAX_MATCHED_BOXES = 256


def _largest_coordinates(boxes: Sequence[np.ndarray]) -> np.ndarray:
    """Each row's largest x1, y1, x2, y2 over its boxes ``(n, 4)``, NaN for a row without one: what tells a box
    beyond its space (:func:`~._truth.check_answers`), for answers with several boxes."""
    return np.array([row.max(axis=0) if len(row) else np.full(4, np.nan) for row in boxes]).reshape(-1, 4)


def matched_score(predicted: np.ndarray, target: np.ndarray, missing_penalty: float, extra_penalty: float) -> float:
    """Sum of one-to-one matched IoUs over ``matched + missing_penalty * missing + extra_penalty * extra``.

    Only the first :data:`MAX_MATCHED_BOXES` answer boxes can match; the others are extra.
    """
    from scipy.optimize import linear_sum_assignment

    if len(target) == 0:
        return 1.0 if len(predicted) == 0 else 0.0
    if len(predicted) == 0:
        return 0.0
    overlaps = iou_matrix(predicted[:MAX_MATCHED_BOXES], target)
    rows, cols = linear_sum_assignment(overlaps, maximize=True)
    matched = overlaps[rows, cols]
    matched = matched[matched > 0]  # a pair that does not overlap is a miss and an extra box, not a match
    denominator = (
        len(matched) + missing_penalty * (len(target) - len(matched)) + extra_penalty * (len(predicted) - len(matched))
    )
    return float(matched.sum() / denominator) if denominator > 0 else 0.0


@logged_as("multi_box")
def multi_box_reward(
    completions: Sequence[Any],
    solution: Sequence[Any] | None = None,
    *,
    missing_penalty: float = 1.0,
    extra_penalty: float = 1.0,
    space: str = "norm1000",
    solution_space: str | Sequence[str | None] | None = None,
    policy: str = "strict",
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    model_family: str | None = None,
    none_value: float | None = None,
    **kwargs: Any,
) -> list[float]:
    """Several targets: the one-to-one matched mean IoU, penalising missing and extra boxes.

    Every answer box is matched to at most one target box (Hungarian, maximum total IoU; a pair with IoU 0 is no
    match); the score is sum(matched IoU) / (matched + missing_penalty * missing + extra_penalty * extra), in
    [0, 1]: with the default penalties, sum(matched IoU) / (#answer boxes + #targets - matched). A row without
    target boxes scores 1.0 for an answer without boxes, else 0.0. Only the first 256 answer boxes
    (``MAX_MATCHED_BOXES``) can match; any beyond count as extra.

    Args:
        completions (`list[list[dict[str, str]]]` or `list[str]`):
            Completions: conversational (the last message's `"content"` is read) or plain strings.
        solution (`list`):
            Ground truth per completion: its boxes (a box, a list of boxes, or text holding them) are the targets.
        missing_penalty (`float`):
            Weight (>= 0) of each target box the answer misses.
        extra_penalty (`float`):
            Weight (>= 0) of each answer box that matches no target.
        space, solution_space, policy, min_pixels, max_pixels, model_family:
            Where the boxes live and where the answer box is read, as for `iou_reward`.
        none_value (`float` or `None`):
            Accepted so that one setting serves every reward: this reward applies to every row, never None.
        **kwargs:
            Other dataset columns: `target_image` and the image sizes when a conversion needs them; the rest is
            ignored.

    Returns:
        `list[float]`: one reward in [0, 1] per completion.

    Example:
        >>> multi_box_reward(["<answer>(0,0),(10,10) (20,20),(30,30)</answer>"], solution=[[[0, 0, 10, 10]]])
        [0.5]
    """
    texts = completion_texts(completions)
    options = BoxOptions(space, solution_space, policy, min_pixels, max_pixels, model_family)
    truth = GroundTruth(solution, kwargs, len(texts), options)
    answers = [answer_boxes(text, policy) for text in texts]
    check_answers(texts, _largest_coordinates(answers), truth, options)
    scores = [
        matched_score(boxes, target, missing_penalty, extra_penalty) for boxes, target in zip(answers, truth.per_row())
    ]
    return as_rewards(np.clip(np.array(scores, dtype=np.float64), 0.0, 1.0), none_value)

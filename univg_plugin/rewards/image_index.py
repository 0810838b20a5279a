"""Multi-image rewards: does the answer name the target image, and is its box right there?"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..boxes import AnswerPolicy, answer_image_index, iou
from ._convention import as_rewards, completion_texts, logged_as, where_targeted
from ._truth import BoxOptions, column, first_answer_and_target, target_image_index

__all__ = ["grounding_reward", "image_index_reward"]


def _names_target(texts: list[str], targets_column: Sequence[Any] | None, policy: str) -> np.ndarray:
    """1.0 when the answer names the target image, 0.0 when not, NaN where the row names no target."""
    targets = column({"target_image": targets_column}, "target_image", len(texts))
    if targets is None:
        return np.full(len(texts), np.nan)
    policy = AnswerPolicy(policy)
    named = [answer_image_index(text, policy) for text in texts]
    indices = [target_image_index(value, row) for row, value in enumerate(targets)]
    return np.array([np.nan if target is None else float(guess == target) for guess, target in zip(named, indices)])


@logged_as("image_index")
def image_index_reward(
    completions: Sequence[Any],
    target_image: Sequence[Any] | None = None,
    *,
    policy: str = "strict",
    none_value: float | None = None,
    **kwargs: Any,
) -> list[float | None]:
    """1.0 when the image the answer names is the row's ``target_image``, else 0.0 (needs no solution).

    The answer names an image as "image 2", "Image-2", "the second image", "2th image", ...

    Args:
        completions (`list[list[dict[str, str]]]` or `list[str]`):
            Completions: conversational (the last message's `"content"` is read) or plain strings.
        target_image (`list[int | None]`):
            The 1-based index of each row's target image; None (or no column) for rows without one.
        policy (`str`):
            `strict`: the first image named inside `<answer>`; `lenient` and `first`: that, else the last image
            named anywhere in the text.
        none_value (`float` or `None`):
            The value of a row without a target image: None ("does not apply", TRL's convention) or a number
            (0.0 for a trainer that does `torch.tensor(rewards)`, such as VLM-R1's).
        **kwargs:
            The other dataset columns (ignored).

    Returns:
        `list[float | None]`: 1.0 or 0.0 per completion; `none_value` for rows without a target image.

    Example:
        >>> image_index_reward(["<answer>image 2: (0,0),(9,9)</answer>"], target_image=[2])
        [1.0]
    """
    return as_rewards(_names_target(completion_texts(completions), target_image, policy), none_value)


@logged_as("grounding")
def grounding_reward(
    completions: Sequence[Any],
    solution: Sequence[Any] | None = None,
    target_image: Sequence[Any] | None = None,
    *,
    space: str = "norm1000",
    solution_space: str | Sequence[str | None] | None = None,
    policy: str = "strict",
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    model_family: str | None = None,
    none_value: float | None = None,
    **kwargs: Any,
) -> list[float | None]:
    """IoU gated by the right image: the ``iou`` reward when the answer names the target image, else 0.0.

    A row without ``target_image`` scores its IoU; a row without a target box scores ``none_value``.

    Args:
        completions (`list[list[dict[str, str]]]` or `list[str]`):
            Completions: conversational (the last message's `"content"` is read) or plain strings.
        solution (`list`):
            Ground truth per completion: a box `[x1, y1, x2, y2]`, a list of boxes, or text holding them.
        target_image (`list[int | None]`):
            The 1-based index of each row's target image.
        space, solution_space, policy, min_pixels, max_pixels, model_family, none_value:
            Where the boxes live, where the answer box is read and the value of a row without a target box, as
            for `iou_reward`.
        **kwargs:
            Other dataset columns: the image sizes when a conversion needs them; the rest is ignored.

    Returns:
        `list[float | None]`: one reward in [0, 1] per completion; `none_value` where the row has no target box.

    Example:
        >>> grounding_reward(["<answer>image 1: (0,0),(9,9)</answer>"], solution=[[0, 0, 9, 9]], target_image=[2])
        [0.0]
    """
    texts = completion_texts(completions)
    options = BoxOptions(space, solution_space, policy, min_pixels, max_pixels, model_family)
    boxes, target = first_answer_and_target(texts, solution, {**kwargs, "target_image": target_image}, options)
    correct = _names_target(texts, target_image, policy)
    scores = where_targeted(iou(boxes, target), target) * np.where(np.isnan(correct), 1.0, correct)
    return as_rewards(scores, none_value)

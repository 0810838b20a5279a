"""Accuracy rewards: how well the answer's first box matches the target (IoU, thresholded IoU, GIoU)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..boxes import giou, iou
from ._convention import as_rewards, completion_texts, logged_as, where_targeted
from ._truth import BoxOptions, first_answer_and_target

__all__ = ["giou_reward", "iou_reward", "iou_threshold_reward"]


@logged_as("iou")
def iou_reward(
    completions: Sequence[Any],
    solution: Sequence[Any] | None = None,
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
    """Continuous IoU of the answer's first box with the first target box: the paper's accuracy reward.

    IoU = |A ∩ B| / |A ∪ B| in [0, 1]; 0.0 when the answer has no box or either box is invalid (degenerate, NaN,
    infinite); None when the row has no target box. Logged by TRL as ``rewards/iou``.

    Args:
        completions (`list[list[dict[str, str]]]` or `list[str]`):
            Completions: conversational (the last message's `"content"` is read) or plain strings.
        solution (`list`):
            Ground truth per completion: a box `[x1, y1, x2, y2]`, a list of boxes, or text holding them
            (`"<answer> [x1,y1,x2,y2] </answer>"`); None for a row without one.
        space (`str`):
            Coordinate space of the boxes the model writes (`norm1000`: Qwen2-VL; `abs_input`: Qwen2.5-VL).
        solution_space (`str` or `list`):
            Space of the ground truth, for every row or per row (a dataset column); None: `space`.
        policy (`str`):
            Where the answer box is read: `strict` (inside `<answer>` only), `lenient` or `first`.
        min_pixels, max_pixels (`int`):
            The processor's pixel limits, to compute the model-input size for `abs_input` when no
            `image_grid_thw` column is given (None: Qwen2-VL's defaults, with a warning once).
        model_family (`str` or `None`):
            The model's family (`qwen2_vl`, `qwen2_5_vl`, `qwen3_vl`; `univg_plugin.qwen_vl.MODEL_FAMILIES`): the
            patch size and resize factor of `abs_input` conversions (Qwen3-VL: 16 and 32), and a warning once when
            answers are written in another family's syntax. None: Qwen2-VL's patches (14 and 28), no syntax check.
            The presets set it.
        none_value (`float` or `None`):
            The value of a row without a target box: None ("does not apply", TRL's convention) or a number
            (0.0 for a trainer that does `torch.tensor(rewards)`, such as VLM-R1's).
        **kwargs:
            Other dataset columns: `target_image` (1-based), image sizes (`image_sizes`, `width`/`height`,
            `images`/`image`, `image_path`) and `image_grid_thw` are read when a conversion needs them; the rest
            (`prompts`, `trainer_state`, ...) is ignored.

    Returns:
        `list[float | None]`: one reward per completion; `none_value` where the row has no target box.

    Example:
        >>> completion = [{"role": "assistant", "content": "<think>top left</think><answer>(0,0),(100,100)</answer>"}]
        >>> iou_reward([completion], solution=[[0, 0, 100, 50]])
        [0.5]
    """
    options = BoxOptions(space, solution_space, policy, min_pixels, max_pixels, model_family)
    boxes, target = first_answer_and_target(completion_texts(completions), solution, kwargs, options)
    return as_rewards(where_targeted(iou(boxes, target), target), none_value)


@logged_as("iou_threshold")
def iou_threshold_reward(
    completions: Sequence[Any],
    solution: Sequence[Any] | None = None,
    *,
    threshold: float = 0.5,
    space: str = "norm1000",
    solution_space: str | Sequence[str | None] | None = None,
    policy: str = "strict",
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    model_family: str | None = None,
    none_value: float | None = None,
    **kwargs: Any,
) -> list[float | None]:
    """1.0 when the answer's IoU with the target reaches ``threshold`` (inclusive), else 0.0.

    Args:
        completions (`list[list[dict[str, str]]]` or `list[str]`):
            Completions: conversational (the last message's `"content"` is read) or plain strings.
        solution (`list`):
            Ground truth per completion: a box `[x1, y1, x2, y2]`, a list of boxes, or text holding them.
        threshold (`float`):
            IoU in [0, 1] at or above which the reward is 1.0.
        space, solution_space, policy, min_pixels, max_pixels, model_family, none_value:
            Where the boxes live, where the answer box is read and the value of a row without a target box, as
            for `iou_reward`.
        **kwargs:
            Other dataset columns: `target_image` and the image sizes when a conversion needs them; the rest is
            ignored.

    Returns:
        `list[float | None]`: 1.0 or 0.0 per completion; `none_value` where the row has no target box.

    Example:
        >>> iou_threshold_reward(["<answer>(0,0),(100,100)</answer>"], solution=[[0, 0, 100, 50]])
        [1.0]
    """
    options = BoxOptions(space, solution_space, policy, min_pixels, max_pixels, model_family)
    boxes, target = first_answer_and_target(completion_texts(completions), solution, kwargs, options)
    return as_rewards(where_targeted(iou(boxes, target) >= threshold, target), none_value)


@logged_as("giou")
def giou_reward(
    completions: Sequence[Any],
    solution: Sequence[Any] | None = None,
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
    """Generalized IoU in [-1, 1]: a shaped accuracy reward that also rewards near misses.

    GIoU = IoU - (|C| - |A ∪ B|) / |C|, with C the smallest box enclosing A and B; 0.0 for touching boxes, -1.0
    when the answer has no box or either box is invalid; None when the row has no target box.

    Args:
        completions (`list[list[dict[str, str]]]` or `list[str]`):
            Completions: conversational (the last message's `"content"` is read) or plain strings.
        solution (`list`):
            Ground truth per completion: a box `[x1, y1, x2, y2]`, a list of boxes, or text holding them.
        space, solution_space, policy, min_pixels, max_pixels, model_family, none_value:
            Where the boxes live, where the answer box is read and the value of a row without a target box, as
            for `iou_reward`.
        **kwargs:
            Other dataset columns: `target_image` and the image sizes when a conversion needs them; the rest is
            ignored.

    Returns:
        `list[float | None]`: one reward in [-1, 1] per completion; `none_value` where the row has no target box.

    Example:
        >>> giou_reward(["<answer>(0,0),(100,100)</answer>"], solution=[[100, 0, 200, 100]])
        [0.0]
    """
    options = BoxOptions(space, solution_space, policy, min_pixels, max_pixels, model_family)
    boxes, target = first_answer_and_target(completion_texts(completions), solution, kwargs, options)
    return as_rewards(where_targeted(giou(boxes, target), target), none_value)

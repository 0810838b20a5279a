"""Rewards set up for one Qwen-VL family: its box space and answer layout, read from the family table.

A preset is a reward function like any other, named ``<family>_<reward>`` (TRL logs
``rewards/qwen2_5_vl_iou/mean``; two families' presets never collide in one trainer). TRL's CLI loads
them by import path::

    trl grpo ... --reward_funcs univg_plugin.rewards.presets.qwen2_5_vl_iou \\
        univg_plugin.rewards.presets.qwen2_5_vl_format

| family | box rewards' ``space`` | ``format`` accepts | truth without a ``solution_space`` column |
|---|---|---|---|
| ``qwen2_vl`` | ``norm1000`` | the paper's layout | ``norm1000`` |
| ``qwen2_5_vl`` | ``abs_input`` | VLM-R1's JSON layout | ``abs_image`` |
| ``qwen3_vl`` | ``norm1000`` | VLM-R1's JSON layout | ``norm1000`` |

The paper's layout is ``<think>...</think><answer>(x1,y1),(x2,y2)</answer>`` ending the text; VLM-R1's
JSON layout is ``<think>...</think><answer>...{...[x1, y1, x2, y2]...}...</answer>`` (its
``format_reward_rec``). Both are checked in linear time (:data:`univg_plugin.qwen_vl.MODEL_FAMILIES`).

The ground truth's space is the row's ``solution_space`` column when the dataset has one (``grpo_dataset``
writes it); without one, the model's space, except for ``abs_input`` (Qwen2.5-VL): a dataset cannot be
stored in model-input pixels, which depend on the processor's pixel limits, so its ground truth is taken to
be in pixels of the original image (``abs_image``: VLM-R1's REC data, ``univg data convert --to vlm_r1``).
``preset(family, reward, solution_space=...)`` sets it for every row instead (an option wins over the column).

Example:
    >>> qwen2_5_vl_iou.__name__, qwen2_5_vl_iou.options["space"]
    ('qwen2_5_vl_iou', 'abs_input')
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ..qwen_vl import model_family
from ._convention import RewardFunc
from .registry import checked_reward, get, reward_options

__all__ = [
    "PRESET_REWARDS",
    "preset",
    "qwen2_5_vl_format",
    "qwen2_5_vl_giou",
    "qwen2_5_vl_grounding",
    "qwen2_5_vl_iou",
    "qwen2_5_vl_iou_threshold",
    "qwen2_5_vl_multi_box",
    "qwen2_vl_format",
    "qwen2_vl_giou",
    "qwen2_vl_grounding",
    "qwen2_vl_iou",
    "qwen2_vl_iou_threshold",
    "qwen2_vl_multi_box",
    "qwen3_vl_format",
    "qwen3_vl_giou",
    "qwen3_vl_grounding",
    "qwen3_vl_iou",
    "qwen3_vl_iou_threshold",
    "qwen3_vl_multi_box",
]

#: The rewards a family changes (the others, e.g. ``image_index``, are the same for every family).
PRESET_REWARDS = ("iou", "iou_threshold", "giou", "grounding", "multi_box", "format")


def preset(
    family: str,
    reward: str,
    *,
    name: str | None = None,
    column_defaults: Mapping[str, Any] | None = None,
    **options: Any,
) -> RewardFunc:
    """The reward ``reward`` set up for the model family ``family``.

    Args:
        family: A key of :data:`univg_plugin.qwen_vl.MODEL_FAMILIES` (``qwen2_vl``, ``qwen2_5_vl``, ``qwen3_vl``).
        reward: A registry name (``iou``, ``format``, ...).
        name: The function's ``__name__`` (what trainers log); default ``<family>_<reward>``.
        column_defaults: Options that a dataset column of the same name overrides (in its non-empty rows);
            default ``{"solution_space": "abs_image"}`` for a box reward of an ``abs_input`` family (see the
            module docstring), else none.
        **options: Other options of the reward, checked as by :func:`~univg_plugin.rewards.get`
            (``solution_space``, ``threshold``, ``none_value``, ...); they win over dataset columns.
            ``space`` and ``format_pattern`` come from the family.

    Returns:
        A reward function in TRL's convention, with its ``options`` attribute.

    Raises:
        KeyError: an unknown family or reward.
        ValueError: an option the reward does not take, a bad value, or a ``space`` the family does not write.

    Example:
        >>> iou = preset("qwen2_vl", "iou", none_value=0.0)
        >>> iou(["<answer>(0,0),(100,100)</answer>", "<answer>(0,0),(100,100)</answer>"],
        ...     solution=[[0, 0, 100, 50], None])
        [0.5, 0.0]
    """
    conventions = model_family(family)
    if options.get("space", conventions.box_space) != conventions.box_space:
        raise ValueError(
            f"{family} writes boxes in {conventions.box_space}, not {options['space']}; "
            f"use get({reward!r}, space=...) for a reward in another space"
        )
    if options.get("model_family", family) != family:
        raise ValueError(f"the {family} preset cannot score model_family={options['model_family']!r}; use its preset")
    fixed = reward_options(
        [reward], None, space=conventions.box_space, format_pattern=conventions.format_pattern, model_family=family
    )
    configured = get(reward, **{**fixed[reward], **options})
    if column_defaults is None:
        abs_input = conventions.box_space == "abs_input" and "space" in fixed[reward]
        column_defaults = {"solution_space": "abs_image"} if abs_input else {}
    defaults = {key: value for key, value in column_defaults.items() if key not in options}
    checked_reward(reward, defaults)

    @functools.wraps(configured)
    def preset_reward(*args: Any, **columns: Any) -> list:
        for key, default in defaults.items():
            if isinstance(columns.get(key), (list, tuple)):  # a column: its empty rows take the default
                columns[key] = [value or default for value in columns[key]]
        return configured(*args, **{**defaults, **columns})

    preset_reward.__name__ = preset_reward.__qualname__ = name or f"{family}_{reward}"
    return preset_reward


qwen2_vl_iou = preset("qwen2_vl", "iou")
qwen2_vl_iou_threshold = preset("qwen2_vl", "iou_threshold")
qwen2_vl_giou = preset("qwen2_vl", "giou")
qwen2_vl_grounding = preset("qwen2_vl", "grounding")
qwen2_vl_multi_box = preset("qwen2_vl", "multi_box")
qwen2_vl_format = preset("qwen2_vl", "format")
qwen2_5_vl_iou = preset("qwen2_5_vl", "iou")
qwen2_5_vl_iou_threshold = preset("qwen2_5_vl", "iou_threshold")
qwen2_5_vl_giou = preset("qwen2_5_vl", "giou")
qwen2_5_vl_grounding = preset("qwen2_5_vl", "grounding")
qwen2_5_vl_multi_box = preset("qwen2_5_vl", "multi_box")
qwen2_5_vl_format = preset("qwen2_5_vl", "format")
qwen3_vl_iou = preset("qwen3_vl", "iou")
qwen3_vl_iou_threshold = preset("qwen3_vl", "iou_threshold")
qwen3_vl_giou = preset("qwen3_vl", "giou")
qwen3_vl_grounding = preset("qwen3_vl", "grounding")
qwen3_vl_multi_box = preset("qwen3_vl", "multi_box")
qwen3_vl_format = preset("qwen3_vl", "format")

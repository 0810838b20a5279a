"""Qwen-VL conventions shared by the rewards, the trainer, the data tools and the tiny checkpoints.

:data:`MODEL_FAMILIES` is the one table of what differs between the Qwen-VL families (where and how a model
writes its boxes, the layout of its answers, its vision patches, its LLaMA-Factory template).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ModelFamily:
    """How one Qwen-VL family grounds, and how its inputs are cut into patches.

    Attributes:
        name: The family's key in :data:`MODEL_FAMILIES`.
        box_space: The coordinate space its boxes are written in (a ``CoordinateSpace`` value): ``norm1000``
            (integers 0-1000 relative to the image) or ``abs_input`` (pixels of the resized model input).
        answer_syntax: How it writes one box, e.g. ``(x1,y1),(x2,y2)``.
        format_pattern: A regex (searched, ``re.DOTALL``) accepting its well-formed answers, in time linear
            in the text (the ``format`` reward's ``format_pattern``).
        patch_size: The vision tower's patch size in pixels.
        resize_factor: Patch size times spatial merge size: both sides of a resized input are multiples of it.
        llamafactory_template: LLaMA-Factory's ``template`` for the family.
        model_class: transformers' model class of its checkpoints (what ``AutoModelForImageTextToText`` loads).
        thought_words: What opens and closes the reasoning in the answers it is trained on: the paper's
            ``<think>`` / ``</think>``, or Qwen3's ``<think>\n`` / ``\n</think>\n\n`` (its chat template's, and the
            ``thought_words`` of LLaMA-Factory's reasoning template ``qwen3_vl``).
    """

    name: str
    box_space: str
    answer_syntax: str
    format_pattern: str
    patch_size: int
    resize_factor: int
    llamafactory_template: str
    model_class: str
    thought_words: tuple[str, str] = ("<think>", "</think>")

    def boxes_text(self, boxes: Sequence[Sequence[int]]) -> str:
        """Integer boxes written as the family writes them (:attr:`answer_syntax`), several in one answer.

        Example:
            >>> model_family("qwen2_vl").boxes_text([[1, 2, 3, 4]]), model_family("qwen3_vl").boxes_text([[1, 2, 3, 4]])
            ('(1,2),(3,4)', '[{"bbox_2d": [1, 2, 3, 4]}]')
        """
        if self.answer_syntax.startswith("("):
            return " ".join(f"({x1},{y1}),({x2},{y2})" for x1, y1, x2, y2 in boxes)
        return json.dumps([{"bbox_2d": [int(value) for value in box]} for box in boxes])


# Both patterns are linear-time forms of a reference regex, and accept exactly the texts it is found in.
# `\A(?=(.*?X))\1` finds the first X and commits to it (a lookahead is atomic in Python's `re`, so nothing is
# tried twice); taking the first occurrence of each part loses no match, because from any position each part
# matches at most one way and a part that starts later never ends earlier.

#: UniVG-R1's (the paper's) layout, ``rewards.format.PAPER_FORMAT_PATTERN``: a think block, then one
#: ``(x1,y1),(x2,y2)`` of integers as the whole answer, ending the text (one final newline allowed).
PAPER_LAYOUT_PATTERN = r"(?s)\A(?=(.*?<think>))\1.*?</think>\s*<answer>\(\d+,\s*\d+\),\s*\(\d+,\s*\d+\)</answer>$"
#: VLM-R1's layout for JSON boxes (``format_reward_rec`` of its Qwen module): ``re.search(r"<think>.*?</think>\s*
#: <answer>.*?\{.*\[\d+,\s*\d+,\s*\d+,\s*\d+\].*\}.*?</answer>", text, re.DOTALL)``: a think block, then an
#: answer holding ``{ ... [x1, y1, x2, y2] ... }``. The reference regex takes quadratic time on long texts.
JSON_LAYOUT_PATTERN = (
    r"(?s)\A(?=(.*?<think>))\1(?=(.*?</think>\s*<answer>))\2(?=(.*?\{))\3"
    r"(?=(.*?\[\d+,\s*\d+,\s*\d+,\s*\d+\]))\4(?=(.*?\}))\5.*?</answer>"
)
_JSON_BOX = '[{"bbox_2d": [x1, y1, x2, y2], "label": "..."}]'

#: The Qwen-VL families by name: the one home of their grounding and patch conventions.
MODEL_FAMILIES: dict[str, ModelFamily] = {
    "qwen2_vl": ModelFamily(
        name="qwen2_vl",
        box_space="norm1000",
        answer_syntax="(x1,y1),(x2,y2)",
        format_pattern=PAPER_LAYOUT_PATTERN,
        patch_size=14,
        resize_factor=28,
        llamafactory_template="qwen2_vl",
        model_class="Qwen2VLForConditionalGeneration",
    ),
    "qwen2_5_vl": ModelFamily(
        name="qwen2_5_vl",
        box_space="abs_input",
        answer_syntax=_JSON_BOX,
        format_pattern=JSON_LAYOUT_PATTERN,
        patch_size=14,
        resize_factor=28,
        llamafactory_template="qwen2_vl",
        model_class="Qwen2_5_VLForConditionalGeneration",
    ),
    "qwen3_vl": ModelFamily(
        name="qwen3_vl",
        box_space="norm1000",
        answer_syntax=_JSON_BOX,
        format_pattern=JSON_LAYOUT_PATTERN,
        patch_size=16,
        resize_factor=32,
        llamafactory_template="qwen3_vl",
        model_class="Qwen3VLForConditionalGeneration",
        thought_words=("<think>\n", "\n</think>\n\n"),
    ),
}


def model_family(name: str) -> ModelFamily:
    """The conventions of the family ``name``.

    Raises:
        KeyError: an unknown name (the message lists the known ones).

    Example:
        >>> model_family("qwen2_5_vl").box_space
        'abs_input'
    """
    try:
        return MODEL_FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown model family {name!r}; known: {', '.join(MODEL_FAMILIES)}") from None


#: transformers ``model_type`` values of a family's checkpoints other than the family's name.
MODEL_TYPE_FAMILIES: dict[str, str] = {"qwen3_vl_moe": "qwen3_vl"}


def family_of_model_type(model_type: str | None) -> str | None:
    """The family of a checkpoint whose config.json has ``model_type``; None for a model of no family here.

    Example:
        >>> family_of_model_type("qwen3_vl_moe"), family_of_model_type("llava")
        ('qwen3_vl', None)
    """
    name = MODEL_TYPE_FAMILIES.get(model_type, model_type) if model_type is not None else None
    return name if name in MODEL_FAMILIES else None


def checkpoint_family(model_path: str | os.PathLike) -> ModelFamily:
    """The Qwen-VL family of a checkpoint, by the ``model_type`` of its ``config.json`` (``family_of_model_type``).

    Raises:
        FileNotFoundError: the checkpoint has no ``config.json``.
        ValueError: the file is no JSON object, or its ``model_type`` is no known family (naming the known ones).
    """
    config = Path(model_path) / "config.json"
    if not config.is_file():
        raise FileNotFoundError(f"{config}: not found (is {model_path} a transformers checkpoint?)")
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (json.JSONDecodeError, AttributeError, UnicodeDecodeError) as error:
        raise ValueError(f"{config}: not a JSON object ({error})") from None
    family = family_of_model_type(model_type)
    if family is None:
        raise ValueError(
            f"{config}: model_type {model_type!r} is not a known Qwen-VL family ({', '.join(MODEL_FAMILIES)}); "
            "give the coordinate space of its boxes (--space)"
        )
    return MODEL_FAMILIES[family]


#: The Qwen2-VL / Qwen2.5-VL image processors' default pixel limits (``min_pixels``, ``max_pixels``).
DEFAULT_MIN_PIXELS = 56 * 56
DEFAULT_MAX_PIXELS = 14 * 14 * 4 * 1280
#: Patch size times merge size: both sides of a resized Qwen2-VL / Qwen2.5-VL input are multiples of it.
RESIZE_FACTOR = MODEL_FAMILIES["qwen2_vl"].resize_factor
#: The vision tower's patch size (Qwen2-VL / Qwen2.5-VL).
PATCH_SIZE = MODEL_FAMILIES["qwen2_vl"].patch_size

#: Qwen's special tokens, in the order Qwen2-VL numbers them after the BPE vocabulary.
QWEN_SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
#: Tokens Qwen2.5 adds as ordinary (non-special) added tokens.
QWEN_EXTRA_ADDED_TOKENS: tuple[str, ...] = (
    "<tool_call>",
    "</tool_call>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
)
#: Tokens Qwen3 (and Qwen3-VL) adds beside Qwen2.5's: tool responses and the reasoning block.
QWEN3_VL_EXTRA_ADDED_TOKENS: tuple[str, ...] = (
    *QWEN_EXTRA_ADDED_TOKENS,
    "<tool_response>",
    "</tool_response>",
    "<think>",
    "</think>",
)
#: Placeholder tokens that a model must never generate (sampling one breaks the vision forward pass).
VISION_PLACEHOLDER_TOKENS: tuple[str, ...] = (
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

# Qwen2's pre-tokenizer pattern: contractions, words, single digits, punctuation runs, whitespace.
QWEN_SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)

_CHAT_TEMPLATE_HEAD = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}"
)
_DEFAULT_SYSTEM_MESSAGE = (
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
)
_CHAT_TEMPLATE_MESSAGES = (
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
#: Qwen2-VL / Qwen2.5-VL's chat template: a default system message, then the messages.
QWEN_VL_CHAT_TEMPLATE = _CHAT_TEMPLATE_HEAD + _DEFAULT_SYSTEM_MESSAGE + _CHAT_TEMPLATE_MESSAGES
#: Qwen3-VL(-Instruct)'s chat template, without tools: the same messages and no default system message.
QWEN3_VL_CHAT_TEMPLATE = _CHAT_TEMPLATE_HEAD + _CHAT_TEMPLATE_MESSAGES


def set_pixel_limits(image_processor: Any, min_pixels: int | None, max_pixels: int | None) -> tuple[int, int]:
    """Set a Qwen-VL image processor's pixel limits (transformers 4.5x and 5.x); returns the effective ones."""
    size = image_processor.size
    low = size["shortest_edge"] if min_pixels is None else min_pixels
    high = size["longest_edge"] if max_pixels is None else max_pixels
    if low > high:
        raise ValueError(f"min_pixels ({low}) must not exceed max_pixels ({high})")
    image_processor.size = {"shortest_edge": low, "longest_edge": high}
    for name, value in (("min_pixels", low), ("max_pixels", high)):
        if hasattr(image_processor, name):  # transformers 4.5x reads these attributes too
            setattr(image_processor, name, value)
    return low, high

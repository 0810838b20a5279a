"""Qwen-VL conventions shared by the rewards, the trainer, the data tools and the tiny checkpoints."""

from __future__ import annotations

from typing import Any

#: The Qwen2-VL / Qwen2.5-VL image processors' default pixel limits (``min_pixels``, ``max_pixels``).
DEFAULT_MIN_PIXELS = 56 * 56
DEFAULT_MAX_PIXELS = 14 * 14 * 4 * 1280
#: Patch size times merge size: both sides of a resized Qwen2-VL / Qwen2.5-VL input are multiples of it.
RESIZE_FACTOR = 28
#: The vision tower's patch size (Qwen2-VL / Qwen2.5-VL).
PATCH_SIZE = 14

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

QWEN_VL_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
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

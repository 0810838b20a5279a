"""The family table's geometry against the families' real processors: patch size, resize factor, and the
rewards' `abs_input` conversions with `image_grid_thw` or with the pixel limits."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from transformers import AutoProcessor

from univg_plugin.boxes import convert_boxes, input_size_from_grid, smart_resize
from univg_plugin.qwen_vl import MODEL_FAMILIES
from univg_plugin.rewards import get
from univg_plugin.rewards.presets import preset

IMAGE_SIZE = (150, 100)
TRUTH = [30, 20, 90, 60]  # pixels of the 150 x 100 image


def model_input(checkpoint) -> tuple[list[int], tuple[int, int], tuple[int, int]]:
    """The processor's ``image_grid_thw`` row for a 150 x 100 image, its patch size and its pixel limits."""
    processor = AutoProcessor.from_pretrained(checkpoint)
    image_processor = processor.image_processor
    grid = processor(text=["<|vision_start|><|image_pad|><|vision_end|>"], images=[Image.new("RGB", IMAGE_SIZE)])
    limits = (image_processor.size["shortest_edge"], image_processor.size["longest_edge"])
    return grid["image_grid_thw"][0].tolist(), image_processor.patch_size, limits


def answer_in_input_pixels(width: int, height: int) -> str:
    """A perfect Qwen2.5-VL answer for a model input of ``width`` x ``height`` (decimals: no rounding)."""
    box = convert_boxes(TRUTH, "abs_image", "abs_input", image_size=IMAGE_SIZE, input_size=(width, height))
    return '<think>x</think><answer>[{"bbox_2d": [' + ", ".join(f"{v:.6f}" for v in box) + "]}]</answer>"


@pytest.mark.parametrize("family", ["qwen2_5_vl", "qwen3_vl"])
def test_the_tables_patch_and_factor_are_the_processors(request, family):
    grid, patch_size, (min_pixels, max_pixels) = model_input(request.getfixturevalue(f"tiny_{family}"))
    conventions = MODEL_FAMILIES[family]
    assert patch_size == conventions.patch_size
    height, width = smart_resize(IMAGE_SIZE[1], IMAGE_SIZE[0], conventions.resize_factor, min_pixels, max_pixels)
    assert input_size_from_grid([grid], conventions.patch_size).tolist() == [[width, height]]


def test_a_perfect_qwen2_5_vl_answer_scores_1_with_the_processors_resize(tiny_qwen2_5_vl):
    grid, patch_size, (min_pixels, max_pixels) = model_input(tiny_qwen2_5_vl)
    width, height = grid[2] * patch_size, grid[1] * patch_size
    answer = answer_in_input_pixels(width, height)
    columns = {"solution": [TRUTH], "image_sizes": [[IMAGE_SIZE]]}
    with_grid = preset("qwen2_5_vl", "iou")([answer], image_grid_thw=[[grid]], **columns)
    with_limits = preset("qwen2_5_vl", "iou", min_pixels=min_pixels, max_pixels=max_pixels)([answer], **columns)
    assert with_grid == with_limits == [pytest.approx(1.0)]


def test_abs_input_with_qwen3_vl_reads_16_pixel_patches(tiny_qwen3_vl):
    grid, patch_size, (min_pixels, max_pixels) = model_input(tiny_qwen3_vl)
    answer = answer_in_input_pixels(grid[2] * patch_size, grid[1] * patch_size)
    columns = {"solution": [TRUTH], "image_sizes": [[IMAGE_SIZE]], "solution_space": ["abs_image"]}
    qwen3_vl = get("iou", space="abs_input", model_family="qwen3_vl")
    assert qwen3_vl([answer], image_grid_thw=[[grid]], **columns) == [pytest.approx(1.0)]
    limits = {"min_pixels": min_pixels, "max_pixels": max_pixels}
    resized = get("iou", space="abs_input", model_family="qwen3_vl", **limits)([answer], **columns)
    assert resized == [pytest.approx(1.0)]
    # Qwen2-VL's 14-pixel patches (no family named) read another input size: the same answer scores less
    assert get("iou", space="abs_input")([answer], image_grid_thw=[[grid]], **columns)[0] < 0.9
    assert not np.isclose(get("iou", space="abs_input", **limits)([answer], **columns)[0], 1.0)

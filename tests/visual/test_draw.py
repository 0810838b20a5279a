"""Boxes drawn where their coordinate space puts them, checked on the image array."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from univg_plugin.visual import PREDICTION, TRUTH, BoxStyle, draw_boxes, outline_width

SIZE = (640, 480)
#: One box in pixels of the 640x480 image, and the same box written in each space.
PIXELS = (64, 96, 320, 400)
SAME_BOX = {
    "abs_image": ([64, 96, 320, 400], {}),
    "norm1000": ([100, 200, 500, 400 / 480 * 1000], {}),
    "norm1": ([0.1, 0.2, 0.5, 400 / 480], {}),
    "abs_input": ([32, 48, 160, 200], {"input_size": (320, 240)}),  # the model saw the image at half size
}


def band(size: tuple[int, int], box: tuple[int, int, int, int], width: int) -> np.ndarray:
    """The outline a box should have: the pixels of [x1, x2) x [y1, y2) within ``width`` of its sides."""
    x1, y1, x2, y2 = box
    ys, xs = np.mgrid[0 : size[1], 0 : size[0]]
    inside = (xs >= x1) & (xs < x2) & (ys >= y1) & (ys < y2)
    core = (xs >= x1 + width) & (xs < x2 - width) & (ys >= y1 + width) & (ys < y2 - width)
    return inside & ~core


def painted(image: Image.Image, style: BoxStyle) -> np.ndarray:
    return (np.asarray(image) == np.array(style.color, dtype=np.uint8)).all(axis=2)


@pytest.mark.parametrize("space", sorted(SAME_BOX))
def test_a_box_is_drawn_on_its_pixels_in_every_space(space):
    box, sizes = SAME_BOX[space]
    drawn = draw_boxes(Image.new("RGB", SIZE), [box], space=space, **sizes)
    expected = band(SIZE, PIXELS, outline_width(SIZE))
    assert np.array_equal(painted(drawn, TRUTH), expected)


def test_abs_input_defaults_to_the_processors_resize():
    # smart_resize(480, 640, max_pixels=640000) is 476 x 644: the whole input is the whole image
    drawn = draw_boxes(Image.new("RGB", SIZE), [[0, 0, 644, 476]], space="abs_input", max_pixels=640000)
    assert np.array_equal(painted(drawn, TRUTH), band(SIZE, (0, 0, *SIZE), outline_width(SIZE)))


def test_abs_input_follows_the_model_familys_resize_factor():
    # Qwen3-VL resizes to multiples of 32: smart_resize(480, 640, factor=32) is 480 x 640, the image itself
    whole = [[0, 0, 640, 480]]
    qwen3 = draw_boxes(Image.new("RGB", SIZE), whole, space="abs_input", max_pixels=640000, factor=32)
    qwen2 = draw_boxes(Image.new("RGB", SIZE), whole, space="abs_input", max_pixels=640000)
    assert np.array_equal(painted(qwen3, TRUTH), band(SIZE, (0, 0, *SIZE), outline_width(SIZE)))
    assert not np.array_equal(painted(qwen2, TRUTH), painted(qwen3, TRUTH))


def test_a_box_in_the_wrong_space_is_drawn_in_the_wrong_place():
    pixels_read_as_norm1000 = draw_boxes(Image.new("RGB", SIZE), [PIXELS], space="norm1000")
    # x * 640 / 1000, y * 480 / 1000: [40.96, 46.08, 204.8, 192] -> a smaller box up and to the left
    assert np.array_equal(painted(pixels_read_as_norm1000, TRUTH), band(SIZE, (41, 46, 205, 192), outline_width(SIZE)))


def test_a_thumbnail_is_drawn_with_the_original_size():
    drawn = draw_boxes(Image.new("RGB", (320, 240)), [PIXELS], space="abs_image", image_size=SIZE)
    assert np.array_equal(painted(drawn, TRUTH), band((320, 240), (32, 48, 160, 200), outline_width((320, 240))))


def test_predictions_are_dashed_on_the_outline_only():
    drawn = draw_boxes(Image.new("RGB", SIZE), [PIXELS], space="abs_image", style=PREDICTION)
    expected = band(SIZE, PIXELS, outline_width(SIZE))
    mask = painted(drawn, PREDICTION)
    assert not (mask & ~expected).any()
    assert 0.35 < mask.sum() / expected.sum() < 0.65  # dashes and gaps of equal length
    assert PREDICTION.color != TRUTH.color and PREDICTION.dash and not TRUTH.dash


def test_several_boxes_nan_rows_and_boxes_past_the_edge():
    boxes = [[0.1, 0.2, 0.3, 0.4], [np.nan] * 4, [0.9, 0.9, 1.5, 1.5]]
    drawn = draw_boxes(Image.new("RGB", SIZE), boxes, space="norm1")
    mask = painted(drawn, TRUTH)
    assert mask[96, 64] and mask[int(0.9 * 480), int(0.9 * 640)]  # the clipped box still shows its corner
    assert np.array_equal(mask[:, :250], band(SIZE, (64, 96, 192, 192), outline_width(SIZE))[:, :250])


def test_the_image_is_not_modified_and_the_result_is_rgb():
    image = Image.new("L", SIZE)
    drawn = draw_boxes(image, [PIXELS], space="abs_image", label="truth")
    assert drawn.mode == "RGB" and not np.asarray(image).any()
    assert (np.asarray(drawn) == 255).all(axis=2).any()  # the label's white text


def test_an_unknown_space_is_refused():
    with pytest.raises(ValueError, match="pixels"):
        draw_boxes(Image.new("RGB", SIZE), [PIXELS], space="pixels")

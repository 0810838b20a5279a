"""Boxes drawn on images: truth solid, predictions dashed, in the colour-blind-safe Okabe-Ito palette.

Every box goes to pixels through :func:`~univg_plugin.boxes.spaces.convert_boxes` (the package's one
conversion), so a box written in the wrong space lands in the wrong place, as it would in training.
A box is the half-open pixel rectangle ``[x1, x2) x [y1, y2)``; its outline lies inside it, ``width``
pixels thick, and the part outside the image is not drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..boxes import CoordinateSpace, convert_boxes

#: Okabe & Ito's palette (https://jfly.uni-koeln.de/color/): told apart with every common colour-vision deficiency.
OKABE_ITO: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "orange": (230, 159, 0),
    "sky_blue": (86, 180, 233),
    "bluish_green": (0, 158, 115),
    "yellow": (240, 228, 66),
    "blue": (0, 114, 178),
    "vermillion": (213, 94, 0),
    "reddish_purple": (204, 121, 167),
}


@dataclass(frozen=True)
class BoxStyle:
    """How one kind of box is drawn.

    Attributes:
        name: What the boxes are (``truth``, ``prediction``): the HTML legend and ``data-boxes`` use it.
        color: RGB outline colour.
        dash: Dash length in outline widths; 0 draws a solid outline.
    """

    name: str
    color: tuple[int, int, int]
    dash: int = 0

    @property
    def hex(self) -> str:
        """The colour as CSS ``#rrggbb``."""
        return "#{:02x}{:02x}{:02x}".format(*self.color)


#: Ground-truth boxes: solid bluish green.
TRUTH = BoxStyle("truth", OKABE_ITO["bluish_green"])
#: Predicted boxes: dashed vermillion.
PREDICTION = BoxStyle("prediction", OKABE_ITO["vermillion"], dash=3)


def outline_width(size: tuple[int, int]) -> int:
    """The outline width for an image of ``size``: 2 pixels, thicker on large images (1/150 of the short side)."""
    return max(2, round(min(size) / 150))


def pixel_boxes(
    boxes: np.ndarray | Sequence[Sequence[float]],
    space: CoordinateSpace | str,
    image_size: tuple[int, int],
    input_size: tuple[int, int] | None = None,
    *,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    factor: int | None = None,
) -> np.ndarray:
    """``(k, 4)`` boxes of ``space`` in pixels of the original image (``abs_image``), not clipped.

    Args:
        boxes: ``(k, 4)`` boxes (or one ``(4,)`` box).
        space: Their coordinate space.
        image_size: The original image's ``(width, height)``.
        input_size: The model-input ``(width, height)`` for ``abs_input`` (default: ``smart_resize`` of
            ``image_size`` with ``min_pixels`` / ``max_pixels`` and the resize ``factor``, Qwen2-VL's by default).
    """
    settings = (("min_pixels", min_pixels), ("max_pixels", max_pixels), ("factor", factor))
    limits = {key: value for key, value in settings if value}
    array = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return convert_boxes(array, space, CoordinateSpace.ABS_IMAGE, image_size, input_size, **limits)


def draw_boxes(
    image: Image.Image,
    boxes: np.ndarray | Sequence[Sequence[float]],
    *,
    space: CoordinateSpace | str,
    input_size: tuple[int, int] | None = None,
    image_size: tuple[int, int] | None = None,
    style: BoxStyle = TRUTH,
    label: str | None = None,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    factor: int | None = None,
) -> Image.Image:
    """A copy of ``image`` (RGB) with ``boxes`` drawn where their coordinate space puts them.

    Args:
        image: The image, or a thumbnail of it (then give the original's ``image_size``).
        boxes: ``(k, 4)`` boxes ``x1, y1, x2, y2`` (or one box); rows with a NaN are skipped.
        space: Their coordinate space (:class:`~univg_plugin.boxes.CoordinateSpace`).
        input_size: The model-input ``(width, height)`` of ``abs_input`` boxes (default: ``smart_resize``).
        image_size: The original image's ``(width, height)`` when ``image`` is a thumbnail (default: its size).
        style: :data:`TRUTH`, :data:`PREDICTION` or another :class:`BoxStyle`.
        label: Text written at each box's top-left corner.
        min_pixels: The processor's ``min_pixels`` (``abs_input`` without ``input_size``).
        max_pixels: The processor's ``max_pixels`` (likewise).
        factor: The model family's resize factor (likewise; default 28, Qwen2-VL's).

    Example:
        >>> from PIL import Image
        >>> drawn = draw_boxes(Image.new("RGB", (100, 50)), [[100, 200, 500, 800]], space="norm1000")
        >>> drawn.getpixel((10, 10)), drawn.getpixel((5, 5))
        ((0, 158, 115), (0, 0, 0))
    """
    original = image_size or image.size
    limits = {"min_pixels": min_pixels, "max_pixels": max_pixels, "factor": factor}
    pixels = pixel_boxes(boxes, space, original, input_size, **limits)
    scale = np.array([image.width / original[0], image.height / original[1]] * 2)
    out = image.convert("RGB") if image.mode != "RGB" else image.copy()
    canvas = ImageDraw.Draw(out)
    width = outline_width(out.size)
    for box in pixels * scale:
        if np.isfinite(box).all():
            _outline(canvas, box, width, style)
            if label:
                _label(canvas, box, label, style, out.size)
    return out


def _outline(canvas: ImageDraw.ImageDraw, box: np.ndarray, width: int, style: BoxStyle) -> None:
    """The four sides of ``box`` as bands ``width`` thick inside it, solid or dashed."""
    x1, x2 = sorted((round(box[0]), round(box[2])))
    y1, y2 = sorted((round(box[1]), round(box[3])))
    if x2 <= x1 or y2 <= y1:
        return
    inner = min(width, (x2 - x1 + 1) // 2, (y2 - y1 + 1) // 2)
    sides = (
        (x1, y1, x2, y1 + inner, 0),
        (x1, y2 - inner, x2, y2, 0),
        (x1, y1, x1 + inner, y2, 1),
        (x2 - inner, y1, x2, y2, 1),
    )
    step = style.dash * width
    for left, top, right, bottom, vertical in sides:
        start, end = (top, bottom) if vertical else (left, right)
        pieces = [(start, end)] if not step else [(a, min(a + step, end)) for a in range(start, end, 2 * step)]
        for a, b in pieces:
            corners = (left, a, right - 1, b - 1) if vertical else (a, top, b - 1, bottom - 1)
            canvas.rectangle(corners, fill=style.color)


def _label(canvas: ImageDraw.ImageDraw, box: np.ndarray, text: str, style: BoxStyle, size: tuple[int, int]) -> None:
    """``text`` in white on the style's colour above the box's top-left corner (inside the image)."""
    font = ImageFont.load_default(max(10, min(size) // 25))
    left, top, right, bottom = canvas.textbbox((0, 0), text, font=font)
    x = min(max(0, round(min(box[0], box[2]))), max(0, size[0] - (right - left)))
    y = max(0, round(min(box[1], box[3])) - (bottom - top) - 2)
    canvas.rectangle((x, y, x + right - left + 2, y + bottom - top + 2), fill=style.color)
    canvas.text((x + 1 - left, y + 1 - top), text, fill=(255, 255, 255), font=font)

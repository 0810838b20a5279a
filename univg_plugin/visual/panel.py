"""One image file drawn with its boxes and saved as a PNG thumbnail for a page: what previews and galleries share."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

from ..boxes import CoordinateSpace
from .draw import TRUTH, BoxStyle, draw_boxes, pixel_boxes
from .html import Figure

#: The longest side of the pictures a page shows (images are shrunk to it before drawing: pages stay fast and small).
THUMBNAIL_SIDE = 320
#: How a panel is saved, by the destination's suffix: PNG keeps every pixel; JPEG (no chroma subsampling, so the
#: thin outlines keep their colour) is 20-40 times faster to write and several times smaller, for many images.
_ENCODINGS = {
    ".png": {"format": "PNG", "compress_level": 1},
    ".jpg": {"format": "JPEG", "quality": 92, "subsampling": 0},
    ".jpeg": {"format": "JPEG", "quality": 92, "subsampling": 0},
}


@dataclass(frozen=True)
class Layer:
    """Boxes to draw on one image, in one style.

    Attributes:
        boxes: ``(k, 4)`` boxes in ``space`` (rows with a NaN are skipped).
        space: Their coordinate space.
        style: How they are drawn.
        label: Text at each box's corner.
        input_size: The model-input ``(width, height)`` for ``abs_input`` boxes (default: ``smart_resize``).
    """

    boxes: np.ndarray | Sequence[Sequence[float]]
    space: CoordinateSpace | str
    style: BoxStyle = TRUTH
    label: str | None = None
    input_size: tuple[int, int] | None = None


def _outside(box: np.ndarray, size: tuple[int, int]) -> str | None:
    """How a pixel box leaves an image of ``size``, or None when it lies inside (half a pixel of slack)."""
    x1, y1, x2, y2 = box
    if x2 <= 0 or y2 <= 0 or x1 >= size[0] or y1 >= size[1]:
        return "lies entirely outside the image"
    if min(x1, y1) < -0.5 or x2 > size[0] + 0.5 or y2 > size[1] + 0.5:
        return "reaches past the image's edge"
    return None


def _thumbnail(source: str | os.PathLike, max_side: int) -> tuple[Image.Image, tuple[int, int]]:
    """The image of ``source`` (RGB) shrunk to ``max_side``, and its original ``(width, height)``."""
    with Image.open(source) as opened:
        original = opened.size  # before draft, which changes it
        fit = max_side / max(original)
        if fit < 1:  # JPEG: decode at the smallest DCT scale still at least the thumbnail's size
            opened.draft("RGB", (math.ceil(original[0] * fit), math.ceil(original[1] * fit)))
        image = opened.convert("RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)  # after draft's DCT scaling: half bicubic's time
    return image, original


def draw_panel(
    source: str | os.PathLike,
    destination: str | os.PathLike,
    layers: Sequence[Layer],
    *,
    caption: str,
    src: str,
    target: bool = False,
    max_side: int = THUMBNAIL_SIDE,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    factor: int | None = None,
) -> tuple[Figure, list[str]]:
    """Draw ``layers`` on the image file ``source`` and save it, shrunk to ``max_side``, as ``destination``.

    Never raises for the image: a file that is missing or not an image gives a :class:`~.html.Figure` without
    a picture whose caption says so (and a note).

    Args:
        source: The image file.
        destination: The picture to write: ``.png`` (exact) or ``.jpg`` (fast and small; colours within a few
            levels).
        layers: The boxes to draw, bottom layer first.
        caption: The line under the image.
        src: ``destination`` as the page links it (relative to the page).
        target: Whether it is the sample's target image.
        max_side: The picture's longest side at most.
        min_pixels: The processor's ``min_pixels`` for ``abs_input`` boxes without an input size.
        max_pixels: The processor's ``max_pixels`` (likewise).
        factor: The model family's resize factor (likewise; default Qwen2-VL's 28).

    Raises:
        ValueError: ``destination`` is neither ``.png`` nor ``.jpg``.

    Returns:
        The figure (with each drawn box in the picture's pixels) and notes: an image that cannot be read, boxes
        outside the image (naming the style and the box number, 1-based: often the sign of a box read in the
        wrong coordinate space).
    """
    encoding = _ENCODINGS.get(Path(destination).suffix.lower())
    if encoding is None:
        raise ValueError(f"{destination}: a panel is written as {', '.join(_ENCODINGS)}")
    try:
        image, original = _thumbnail(source, max_side)
    except (OSError, UnidentifiedImageError, ValueError) as error:
        reason = "file not found" if isinstance(error, FileNotFoundError) else f"cannot read it ({error})"
        note = f"{caption}: {reason}: {source}"
        return Figure(None, note, target=target), [note]
    scale = np.array([image.width / original[0], image.height / original[1]] * 2)
    figure, notes = Figure(src, caption, target=target), []
    limits = {"min_pixels": min_pixels, "max_pixels": max_pixels, "factor": factor}
    for layer in layers:
        pixels = pixel_boxes(layer.boxes, layer.space, original, layer.input_size, **limits)
        for number, box in enumerate(pixels, start=1):
            where = _outside(box, original) if np.isfinite(box).all() else None
            if where:
                notes.append(f"{caption}: {layer.style.name} box {number} ({_space(layer.space)}) {where}")
            figure.boxes.append((layer.style, box * scale))
        image = draw_boxes(
            image,
            layer.boxes,
            space=layer.space,
            input_size=layer.input_size,
            image_size=original,
            style=layer.style,
            label=layer.label,
            **limits,
        )
    Path(destination).parent.mkdir(parents=True, exist_ok=True)
    image.save(destination, **encoding)
    return figure, notes


def _space(space: CoordinateSpace | str) -> str:
    return CoordinateSpace(space).value


@dataclass(frozen=True)
class Panel:
    """The arguments of one :func:`draw_panel` call (see there), for :func:`draw_panels`."""

    source: str | os.PathLike
    destination: str | os.PathLike
    layers: Sequence[Layer]
    caption: str
    src: str
    target: bool = False


#: Below this many panels, :func:`draw_panels` draws them in this process (starting workers costs more).
_PARALLEL_FROM = 64


def draw_panels(
    panels: Sequence[Panel],
    *,
    workers: int | None = None,
    max_side: int = THUMBNAIL_SIDE,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    factor: int | None = None,
    progress: bool | None = False,
) -> list[tuple[Figure, list[str]]]:
    """:func:`draw_panel` for each panel, in worker processes, results in order.

    Args:
        panels: What to draw.
        workers: Processes (default: the CPUs this process may use; 1 draws here).
        max_side: The PNGs' longest side at most.
        min_pixels: The processor's ``min_pixels`` for ``abs_input`` boxes without an input size.
        max_pixels: The processor's ``max_pixels`` (likewise).
        factor: The model family's resize factor (likewise; default Qwen2-VL's 28).
        progress: Show a progress bar (None: only on a terminal).
    """
    settings = {"max_side": max_side, "min_pixels": min_pixels, "max_pixels": max_pixels, "factor": factor}
    calls = [{field.name: getattr(panel, field.name) for field in fields(panel)} | settings for panel in panels]
    workers = workers or _usable_cpus()
    bar = {
        "total": len(calls),
        "desc": "drawing",
        "unit": " images",
        "disable": None if progress is None else not progress,
    }
    if workers <= 1 or len(calls) < _PARALLEL_FROM:
        return [_draw(call) for call in tqdm(calls, **bar)]
    with ProcessPoolExecutor(workers) as pool:
        return list(tqdm(pool.map(_draw, calls, chunksize=16), **bar))


def _usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _draw(call: dict) -> tuple[Figure, list[str]]:
    source, destination, layers = call.pop("source"), call.pop("destination"), call.pop("layers")
    return draw_panel(source, destination, layers, **call)

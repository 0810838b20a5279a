"""Coordinate spaces of boxes, Qwen-VL's input resizing, and conversions between spaces (vectorized)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..choices import Choice
from ..qwen_vl import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, PATCH_SIZE, RESIZE_FACTOR

__all__ = ["CoordinateSpace", "convert_boxes", "input_size_from_grid", "smart_resize"]


class CoordinateSpace(Choice):
    """Where a box's numbers live.

    - ``norm1000``: integers 0-1000 relative to the image (Qwen2-VL);
    - ``norm1``: floats 0-1 relative to the image (MIG-Bench ground truth);
    - ``abs_input``: pixels of the resized model input (Qwen2.5-VL; see :func:`smart_resize`);
    - ``abs_image``: pixels of the original image (VLM-R1 ground truth, most detection datasets).
    """

    NORM1000 = "norm1000"
    NORM1 = "norm1"
    ABS_INPUT = "abs_input"
    ABS_IMAGE = "abs_image"


def smart_resize(
    height: np.ndarray | int,
    width: np.ndarray | int,
    factor: int = RESIZE_FACTOR,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[np.ndarray, np.ndarray]:
    """The model-input size Qwen-VL processors resize an image to, vectorized over arrays of sizes.

    Both sides become multiples of ``factor`` with ``min_pixels <= h*w <= max_pixels`` and the aspect
    ratio kept as closely as possible; identical to ``transformers``' Qwen2-VL ``smart_resize``
    (including its round-half-to-even) for every size it accepts.

    Args:
        height: Original heights.
        width: Original widths.
        factor: Patch size times merge size (``ModelFamily.resize_factor``: 28 for Qwen2-VL and Qwen2.5-VL, 32
            for Qwen3-VL, whose patches are 16 pixels).
        min_pixels: The processor's ``min_pixels``.
        max_pixels: The processor's ``max_pixels``.

    Returns:
        ``(resized_height, resized_width)`` as int64 arrays.

    Example:
        >>> [int(v) for v in smart_resize(480, 640, max_pixels=640000)]
        [476, 644]
    """
    h = np.asarray(height, dtype=np.float64)
    w = np.asarray(width, dtype=np.float64)
    h_bar = np.round(h / factor) * factor
    w_bar = np.round(w / factor) * factor
    too_big = h_bar * w_bar > max_pixels
    too_small = h_bar * w_bar < min_pixels
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = np.sqrt(h * w / max_pixels)
        grow = np.sqrt(min_pixels / (h * w))
        h_big = np.maximum(factor, np.floor(h / shrink / factor) * factor)
        w_big = np.maximum(factor, np.floor(w / shrink / factor) * factor)
        h_small = np.ceil(h * grow / factor) * factor
        w_small = np.ceil(w * grow / factor) * factor
    h_out = np.where(too_big, h_big, np.where(too_small, h_small, h_bar))
    w_out = np.where(too_big, w_big, np.where(too_small, w_small, w_bar))
    return h_out.astype(np.int64), w_out.astype(np.int64)


def input_size_from_grid(
    image_grid_thw: Sequence[Sequence[int]] | np.ndarray, patch_size: int = PATCH_SIZE
) -> np.ndarray:
    """Model-input ``(width, height)`` in pixels from Qwen-VL's ``image_grid_thw`` rows ``(t, h, w)``.

    Args:
        image_grid_thw: One ``(t, h, w)`` row per image, in patches (a single row is accepted too).
        patch_size: The vision tower's patch size (``ModelFamily.patch_size``: 14 for Qwen2-VL and Qwen2.5-VL,
            16 for Qwen3-VL).

    Returns:
        A float64 ``(n, 2)`` array of ``(width, height)``.

    Example:
        >>> input_size_from_grid([[1, 34, 46]]).tolist()
        [[644.0, 476.0]]
    """
    grid = np.asarray(image_grid_thw, dtype=np.float64).reshape(-1, 3)
    return np.stack([grid[:, 2] * patch_size, grid[:, 1] * patch_size], axis=1)


def _extent(space: CoordinateSpace, image_size: np.ndarray | None, input_size: np.ndarray | None) -> np.ndarray | float:
    """The image's ``(width, height)`` in ``space``'s units: a box divided by it is in ``norm1``."""
    if space is CoordinateSpace.NORM1:
        return 1.0
    if space is CoordinateSpace.NORM1000:
        return 1000.0
    if space is CoordinateSpace.ABS_IMAGE:
        if image_size is None:
            raise ValueError("converting from or to abs_image needs image_size: the original (width, height)")
        return image_size
    if input_size is None:
        raise ValueError(
            "converting from or to abs_input needs input_size, the model-input (width, height) "
            "(see smart_resize and input_size_from_grid), or image_size to compute it with smart_resize"
        )
    return input_size


def convert_boxes(
    boxes: np.ndarray | Sequence[Sequence[float]],
    source: CoordinateSpace | str,
    target: CoordinateSpace | str,
    image_size: np.ndarray | Sequence[float] | None = None,
    input_size: np.ndarray | Sequence[float] | None = None,
    *,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    factor: int = RESIZE_FACTOR,
) -> np.ndarray:
    """Convert boxes between coordinate spaces (vectorized; no clipping, no rounding).

    Every space is a scaling of the image: ``norm1`` by 1, ``norm1000`` by 1000, ``abs_image`` by the
    original size and ``abs_input`` by the model-input size, so only the sizes of the spaces involved
    are needed (none between ``norm1`` and ``norm1000``). Swapped, negative and non-finite
    coordinates are converted like any other.

    Args:
        boxes: ``(N, 4)`` boxes (a single ``(4,)`` box is accepted too).
        source: The space ``boxes`` are in.
        target: The space to convert to.
        image_size: Original ``(width, height)``, one pair or one per box; needed for ``abs_image``,
            and for ``abs_input`` when ``input_size`` is not given.
        input_size: Model-input ``(width, height)``, one pair or one per box (from
            :func:`input_size_from_grid`); when None for ``abs_input``, it is
            ``smart_resize(image_size, min_pixels, max_pixels)``.
        min_pixels: The processor's ``min_pixels`` (only to compute ``input_size``).
        max_pixels: The processor's ``max_pixels`` (only to compute ``input_size``).
        factor: The family's resize factor (only to compute ``input_size``): ``ModelFamily.resize_factor``,
            28 for Qwen2-VL / Qwen2.5-VL, 32 for Qwen3-VL.

    Returns:
        A float64 array with the shape of ``boxes``.

    Raises:
        ValueError: a size the conversion needs is missing, or a space is unknown.

    Example:
        >>> convert_boxes([[100, 200, 500, 1000]], "norm1000", "abs_image", image_size=(640, 480)).tolist()
        [[64.0, 96.0, 320.0, 480.0]]
        >>> convert_boxes([100, 200, 500, 1000], "norm1000", "norm1").tolist()
        [0.1, 0.2, 0.5, 1.0]
        >>> convert_boxes([[0, 0, 644, 476]], "abs_input", "abs_image", image_size=(640, 480), max_pixels=640000)
        array([[  0.,   0., 640., 480.]])
    """
    source, target = CoordinateSpace(source), CoordinateSpace(target)
    array = np.asarray(boxes, dtype=np.float64)
    single = array.ndim == 1
    array = array.reshape(-1, 4)
    if source is target:
        return array.reshape(4) if single else array.copy()
    size = None if image_size is None else np.asarray(image_size, dtype=np.float64).reshape(-1, 2)
    model_size = None if input_size is None else np.asarray(input_size, dtype=np.float64).reshape(-1, 2)
    if model_size is None and size is not None and CoordinateSpace.ABS_INPUT in (source, target):
        height, width = smart_resize(size[:, 1], size[:, 0], factor, min_pixels, max_pixels)
        model_size = np.stack([width, height], axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # divide by the source extent, then multiply by the target's: 500 / 1000 is exactly what the
        # benchmarks compute, where 500 * (1 / 1000) differs in the last bit for some integers
        source_extent = np.asarray(_extent(source, size, model_size))
        target_extent = np.asarray(_extent(target, size, model_size))
        out = array / _per_corner(source_extent) * _per_corner(target_extent)
    return out.reshape(4) if single else out


def _per_corner(extent: np.ndarray) -> np.ndarray:
    """A scalar extent as is; ``(N, 2)`` or ``(2,)`` (width, height) extents repeated for both corners."""
    return np.tile(extent.reshape(-1, 2), 2) if extent.ndim else extent

"""Box geometry: IoU, GIoU and validity, row-wise and pairwise (vectorized; invalid boxes score 0, GIoU -1)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["giou", "iou", "iou_matrix", "is_valid_box"]


def _corners(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x1, y1)`` and ``(x2, y2)`` as ``(..., 2)`` arrays, reordered so that ``x1 <= x2``, ``y1 <= y2``."""
    return np.minimum(boxes[..., :2], boxes[..., 2:]), np.maximum(boxes[..., :2], boxes[..., 2:])


def _area(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    size = high - low
    return size[..., 0] * size[..., 1]


def _is_valid(area: np.ndarray) -> np.ndarray:
    """A box is valid when its area is finite and positive (so are its coordinates)."""
    return np.isfinite(area) & (area > 0)


def _overlap(boxes_a, boxes_b):
    """Corners, validity, intersection and union of two broadcastable box arrays."""
    low_a, high_a = _corners(np.asarray(boxes_a, dtype=np.float64))
    low_b, high_b = _corners(np.asarray(boxes_b, dtype=np.float64))
    area_a, area_b = _area(low_a, high_a), _area(low_b, high_b)
    size = np.maximum(np.minimum(high_a, high_b) - np.maximum(low_a, low_b), 0.0)
    intersection = size[..., 0] * size[..., 1]
    corners = (low_a, high_a, low_b, high_b)
    return corners, _is_valid(area_a) & _is_valid(area_b), intersection, area_a + area_b - intersection


def iou(boxes_a: np.ndarray | Sequence, boxes_b: np.ndarray | Sequence) -> np.ndarray:
    """Row-wise intersection over union of two ``(N, 4)`` arrays (broadcasting allowed).

    Continuous IoU: corners are reordered first (a swapped box is the rectangle it spans), nothing is
    clipped. A pair with an invalid box (NaN or infinite coordinate, zero area) scores 0.

    Args:
        boxes_a: Boxes ``(..., 4)``.
        boxes_b: Boxes ``(..., 4)``, broadcastable against ``boxes_a``.

    Returns:
        A float64 array in [0, 1] of the broadcast shape without the last axis.

    Example:
        >>> iou([[0, 0, 10, 10]], [[5, 0, 15, 10]]).round(4).tolist()
        [0.3333]
    """
    with np.errstate(invalid="ignore", over="ignore"):
        _, valid, intersection, union = _overlap(boxes_a, boxes_b)
        out = np.zeros(valid.shape)
        np.divide(intersection, union, out=out, where=valid)
    return np.clip(out, 0.0, 1.0, out=out)


def giou(boxes_a: np.ndarray | Sequence, boxes_b: np.ndarray | Sequence) -> np.ndarray:
    """Row-wise generalized IoU: ``IoU - (C - U) / C`` with C the smallest enclosing box.

    Rewards near misses: disjoint boxes score between -1 (far apart) and 0 (touching). A pair with an
    invalid box (see :func:`iou`) scores -1.

    Args:
        boxes_a: Boxes ``(..., 4)``.
        boxes_b: Boxes ``(..., 4)``, broadcastable against ``boxes_a``.

    Returns:
        A float64 array in [-1, 1].

    Example:
        >>> giou([[0, 0, 10, 10]], [[20, 0, 30, 10]]).round(4).tolist()
        [-0.3333]
    """
    with np.errstate(invalid="ignore", over="ignore"):
        (low_a, high_a, low_b, high_b), valid, intersection, union = _overlap(boxes_a, boxes_b)
        enclosing = _area(np.minimum(low_a, low_b), np.maximum(high_a, high_b))
        valid &= np.isfinite(enclosing)
        overlap, gap = np.zeros(valid.shape), np.zeros(valid.shape)
        np.divide(intersection, union, out=overlap, where=valid)
        np.divide(np.maximum(enclosing - union, 0.0), enclosing, out=gap, where=valid)  # C >= U, up to rounding
    return np.clip(np.where(valid, overlap - gap, -1.0), -1.0, 1.0)


def iou_matrix(boxes_a: np.ndarray | Sequence, boxes_b: np.ndarray | Sequence) -> np.ndarray:
    """Pairwise IoU of ``(m, 4)`` and ``(n, 4)`` boxes as an ``(m, n)`` matrix.

    Example:
        >>> iou_matrix([[0, 0, 10, 10]], [[0, 0, 10, 10], [20, 20, 30, 30]]).tolist()
        [[1.0, 0.0]]
    """
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(1, -1, 4)
    return iou(a, b)


def is_valid_box(box: Sequence[float]) -> bool:
    """True when the box has a finite, positive area (after reordering its corners).

    Example:
        >>> is_valid_box([10, 10, 0, 0]), is_valid_box([0, 0, 0, 5]), is_valid_box([0, 0, float("nan"), 1])
        (True, False, False)
    """
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(_is_valid(_area(*_corners(np.asarray(box, dtype=np.float64).reshape(4)))))

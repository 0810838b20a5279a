"""The one place that parses, converts and compares bounding boxes.

Everything here is pure Python + numpy and never raises on model output: a string with no box gives an
empty ``(0, 4)`` array (or a row of NaN in the batch functions), and every comparison of a NaN,
infinite, degenerate or missing box scores 0.

Box syntaxes parsed (in order of appearance, any mix in one text):

- Qwen2-VL: ``<|box_start|>(x1,y1),(x2,y2)<|box_end|>`` and the bare ``(x1,y1),(x2,y2)``;
- lists: ``[x1, y1, x2, y2]`` with ints or floats, which also covers Qwen2.5-VL's JSON
  ``{"bbox_2d": [x1, y1, x2, y2], "label": ...}`` and lists of such objects;
- ``<box>x1 y1 x2 y2</box>`` (spaces or commas).

Coordinates are ``x1, y1, x2, y2`` in one of the :class:`CoordinateSpace` conventions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from enum import Enum

import numpy as np

__all__ = [
    "AnswerPolicy",
    "CoordinateSpace",
    "answer_boxes",
    "answer_text",
    "convert_boxes",
    "first_answer_boxes",
    "giou",
    "input_size_from_grid",
    "iou",
    "iou_matrix",
    "parse_boxes",
    "parse_image_index",
    "smart_resize",
]


class CoordinateSpace(str, Enum):
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


class AnswerPolicy(str, Enum):
    """Where the answer's box is looked for.

    - ``strict``: only inside the first ``<answer>...</answer>`` block (the paper's behaviour);
    - ``lenient``: the answer block's boxes when it has any, else the last box anywhere in the text.
    """

    STRICT = "strict"
    LENIENT = "lenient"


_NUM = r"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
_PAIR = rf"\(\s*{_NUM}\s*,\s*{_NUM}\s*\)\s*,?\s*\(\s*{_NUM}\s*,\s*{_NUM}\s*\)"
_LIST = rf"\[\s*{_NUM}\s*,\s*{_NUM}\s*,\s*{_NUM}\s*,\s*{_NUM}\s*\]"
_TAG = rf"<box>\s*{_NUM}[\s,]+{_NUM}[\s,]+{_NUM}[\s,]+{_NUM}\s*</box>"
_BOX_RE = re.compile(f"{_PAIR}|{_LIST}|{_TAG}")
_ANSWER_RE = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_EMPTY = np.empty((0, 4), dtype=np.float64)


def _coerce_space(space: CoordinateSpace | str) -> CoordinateSpace:
    try:
        return CoordinateSpace(space)
    except ValueError:
        known = ", ".join(s.value for s in CoordinateSpace)
        raise ValueError(f"unknown coordinate space {space!r}; expected one of: {known}") from None


def _coerce_policy(policy: AnswerPolicy | str) -> AnswerPolicy:
    try:
        return AnswerPolicy(policy)
    except ValueError:
        known = ", ".join(p.value for p in AnswerPolicy)
        raise ValueError(f"unknown answer policy {policy!r}; expected one of: {known}") from None


def _rows(groups: Iterable[tuple[str, ...]]) -> list[list[str]]:
    """The four non-empty numbers of each findall tuple of :data:`_BOX_RE` (12 groups, one syntax hit)."""
    return [[g for g in match if g][:4] for match in groups]


def _to_array(rows: list[list[str]]) -> np.ndarray:
    if not rows:
        return _EMPTY.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        return np.array(rows, dtype=np.float64).reshape(-1, 4)


def parse_boxes(text: str) -> np.ndarray:
    """Every box in ``text``, in order of appearance.

    Args:
        text: Any string.

    Returns:
        A float64 array of shape ``(k, 4)``; ``(0, 4)`` when there is no box.

    Example:
        >>> parse_boxes("a <|box_start|>(1,2),(3,4)<|box_end|> and [5, 6.5, 7, 8]").tolist()
        [[1.0, 2.0, 3.0, 4.0], [5.0, 6.5, 7.0, 8.0]]
    """
    if not isinstance(text, str):
        return _EMPTY.copy()
    return _to_array(_rows(_BOX_RE.findall(text)))


def answer_text(text: str, policy: AnswerPolicy | str = AnswerPolicy.STRICT) -> str | None:
    """The content of the first ``<answer>...</answer>`` block.

    Args:
        text: A completion.
        policy: ``strict`` returns None when there is no answer block; ``lenient`` returns the whole
            text then.

    Returns:
        The answer content, or None.

    Example:
        >>> answer_text("<think>x</think><answer>(1,2),(3,4)</answer>")
        '(1,2),(3,4)'
    """
    policy = _coerce_policy(policy)
    if not isinstance(text, str):
        return None
    match = _ANSWER_RE.search(text)
    if match:
        return match.group(1)
    return text if policy is AnswerPolicy.LENIENT else None


def answer_boxes(text: str, policy: AnswerPolicy | str = AnswerPolicy.STRICT) -> np.ndarray:
    """The boxes of a completion's answer, in order.

    Args:
        text: A completion.
        policy: see :class:`AnswerPolicy`.

    Returns:
        A ``(k, 4)`` array; under ``lenient``, the last box of the whole text when the answer block
        has none (or is missing).

    Example:
        >>> answer_boxes("<think>(0,0),(9,9)</think><answer>(1,2),(3,4)</answer>").tolist()
        [[1.0, 2.0, 3.0, 4.0]]
        >>> answer_boxes("(0,0),(9,9) then (1,1),(5,5)", "lenient").tolist()
        [[1.0, 1.0, 5.0, 5.0]]
    """
    policy = _coerce_policy(policy)
    if not isinstance(text, str):
        return _EMPTY.copy()
    match = _ANSWER_RE.search(text)
    boxes = parse_boxes(match.group(1)) if match else _EMPTY
    if len(boxes) or policy is AnswerPolicy.STRICT:
        return boxes.copy() if boxes is _EMPTY else boxes
    every = parse_boxes(text)
    return every[-1:] if len(every) else every


_FAST_SKELETONS = frozenset({"(,),(,)", "[,,,]", "[, , , ]"})
_DELETE_DIGITS = str.maketrans("", "", "0123456789")
_MAX_FAST_DIGITS = 15  # int64-exact; longer digit runs take the regex path


def _answer_of(text: object) -> str | None:
    """Content of the first ``<answer>...</answer>`` block (str.find: no regex on the hot path)."""
    if type(text) is not str:
        return None
    start = text.find("<answer>")
    if start < 0:
        return None
    end = text.find("</answer>", start)
    return text[start + 8 : end] if end >= 0 else None


def _parse_digit_runs(text: str) -> np.ndarray:
    """Every run of ASCII digits in ``text`` as an int64, in order, parsed with numpy in one pass."""
    raw = np.frombuffer(text.encode("ascii", "replace"), dtype=np.uint8)
    is_digit = (raw >= 48) & (raw <= 57)
    before = np.concatenate(([False], is_digit[:-1]))
    after = np.concatenate((is_digit[1:], [False]))
    starts = np.flatnonzero(is_digit & ~before)
    ends = np.flatnonzero(is_digit & ~after) + 1
    if len(starts) == 0 or (ends - starts).max() > _MAX_FAST_DIGITS:
        return np.empty(0, dtype=np.int64) if len(starts) == 0 else np.full(len(starts), -1, dtype=np.int64)
    run_of = np.cumsum(is_digit & ~before) - 1
    positions = np.flatnonzero(is_digit)
    exponents = ends[run_of[positions]] - positions - 1
    values = (raw[positions].astype(np.int64) - 48) * 10**exponents
    return np.add.reduceat(values, np.searchsorted(positions, starts))


def first_answer_boxes(texts: Sequence[str], policy: AnswerPolicy | str = AnswerPolicy.STRICT) -> np.ndarray:
    """The first box of each text's answer, for a whole batch at once.

    Same result as ``answer_boxes(text, policy)[0]`` per text, but fast: answers that are exactly one
    box of non-negative integers (``(x1,y1),(x2,y2)`` or ``[x1,y1,x2,y2]``, the common case) are
    recognised by their digit-free skeleton and parsed with numpy in one pass over the batch; every
    other answer goes through the regex parser.

    Args:
        texts: Completions (non-strings count as having no box).
        policy: see :class:`AnswerPolicy`.

    Returns:
        A float64 array ``(len(texts), 4)``; rows without a box are NaN.

    Example:
        >>> first_answer_boxes(["<answer>(1,2),(3,4)</answer>", "no box"]).tolist()[0]
        [1.0, 2.0, 3.0, 4.0]
    """
    policy = _coerce_policy(policy)
    result = np.full((len(texts), 4), np.nan)
    answers = [_answer_of(text) for text in texts]
    present = [i for i, answer in enumerate(answers) if answer]
    skeletons = "\x00".join([answers[i] for i in present]).translate(_DELETE_DIGITS).split("\x00")
    if len(skeletons) != len(present):  # an answer contains the separator itself
        skeletons = [answers[i].translate(_DELETE_DIGITS) for i in present]
    fast = [i for i, skeleton in zip(present, skeletons) if skeleton in _FAST_SKELETONS]
    slow = [i for i, skeleton in zip(present, skeletons) if skeleton not in _FAST_SKELETONS]
    if fast:
        numbers = _parse_digit_runs(" ".join([answers[i] for i in fast]))
        if numbers.size == 4 * len(fast) and (numbers >= 0).all():
            result[fast] = numbers.reshape(-1, 4)
        else:  # an empty slot such as "(,1),(2,3)", or an overlong number
            slow.extend(fast)
    for i in slow:
        match = _BOX_RE.search(answers[i])
        if match is not None:
            result[i] = _to_array(_rows([match.groups()]))[0]
    if policy is AnswerPolicy.LENIENT:
        for i in np.flatnonzero(np.isnan(result).any(axis=1)):
            boxes = answer_boxes(texts[i], policy)
            if len(boxes):
                result[i] = boxes[0]
    return result


_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
_IMAGE_WORD = r"(?:image|picture|img|frame)"
_IMAGE_INDEX_RE = re.compile(
    rf"\b{_IMAGE_WORD}\s*[-_#:]?\s*(\d+)\b"  # image 2, Image-2, image2, picture #3
    rf"|\b(\d+)\s*(?:st|nd|rd|th)\s+{_IMAGE_WORD}\b"  # 2nd image, 2th image
    rf"|\b({'|'.join(_ORDINALS)})\s+{_IMAGE_WORD}\b",  # the second image
    re.IGNORECASE,
)


def parse_image_index(text: str, last: bool = False) -> int | None:
    """The 1-based image index a text names: "image 2", "Image-2", "the second image", "2th image", ...

    Args:
        text: Any string.
        last: Return the last mention instead of the first (reasoning often names several images
            before concluding).

    Returns:
        The index (>= 1), or None when no image is named.

    Example:
        >>> parse_image_index("It's in the third image.")
        3
        >>> parse_image_index("compare image 1 with Image-2", last=True)
        2
    """
    if not isinstance(text, str):
        return None
    hits = _IMAGE_INDEX_RE.findall(text)
    if not hits:
        return None
    for number, nth, word in reversed(hits) if last else hits:
        value = int(number or nth) if (number or nth) else _ORDINALS[word.lower()]
        if value >= 1:
            return value
    return None


def smart_resize(
    height: np.ndarray | int,
    width: np.ndarray | int,
    factor: int = 28,
    min_pixels: int = 56 * 56,
    max_pixels: int = 14 * 14 * 4 * 1280,
) -> tuple[np.ndarray, np.ndarray]:
    """The model-input size Qwen-VL processors resize an image to, vectorized over arrays of sizes.

    Both sides become multiples of ``factor`` with ``min_pixels <= h*w <= max_pixels`` and the aspect
    ratio kept as closely as possible; identical to ``transformers``' Qwen2-VL ``smart_resize``
    (including its round-half-to-even) for every size it accepts.

    Args:
        height: Original heights.
        width: Original widths.
        factor: Patch size times merge size (28 for Qwen2-VL and Qwen2.5-VL).
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


def input_size_from_grid(image_grid_thw: Sequence[Sequence[int]] | np.ndarray, patch_size: int = 14) -> np.ndarray:
    """Model-input ``(width, height)`` in pixels from Qwen-VL's ``image_grid_thw`` rows ``(t, h, w)``.

    Example:
        >>> input_size_from_grid([[1, 34, 46]]).tolist()
        [[644.0, 476.0]]
    """
    grid = np.asarray(image_grid_thw, dtype=np.float64).reshape(-1, 3)
    return np.stack([grid[:, 2] * patch_size, grid[:, 1] * patch_size], axis=1)


def _scale(space: CoordinateSpace, image_size: np.ndarray | None, input_size: np.ndarray | None) -> np.ndarray:
    """Per-row (sx, sy) such that ``abs_image = value * scale`` for boxes in ``space``."""
    if space is CoordinateSpace.ABS_IMAGE:
        return np.ones(2)
    if image_size is None:
        raise ValueError(f"converting from or to {space.value} needs the image size (width, height)")
    if space is CoordinateSpace.NORM1000:
        return image_size / 1000.0
    if space is CoordinateSpace.NORM1:
        return image_size
    if input_size is None:
        raise ValueError("converting from or to abs_input needs the model-input size (see smart_resize)")
    with np.errstate(divide="ignore", invalid="ignore"):
        return image_size / input_size


def convert_boxes(
    boxes: np.ndarray | Sequence[Sequence[float]],
    source: CoordinateSpace | str,
    target: CoordinateSpace | str,
    image_size: np.ndarray | Sequence[float] | None = None,
    input_size: np.ndarray | Sequence[float] | None = None,
) -> np.ndarray:
    """Convert boxes between coordinate spaces (vectorized; no clipping, no rounding).

    Args:
        boxes: ``(N, 4)`` boxes (a single ``(4,)`` box is accepted too).
        source: The space ``boxes`` are in.
        target: The space to convert to.
        image_size: Original ``(width, height)``, one pair or one per box; needed unless both spaces
            are ``abs_image``.
        input_size: Model-input ``(width, height)`` (from :func:`smart_resize` or
            :func:`input_size_from_grid`); needed for ``abs_input``.

    Returns:
        A float64 array with the shape of ``boxes``.

    Example:
        >>> convert_boxes([[100, 200, 500, 1000]], "norm1000", "abs_image", image_size=(640, 480)).tolist()
        [[64.0, 96.0, 320.0, 480.0]]
    """
    source, target = _coerce_space(source), _coerce_space(target)
    array = np.asarray(boxes, dtype=np.float64)
    single = array.ndim == 1
    array = array.reshape(-1, 4)
    if source is target:
        return array.reshape(4) if single else array.copy()
    size = None if image_size is None else np.asarray(image_size, dtype=np.float64).reshape(-1, 2)
    model_size = None if input_size is None else np.asarray(input_size, dtype=np.float64).reshape(-1, 2)
    to_abs = _scale(source, size, model_size)
    from_abs = _scale(target, size, model_size)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.tile(np.asarray(to_abs / from_abs).reshape(-1, 2), 2)
        out = array * factor
    return out.reshape(4) if single else out


def _ordered(boxes: np.ndarray) -> np.ndarray:
    """Corners sorted so that x1 <= x2 and y1 <= y2 (a swapped box names the same rectangle)."""
    x = np.sort(boxes[..., [0, 2]], axis=-1)
    y = np.sort(boxes[..., [1, 3]], axis=-1)
    return np.stack([x[..., 0], y[..., 0], x[..., 1], y[..., 1]], axis=-1)


def _areas_and_intersection(a: np.ndarray, b: np.ndarray):
    a, b = _ordered(a), _ordered(b)
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    iw = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    ih = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    return a, b, area_a, area_b, iw * ih


def _valid(a: np.ndarray, b: np.ndarray, area_a: np.ndarray, area_b: np.ndarray) -> np.ndarray:
    finite = np.isfinite(a).all(axis=-1) & np.isfinite(b).all(axis=-1)
    return finite & (area_a > 0) & (area_b > 0)


def iou(boxes_a: np.ndarray | Sequence, boxes_b: np.ndarray | Sequence) -> np.ndarray:
    """Row-wise intersection over union of two ``(N, 4)`` arrays (broadcasting allowed).

    Corners are reordered first (a swapped box is the same rectangle). Rows with a NaN or infinite
    coordinate, or a zero-area box on either side, score 0. No clipping to the image.

    Returns:
        A float64 array in [0, 1].

    Example:
        >>> iou([[0, 0, 10, 10]], [[5, 0, 15, 10]]).round(4).tolist()
        [0.3333]
    """
    a = np.asarray(boxes_a, dtype=np.float64)
    b = np.asarray(boxes_b, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        a, b, area_a, area_b, inter = _areas_and_intersection(a, b)
        valid = _valid(a, b, area_a, area_b)
        union = np.where(valid, area_a + area_b - inter, 1.0)
        result = np.where(valid, inter / union, 0.0)
    return np.clip(np.nan_to_num(result, nan=0.0, posinf=0.0, neginf=0.0), 0.0, 1.0)


def giou(boxes_a: np.ndarray | Sequence, boxes_b: np.ndarray | Sequence) -> np.ndarray:
    """Row-wise generalized IoU: ``IoU - (C - U) / C`` with C the smallest enclosing box.

    Rewards near misses: disjoint boxes score between -1 (far apart) and 0 (touching). Invalid rows
    (non-finite, zero-area) score -1.

    Returns:
        A float64 array in [-1, 1].

    Example:
        >>> giou([[0, 0, 10, 10]], [[20, 0, 30, 10]]).round(4).tolist()
        [-0.3333]
    """
    a = np.asarray(boxes_a, dtype=np.float64)
    b = np.asarray(boxes_b, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        a, b, area_a, area_b, inter = _areas_and_intersection(a, b)
        valid = _valid(a, b, area_a, area_b)
        union = np.where(valid, area_a + area_b - inter, 1.0)
        enclosing = (np.maximum(a[..., 2], b[..., 2]) - np.minimum(a[..., 0], b[..., 0])) * (
            np.maximum(a[..., 3], b[..., 3]) - np.minimum(a[..., 1], b[..., 1])
        )
        enclosing = np.where(valid, enclosing, 1.0)
        result = np.where(valid, inter / union - (enclosing - union) / enclosing, -1.0)
    return np.clip(np.nan_to_num(result, nan=-1.0, posinf=-1.0, neginf=-1.0), -1.0, 1.0)


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
    """True when all four coordinates are finite and the box has positive area (after reordering)."""
    array = np.asarray(box, dtype=np.float64).reshape(4)
    return bool(np.isfinite(array).all()) and not math.isclose(
        (abs(array[2] - array[0])) * abs(array[3] - array[1]), 0.0
    )

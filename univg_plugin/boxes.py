"""The one place that parses, converts and compares bounding boxes.

Everything here is pure Python + numpy and never raises on model output: a string with no box gives an
empty ``(0, 4)`` array (or a row of NaN in the batch functions), and every comparison of a NaN,
infinite, degenerate or missing box scores 0 (GIoU: -1).

Box syntaxes parsed (in order of appearance, any mix in one text):

- Qwen2-VL: ``<|box_start|>(x1,y1),(x2,y2)<|box_end|>`` and the bare ``(x1,y1),(x2,y2)``;
- lists: ``[x1, y1, x2, y2]`` with ints or floats, which also covers Qwen2.5-VL's JSON
  ``{"bbox_2d": [x1, y1, x2, y2], "label": ...}`` and lists of such objects;
- ``<box>x1 y1 x2 y2</box>`` (spaces or commas).

Coordinates are ``x1, y1, x2, y2`` in one of the :class:`CoordinateSpace` conventions.

Edge cases, all defined and none raising:

- numbers: ints, decimals, a sign and an exponent (``-1.5e2``); Unicode decimal digits count as
  digits (like the reference's regex); a number too large for a float becomes ``inf``;
- a swapped box (``x1 > x2`` or ``y1 > y2``) is parsed as written and compared as the rectangle it
  spans (corners reordered);
- a degenerate box (zero width or height), a box with a NaN or infinite coordinate, or one whose area
  overflows is *invalid*: its IoU with anything is 0 and its GIoU -1;
- negative and out-of-range coordinates are kept: nothing is clipped to the image.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum
from itertools import chain, compress

import numpy as np

__all__ = [
    "AnswerPolicy",
    "CoordinateSpace",
    "answer_boxes",
    "answer_image_index",
    "answer_text",
    "convert_boxes",
    "first_answer_boxes",
    "giou",
    "input_size_from_grid",
    "iou",
    "iou_matrix",
    "is_valid_box",
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

    @classmethod
    def _missing_(cls, value: object) -> CoordinateSpace:
        known = ", ".join(space.value for space in cls)
        raise ValueError(f"unknown coordinate space {value!r}; expected one of: {known}")


class AnswerPolicy(str, Enum):
    """Where the answer's box is looked for.

    - ``strict``: only inside the first ``<answer>...</answer>`` block (the paper's behaviour);
    - ``lenient``: the answer block's boxes when it has any, else the last box anywhere in the text;
    - ``first``: every box of the text, answer tags ignored, so the first box is the first anywhere
      (what MIG-Bench's and the zero-shot sets' scoring scripts read).
    """

    STRICT = "strict"
    LENIENT = "lenient"
    FIRST = "first"

    @classmethod
    def _missing_(cls, value: object) -> AnswerPolicy:
        known = ", ".join(policy.value for policy in cls)
        raise ValueError(f"unknown answer policy {value!r}; expected one of: {known}")


_NUM = r"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
_PAIR = rf"\(\s*{_NUM}\s*,\s*{_NUM}\s*\)\s*,?\s*\(\s*{_NUM}\s*,\s*{_NUM}\s*\)"
_LIST = rf"\[\s*{_NUM}\s*,\s*{_NUM}\s*,\s*{_NUM}\s*,\s*{_NUM}\s*\]"
_TAG = rf"<box>\s*{_NUM}[\s,]+{_NUM}[\s,]+{_NUM}[\s,]+{_NUM}\s*</box>"
_BOX_RE = re.compile(f"{_PAIR}|{_LIST}|{_TAG}")
_NUMBERS_OF = {4: (1, 2, 3, 4), 8: (5, 6, 7, 8), 12: (9, 10, 11, 12)}  # a match's lastindex -> its groups
_EMPTY = np.empty((0, 4), dtype=np.float64)


def _numbers(match: re.Match) -> tuple[str, ...]:
    """The four number strings of a :data:`_BOX_RE` match, whichever syntax it matched."""
    return match.group(*_NUMBERS_OF[match.lastindex])


def _to_boxes(numbers: list[str]) -> np.ndarray:
    """``(k, 4)`` float64 boxes from ``4k`` number strings (Python's ``float``: any ``\\d``, overflow to inf)."""
    return np.fromiter(map(float, numbers), np.float64, len(numbers)).reshape(-1, 4)


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
    return _to_boxes(list(chain.from_iterable(map(_numbers, _BOX_RE.finditer(text)))))


def answer_text(text: str, policy: AnswerPolicy | str = AnswerPolicy.STRICT) -> str | None:
    """The content of the first ``<answer>...</answer>`` block.

    Same block as the reference's ``re.search(r"<answer>(.*?)</answer>", text, re.DOTALL)`` (the first
    opening tag, up to the first closing tag after it), found in linear time.

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
    policy = AnswerPolicy(policy)
    answer = _answer_of(text)
    if answer is not None or not isinstance(text, str):
        return answer
    return text if policy is AnswerPolicy.LENIENT else None


def answer_boxes(text: str, policy: AnswerPolicy | str = AnswerPolicy.STRICT) -> np.ndarray:
    """The boxes of a completion's answer, in order.

    Args:
        text: A completion.
        policy: see :class:`AnswerPolicy`.

    Returns:
        A ``(k, 4)`` array; under ``lenient``, the last box of the whole text when the answer block
        has none (or is missing); under ``first``, every box of the text.

    Example:
        >>> answer_boxes("<think>(0,0),(9,9)</think><answer>(1,2),(3,4)</answer>").tolist()
        [[1.0, 2.0, 3.0, 4.0]]
        >>> answer_boxes("(0,0),(9,9) then (1,1),(5,5)", "lenient").tolist()
        [[1.0, 1.0, 5.0, 5.0]]
        >>> answer_boxes("<think>(0,0),(9,9)</think><answer>(1,2),(3,4)</answer>", "first").tolist()[0]
        [0.0, 0.0, 9.0, 9.0]
    """
    policy = AnswerPolicy(policy)
    if policy is AnswerPolicy.FIRST:
        return parse_boxes(text)
    boxes = parse_boxes(_answer_of(text))
    if len(boxes) or policy is AnswerPolicy.STRICT:
        return boxes
    every = parse_boxes(text)
    return every[-1:]


_FAST_SKELETONS = frozenset({"(,),(,)", "(,), (,)", "(, ), (, )", "[,,,]", "[, , , ]"})
_FAST_SKELETON_BYTES = frozenset(skeleton.encode() for skeleton in _FAST_SKELETONS)
_DIGITS = b"0123456789"
_DELETE_DIGITS = str.maketrans("", "", _DIGITS.decode())
_PUNCTUATION_TO_SPACE = str.maketrans("(),[]", "     ")
_INT64_MAX = np.iinfo(np.int64).max
_CHUNK = 4096  # texts per pass of first_answer_boxes: a chunk's answers stay in the CPU cache between steps
_BOX_OPENERS = ("(", "[", "<box>")  # every syntax of _BOX_RE starts with one of these


def _answer_of(text: object) -> str | None:
    """Content of the first ``<answer>...</answer>`` block, or None (str.find: linear, no regex)."""
    if not isinstance(text, str):
        return None
    start = text.find("<answer>")
    if start < 0:
        return None
    end = text.find("</answer>", start)
    return text[start + 8 : end] if end >= 0 else None


def _answers_of(texts: Sequence[object]) -> list[str]:
    """:func:`_answer_of` of every text, ``""`` where there is none (inlined: the rewards' hot loop)."""
    try:
        return [
            (t[s + 8 : e] if (e := t.find("</answer>", s)) >= 0 else "") if (s := t.find("<answer>")) >= 0 else ""
            for t in texts
        ]
    except (AttributeError, TypeError):  # a non-string somewhere
        return [_answer_of(text) or "" for text in texts]


def _has_fast_skeleton(answers: list[str]) -> np.ndarray:
    """Which answers are one box of plain digit runs: their digits deleted, one of :data:`_FAST_SKELETONS`."""
    joined = "\x00".join(answers)
    if joined.isascii():  # the common case: bytes.translate deletes in C
        skeletons, known = joined.encode().translate(None, _DIGITS).split(b"\x00"), _FAST_SKELETON_BYTES
    else:
        skeletons, known = joined.translate(_DELETE_DIGITS).split("\x00"), _FAST_SKELETONS
    if len(skeletons) != len(answers):  # an answer contains the separator itself
        skeletons, known = [answer.translate(_DELETE_DIGITS) for answer in answers], _FAST_SKELETONS
    return np.fromiter(map(known.__contains__, skeletons), bool, len(answers))


def _parse_integer_boxes(answers: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The four integers of answers known to be one box of digit runs (:data:`_FAST_SKELETONS`).

    One numpy call parses the whole batch, the answers separated by a ``-1`` that no answer can hold.

    Returns:
        ``(values, parsed)``: a ``(n, 4)`` float64 array, and which answers it holds; an answer with an
        empty slot (``"(,1),(2,3)"``) or a number beyond int64 is left to the regex parser.
    """
    joined = " -1 ".join([*answers, ""])  # "a -1 b -1 "
    numbers = np.fromstring(joined.translate(_PUNCTUATION_TO_SPACE), dtype=np.int64, sep=" ")
    ends = np.flatnonzero(numbers == -1)  # each answer's numbers are the four before its -1
    parsed = ends - np.concatenate(([-1], ends[:-1])) == 5
    if parsed.all():
        values = numbers.reshape(-1, 5)[:, :4].astype(np.float64)
    else:
        values = np.zeros((len(answers), 4))
        values[parsed] = numbers[ends[parsed, None] - np.arange(4, 0, -1)]
    if numbers.max(initial=0) == _INT64_MAX:  # fromstring saturates an overlong number
        parsed &= ~(values == _INT64_MAX).any(axis=1)
    return values, parsed


def _from_first_opener(texts: Sequence[object]) -> list[str]:
    """Each text from where its first box could start (no box starts before): the ``first`` policy's "answer"."""
    tails = []
    for text in texts:
        starts = [p for p in map(text.find, _BOX_OPENERS) if p >= 0] if isinstance(text, str) else ()
        tails.append(text[min(starts) :] if starts else "")
    return tails


def _first_boxes_by_regex(answers: list[str]) -> tuple[list[int], np.ndarray]:
    """The first box of each answer that has one (``(positions, (k, 4) boxes)``), by the regex parser.

    Keeps no match object alive, so that a large batch does not trigger the garbage collector.
    """
    found, numbers = [], []
    for position, answer in enumerate(answers):
        match = _BOX_RE.search(answer) if answer else None
        if match is not None:
            found.append(position)
            numbers.extend(_numbers(match))
    return found, _to_boxes(numbers)


def first_answer_boxes(texts: Sequence[str], policy: AnswerPolicy | str = AnswerPolicy.STRICT) -> np.ndarray:
    """The first box of each text's answer, for a whole batch at once.

    Same result as ``answer_boxes(text, policy)[0]`` per text, but fast: answers that are exactly one
    box of non-negative integers (``(x1,y1),(x2,y2)`` or ``[x1, y1, x2, y2]``, the common case) are
    recognised by their digit-free skeleton and parsed by one numpy call per chunk of texts; every
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
    policy = AnswerPolicy(policy)
    count = len(texts)
    if count > _CHUNK:
        return np.concatenate([first_answer_boxes(texts[i : i + _CHUNK], policy) for i in range(0, count, _CHUNK)])
    result = np.full((count, 4), np.nan)
    answers = _from_first_opener(texts) if policy is AnswerPolicy.FIRST else _answers_of(texts)
    is_fast = _has_fast_skeleton(answers)
    fast = np.flatnonzero(is_fast)
    slow = np.ones(count, dtype=bool)
    if fast.size:
        values, parsed = _parse_integer_boxes(list(compress(answers, is_fast.tolist())))
        result[fast[parsed]] = values[parsed]
        slow[fast[parsed]] = False
    slow = np.flatnonzero(slow)
    found, boxes = _first_boxes_by_regex([answers[i] for i in slow.tolist()])
    result[slow[found]] = boxes
    if policy is AnswerPolicy.LENIENT:
        for i in np.flatnonzero(np.isnan(result).any(axis=1)).tolist():
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


def answer_image_index(text: str, policy: AnswerPolicy | str = AnswerPolicy.STRICT) -> int | None:
    """The image a completion names as the target's (1-based).

    Args:
        text: A completion.
        policy: ``strict``: the first image named inside the answer block; ``lenient`` and ``first``:
            that, else the last image named anywhere (reasoning ends with its conclusion).

    Returns:
        The index, or None.

    Example:
        >>> text = "<think>Not image 1. So it is in image 3.</think><answer>(1,2),(3,4)</answer>"
        >>> answer_image_index(text) is None, answer_image_index(text, "lenient")
        (True, 3)
    """
    policy = AnswerPolicy(policy)
    named = parse_image_index(_answer_of(text))
    if named is not None or policy is AnswerPolicy.STRICT:
        return named
    return parse_image_index(text, last=True)


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

    Args:
        image_grid_thw: One ``(t, h, w)`` row per image, in patches (a single row is accepted too).
        patch_size: The vision tower's patch size (14 for Qwen2-VL and Qwen2.5-VL).

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
    min_pixels: int = 56 * 56,
    max_pixels: int = 14 * 14 * 4 * 1280,
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
        height, width = smart_resize(size[:, 1], size[:, 0], min_pixels=min_pixels, max_pixels=max_pixels)
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

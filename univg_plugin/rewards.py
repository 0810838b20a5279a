"""Grounding rewards in TRL's convention, and the registry that names them.

Every reward is a function ``f(completions, solution=None, **kwargs) -> list[float | None]``:

- ``completions``: conversational (``[{"role": "assistant", "content": str}]``, the last message is
  read) or plain strings;
- ``solution``: the ground truth per completion: a box ``[x1, y1, x2, y2]``, a list of boxes, or text
  that contains them (VLM-R1's ``"<answer> [x1,y1,x2,y2] </answer>"``); None for a row without one;
- ``kwargs``: the other dataset columns TRL passes. Read when present: ``solution_space``,
  ``target_image`` (1-based), the image sizes (``image_sizes``, ``width``/``height``, ``images``/``image``
  as PIL images or paths, VLM-R1's ``image_path``) and VLM-R1's ``image_grid_thw``; anything else
  (``prompts``, ``completion_ids``, ``trainer_state``, ...) is ignored.

Any completion string scores in [0, 1] (``giou``: [-1, 1]) and never raises. A row whose solution
has no box scores None ("not applicable", which TRL skips), except in ``multi_box``. Dataset problems
(a missing solution column, an image size a conversion needs) raise a ``ValueError`` that names them.

Configure a reward with :func:`get` (alias :func:`make_reward`), which returns a function whose
``__name__`` is the reward's name, so TRL 0.24 (which reads ``__name__``) logs ``rewards/iou/mean``:

    >>> from univg_plugin.rewards import get
    >>> iou = get("iou", space="abs_input", solution_space="abs_image")
    >>> iou.__name__
    'iou'

Rewards registered by other packages under the entry-point group ``univg_plugin.rewards`` are found
by :func:`get`, :func:`load` and ``univg rewards list`` like ours.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import chain
from typing import Any

import numpy as np

from .boxes import (
    AnswerPolicy,
    CoordinateSpace,
    answer_boxes,
    answer_image_index,
    answer_text,
    convert_boxes,
    first_answer_boxes,
    giou,
    input_size_from_grid,
    iou,
    iou_matrix,
    parse_boxes,
)

__all__ = [
    "BUILTIN",
    "ENTRY_POINT_GROUP",
    "PAPER_FORMAT_PATTERN",
    "RewardOptions",
    "RewardSpec",
    "available",
    "completion_texts",
    "get",
    "load",
    "make_reward",
]

ENTRY_POINT_GROUP = "univg_plugin.rewards"
RewardFunc = Callable[..., list]

#: The paper's format: ``<think>...</think>`` then ``<answer>(x1,y1),(x2,y2)</answer>`` ending the text.
PAPER_FORMAT_PATTERN = r"<think>.*?</think>\s*<answer>\((\d+),\s*(\d+)\),\s*\((\d+),\s*(\d+)\)</answer>$"


@dataclass(frozen=True)
class RewardOptions:
    """How a reward reads completions and ground truth.

    Attributes:
        space: Coordinate space of the boxes the model writes (``norm1000`` for Qwen2-VL,
            ``abs_input`` for Qwen2.5-VL).
        solution_space: Space of the ground truth; None reads a ``solution_space`` column and falls
            back to ``space``.
        policy: Where the answer box is looked for (``strict``: inside ``<answer>`` only).
        threshold: IoU at or above which ``iou_threshold`` gives 1.0.
        format_pattern: Regex (searched, DOTALL) for ``format``; None means the paper's.
        min_pixels: Processor ``min_pixels``, to compute the model-input size for ``abs_input``
            when no ``image_grid_thw`` is given.
        max_pixels: Processor ``max_pixels``, likewise.
        missing_penalty: Weight (>= 0) of each target box the answer misses (``multi_box``).
        extra_penalty: Weight (>= 0) of each predicted box that matches no target (``multi_box``).
    """

    space: CoordinateSpace = CoordinateSpace.NORM1000
    solution_space: CoordinateSpace | None = None
    policy: AnswerPolicy = AnswerPolicy.STRICT
    threshold: float = 0.5
    format_pattern: str | None = None
    min_pixels: int = 56 * 56
    max_pixels: int = 14 * 14 * 4 * 1280
    missing_penalty: float = 1.0
    extra_penalty: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "space", CoordinateSpace(self.space))
        if self.solution_space is not None:
            object.__setattr__(self, "solution_space", CoordinateSpace(self.solution_space))
        object.__setattr__(self, "policy", AnswerPolicy(self.policy))
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {self.threshold}")
        if not (self.missing_penalty >= 0.0 and self.extra_penalty >= 0.0):
            raise ValueError(
                f"missing_penalty and extra_penalty must be >= 0, got {self.missing_penalty}, {self.extra_penalty}"
            )
        if self.format_pattern is not None:
            re.compile(self.format_pattern)


# --------------------------------------------------------------------------- completions


def _message_text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if isinstance(completion, list) and completion:
        content = completion[-1].get("content", "") if isinstance(completion[-1], dict) else completion[-1]
        if isinstance(content, list):  # multimodal parts
            return "".join(part.get("text") or "" for part in content if isinstance(part, dict))
        return content if isinstance(content, str) else ""
    return ""


def completion_texts(completions: Sequence[Any]) -> list[str]:
    """The text of each completion, conversational (last message's content) or plain.

    Example:
        >>> completion_texts(["a", [{"role": "assistant", "content": "b"}]])
        ['a', 'b']
    """
    try:  # the common case, inlined: conversational completions with string contents
        return [t if type(t := c[-1]["content"]) is str else _message_text(c) for c in completions]
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    return [_message_text(completion) for completion in completions]


# --------------------------------------------------------------------------- ground truth


def _column(kwargs: dict, name: str, count: int) -> list | None:
    values = kwargs.get(name)
    if values is None:
        return None
    if len(values) != count:
        raise ValueError(f"column {name!r} has {len(values)} values for {count} completions")
    return list(values)


def _target_indices(kwargs: dict, count: int) -> np.ndarray:
    """0-based target image per row (0, the first image, when the row names none)."""
    targets = _column(kwargs, "target_image", count)
    if targets is None:
        return np.zeros(count, dtype=np.int64)
    return np.array([int(t) - 1 if t else 0 for t in targets], dtype=np.int64)


def _pick(value: Any, target: int, column: str, row: int) -> Any:
    """The target image's entry of a per-image column value (a scalar applies to every image)."""
    if isinstance(value, (str, os.PathLike)) or not hasattr(value, "__len__") or hasattr(value, "width"):
        return value
    if not 0 <= target < len(value):
        raise ValueError(f"row {row}: target_image {target + 1} is out of range for {len(value)} {column!r} entries")
    return value[target]


@functools.lru_cache(maxsize=65536)
def _image_size_from_file(path: str) -> tuple[int, int]:
    """(width, height) of an image file, read from its header once per distinct path."""
    from PIL import Image

    with Image.open(path) as image:
        return image.size


def _image_size(item: Any) -> tuple[int, int]:
    """(width, height) of a PIL image (or anything with ``width``/``height``) or of an image file."""
    if hasattr(item, "width") and hasattr(item, "height"):
        return item.width, item.height
    if isinstance(item, (str, os.PathLike)):
        return _image_size_from_file(os.fspath(item))
    raise ValueError(f"cannot read an image size from {type(item).__name__} {item!r:.80}")


def _image_sizes(kwargs: dict, count: int, targets: np.ndarray, rows: list[int]) -> np.ndarray:
    """Original (width, height) of the target image of each of ``rows``, from the first columns giving it."""
    sizes = _column(kwargs, "image_sizes", count)
    if sizes is not None:
        for i in rows:
            if sizes[i] is None:
                raise ValueError(f"row {i}: its `image_sizes` is empty")
        per_image = {i: np.asarray(sizes[i], dtype=np.float64).reshape(-1, 2) for i in rows}
        return np.array([_pick(per_image[i], targets[i], "image_sizes", i) for i in rows]).reshape(-1, 2)
    widths, heights = _column(kwargs, "width", count), _column(kwargs, "height", count)
    if widths is not None and heights is not None:
        pairs = [(_pick(widths[i], targets[i], "width", i), _pick(heights[i], targets[i], "height", i)) for i in rows]
        return np.array(pairs, dtype=np.float64).reshape(-1, 2)
    for name in ("images", "image", "image_path"):
        column = _column(kwargs, name, count)
        if column is not None:
            items = [_pick(column[i], targets[i], name, i) for i in rows]
            return np.array([_image_size(item) for item in items], dtype=np.float64).reshape(-1, 2)
    raise ValueError(
        "converting between coordinate spaces needs each image's size: give an `image_sizes` column "
        "([[width, height], ...] per row), `width` and `height` columns, `images`/`image`, or `image_path`"
    )


def _input_sizes(kwargs: dict, count: int, targets: np.ndarray, rows: list[int]) -> np.ndarray | None:
    """Model-input (width, height) of the target image of each of ``rows`` from ``image_grid_thw``, if given."""
    grids = _column(kwargs, "image_grid_thw", count)
    if grids is None:
        return None
    sizes = []
    for i in rows:
        grid = grids[i].tolist() if hasattr(grids[i], "tolist") else grids[i]
        sizes.append(_pick(input_size_from_grid(grid), targets[i], "image_grid_thw", i))
    return np.array(sizes, dtype=np.float64).reshape(-1, 2)


def _row_boxes(value: Any) -> np.ndarray:
    """All ground-truth boxes of one row as ``(k, 4)``: from text, one box, a list of boxes, or None."""
    if value is None:
        return np.empty((0, 4))
    if isinstance(value, str):
        return parse_boxes(answer_text(value, AnswerPolicy.LENIENT))
    try:
        array = np.asarray(value.tolist() if hasattr(value, "tolist") else value, dtype=np.float64)
    except (TypeError, ValueError):
        array = np.empty(1)  # reported below
    if array.size % 4:
        raise ValueError(f"a solution must be text or boxes of 4 numbers [x1, y1, x2, y2], got {value!r:.200}")
    return array.reshape(-1, 4)


def _solution_boxes(solution: Sequence[Any], count: int) -> tuple[np.ndarray, np.ndarray]:
    """Every target box of the batch as one ``(K, 4)`` array, and the row each belongs to."""
    lengths = set(map(len, solution)) if count and set(map(type, solution)) <= {list, tuple} else set()
    try:  # the common cases: one box per row, [x1, y1, x2, y2] or [[x1, y1, x2, y2]]
        if lengths == {4}:
            return np.fromiter(chain.from_iterable(solution), np.float64, 4 * count).reshape(count, 4), np.arange(count)
        if lengths == {1}:
            dense = np.asarray(solution, dtype=np.float64)
            if dense.shape == (count, 1, 4):
                return dense.reshape(count, 4), np.arange(count)
    except (ValueError, TypeError):
        pass
    parsed: dict[str, np.ndarray] = {}  # G completions share each solution text
    rows = []
    for value in solution:
        if isinstance(value, str):
            if value not in parsed:
                parsed[value] = _row_boxes(value)
            rows.append(parsed[value])
        else:
            rows.append(_row_boxes(value))
    boxes = np.concatenate(rows) if rows else np.empty((0, 4))
    return boxes, np.repeat(np.arange(count), [len(row) for row in rows])


class _Truth:
    """A batch's ground truth in the completions' coordinate space, as one flat array of boxes.

    Attributes:
        boxes: Every target box ``(K, 4)``, rows in order.
        row: The row of each box ``(K,)``, non-decreasing.
    """

    def __init__(self, solution: Sequence[Any] | None, kwargs: dict, count: int, options: RewardOptions):
        if solution is None:
            raise ValueError("this reward needs a `solution` column (the ground-truth boxes)")
        if len(solution) != count:
            raise ValueError(f"`solution` has {len(solution)} values for {count} completions")
        self.count = count
        self.boxes, self.row = _solution_boxes(solution, count)
        self._convert(kwargs, options)

    def _spaces(self, kwargs: dict, options: RewardOptions) -> CoordinateSpace | list[CoordinateSpace]:
        """The source space of every row, or of each row when a ``solution_space`` column gives it."""
        column = None if options.solution_space is not None else _column(kwargs, "solution_space", self.count)
        if column is None:
            return options.solution_space or options.space
        return [CoordinateSpace(value) if value else options.space for value in column]

    def _convert(self, kwargs: dict, options: RewardOptions) -> None:
        target = options.space
        spaces = self._spaces(kwargs, options)
        sources = ({spaces} if isinstance(spaces, CoordinateSpace) else set(spaces)) - {target}
        targets = _target_indices(kwargs, self.count) if sources else None
        for source in sources:
            if isinstance(spaces, CoordinateSpace):
                rows = np.arange(self.count)
            else:
                rows = np.flatnonzero([space is source for space in spaces])
            selected = np.isin(self.row, rows)
            involved = {source, target}
            input_size = image_size = None
            if CoordinateSpace.ABS_INPUT in involved:
                input_size = _input_sizes(kwargs, self.count, targets, rows.tolist())
            if CoordinateSpace.ABS_IMAGE in involved or (CoordinateSpace.ABS_INPUT in involved and input_size is None):
                image_size = _image_sizes(kwargs, self.count, targets, rows.tolist())
            position = np.searchsorted(rows, self.row[selected])  # each box's row among `rows`
            self.boxes[selected] = convert_boxes(
                self.boxes[selected],
                source,
                target,
                image_size=None if image_size is None else image_size[position],
                input_size=None if input_size is None else input_size[position],
                min_pixels=options.min_pixels,
                max_pixels=options.max_pixels,
            )

    def first(self) -> np.ndarray:
        """The first target box of each row ``(count, 4)``; NaN for a row without one."""
        if len(self.row) == self.count and np.array_equal(self.row, np.arange(self.count)):
            return self.boxes
        out = np.full((self.count, 4), np.nan)
        starts = np.flatnonzero(np.diff(self.row, prepend=-1))
        out[self.row[starts]] = self.boxes[starts]
        return out

    def per_row(self) -> list[np.ndarray]:
        """The target boxes of each row, ``(k_i, 4)`` each."""
        ends = np.cumsum(np.bincount(self.row, minlength=self.count))
        return np.split(self.boxes, ends[:-1])


# --------------------------------------------------------------------------- scores


def _scored_where_targeted(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """NaN (not applicable) for the rows without a target box."""
    return np.where(np.isnan(truth).all(axis=1), np.nan, scores)


def _score_iou(texts, truth, options):
    target = truth().first()
    return _scored_where_targeted(iou(first_answer_boxes(texts, options.policy), target), target)


def _score_iou_threshold(texts, truth, options):
    overlap = _score_iou(texts, truth, options)
    return np.where(np.isnan(overlap), np.nan, overlap >= options.threshold)


def _score_giou(texts, truth, options):
    target = truth().first()
    return _scored_where_targeted(giou(first_answer_boxes(texts, options.policy), target), target)


_PAPER_FORMAT = re.compile(PAPER_FORMAT_PATTERN, re.DOTALL)


def _paper_format(text: str) -> bool:
    """``_PAPER_FORMAT.search(text)``, in linear time.

    A match must end the text (``$``: at the end or before a final newline) and may as well start at
    the first ``<think>``: the lazy ``.*?`` of a match from a later ``<think>`` can start at the first.
    """
    if not (text.endswith("</answer>") or text.endswith("</answer>\n")):
        return False
    start = text.find("<think>")
    return start >= 0 and _PAPER_FORMAT.match(text, start) is not None


def _score_format(texts, truth, options):
    if options.format_pattern is None:
        return np.fromiter(map(_paper_format, texts), np.float64, len(texts))
    search = re.compile(options.format_pattern, re.DOTALL).search
    return np.fromiter((search(text) is not None for text in texts), np.float64, len(texts))


def _image_correct(texts, kwargs, options) -> np.ndarray:
    """1.0 when the answer names the target image, 0.0 when not, NaN when the row names no target."""
    count = len(texts)
    targets = _column(kwargs, "target_image", count)
    if targets is None:
        return np.full(count, np.nan)
    predicted = [answer_image_index(text, options.policy) for text in texts]
    return np.array(
        [np.nan if not target else float(guess == int(target)) for guess, target in zip(predicted, targets)]
    )


def _score_image_index(texts, truth, options, kwargs):
    return _image_correct(texts, kwargs, options)


def _score_grounding(texts, truth, options, kwargs):
    correct = _image_correct(texts, kwargs, options)
    return _score_iou(texts, truth, options) * np.where(np.isnan(correct), 1.0, correct)


def _matched_score(predicted: np.ndarray, target: np.ndarray, options: RewardOptions) -> float:
    """Sum of one-to-one matched IoUs over ``matched + w_missing * missing + w_extra * extra``."""
    from scipy.optimize import linear_sum_assignment

    if len(target) == 0:
        return 1.0 if len(predicted) == 0 else 0.0
    if len(predicted) == 0:
        return 0.0
    overlaps = iou_matrix(predicted, target)
    rows, cols = linear_sum_assignment(overlaps, maximize=True)
    matched = overlaps[rows, cols]
    matched = matched[matched > 0]  # a pair that does not overlap is a miss and an extra box, not a match
    denominator = (
        len(matched)
        + options.missing_penalty * (len(target) - len(matched))
        + options.extra_penalty * (len(predicted) - len(matched))
    )
    return float(matched.sum() / denominator) if denominator > 0 else 0.0


def _score_multi_box(texts, truth, options):
    targets = truth().per_row()
    scores = [_matched_score(answer_boxes(t, options.policy), target, options) for t, target in zip(texts, targets)]
    return np.clip(np.array(scores, dtype=np.float64), 0.0, 1.0)


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class RewardSpec:
    """A named, configurable reward: what the registry maps a name to.

    Other packages may register a ``RewardSpec`` (or a plain reward function) under the entry-point
    group :data:`ENTRY_POINT_GROUP`.

    Attributes:
        name: Registry name, also the ``__name__`` of the functions it makes.
        summary: One line for ``univg rewards list``.
        score: ``(texts, truth, options[, kwargs]) -> np.ndarray`` of one score per completion
            (NaN = not applicable, returned to TRL as None); ``truth()`` builds the ground truth.
        options: The :class:`RewardOptions` fields this reward reads.
        doc: The made function's description (its formula and edge cases).
        needs_columns: Whether ``score`` takes the raw columns as a fourth argument.
        example: ``(content, solution, extra arguments, result)`` for the made function's doctest.
    """

    name: str
    summary: str
    score: Callable[..., np.ndarray]
    options: tuple[str, ...]
    doc: str
    needs_columns: bool = False
    example: tuple[str, str, str, str] | None = None

    def make(self, **options: Any) -> RewardFunc:
        """A reward function with these options (see :func:`get`)."""
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise ValueError(
                f"reward {self.name!r} has no option {', '.join(map(repr, unknown))}; "
                f"its options are: {', '.join(self.options) or '(none)'}"
            )
        config = replace(RewardOptions(), **options)
        score, needs_columns = self.score, self.needs_columns

        def reward(completions: Sequence[Any], solution: Sequence[Any] | None = None, **kwargs: Any) -> list:
            texts = completion_texts(completions)
            built: list[_Truth] = []

            def truth() -> _Truth:  # built on first use: `format` and `image_index` need no solution
                if not built:
                    built.append(_Truth(solution, kwargs, len(texts), config))
                return built[0]

            scores = np.asarray(score(texts, truth, config, kwargs) if needs_columns else score(texts, truth, config))
            if np.isnan(scores).any():
                return [None if value != value else value for value in scores.tolist()]
            return scores.tolist()

        reward.__name__ = reward.__qualname__ = self.name
        reward.__doc__ = self._docstring(config)
        reward.__module__ = __name__
        reward.options = config  # type: ignore[attr-defined]
        return reward

    def _docstring(self, config: RewardOptions) -> str:
        values = {name: getattr(config, name) for name in self.options}
        settings = ", ".join(f"{name}={getattr(value, 'value', value)}" for name, value in values.items())
        parts = [
            f"\n    {self.doc}\n\n    Options (set with ``get({self.name!r}, ...)``): {settings or '(none)'}.\n",
            _ARGS,
        ]
        if self.example is not None:
            content, solution, extra, result = self.example
            parts.append(
                _EXAMPLE.format(name=self.name, content=content, solution=solution, extra=extra, result=result)
            )
        return "".join(parts) + "    "


_ARGS = """
    Args:
        completions (`list[list[dict[str, str]]]` or `list[str]`):
            Completions to score: conversational (the last message's `"content"` is read) or plain strings.
        solution (`list`):
            Ground truth per completion: a box `[x1, y1, x2, y2]`, a list of boxes, or text containing them
            (`"<answer> [x1,y1,x2,y2] </answer>"`); None for a row without one.
        **kwargs:
            Other dataset columns: `solution_space`, `target_image` (1-based), image sizes (`image_sizes`,
            `width`/`height`, `images`/`image`, `image_path`) and `image_grid_thw` are read when present; the rest
            (`prompts`, `trainer_state`, ...) is ignored.

    Returns:
        `list[float | None]`:
            One reward per completion; None where it does not apply.
"""
_EXAMPLE = """
    Example:
        >>> from univg_plugin.rewards import get
        >>> {name} = get("{name}")
        >>> {name}([[{{"role": "assistant", "content": "{content}"}}]], solution=[{solution}]{extra})
        {result}
"""

_SPACE_OPTIONS = ("space", "solution_space", "policy", "min_pixels", "max_pixels")
_GOOD = "<think>top left</think><answer>(0,0),(100,100)</answer>"
BUILTIN: dict[str, RewardSpec] = {
    spec.name: spec
    for spec in (
        RewardSpec(
            "iou",
            "Continuous IoU of the answer's first box with the target (the paper's accuracy reward).",
            _score_iou,
            _SPACE_OPTIONS,
            "IoU = |A ∩ B| / |A ∪ B| of the first box of the answer (A) with the first target box (B), in [0, 1]; "
            "0.0 when\n    the answer has no box or either box is invalid (degenerate, NaN, infinite); None when the "
            "row has no\n    target box. The paper's accuracy reward; the ground truth is converted into ``space`` "
            "first.",
            example=(_GOOD, "[0, 0, 100, 50]", "", "[0.5]"),
        ),
        RewardSpec(
            "iou_threshold",
            "1.0 when the answer's IoU with the target reaches `threshold` (default 0.5), else 0.0.",
            _score_iou_threshold,
            (*_SPACE_OPTIONS, "threshold"),
            "1.0 when the ``iou`` reward is >= ``threshold`` (inclusive), else 0.0; None when the row has no target "
            "box.",
            example=(_GOOD, "[0, 0, 100, 50]", "", "[1.0]"),
        ),
        RewardSpec(
            "giou",
            "Generalized IoU in [-1, 1]: shaped, rewards near misses; -1 when no box parses.",
            _score_giou,
            _SPACE_OPTIONS,
            "GIoU = IoU - (|C| - |A ∪ B|) / |C|, with C the smallest box enclosing A and B; in [-1, 1], 0.0 for "
            "touching\n    boxes, -1.0 when the answer has no box or either box is invalid; None when the row has no "
            "target box.",
            example=(_GOOD, "[100, 0, 200, 100]", "", "[0.0]"),
        ),
        RewardSpec(
            "format",
            "1.0 when the completion is <think>...</think><answer>(x1,y1),(x2,y2)</answer> (or `format_pattern`).",
            _score_format,
            ("format_pattern",),
            "1.0 when ``re.search(format_pattern, text, re.DOTALL)`` matches, else 0.0. The default pattern is the "
            "paper's:\n    ``<think>...</think>``, optional whitespace, then ``<answer>(x1,y1),(x2,y2)</answer>`` "
            "with integer\n    coordinates ending the text (a final newline allowed). Needs no solution.",
            example=(_GOOD, "None", "", "[1.0]"),
        ),
        RewardSpec(
            "image_index",
            "1.0 when the answer names the target image (`target_image` column), else 0.0.",
            _score_image_index,
            ("policy",),
            '1.0 when the image the answer names ("image 2", "Image-2", "the second image", "2th image", ...) is the '
            "row's\n    ``target_image`` (1-based), else 0.0; None for rows without one. ``lenient`` falls back to "
            "the last image\n    named anywhere in the text. Needs no solution.",
            needs_columns=True,
            example=("<answer>image 2: (0,0),(9,9)</answer>", "None", ", target_image=[2]", "[1.0]"),
        ),
        RewardSpec(
            "grounding",
            "IoU gated by the correct image: the IoU when the answer names the target image, else 0.0.",
            _score_grounding,
            _SPACE_OPTIONS,
            "The ``iou`` reward when the answer names the row's ``target_image`` (or the row has none), else 0.0; "
            "None when\n    the row has no target box.",
            needs_columns=True,
            example=("<answer>image 1: (0,0),(9,9)</answer>", "[0, 0, 9, 9]", ", target_image=[2]", "[0.0]"),
        ),
        RewardSpec(
            "multi_box",
            "Several targets: one-to-one matched mean IoU, penalising missing and extra boxes.",
            _score_multi_box,
            (*_SPACE_OPTIONS, "missing_penalty", "extra_penalty"),
            "Every answer box is matched to at most one target box (Hungarian, maximum total IoU; a pair with IoU 0 "
            "is no\n    match); the score is sum(matched IoU) / (matched + missing_penalty * missing + extra_penalty "
            "* extra),\n    in [0, 1]: with the default penalties, sum(matched IoU) / (#answer boxes + #targets - "
            "matched). A row\n    without target boxes scores 1.0 for an answer without boxes, else 0.0.",
            example=("<answer>(0,0),(10,10) (20,20),(30,30)</answer>", "[[0, 0, 10, 10]]", "", "[0.5]"),
        ),
    )
}


@functools.lru_cache(maxsize=1)
def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def _summary_of(entry_point: importlib.metadata.EntryPoint) -> str:
    try:
        target = entry_point.load()
    except Exception as error:  # a broken third-party package must not break the listing
        return f"(failed to load {entry_point.value}: {error})"
    if isinstance(target, RewardSpec):
        return target.summary
    doc = (getattr(target, "__doc__", None) or "").strip().splitlines()
    return doc[0] if doc else f"({entry_point.value})"


def available() -> dict[str, str]:
    """Every reward name known (ours and other installed packages'), with its one-line summary.

    Example:
        >>> available()["iou"]
        "Continuous IoU of the answer's first box with the target (the paper's accuracy reward)."
    """
    names = {name: spec.summary for name, spec in BUILTIN.items()}
    for name, entry_point in _entry_points().items():
        if name not in names:
            names[name] = _summary_of(entry_point)
    return dict(sorted(names.items()))


def _resolve(name: str) -> RewardSpec | RewardFunc:
    """The spec (ours, or a package's) or plain function registered under ``name``."""
    if name in BUILTIN:
        return BUILTIN[name]
    entry_point = _entry_points().get(name)
    if entry_point is None:
        raise KeyError(f"unknown reward {name!r}; known rewards: {', '.join(available())}")
    return entry_point.load()


def get(name: str, **options: Any) -> RewardFunc:
    """The reward registered under ``name``, configured with ``options``.

    Our names win over an installed package's entry point of the same name.

    Args:
        name: A registry name (``univg rewards list``).
        **options: :class:`RewardOptions` fields the reward reads.

    Returns:
        A function in TRL's convention whose ``__name__`` is ``name``.

    Raises:
        KeyError: unknown name (the message lists the known ones).
        ValueError: an option this reward does not take.

    Example:
        >>> get("iou_threshold", threshold=0.7).options.threshold
        0.7
    """
    target = _resolve(name)
    if isinstance(target, RewardSpec):
        return target.make(**options)
    if options:
        raise ValueError(f"reward {name!r} is a plain function from another package and takes no options")
    return target


make_reward = get


def load(names: Sequence[str], options: dict[str, dict[str, Any]] | None = None, **shared: Any) -> list[RewardFunc]:
    """Several rewards at once, e.g. ``load(["iou", "format"])``.

    Args:
        names: Registry names.
        options: Per-name options, e.g. ``{"iou": {"threshold": 0.7}}``.
        **shared: Options for every reward that takes them, e.g. ``space="abs_input"`` (read by ``iou``,
            not by ``format``); per-name options win.

    Returns:
        The reward functions, in the order of ``names``.

    Raises:
        KeyError: an unknown name.
        ValueError: options for a name not loaded, or a shared option no loaded reward takes.

    Example:
        >>> [reward.__name__ for reward in load(["iou", "format"], space="abs_input")]
        ['iou', 'format']
    """
    options = options or {}
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise ValueError(f"options given for rewards not loaded: {', '.join(unknown)}")
    targets = {name: _resolve(name) for name in names}
    takes = {name: set(t.options) if isinstance(t, RewardSpec) else set() for name, t in targets.items()}
    unused = sorted(set(shared) - set().union(*takes.values()))
    if unused:
        raise ValueError(f"no reward in {list(names)} takes the option(s) {', '.join(unused)}")
    return [
        get(name, **{**{k: v for k, v in shared.items() if k in takes[name]}, **options.get(name, {})})
        for name in names
    ]


# Ready-made default rewards, importable directly: ``from univg_plugin.rewards import iou_reward``.
iou_reward = get("iou")
iou_threshold_reward = get("iou_threshold")
giou_reward = get("giou")
format_reward = get("format")
image_index_reward = get("image_index")
grounding_reward = get("grounding")
multi_box_reward = get("multi_box")

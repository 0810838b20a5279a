"""Grounding rewards in TRL's convention, and the registry that names them.

Every reward is a function ``f(completions, solution=None, **kwargs) -> list[float | None]``:

- ``completions``: conversational (``[{"role": "assistant", "content": str}]``) or plain strings;
- ``solution``: the ground truth per completion: a box ``[x1, y1, x2, y2]``, a list of boxes, or text
  that contains them (VLM-R1's ``"<answer> [x1,y1,x2,y2] </answer>"``);
- ``kwargs``: the other dataset columns TRL passes (``solution_space``, ``target_image``,
  ``image_sizes``, ``width``/``height``, VLM-R1's ``image_path`` and ``image_grid_thw``), and
  ``trainer_state`` which is ignored.

Any completion string scores in [0, 1] (``giou``: [-1, 1]) and never raises; dataset problems (a
missing solution, an image size that a conversion needs) raise a ``ValueError`` that names them.

Configure a reward with :func:`make_reward` (or :func:`get`), which returns a function whose
``__name__`` is the reward's name, so TRL 0.24 (which reads ``__name__``) logs ``rewards/iou/mean``:

    >>> from univg_plugin.rewards import make_reward
    >>> iou = make_reward("iou", space="abs_input", solution_space="abs_image")
    >>> iou.__name__
    'iou'

Rewards registered by other packages under the entry-point group ``univg_plugin.rewards`` are found
by :func:`get`, :func:`load` and ``univg rewards list`` like ours.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from .boxes import (
    AnswerPolicy,
    CoordinateSpace,
    answer_boxes,
    answer_text,
    convert_boxes,
    first_answer_boxes,
    giou,
    input_size_from_grid,
    iou,
    iou_matrix,
    parse_boxes,
    parse_image_index,
    smart_resize,
)

__all__ = [
    "ENTRY_POINT_GROUP",
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
        missing_penalty: Weight of each target box the answer misses (``multi_box``).
        extra_penalty: Weight of each predicted box that matches no target (``multi_box``).
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
        if self.format_pattern is not None:
            re.compile(self.format_pattern)


# --------------------------------------------------------------------------- inputs


def _message_text(completion: Any) -> str:
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
    return [c if type(c) is str else _message_text(c) for c in completions]


@functools.lru_cache(maxsize=65536)
def _image_size_from_file(path: str) -> tuple[int, int]:
    """(width, height) of an image file, read from its header once per distinct path."""
    from PIL import Image

    with Image.open(path) as image:
        return image.size


def _column(kwargs: dict, name: str, count: int) -> list | None:
    values = kwargs.get(name)
    if values is None:
        return None
    if len(values) != count:
        raise ValueError(f"column {name!r} has {len(values)} values for {count} completions")
    return list(values)


def _target_indices(kwargs: dict, count: int) -> np.ndarray:
    """0-based target image per row (0 when the row names none)."""
    targets = _column(kwargs, "target_image", count)
    if targets is None:
        return np.zeros(count, dtype=np.int64)
    return np.array([int(t) - 1 if t else 0 for t in targets], dtype=np.int64)


def _image_sizes(kwargs: dict, count: int, targets: np.ndarray) -> np.ndarray:
    """Original (width, height) of each row's target image."""
    sizes = _column(kwargs, "image_sizes", count)
    if sizes is not None:
        out = np.empty((count, 2))
        for i, (row, target) in enumerate(zip(sizes, targets)):
            row = np.asarray(row, dtype=np.float64).reshape(-1, 2)
            out[i] = row[min(target, len(row) - 1)]
        return out
    widths, heights = _column(kwargs, "width", count), _column(kwargs, "height", count)
    if widths is not None and heights is not None:
        return np.stack([np.asarray(widths, dtype=np.float64), np.asarray(heights, dtype=np.float64)], axis=1)
    paths = _column(kwargs, "image_path", count)
    if paths is not None:
        out = np.empty((count, 2))
        for i, (row, target) in enumerate(zip(paths, targets)):
            row = [row] if isinstance(row, str) else list(row)
            out[i] = _image_size_from_file(str(row[min(target, len(row) - 1)]))
        return out
    raise ValueError(
        "converting between coordinate spaces needs each image's size: give an `image_sizes` column "
        "([[width, height], ...] per row), `width` and `height` columns, or `image_path`"
    )


def _input_sizes(kwargs: dict, count: int, targets: np.ndarray, image_size: np.ndarray, options) -> np.ndarray:
    """Model-input (width, height) of each row's target image: from ``image_grid_thw`` or smart_resize."""
    grids = _column(kwargs, "image_grid_thw", count)
    if grids is not None:
        out = np.empty((count, 2))
        for i, (grid, target) in enumerate(zip(grids, targets)):
            rows = input_size_from_grid(np.asarray(grid.tolist() if hasattr(grid, "tolist") else grid))
            out[i] = rows[min(target, len(rows) - 1)]
        return out
    height, width = smart_resize(
        image_size[:, 1], image_size[:, 0], min_pixels=options.min_pixels, max_pixels=options.max_pixels
    )
    return np.stack([width, height], axis=1).astype(np.float64)


def _solution_boxes(solution: Any) -> np.ndarray:
    """All ground-truth boxes of one row as ``(k, 4)``."""
    if isinstance(solution, str):
        inner = answer_text(solution, AnswerPolicy.LENIENT)
        return parse_boxes(inner) if inner is not None else parse_boxes(solution)
    array = np.asarray(solution, dtype=np.float64)
    if array.size % 4:
        raise ValueError(f"a solution box needs 4 numbers, got {solution!r}")
    return array.reshape(-1, 4)


class _Truth:
    """Ground truth of a batch, converted into the completions' coordinate space (computed once)."""

    def __init__(self, solution: Any, kwargs: dict, count: int, options: RewardOptions):
        if solution is None:
            raise ValueError("this reward needs a `solution` column (the ground-truth boxes)")
        if len(solution) != count:
            raise ValueError(f"`solution` has {len(solution)} values for {count} completions")
        self.count = count
        self.targets = _target_indices(kwargs, count)
        self._kwargs, self._options = kwargs, options
        self._solution = solution
        self.boxes = self._per_row_boxes()
        self._convert()

    def _per_row_boxes(self) -> list[np.ndarray]:
        try:  # fast path: one numeric box (or one list of one box) per row
            array = np.asarray(self._solution, dtype=np.float64)
            if array.ndim >= 2 and array.shape[-1] == 4 and array.size == 4 * self.count:
                return list(array.reshape(self.count, 1, 4))
        except (ValueError, TypeError):
            pass
        cache: dict[str, np.ndarray] = {}
        out = []
        for value in self._solution:
            if isinstance(value, str):
                if value not in cache:
                    cache[value] = _solution_boxes(value)
                out.append(cache[value])
            else:
                out.append(_solution_boxes(value))
        return out

    def _spaces(self) -> list[CoordinateSpace]:
        options = self._options
        if options.solution_space is not None:
            return [options.solution_space] * self.count
        column = _column(self._kwargs, "solution_space", self.count)
        if column is None:
            return [options.space] * self.count
        return [CoordinateSpace(value) if value else options.space for value in column]

    def _convert(self) -> None:
        target = self._options.space
        spaces = self._spaces()
        rows = [i for i, space in enumerate(spaces) if space is not target]
        if not rows:
            return
        image_size = _image_sizes(self._kwargs, self.count, self.targets)
        input_size = None
        if target is CoordinateSpace.ABS_INPUT or any(spaces[i] is CoordinateSpace.ABS_INPUT for i in rows):
            input_size = _input_sizes(self._kwargs, self.count, self.targets, image_size, self._options)
        for i in rows:
            self.boxes[i] = convert_boxes(
                self.boxes[i],
                spaces[i],
                target,
                image_size=image_size[i],
                input_size=None if input_size is None else input_size[i],
            )

    def first(self) -> np.ndarray:
        """The first target box of each row (NaN where a row has none)."""
        out = np.full((self.count, 4), np.nan)
        for i, boxes in enumerate(self.boxes):
            if len(boxes):
                out[i] = boxes[0]
        return out


# --------------------------------------------------------------------------- scores


def _score_iou(texts, truth, options):
    return iou(first_answer_boxes(texts, options.policy), truth().first())


def _score_iou_threshold(texts, truth, options):
    return (_score_iou(texts, truth, options) >= options.threshold).astype(np.float64)


def _score_giou(texts, truth, options):
    return giou(first_answer_boxes(texts, options.policy), truth().first())


@functools.lru_cache(maxsize=32)
def _format_regex(pattern: str | None) -> re.Pattern:
    return re.compile(pattern or PAPER_FORMAT_PATTERN, re.DOTALL)


def _score_format(texts, truth, options):
    search = _format_regex(options.format_pattern).search
    return np.fromiter((search(t) is not None for t in texts), dtype=np.float64, count=len(texts))


def _predicted_images(texts, policy) -> list[int | None]:
    if policy is AnswerPolicy.STRICT:
        return [parse_image_index(answer_text(t) or "") for t in texts]
    return [parse_image_index(answer_text(t) or "") or parse_image_index(t, last=True) for t in texts]


def _image_correct(texts, kwargs, options) -> np.ndarray:
    """1.0 when the answer names the target image, 0.0 when not, NaN when the row names no target."""
    count = len(texts)
    targets = _column(kwargs, "target_image", count)
    if targets is None:
        return np.full(count, np.nan)
    predicted = _predicted_images(texts, options.policy)
    return np.array(
        [np.nan if not target else float(guess == int(target)) for guess, target in zip(predicted, targets)]
    )


def _score_image_index(texts, truth, options, kwargs):
    return _image_correct(texts, kwargs, options)


def _score_grounding(texts, truth, options, kwargs):
    correct = _image_correct(texts, kwargs, options)
    return _score_iou(texts, truth, options) * np.where(np.isnan(correct), 1.0, correct)


def _score_multi_box(texts, truth, options):
    from scipy.optimize import linear_sum_assignment

    targets = truth().boxes
    out = np.zeros(len(texts))
    for i, (text, target) in enumerate(zip(texts, targets)):
        predicted = answer_boxes(text, options.policy)
        if len(target) == 0:
            out[i] = 1.0 if len(predicted) == 0 else 0.0
            continue
        if len(predicted) == 0:
            continue
        overlaps = iou_matrix(predicted, target)
        rows, cols = linear_sum_assignment(overlaps, maximize=True)
        matched = len(rows)
        denominator = (
            matched
            + options.missing_penalty * (len(target) - matched)
            + options.extra_penalty * (len(predicted) - matched)
        )
        out[i] = overlaps[rows, cols].sum() / denominator if denominator > 0 else 0.0
    return np.clip(out, 0.0, 1.0)


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class RewardSpec:
    """A named, configurable reward: what the registry maps a name to.

    Attributes:
        name: Registry name, also the ``__name__`` of the functions it makes.
        summary: One line for ``univg rewards list``.
        score: ``(texts, truth, options[, kwargs]) -> np.ndarray`` of one score per completion
            (NaN = not applicable, returned to TRL as None).
        options: The :class:`RewardOptions` fields this reward reads.
        doc: The made function's docstring.
        needs_columns: Whether ``score`` takes the raw columns as a fourth argument.
    """

    name: str
    summary: str
    score: Callable[..., np.ndarray]
    options: tuple[str, ...]
    doc: str
    needs_columns: bool = False

    def make(self, **options: Any) -> RewardFunc:
        """A reward function with these options (see :func:`make_reward`)."""
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise ValueError(
                f"reward {self.name!r} has no option {', '.join(map(repr, unknown))}; "
                f"its options are: {', '.join(self.options) or '(none)'}"
            )
        config = replace(RewardOptions(), **options)
        spec = self

        def reward(completions: Sequence[Any], solution: Sequence[Any] | None = None, **kwargs: Any) -> list:
            texts = completion_texts(completions)
            truth = functools.cache(lambda: _Truth(solution, kwargs, len(texts), config))
            if spec.needs_columns:
                scores = spec.score(texts, truth, config, kwargs)
            else:
                scores = spec.score(texts, truth, config)
            return [None if value != value else value for value in scores.tolist()]

        reward.__name__ = reward.__qualname__ = self.name
        reward.__doc__ = self.doc
        reward.__module__ = __name__
        reward.options = config  # type: ignore[attr-defined]
        return reward


_SPACE_OPTIONS = ("space", "solution_space", "policy", "min_pixels", "max_pixels")
_EXAMPLE = """
    Example:
        >>> from univg_plugin.rewards import get
        >>> reward = get("{name}")
        >>> reward([[{{"role": "assistant", "content": "{content}"}}]], solution=[{solution}]{extra})
        {result}
"""


def _doc(text: str, name: str, content: str, solution: str, result: str, extra: str = "") -> str:
    args = """
    Args:
        completions: Conversational or plain-string completions.
        solution: Ground-truth box(es) or text per completion.
        **kwargs: Other dataset columns (``solution_space``, ``target_image``, ``image_sizes``,
            ``width``/``height``, ``image_path``, ``image_grid_thw``).

    Returns:
        One float per completion (None where the reward does not apply).
"""
    return (
        text + "\n" + args + _EXAMPLE.format(name=name, content=content, solution=solution, result=result, extra=extra)
    )


_GOOD = "<think>top left</think><answer>(0,0),(100,100)</answer>"
BUILTIN: dict[str, RewardSpec] = {
    spec.name: spec
    for spec in (
        RewardSpec(
            "iou",
            "Continuous IoU of the answer's first box with the target (the paper's accuracy reward).",
            _score_iou,
            _SPACE_OPTIONS,
            _doc(
                "IoU of the first box in the answer with the first target box; 0 when no box parses.",
                "iou",
                _GOOD,
                "[0, 0, 100, 50]",
                "[0.5]",
            ),
        ),
        RewardSpec(
            "iou_threshold",
            "1.0 when the answer's IoU with the target reaches `threshold` (default 0.5), else 0.0.",
            _score_iou_threshold,
            (*_SPACE_OPTIONS, "threshold"),
            _doc(
                "1.0 when IoU >= threshold (inclusive), else 0.0.", "iou_threshold", _GOOD, "[0, 0, 100, 50]", "[1.0]"
            ),
        ),
        RewardSpec(
            "giou",
            "Generalized IoU in [-1, 1]: shaped, rewards near misses; -1 when no box parses.",
            _score_giou,
            _SPACE_OPTIONS,
            _doc(
                "GIoU = IoU - (C - U) / C, with C the smallest box enclosing both. Range [-1, 1].",
                "giou",
                _GOOD,
                "[100, 0, 200, 100]",
                "[0.0]",
            ),
        ),
        RewardSpec(
            "format",
            "1.0 when the completion is <think>...</think><answer>(x1,y1),(x2,y2)</answer> (or `format_pattern`).",
            _score_format,
            ("format_pattern",),
            _doc(
                "1.0 when ``format_pattern`` (default: the paper's strict think/answer layout ending the text) "
                "is found, else 0.0.",
                "format",
                _GOOD,
                "None",
                "[1.0]",
            ),
        ),
        RewardSpec(
            "image_index",
            "1.0 when the answer names the target image (`target_image` column), else 0.0.",
            _score_image_index,
            ("policy",),
            _doc(
                '1.0 when the image the answer names ("image 2", "the second image", ...) is the row\'s '
                "``target_image`` (1-based); None for rows without one.",
                "image_index",
                "<answer>image 2: (0,0),(9,9)</answer>",
                "[0, 0, 9, 9]",
                "[1.0]",
                extra=", target_image=[2]",
            ),
            needs_columns=True,
        ),
        RewardSpec(
            "grounding",
            "IoU gated by the correct image: the IoU when the answer names the target image, else 0.0.",
            _score_grounding,
            _SPACE_OPTIONS,
            _doc(
                "IoU of the answer box times 1 when the answer names the row's ``target_image`` (or the row "
                "has none), else 0.",
                "grounding",
                "<answer>image 1: (0,0),(9,9)</answer>",
                "[0, 0, 9, 9]",
                "[0.0]",
                extra=", target_image=[2]",
            ),
            needs_columns=True,
        ),
        RewardSpec(
            "multi_box",
            "Several targets: one-to-one matched mean IoU, penalising missing and extra boxes.",
            _score_multi_box,
            (*_SPACE_OPTIONS, "missing_penalty", "extra_penalty"),
            _doc(
                "Boxes are matched one to one (Hungarian, max total IoU); the score is the matched IoU sum "
                "over ``matched + missing_penalty * missing + extra_penalty * extra``. An empty target scores "
                "1.0 for an empty answer, else 0.0.",
                "multi_box",
                "<answer>(0,0),(10,10) (20,20),(30,30)</answer>",
                "[[0, 0, 10, 10]]",
                "[0.5]",
            ),
        ),
    )
}


@functools.lru_cache(maxsize=1)
def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available() -> dict[str, str]:
    """Every reward name known (ours and other installed packages'), with its one-line summary."""
    names = {name: spec.summary for name, spec in BUILTIN.items()}
    for name, entry_point in _entry_points().items():
        if name not in names:
            names[name] = _summary_of(entry_point)
    return dict(sorted(names.items()))


def _summary_of(entry_point: importlib.metadata.EntryPoint) -> str:
    try:
        target = entry_point.load()
    except Exception as error:  # a broken third-party package must not break the listing
        return f"(failed to load {entry_point.value}: {error})"
    if isinstance(target, RewardSpec):
        return target.summary
    doc = (getattr(target, "__doc__", None) or "").strip().splitlines()
    return doc[0] if doc else f"({entry_point.value})"


def get(name: str, **options: Any) -> RewardFunc:
    """The reward registered under ``name``, configured with ``options``.

    Args:
        name: A registry name (``univg rewards list``).
        **options: :class:`RewardOptions` fields the reward reads.

    Returns:
        A function in TRL's convention whose ``__name__`` is ``name``.

    Raises:
        KeyError: unknown name (the message lists the known ones).
        ValueError: an option this reward does not take.
    """
    if name in BUILTIN:
        return BUILTIN[name].make(**options)
    entry_point = _entry_points().get(name)
    if entry_point is None:
        raise KeyError(f"unknown reward {name!r}; known rewards: {', '.join(available())}")
    target = entry_point.load()
    if isinstance(target, RewardSpec):
        return target.make(**options)
    if options:
        raise ValueError(f"reward {name!r} ({entry_point.value}) is a plain function and takes no options")
    return target


make_reward = get


def load(names: Sequence[str], options: dict[str, dict[str, Any]] | None = None) -> list[RewardFunc]:
    """Several rewards at once, e.g. ``load(["iou", "format"])``.

    Args:
        names: Registry names.
        options: Per-name options, e.g. ``{"iou": {"space": "abs_input"}}``.
    """
    options = options or {}
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise ValueError(f"options given for rewards not loaded: {', '.join(unknown)}")
    return [get(name, **options.get(name, {})) for name in names]


def option_names() -> tuple[str, ...]:
    """Every field of :class:`RewardOptions`."""
    return tuple(f.name for f in fields(RewardOptions))


# Ready-made default rewards, importable directly: ``from univg_plugin.rewards import iou_reward``.
iou_reward = get("iou")
iou_threshold_reward = get("iou_threshold")
giou_reward = get("giou")
format_reward = get("format")
image_index_reward = get("image_index")
grounding_reward = get("grounding")
multi_box_reward = get("multi_box")

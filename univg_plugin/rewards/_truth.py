"""The ground truth of a batch, read from TRL's dataset columns and converted into the completions' space.

Columns read: ``solution`` (a box, a list of boxes, or text holding them), ``solution_space``,
``target_image`` (1-based), the image sizes (``image_sizes``, ``width``/``height``, ``images``/``image``
as PIL images or paths, VLM-R1's ``image_path``) and ``image_grid_thw``.
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from ..boxes import (
    AnswerPolicy,
    CoordinateSpace,
    answer_block,
    answer_text,
    convert_boxes,
    first_answer_boxes,
    input_size_from_grid,
    parse_boxes,
    smart_resize,
)
from ..qwen_vl import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, MODEL_FAMILIES, ModelFamily, model_family

__all__ = [
    "BoxOptions",
    "GroundTruth",
    "check_answers",
    "column",
    "first_answer_and_target",
    "target_image_index",
    "target_images",
    "warn_once",
]


def column(kwargs: dict, name: str, count: int) -> list | None:
    """The dataset column ``name`` as a list, None when absent; a length other than ``count`` is an error."""
    values = kwargs.get(name)
    if values is None:
        return None
    if len(values) != count:
        raise ValueError(f"column {name!r} has {len(values)} values for {count} completions")
    return list(values)


def target_image_index(value: Any, row: int) -> int | None:
    """A row's 1-based ``target_image``; None when it names none (None, 0, empty, NaN).

    Raises:
        ValueError: a value that is no image index, naming the column and the row.
    """
    if not value or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        index = int(value)
        integral = index == float(value)
    except (TypeError, ValueError, OverflowError):
        integral = False
    if not integral or index < 1:
        raise ValueError(f"column 'target_image', row {row}: expected a 1-based image index, got {value!r:.80}")
    return index


def target_images(kwargs: dict, count: int) -> np.ndarray:
    """0-based target image per row (0, the first image, when the row names none)."""
    targets = column(kwargs, "target_image", count)
    if targets is None:
        return np.zeros(count, dtype=np.int64)
    return np.array([(target_image_index(value, row) or 1) - 1 for row, value in enumerate(targets)], dtype=np.int64)


def _pick(value: Any, target: int, name: str, row: int) -> Any:
    """The target image's entry of a per-image column value (a scalar applies to every image)."""
    if isinstance(value, (str, os.PathLike)) or not hasattr(value, "__len__") or hasattr(value, "width"):
        return value
    if not 0 <= target < len(value):
        raise ValueError(f"row {row}: target_image {target + 1} is out of range for {len(value)} {name!r} entries")
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
    sizes = column(kwargs, "image_sizes", count)
    if sizes is not None:
        for i in rows:
            if sizes[i] is None:
                raise ValueError(f"row {i}: its `image_sizes` is empty")
        per_image = {i: np.asarray(sizes[i], dtype=np.float64).reshape(-1, 2) for i in rows}
        return np.array([_pick(per_image[i], targets[i], "image_sizes", i) for i in rows]).reshape(-1, 2)
    widths, heights = column(kwargs, "width", count), column(kwargs, "height", count)
    if widths is not None and heights is not None:
        pairs = [(_pick(widths[i], targets[i], "width", i), _pick(heights[i], targets[i], "height", i)) for i in rows]
        return np.array(pairs, dtype=np.float64).reshape(-1, 2)
    for name in ("images", "image", "image_path"):
        values = column(kwargs, name, count)
        if values is not None:
            items = [_pick(values[i], targets[i], name, i) for i in rows]
            return np.array([_image_size(item) for item in items], dtype=np.float64).reshape(-1, 2)
    raise ValueError(
        "converting between coordinate spaces needs each image's size: give an `image_sizes` column "
        "([[width, height], ...] per row), `width` and `height` columns, `images`/`image`, or `image_path`"
    )


def _input_sizes(kwargs: dict, count: int, targets: np.ndarray, rows: list[int], patch_size: int) -> np.ndarray | None:
    """Model-input (width, height) of the target image of each of ``rows`` from ``image_grid_thw``, if given."""
    grids = column(kwargs, "image_grid_thw", count)
    if grids is None:
        return None
    sizes = []
    for i in rows:
        grid = grids[i].tolist() if hasattr(grids[i], "tolist") else grids[i]
        sizes.append(_pick(input_size_from_grid(grid, patch_size), targets[i], "image_grid_thw", i))
    return np.array(sizes, dtype=np.float64).reshape(-1, 2)


def _row_boxes(value: Any, row: int) -> np.ndarray:
    """All ground-truth boxes of one row as ``(k, 4)``: from text, one box, a list of boxes, or None."""
    if value is None:
        return np.empty((0, 4))
    if isinstance(value, str):
        return parse_boxes(answer_text(value, AnswerPolicy.LENIENT))
    try:
        array = np.asarray(value.tolist() if hasattr(value, "tolist") else value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        array = np.empty(1)  # reported below
    if array.size % 4:
        raise ValueError(
            f"column 'solution', row {row}: expected text or boxes of 4 numbers [x1, y1, x2, y2] "
            f"(within float range), got {value!r:.200}"
        )
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
    except (ValueError, TypeError, OverflowError):
        pass
    parsed: dict[str, np.ndarray] = {}  # G completions share each solution text
    rows = []
    for row, value in enumerate(solution):
        if isinstance(value, str):
            if value not in parsed:
                parsed[value] = _row_boxes(value, row)
            rows.append(parsed[value])
        else:
            rows.append(_row_boxes(value, row))
    boxes = np.concatenate(rows) if rows else np.empty((0, 4))
    return boxes, np.repeat(np.arange(count), [len(row) for row in rows])


@dataclass(frozen=True)
class BoxOptions:
    """The box rewards' shared options: where the boxes live and where the answer box is read.

    Attributes:
        space: The space of the completions' boxes (the truth is converted into it).
        solution_space: The truth's space: one for every row, one per row (None entries: ``space``), or None
            (``space``).
        policy: Where the answer box is read (:class:`~univg_plugin.boxes.AnswerPolicy`).
        min_pixels: The processor's ``min_pixels``, for ``abs_input`` without ``image_grid_thw`` (None: Qwen2-VL's
            default, with a warning once when a conversion needs it).
        max_pixels: The processor's ``max_pixels``, likewise.
        model_family: The model's family (a key of ``MODEL_FAMILIES``): the patch size and resize factor of
            ``abs_input`` conversions, and the answer syntax expected (None: Qwen2-VL's patches, no syntax check).
    """

    space: str = "norm1000"
    solution_space: str | Sequence[str | None] | None = None
    policy: str = "strict"
    min_pixels: int | None = None
    max_pixels: int | None = None
    model_family: str | None = None

    @property
    def family(self) -> ModelFamily:
        """The family's conventions (Qwen2-VL's when none is named: the patches every default assumes)."""
        return model_family(self.model_family or "qwen2_vl")


class GroundTruth:
    """A batch's ground truth in the completions' coordinate space, as one flat array of boxes.

    Args:
        solution: The ``solution`` column: per row a box, a list of boxes, text holding them, or None.
        columns: The other dataset columns (image sizes, ``image_grid_thw``, ``target_image``).
        count: The number of completions.
        options: The spaces and pixel limits.

    Attributes:
        boxes: Every target box ``(K, 4)``, rows in order.
        row: The row of each box ``(K,)``, non-decreasing.
        input_sizes: The model-input ``(width, height)`` of each row's target image where a conversion computed
            it, else NaN ``(count, 2)``.
    """

    def __init__(self, solution: Sequence[Any] | None, columns: dict, count: int, options: BoxOptions):
        if solution is None:
            raise ValueError("this reward needs a `solution` column (the ground-truth boxes)")
        if len(solution) != count:
            raise ValueError(f"`solution` has {len(solution)} values for {count} completions")
        self.count = count
        self.boxes, self.row = _solution_boxes(solution, count)
        self.input_sizes = np.full((count, 2), np.nan)
        self._pixels = (options.min_pixels, options.max_pixels)
        self._family = options.family
        space = CoordinateSpace(options.space)
        for source, rows in self._rows_by_space(space, options.solution_space).items():
            if source is not space:
                self._convert(rows, source, space, columns)

    def _rows_by_space(self, space: CoordinateSpace, solution_space: Any) -> dict[CoordinateSpace, np.ndarray]:
        """The rows whose truth is in each source space."""
        if solution_space is None or isinstance(solution_space, str):
            return {CoordinateSpace(solution_space or space): np.arange(self.count)}
        if len(solution_space) != self.count:
            raise ValueError(f"column 'solution_space' has {len(solution_space)} values for {self.count} completions")
        spaces = [CoordinateSpace(value) if value else space for value in solution_space]
        return {source: np.flatnonzero([s is source for s in spaces]) for source in set(spaces)}

    def _convert(self, rows: np.ndarray, source: CoordinateSpace, target: CoordinateSpace, columns: dict) -> None:
        """Convert the boxes of ``rows`` from ``source`` into ``target``, with the sizes the two need."""
        targets = target_images(columns, self.count)
        selected = np.isin(self.row, rows)
        involved = {source, target}
        input_size = image_size = None
        if CoordinateSpace.ABS_INPUT in involved:
            input_size = _input_sizes(columns, self.count, targets, rows.tolist(), self._family.patch_size)
        if CoordinateSpace.ABS_IMAGE in involved or (CoordinateSpace.ABS_INPUT in involved and input_size is None):
            image_size = _image_sizes(columns, self.count, targets, rows.tolist())
        position = np.searchsorted(rows, self.row[selected])  # each box's row among `rows`
        min_pixels, max_pixels = self._pixel_limits(CoordinateSpace.ABS_INPUT in involved and input_size is None)
        if CoordinateSpace.ABS_INPUT in involved:
            input_size = input_size if input_size is not None else self._resized(image_size, min_pixels, max_pixels)
            self.input_sizes[rows] = input_size
        self.boxes[selected] = convert_boxes(
            self.boxes[selected],
            source,
            target,
            image_size=None if image_size is None else image_size[position],
            input_size=None if input_size is None else input_size[position],
        )

    def _resized(self, image_size: np.ndarray, min_pixels: int, max_pixels: int) -> np.ndarray:
        """The model-input ``(width, height)`` of images of ``image_size``: the family's ``smart_resize``."""
        height, width = smart_resize(
            image_size[:, 1], image_size[:, 0], self._family.resize_factor, min_pixels, max_pixels
        )
        return np.stack([width, height], axis=1).astype(np.float64)

    def _pixel_limits(self, resizing: bool) -> tuple[int, int]:
        """The processor's pixel limits; Qwen's defaults, with a warning once, when a resize needs them unknown."""
        low, high = self._pixels
        if resizing and (low is None or high is None):
            warn_once(
                "pixel-limits",
                "the model-input size of abs_input boxes is computed without the processor's pixel limits: "
                f"Qwen2-VL's defaults are assumed (min_pixels={DEFAULT_MIN_PIXELS}, max_pixels={DEFAULT_MAX_PIXELS}); "
                "a processor with other limits (Qwen2.5-VL's checkpoints use max_pixels=12845056) makes correct "
                "answers score near 0. Pass the reward's min_pixels / max_pixels (DifficultyAwareGRPOTrainer and "
                "the LLaMA-Factory stage do) or an image_grid_thw column",
            )
        return (DEFAULT_MIN_PIXELS if low is None else low), (DEFAULT_MAX_PIXELS if high is None else high)

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


def first_answer_and_target(
    texts: list[str], solution: Sequence[Any] | None, columns: dict, options: BoxOptions
) -> tuple[np.ndarray, np.ndarray]:
    """The first answer box and the first target box of each completion text, ``(n, 4)`` each, in ``options.space``.

    Rows without an answer box or without a target box are NaN.
    """
    truth = GroundTruth(solution, columns, len(texts), options)
    answers = first_answer_boxes(texts, options.policy)
    check_answers(texts, answers, truth, options)
    return answers, truth.first()


#: The largest coordinate a box can have in each normalized space.
_SPACE_LIMITS = {CoordinateSpace.NORM1000: 1000.0, CoordinateSpace.NORM1: 1.0}
_warned: set[str] = set()


def warn_once(key: str, message: str) -> None:
    """A ``UserWarning`` the first time ``key`` is seen in this process (rewards run every step)."""
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, UserWarning, stacklevel=4)


def check_answers(texts: Sequence[str], answers: np.ndarray, truth: GroundTruth, options: BoxOptions) -> None:
    """Warn once when the answers cannot be in the reward's space or syntax: the sign of a wrong-family setting."""
    _check_answer_space(answers, CoordinateSpace(options.space), truth.input_sizes)
    if options.model_family is not None:
        _check_answer_syntax(texts, answers, options.family)


def _check_answer_space(answers: np.ndarray, space: CoordinateSpace, input_sizes: np.ndarray) -> None:
    """Warn once when the answers' coordinates cannot be in ``space`` (a model answering in another space)."""
    limit = _SPACE_LIMITS.get(space)
    if limit is None and space is CoordinateSpace.ABS_INPUT:
        with np.errstate(invalid="ignore"):
            beyond = np.any(answers > np.tile(input_sizes, 2), axis=1)
        if np.any(beyond):
            warn_once(
                "space:abs_input",
                f"{int(beyond.sum())} of {len(answers)} answer boxes have coordinates beyond their model input's "
                "width or height, which abs_input cannot hold: a model that answers in 0-1000 (Qwen2-VL, Qwen3-VL: "
                "space='norm1000') scores near 0 in this space; set the reward's `space`, or use the model's "
                "family preset (univg_plugin.rewards.presets)",
            )
        return
    if limit is None or not np.any(answers > limit):
        return
    share = int(np.sum(np.any(answers > limit, axis=1)))
    warn_once(
        f"space:{space.value}",
        f"{share} of {len(answers)} answer boxes have coordinates above {limit:g}, which {space.value} cannot hold: "
        "a model that answers in pixels (Qwen2.5-VL: space='abs_input') scores near 0 in this space; set the "
        "reward's `space` (and the ground truth's `solution_space`), or use univg_plugin.rewards.presets",
    )


def _writes_lists(family: ModelFamily) -> bool:
    """Whether ``family`` writes a box as a bracketed list (``bbox_2d`` JSON), not as ``(x1,y1),(x2,y2)``."""
    return family.answer_syntax.startswith("[")


def _check_answer_syntax(texts: Sequence[str], answers: np.ndarray, family: ModelFamily) -> None:
    """Warn once when answers with a box are written in another family's syntax than ``family``'s (once said, the
    answers are not scanned again)."""
    key = f"syntax:{family.name}"
    if key in _warned:
        return
    boxed = ~np.isnan(answers).any(axis=1)
    if not boxed.any():
        return
    lists = np.array(["[" in (answer_block(text) or text) for text in texts]) & boxed
    foreign = int((boxed & ~lists).sum() if _writes_lists(family) else lists.sum())
    if foreign:
        others = [name for name, other in MODEL_FAMILIES.items() if _writes_lists(other) != _writes_lists(family)]
        warn_once(
            key,
            f"{foreign} of {int(boxed.sum())} answers are not written as {family.name} writes boxes "
            f"({family.answer_syntax}) but as {' / '.join(others)} do: they are scored as {family.name}'s "
            f"({family.box_space}), where another family's boxes score near 0; set the model's family "
            "(model_family, or its preset in univg_plugin.rewards.presets)",
        )

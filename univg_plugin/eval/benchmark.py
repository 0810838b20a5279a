"""Reading benchmarks: every row, its ground truth as written.

A benchmark's ground truth is not training data. The published MIG-Bench file has rows whose box is
swapped or reaches past the image, and its official script scores them as they are (such a box can
never be hit, or is compared as written), counting every row. So a benchmark row whose only problems
are the geometry of its boxes (swapped, zero-area, negative or outside the image: what
:class:`~univg_plugin.data.GroundingSample` refuses for training) is read with its boxes as written;
every other problem is an error naming the row and the field, as for training data. The scorer notes
the odd boxes (:attr:`~.report.EvalReport.truth_notes`).

How: the row is read again with each odd box replaced by a well-formed stand-in of the same magnitude
(so that ``mig_bench``'s per-row detection of 0-1 or 0-1000 boxes is unchanged), found by value in the
row (a list of four numbers, two pairs, or a box string), and the box as written is put back in the
sample. A row where that cannot be done (e.g. a reader that converts its boxes) stays an error.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..data import DataError, GroundingSample, Issue
from ..data.files import read_with_errors
from ..data.formats import Format, get_format
from ..data.io import iter_rows

Box = tuple[float, float, float, float]
_BOX_FIELD = re.compile(r"boxes\[\d+\]")
_BOX_TEXT = re.compile(r"[\s\[\](),.\d+eE-]+")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def detect_format(path: str | os.PathLike) -> str:
    """The benchmark layout of a file, from the keys of its first row: ``mig_bench``, ``zero_shot`` or ``univg``.

    Raises:
        ValueError: when the first row matches none of them (pass the format explicitly).
    """
    with open(path, "rb") as stream:
        row = next((raw for _, raw in iter_rows(stream, path)), None)
    keys = set(row) if isinstance(row, dict) else set()
    if {"id", "images", "question", "boxes"} <= keys:
        return "univg"
    if {"task", "images", "question", "answer"} <= keys:
        return "mig_bench"
    if keys & {"image_path", "image_list", "video_id"}:
        return "zero_shot"
    raise ValueError(f"{path}: cannot tell its layout from the first row's keys {sorted(keys)}; pass the format")


def load_benchmark(
    paths: str | os.PathLike | Sequence[str | os.PathLike], fmt: str = "auto", **options: Any
) -> tuple[list[GroundingSample], str]:
    """Every sample of one or more benchmark files (ids must be unique across them), and their format.

    Rows whose boxes are swapped, zero-area, negative or outside the image are read with their boxes as
    written (see the module's docstring); the scorer scores them as the official scripts do.

    Args:
        paths: One file or several (e.g. the five zero-shot sets).
        fmt: Their dataset format (``mig_bench``, ``zero_shot``, ``univg``, ... see ``univg data formats``),
            or ``auto`` to detect it from the first file (:func:`detect_format`).
        **options: Options of the format's reader.

    Returns:
        ``(samples, format name)``.

    Raises:
        DataError: for the first bad row (other than its boxes' geometry), or an id found twice (naming
            both places).
        ValueError: when the files hold no sample.
    """
    files = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not files:
        raise ValueError("no benchmark file given")
    if fmt == "auto":
        fmt = detect_format(files[0])
    samples: list[GroundingSample] = []
    seen: dict[str, str] = {}
    for file in files:
        for sample in _file_samples(Path(file), fmt, options):
            if sample.id in seen:
                raise DataError(
                    sample.where, [Issue("id", f"{sample.id!r} is used twice (first at {seen[sample.id]})")]
                )
            seen[sample.id] = sample.where
            samples.append(sample)
    if not samples:
        raise ValueError(f"{', '.join(map(str, files))}: no samples")
    return samples, fmt


def _file_samples(path: Path, fmt: str, options: dict[str, Any]) -> list[GroundingSample]:
    """The samples of one file, in file order, rows with odd boxes read as written."""
    items: list[GroundingSample | DataError] = []
    for item in read_with_errors(path, fmt, **options):
        if isinstance(item, DataError) and not all(_BOX_FIELD.fullmatch(issue.field) for issue in item.issues):
            raise item
        items.append(item)
    odd = {item.where: item for item in items if isinstance(item, DataError)}
    if not odd:
        return items
    as_written = _rows_as_written(path, get_format(fmt, **options), set(odd))
    for where, error in odd.items():
        if where not in as_written:
            raise error
    return [as_written[item.where] if isinstance(item, DataError) else item for item in items]


def _rows_as_written(path: Path, reader: Format, places: set[str]) -> dict[str, GroundingSample]:
    """The sample of each row at ``places`` whose boxes' geometry is its only problem, boxes as written."""
    found = {}
    with open(path, "rb") as stream:
        for index, (where, raw) in enumerate(reader.rows(stream, path)):
            if where in places:
                sample = _as_written(reader, raw, f"{path.stem}-{index}")  # the default id of data.files
                if sample is not None:
                    found[where] = sample.with_source(where)
    return found


def _as_written(reader: Format, raw: Any, default_id: str) -> GroundingSample | None:
    """The one sample of ``raw`` with its odd boxes as written, or None when its problems are not only those."""
    try:
        reader.parse(raw, default_id)
    except ValidationError as error:
        written = _odd_boxes(error)
    except (DataError, ValueError, TypeError):
        return None
    else:
        return None
    try:
        decoded = json.loads(raw) if isinstance(raw, bytes | str) else raw  # a reader that validates JSON text
        standing = _with_stand_ins(decoded, written) if written else None
    except (ValueError, RecursionError):
        return None
    if standing is None:
        return None
    try:
        [sample] = reader.parse(standing, default_id)
    except (DataError, ValueError, TypeError):  # ValidationError and FieldError are ValueErrors
        return None
    boxes = list(sample.boxes)
    if any(index >= len(boxes) or boxes[index] != _stand_in(box) for index, box in written.items()):
        return None
    for index, box in written.items():
        boxes[index] = box
    return sample.model_copy(update={"boxes": boxes})


def _odd_boxes(error: ValidationError) -> dict[int, Box] | None:
    """Box index -> box as written, when every problem is the geometry of a finite box; else None."""
    written = {}
    for detail in error.errors(include_url=False):
        location, value = detail["loc"], detail.get("input")
        if detail["type"] != "grounding" or location[:1] != ("boxes",) or len(location) != 2:
            return None
        if not isinstance(value, tuple | list) or len(value) != 4:
            return None
        box = tuple(float(number) for number in value)
        if not all(math.isfinite(number) for number in box):
            return None
        written[int(location[1])] = box
    return written


def _stand_in(box: Box) -> Box:
    """A well-formed box on the same side of 2 as ``box``'s largest value (0-1 and 0-1000 told apart the same)."""
    return (0.0, 0.0, 1.0, 1.0) if max(box) <= 2 else (0.0, 0.0, 3.0, 3.0)


def _numbers(value: Any) -> list[float] | None:
    """The numbers of a box-like value: a (nested) list of numbers, or a string of numbers and brackets."""
    if isinstance(value, str):
        return [float(number) for number in _NUMBER.findall(value)] if _BOX_TEXT.fullmatch(value) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, list) and value:
        parts = [_numbers(item) for item in value if not isinstance(item, str)]
        if len(parts) == len(value) and all(part is not None for part in parts):
            return [number for part in parts for number in part]
    return None


def _shaped(value: Any, numbers: list[float]) -> Any:
    """``value`` with its numbers replaced, in order, by ``numbers`` (consumed)."""
    if isinstance(value, str):
        return "[" + ", ".join(repr(numbers.pop(0)) for _ in range(4)) + "]"
    if isinstance(value, list):
        return [_shaped(item, numbers) for item in value]
    return numbers.pop(0)


def _with_stand_ins(raw: Any, written: dict[int, Box]) -> Any | None:
    """A copy of ``raw`` with the first occurrence of each written box replaced by its stand-in (None when one
    is not found)."""
    remaining = dict(sorted(written.items()))

    def visit(value: Any) -> Any:
        if not remaining:
            return value
        numbers = _numbers(value) if not isinstance(value, int | float) else None
        if numbers is not None and len(numbers) == 4:
            index = next((i for i, box in remaining.items() if tuple(numbers) == box), None)
            if index is None:
                return value
            return _shaped(value, list(_stand_in(remaining.pop(index))))
        if isinstance(value, dict):
            return {key: visit(item) for key, item in value.items()}
        if isinstance(value, list):
            return [visit(item) for item in value]
        return value

    replaced = visit(raw)
    return None if remaining else replaced

"""Predictions files: one jsonl row per sample, ``{"id": ..., "output": raw model text}``.

Rows may carry more keys; the scorer reads ``input_sizes`` too (the model-input ``[width, height]``
of each image, written by :func:`~univg_plugin.eval.generate.generate_predictions`), which makes
``abs_input`` (Qwen2.5-VL) predictions convert exactly. Problems name the file, the line and the field.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "predictions.jsonl"
    >>> _ = path.write_text('{"id": "a", "output": "<answer>(1,2),(3,4)</answer>"}\\n')
    >>> read_predictions(path).outputs["a"]
    '<answer>(1,2),(3,4)</answer>'
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.errors import DataError, Issue

Sizes = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class PredictionSet:
    """Predictions by sample id, as columns.

    Attributes:
        outputs: Sample id -> raw output.
        input_sizes: Sample id -> model-input ``(width, height)`` of each image, where recorded.
        where: Sample id -> where it was read (``path:LINE``), for error messages.
    """

    outputs: dict[str, str]
    input_sizes: dict[str, Sizes] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.outputs)

    def subset(self, ids: Iterable[str]) -> PredictionSet:
        """The predictions of ``ids`` only (an id without a prediction is left out).

        Example:
            >>> PredictionSet({"a": "x", "b": "y"}).subset(["b", "c"]).outputs
            {'b': 'y'}
        """
        kept = [identity for identity in ids if identity in self.outputs]
        return PredictionSet(
            {identity: self.outputs[identity] for identity in kept},
            {identity: self.input_sizes[identity] for identity in kept if identity in self.input_sizes},
            {identity: self.where[identity] for identity in kept if identity in self.where},
        )


PredictionsLike = PredictionSet | Mapping[str, Any] | Iterable[Mapping[str, Any]] | str | os.PathLike


def _fields(row: Any, where: str) -> tuple[str, str, Sizes | None]:
    """``(id, output, input sizes)`` of one row, or a located :class:`DataError`."""
    if not isinstance(row, Mapping):
        raise DataError(where, [Issue("row", f"expected a JSON object, got {type(row).__name__}")])
    issues = []
    identity = row.get("id")
    if isinstance(identity, bool) or not isinstance(identity, str | int) or identity == "":
        problem = "is missing" if identity is None else f"must be a string or an integer: {identity!r}"
        issues.append(Issue("id", problem))
    output = row.get("output")
    if not isinstance(output, str):
        issues.append(Issue("output", "is missing" if output is None else f"must be a string, got {output!r}"))
    sizes, size_issues = _input_sizes(row.get("input_sizes"))
    issues.extend(size_issues)
    if issues:
        raise DataError(where, issues)
    return str(identity), output, sizes


def _pixels(value: Any) -> int | None:
    """A positive whole number of pixels (an int, or a float with an integral value), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    return int(value) if value >= 1 else None


def _input_sizes(value: Any) -> tuple[Sizes | None, list[Issue]]:
    """``input_sizes`` as ``((width, height), ...)`` (None when absent), and its problems."""
    if value is None:
        return None, []
    if not isinstance(value, list | tuple) or not all(isinstance(size, list | tuple) for size in value):
        return None, [Issue("input_sizes", f"must be a list of [width, height], got {value!r}")]
    sizes, issues = [], []
    for index, size in enumerate(value):
        pair = tuple(map(_pixels, size)) if len(size) == 2 else (None,)
        if None in pair:
            issues.append(Issue(f"input_sizes[{index}]", f"must be [width, height] of positive integers, got {size!r}"))
        else:
            sizes.append(pair)
    return tuple(sizes), issues


def _collect(rows: Iterable[tuple[str, Any]]) -> PredictionSet:
    collected = PredictionSet({})
    outputs, places = collected.outputs, collected.where
    for where, row in rows:
        identity, output, sizes = _fields(row, where)
        if identity in outputs:
            raise DataError(where, [Issue("id", f"{identity!r} is predicted twice (first at {places[identity]})")])
        outputs[identity] = output
        places[identity] = where
        if sizes:
            collected.input_sizes[identity] = sizes
    return collected


def _lines(path: Path) -> Iterable[tuple[str, Any]]:
    with open(path, "rb") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                yield where, json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise DataError(where, [Issue("row", f"invalid JSON: {error}")]) from None
            except (ValueError, RecursionError) as error:  # a number past Python's digit limit, deep nesting
                raise DataError(where, [Issue("row", f"cannot be read: {error}")]) from None


def read_predictions(path: str | os.PathLike) -> PredictionSet:
    """The predictions of a jsonl file.

    Raises:
        DataError: naming ``path:LINE`` and the field, for invalid or unreadable JSON, a missing id or
            output, malformed ``input_sizes``, or an id predicted twice.
        FileNotFoundError: when the file does not exist.
    """
    return _collect(_lines(Path(path)))


def as_predictions(predictions: PredictionsLike) -> PredictionSet:
    """Predictions from a jsonl path, a mapping ``id -> output`` (or ``id -> row``), an iterable of rows,
    or a :class:`PredictionSet`.

    Example:
        >>> as_predictions({"a": "(1,2),(3,4)"}).outputs["a"]
        '(1,2),(3,4)'
    """
    if isinstance(predictions, PredictionSet):
        return predictions
    if isinstance(predictions, str | os.PathLike):
        return read_predictions(predictions)
    if isinstance(predictions, Mapping):
        if all(type(value) is str for value in predictions.values()):  # the common case, kept cheap
            return PredictionSet({str(key): value for key, value in predictions.items()})
        rows = (
            (
                f"predictions[{key!r}]",
                {**value, "id": key} if isinstance(value, Mapping) else {"id": key, "output": value},
            )
            for key, value in predictions.items()
        )
        return _collect(rows)
    return _collect((f"predictions[{index}]", row) for index, row in enumerate(predictions))


def completed_ids(path: str | os.PathLike) -> set[str]:
    """The ids already in a predictions file, to resume a run (an absent file has none).

    A last line cut short by an interrupted run (no newline, not valid JSON) is removed from the file.
    """
    path = Path(path)
    if not path.is_file():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        head, _, tail = data.rpartition(b"\n")
        try:
            json.loads(tail)
        except (ValueError, RecursionError):
            with open(path, "r+b") as stream:
                stream.truncate(len(head) + 1 if head else 0)
        else:
            with open(path, "ab") as stream:
                stream.write(b"\n")
    return set(read_predictions(path).outputs)


class PredictionWriter:
    """Appends prediction rows to a jsonl file, flushing after each batch (so a rerun can resume)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115  (kept open across batches)

    def write(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Append rows and flush them to disk."""
        self._file.write("".join(json.dumps(dict(row), ensure_ascii=False) + "\n" for row in rows))
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> PredictionWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

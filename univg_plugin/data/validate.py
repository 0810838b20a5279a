"""Whole-file validation: every bad row reported (not just the first), each naming file, row and field.

Beyond each sample's own validation (see :class:`~.schema.GroundingSample`), a file is checked for
duplicate ids, optionally for missing or mis-sized image files, and for ``meta`` values whose JSON
type changes between rows (Arrow, and so LLaMA-Factory's loader, cannot read such a file).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError, Issue
from .files import read_with_errors
from .media import media_issues
from .schema import GroundingSample

_JSON_TYPES = {
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    dict: "an object",
    list: "a list",
}


@dataclass
class ValidationReport:
    """The outcome of :func:`validate_file`.

    Attributes:
        path: The file.
        samples: Valid samples.
        errors: One :class:`DataError` per bad row, in file order.
        warnings: File-level warnings (e.g. meta types that change between rows).
    """

    path: Path
    samples: int = 0
    errors: list[DataError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file holds samples and no bad row."""
        return self.samples > 0 and not self.errors

    def summary(self) -> str:
        """One line: how many samples are valid and how many rows are bad (or that there are no samples)."""
        if not self.samples and not self.errors:
            return f"{self.path}: FAILED: no samples"
        verdict = "OK" if self.ok else "FAILED"
        return f"{self.path}: {verdict}: {self.samples} valid sample(s), {len(self.errors)} bad row(s)"


class _MetaTypes:
    """Remembers the JSON type of each top-level meta key and reports the first change per key."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[str, str]] = {}
        self.reported: set[str] = set()

    def check(self, sample: GroundingSample) -> str | None:
        for key, value in sample.meta.items():
            if value is None or key in self.reported:
                continue
            kind = _JSON_TYPES.get(type(value), type(value).__name__)
            first = self.seen.get(key)
            if first is None:
                self.seen[key] = (kind, sample.where)
            elif first[0] != kind:
                self.reported.add(key)
                return (
                    f"meta.{key} is {first[0]} at {first[1]} but {kind} at {sample.where}: Arrow (and so"
                    " LLaMA-Factory's loader) cannot read a column whose type changes"
                )
        return None


class _RowChecks:
    """The checks of each row as it is read: the report so far, meta types and the hashes of the ids.

    Args:
        report: The report the rows are counted in.
        on_error: Called with each bad row's error as soon as it is found.
        media_root: Directory the image paths are relative to; None skips the image file checks.
        allow_outside_root: Also read image files that resolve outside ``media_root``.
    """

    def __init__(
        self,
        report: ValidationReport,
        on_error: Callable[[DataError], None] | None,
        media_root: str | Path | None,
        allow_outside_root: bool = False,
    ):
        self.report, self.on_error = report, on_error
        self.media_root, self.allow_outside_root = media_root, allow_outside_root
        self.meta_types = _MetaTypes()
        self.id_hashes = array("q")

    def fail(self, error: DataError) -> None:
        """Report a bad row."""
        self.report.errors.append(error)
        if self.on_error is not None:
            self.on_error(error)

    def check(self, item: GroundingSample | DataError) -> None:
        """Count a valid sample (after its image files, when checked) or report a bad row."""
        if isinstance(item, DataError):
            self.fail(item)
            return
        if self.media_root is not None:
            issues = media_issues(item, self.media_root, allow_outside_root=self.allow_outside_root)
            if issues:
                self.fail(DataError(item.where, issues))
                return
        self.report.samples += 1
        self.id_hashes.append(hash(item.id))
        warning = self.meta_types.check(item)
        if warning:
            self.report.warnings.append(warning)


def _duplicates(path: Path, fmt: str, hashes: array, options: dict[str, Any]) -> list[DataError]:
    """Second pass, only when two ids hash alike: an error for every repeated id, naming its first row."""
    values, counts = np.unique(np.frombuffer(hashes, dtype=np.int64), return_counts=True)
    suspects = set(values[counts > 1].tolist())
    if not suspects:
        return []
    first: dict[str, str] = {}
    errors = []
    for item in read_with_errors(path, fmt, **options):
        if isinstance(item, GroundingSample) and hash(item.id) in suspects:
            if item.id in first:
                errors.append(
                    DataError(item.where, [Issue("id", f"{item.id!r} is not unique (first at {first[item.id]})")])
                )
            else:
                first[item.id] = item.where
    return errors


def validate_file(
    path: str | Path,
    fmt: str = "univg",
    *,
    check_files: bool = False,
    media_root: str | Path | None = None,
    allow_outside_root: bool = False,
    progress: bool | None = False,
    on_error: Callable[[DataError], None] | None = None,
    **options: Any,
) -> ValidationReport:
    """Validate every row of a file, streaming, and report all bad rows.

    Args:
        path: A jsonl file or a file holding one JSON list.
        fmt: Registered format name (default ``univg``).
        check_files: Also check that every image file lies inside ``media_root``, is a readable image,
            and matches ``image_sizes``.
        media_root: Directory the image paths are relative to (default: the file's directory).
        allow_outside_root: Accept (and read) image files that resolve outside ``media_root``.
        progress: Show a progress bar.
        on_error: Called with each bad row's error as soon as it is found.
        **options: Options of the format's reader.

    Returns:
        A :class:`ValidationReport` (not ``ok`` for a file with no samples); duplicate ids are reported at
        the end (they need the whole file).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "bad.jsonl"
        >>> _ = path.write_text('{"id": "a", "images": ["x.png"], "question": "q", "boxes": [[5, 5, 1, 9]]}\\n')
        >>> report = validate_file(path)
        >>> report.ok, str(report.errors[0]).split(": ", 1)[1]
        (False, 'boxes[0]: is degenerate or swapped (needs x1 < x2): [5, 5, 1, 9]')
    """
    path = Path(path)
    root = (path.parent if media_root is None else media_root) if check_files else None
    rows = _RowChecks(ValidationReport(path), on_error, root, allow_outside_root)
    for item in read_with_errors(path, fmt, progress=progress, **options):
        rows.check(item)
    for error in _duplicates(path, fmt, rows.id_hashes, options):
        rows.report.samples -= 1
        rows.fail(error)
    return rows.report

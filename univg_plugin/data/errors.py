"""Located data errors: every problem names the file, the row and the field.

A row is located as ``path:LINE`` in a jsonl file (1-based line number) and ``path[INDEX]`` in a JSON
list (0-based index); samples built in memory are located by their id. One row may have several
problems; :class:`DataError` carries them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True)
class Issue:
    """One problem of one row.

    Attributes:
        field: Where in the row, e.g. ``boxes[0]``, ``question``, ``conversations[1].value``; ``row``
            for the row as a whole (unparsable JSON, a row that is not an object).
        message: What is wrong, in words.
    """

    field: str
    message: str


class FieldError(ValueError):
    """Raised while converting one row (reading or writing a format): a problem in one field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.issue = Issue(field, message)


class DataError(ValueError):
    """All the problems of one row, located.

    Example:
        >>> print(DataError("data.jsonl:3", [Issue("boxes[0]", "is degenerate")]))
        data.jsonl:3: boxes[0]: is degenerate
    """

    def __init__(self, where: str, issues: Sequence[Issue]):
        self.where = where
        self.issues = tuple(issues)
        super().__init__("\n".join(f"{where}: {issue.field}: {issue.message}" for issue in self.issues))


class FileStructureError(DataError):
    """A break in the file's structure (a JSON list that stops being one): nothing after it can be read.

    Unlike a bad row, it cannot be skipped: reading stops here under every error policy.
    """


def field_path(loc: Sequence[str | int]) -> str:
    """A pydantic error location as a readable path.

    Example:
        >>> field_path(("boxes", 0, 2)), field_path(("meta", "source")), field_path(())
        ('boxes[0][2]', 'meta.source', 'row')
    """
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "row"


def issues_of(error: ValidationError | FieldError) -> list[Issue]:
    """The issues of a pydantic validation error (one per failing field) or of a :class:`FieldError`."""
    if isinstance(error, FieldError):
        return [error.issue]
    return [Issue(field_path(detail["loc"]), detail["msg"]) for detail in error.errors(include_url=False)]

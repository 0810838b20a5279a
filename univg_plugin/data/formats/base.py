"""The base class of a dataset format, and its description for ``univg data formats``.

A format converts one source row into samples (reading) and one sample into one output row
(writing); streaming, error locating and atomic writing are done once, in :mod:`univg_plugin.data.files`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

from ..io import iter_rows
from ..schema import GroundingSample


class Format:
    """Base class of a dataset format; subclasses implement :meth:`parse` and/or :meth:`dump`.

    The first paragraph of a subclass's docstring is its one-line description; a ``Cannot hold:``
    paragraph says which sample fields the format loses (shown by ``univg data formats``).

    Attributes:
        name: Registry name (set when the class is registered or loaded, see :mod:`univg_plugin.data.formats`).
        readable: Whether :meth:`parse` is implemented.
        writable: Whether :meth:`dump` is implemented.
    """

    name: ClassVar[str] = ""
    readable: ClassVar[bool] = False
    writable: ClassVar[bool] = False

    def rows(self, stream: IO[bytes], path: str | Path) -> Iterator[tuple[str, Any]]:
        """``(where, raw row)`` for every row of a file opened in binary mode (jsonl or a JSON list)."""
        return iter_rows(stream, path)

    def parse(self, raw: Any, default_id: str) -> list[GroundingSample]:
        """The samples of one source row (usually one).

        Raises:
            FieldError: for a problem in the source layout.
            pydantic.ValidationError: for a sample that fails validation.
        """
        raise NotImplementedError(f"format {self.name!r} cannot be read")

    def dump(self, sample: GroundingSample) -> dict[str, Any] | str:
        """One output row (a dict, or a string holding one JSON object).

        Raises:
            FieldError: when the sample cannot be written in this format.
        """
        raise NotImplementedError(f"format {self.name!r} cannot be written")

    def finish(self, path: Path) -> None:
        """Called after all rows were written to ``path`` (e.g. to write a ``dataset_info.json`` entry)."""


def describe(format_class: type[Format]) -> tuple[str, str]:
    """``(one-line description, what it cannot hold)`` from the class docstring, as plain text."""
    text = re.sub(r":\w+:`~?(?:[\w.]*\.)?(\w+)`", r"\1", format_class.__doc__ or "").replace("``", "`")
    paragraphs = [" ".join(part.split()) for part in text.split("\n\n")]
    summary = paragraphs[0] if paragraphs else ""
    lost = next((p.removeprefix("Cannot hold:").strip() for p in paragraphs if p.startswith("Cannot hold:")), "")
    return summary, lost

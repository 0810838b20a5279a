"""Streaming JSON rows in and out: jsonl files and top-level JSON lists, in constant memory.

Reading never holds more than one row (plus a read buffer): jsonl is read line by line, and a JSON list
is decoded one element at a time with :meth:`json.JSONDecoder.raw_decode`, so a 600k-row
``MGrounding-630k.json`` never sits in memory whole. Writing goes to a temporary file that replaces
the destination only when every row was written.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .errors import DataError, Issue

_CHUNK = 1 << 20
_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\r\n"


def is_json_list(stream: IO[bytes]) -> bool:
    """Whether a binary stream holds one top-level JSON list (else jsonl); the position is kept."""
    start = stream.tell()
    head = stream.read(4096)
    while head and not head.lstrip(b" \t\r\n\xef\xbb\xbf"):
        head = stream.read(4096)
    stream.seek(start)
    return head.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] == b"["


def iter_lines(stream: IO[bytes], path: str | Path) -> Iterator[tuple[str, bytes]]:
    """``(where, line)`` for every non-blank line of a jsonl stream (``where`` is ``path:LINE``)."""
    for number, line in enumerate(stream, start=1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark
        if line.strip():
            yield f"{path}:{number}", line


def iter_list(stream: IO[bytes], path: str | Path) -> Iterator[tuple[str, Any]]:
    """``(where, element)`` for every element of a top-level JSON list (``where`` is ``path[INDEX]``).

    Raises:
        DataError: when the text is not a JSON list, or an element is malformed (located at its index).
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    buffer, position, index, eof = "", 0, 0, False

    def fill() -> bool:
        nonlocal buffer, position, eof
        chunk = stream.read(_CHUNK)
        eof = not chunk
        buffer = buffer[position:] + decoder.decode(chunk, final=eof)
        position = 0
        return not eof

    def skip_whitespace() -> None:
        nonlocal position
        while True:
            while position < len(buffer) and buffer[position] in _WHITESPACE:
                position += 1
            if position < len(buffer) or not fill():
                return

    skip_whitespace()
    if buffer[position : position + 1] != "[":
        raise DataError(f"{path}", [Issue("row", "expected a JSON list")])
    position += 1
    expect_value = True
    while True:
        skip_whitespace()
        head = buffer[position : position + 1]
        if head == "]" and (index == 0 or not expect_value):
            return
        if not expect_value:
            if head != ",":
                raise DataError(f"{path}[{index}]", [Issue("row", "expected ',' or ']' after the previous item")])
            position += 1
            expect_value = True
            continue
        while True:
            try:
                value, end = _DECODER.raw_decode(buffer, position)
            except json.JSONDecodeError as error:
                if not eof and fill():
                    continue
                raise DataError(f"{path}[{index}]", [Issue("row", f"invalid JSON: {error.msg}")]) from None
            if end == len(buffer) and not eof and fill():  # a number may continue in the next chunk
                continue
            break
        yield f"{path}[{index}]", value
        position, index, expect_value = end, index + 1, False


def iter_rows(stream: IO[bytes], path: str | Path) -> Iterator[tuple[str, Any]]:
    """``(where, value)`` for every row of a jsonl file or a JSON list, decided by the first character.

    An unparsable jsonl line gives a :class:`DataError` as its value (the next lines are still read);
    a malformed JSON list raises it (nothing after it can be located).
    """
    if is_json_list(stream):
        yield from iter_list(stream, path)
        return
    for where, line in iter_lines(stream, path):
        try:
            yield where, json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            detail = f"{error.msg} (column {error.colno})" if isinstance(error, json.JSONDecodeError) else str(error)
            yield where, DataError(where, [Issue("row", f"invalid JSON: {detail}")])


class JsonWriter:
    """Writes rows as jsonl (``.jsonl`` and other suffixes) or as one JSON list (``.json``), atomically.

    Use as a context manager; the destination appears only when the block ends without an exception.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "rows.json"
        >>> with JsonWriter(path) as writer:
        ...     writer.write({"a": 1}); writer.write({"a": 2})
        >>> json.loads(path.read_text())
        [{'a': 1}, {'a': 2}]
    """

    def __init__(self, path: str | Path, as_list: bool | None = None):
        self.path = Path(path)
        self.as_list = self.path.suffix == ".json" if as_list is None else as_list
        self.count = 0
        self._temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self._file: IO[str] | None = None

    def __enter__(self) -> JsonWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self._temporary, "w", encoding="utf-8")
        if self.as_list:
            self._file.write("[")
        return self

    def write(self, row: dict[str, Any] | str) -> None:
        """Write one row: a dict, or a string that is already one JSON object."""
        text = row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)
        if self.as_list:
            self._file.write(("\n" if self.count == 0 else ",\n") + text)
        else:
            self._file.write(text + "\n")
        self.count += 1

    def __exit__(self, kind, error, traceback) -> None:
        if self.as_list:
            self._file.write("\n]\n")
        self._file.close()
        if kind is None:
            os.replace(self._temporary, self.path)
        else:
            self._temporary.unlink(missing_ok=True)

"""Streaming JSON rows in and out: jsonl files and top-level JSON lists, in constant memory, atomic writes.

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


class _TextChunks:
    """A binary stream decoded as UTF-8 text, read in chunks, with a read position in the current buffer."""

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.buffer, self.position, self.eof = "", 0, False

    def fill(self) -> bool:
        """Append the next chunk to what is left of the buffer; False at the end of the stream."""
        chunk = self.stream.read(_CHUNK)
        self.eof = not chunk
        self.buffer = self.buffer[self.position :] + self.decoder.decode(chunk, final=self.eof)
        self.position = 0
        return not self.eof

    def head(self) -> str:
        """The next character that is not whitespace ("" at the end of the stream)."""
        while True:
            while self.position < len(self.buffer) and self.buffer[self.position] in _WHITESPACE:
                self.position += 1
            if self.position < len(self.buffer) or not self.fill():
                return self.buffer[self.position : self.position + 1]

    def decode(self, where: str) -> Any:
        """The JSON value at the position, reading more chunks until it is complete."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.position)
            except json.JSONDecodeError as error:
                if not self.eof and self.fill():
                    continue
                raise DataError(where, [Issue("row", f"invalid JSON: {error.msg}")]) from None
            if end == len(self.buffer) and not self.eof and self.fill():  # a number may continue in the next chunk
                continue
            self.position = end
            return value


def iter_list(stream: IO[bytes], path: str | Path) -> Iterator[tuple[str, Any]]:
    """``(where, element)`` for every element of a top-level JSON list (``where`` is ``path[INDEX]``).

    Raises:
        DataError: when the text is not a JSON list, or an element is malformed (located at its index).
    """
    text = _TextChunks(stream)
    if text.head() != "[":
        raise DataError(f"{path}", [Issue("row", "expected a JSON list")])
    text.position += 1
    index, expect_value = 0, True
    while True:
        head = text.head()
        if head == "]" and (index == 0 or not expect_value):
            return
        if not expect_value:
            if head != ",":
                raise DataError(f"{path}[{index}]", [Issue("row", "expected ',' or ']' after the previous item")])
            text.position += 1
            expect_value = True
            continue
        yield f"{path}[{index}]", text.decode(f"{path}[{index}]")
        index, expect_value = index + 1, False


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


def progress_disabled(progress: bool | None) -> bool | None:
    """tqdm's ``disable`` for a ``progress`` option: ``None`` shows a bar only on a terminal.

    Example:
        >>> progress_disabled(True), progress_disabled(False), progress_disabled(None)
        (False, True, None)
    """
    return None if progress is None else not progress


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

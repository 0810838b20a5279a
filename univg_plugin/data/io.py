"""Streaming JSON rows in and out: jsonl files and top-level JSON lists, in constant memory, atomic writes.

Reading never holds more than one row (plus a read buffer): jsonl is read line by line, and a JSON list
is decoded one element at a time with :meth:`json.JSONDecoder.raw_decode`, so a 600k-row
``MGrounding-630k.json`` never sits in memory whole. A row that holds a byte that is not UTF-8 or an
integer too long for ``int()`` is an error naming its field, and the rows after it are still read;
content after a JSON list is an error too. Writing goes to a temporary file that replaces the
destination only when every row was written, and that is removed when writing fails or is
interrupted (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import codecs
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .errors import DataError, FileStructureError, Issue, field_path

_CHUNK = 1 << 20
_WHITESPACE = " \t\r\n"
#: A byte that is not UTF-8, as ``surrogateescape`` decodes it (valid UTF-8 never decodes to these).
_INVALID_BYTE = re.compile("[\udc80-\udcff]")
_NESTED_TOO_DEEPLY = "invalid JSON: nested too deeply"


class _LongInteger:
    """An integer literal longer than ``int()`` converts, kept as text so that its field can be named."""

    __slots__ = ("literal",)

    def __init__(self, literal: str):
        self.literal = literal


def _integer(literal: str) -> int | _LongInteger:
    try:
        return int(literal)
    except ValueError:
        return _LongInteger(literal)


_DECODER = json.JSONDecoder()
#: Decodes what :data:`_DECODER` refuses for an integer too long for ``int()``, marking each such integer.
_MARKING_DECODER = json.JSONDecoder(parse_int=_integer)


def _printable(text: str) -> str:
    """``text`` with each byte that is not UTF-8 written as ``\\xNN``."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _value_issue(value: Any) -> str | None:
    """What is wrong with one decoded JSON value: an integer too long to read, or a byte that is not UTF-8."""
    if isinstance(value, _LongInteger):
        digits = len(value.literal.lstrip("-"))
        return f"is a number of {digits} digits (more than {sys.get_int_max_str_digits()} cannot be read)"
    if isinstance(value, str) and (byte := _INVALID_BYTE.search(value)):
        return f"holds a byte that is not UTF-8 (0x{ord(byte.group()) - 0xDC00:02x})"
    return None


def _bad_values(value: Any) -> list[Issue]:
    """An issue for each key or value of a decoded row that holds a byte that is not UTF-8 or a too long integer."""
    issues = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        location, item = stack.pop()
        if isinstance(item, dict):
            for key in item:
                if problem := _value_issue(key):
                    issues.append(Issue(field_path((*location, _printable(key))), f"(a key) {problem}"))
            stack.extend(((*location, _printable(key)), child) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend(((*location, index), child) for index, child in reversed(list(enumerate(item))))
        elif problem := _value_issue(item):
            issues.append(Issue(field_path(location), problem))
    return issues


def _decode_line(line: bytes, where: str) -> Any:
    """The JSON value of one jsonl line, or a :class:`DataError` saying what is wrong (naming the field when it can)."""
    try:
        return json.loads(line)
    except (ValueError, RecursionError):  # also a byte that is not UTF-8, an integer too long for int()
        pass
    try:
        value = _MARKING_DECODER.decode(line.decode("utf-8", "surrogateescape"))
    except json.JSONDecodeError as error:
        return DataError(where, [Issue("row", f"invalid JSON: {error.msg} (column {error.colno})")])
    except RecursionError:
        return DataError(where, [Issue("row", _NESTED_TOO_DEEPLY)])
    issues = _bad_values(value)
    return DataError(where, issues) if issues else value


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
    """A binary stream decoded as UTF-8 text, read in chunks, with a read position in the current buffer.

    Bytes that are not UTF-8 are decoded with ``surrogateescape``, so that the row holding them can be
    named and the rows after it read.
    """

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="surrogateescape")
        self.buffer, self.position, self.eof = "", 0, False
        self.lines_before, self.column_before = 0, 0  # of the text already dropped from the buffer
        self.undecodable = False  # whether a byte that is not UTF-8 was met

    def fill(self) -> bool:
        """Append the next chunk to what is left of the buffer; False at the end of the stream."""
        chunk = self.stream.read(_CHUNK)
        self.eof = not chunk
        line, column = self.line_and_column(self.position)
        self.lines_before, self.column_before = line - 1, column - 1
        text = self.decoder.decode(chunk, final=self.eof)
        self.undecodable = self.undecodable or _INVALID_BYTE.search(text) is not None
        self.buffer = self.buffer[self.position :] + text
        self.position = 0
        return not self.eof

    def line_and_column(self, position: int) -> tuple[int, int]:
        """The 1-based line and column of a position in the buffer."""
        newline = self.buffer.rfind("\n", 0, position)
        line = self.lines_before + self.buffer.count("\n", 0, position) + 1
        return line, position - newline if newline >= 0 else self.column_before + position + 1

    def head(self) -> str:
        """The next character that is not whitespace ("" at the end of the stream)."""
        while True:
            while self.position < len(self.buffer) and self.buffer[self.position] in _WHITESPACE:
                self.position += 1
            if self.position < len(self.buffer) or not self.fill():
                return self.buffer[self.position : self.position + 1]

    def decode(self, where: str) -> Any:
        """The JSON value at the position, reading more chunks until it is complete.

        Returns:
            The value, or a :class:`DataError` naming its fields that hold a byte that is not UTF-8 or
            an integer too long for ``int()`` (the position moves past it all the same).

        Raises:
            FileStructureError: when the JSON is malformed (where the next value starts is unknown).
        """
        decoder = _DECODER
        while True:
            try:
                value, end = decoder.raw_decode(self.buffer, self.position)
            except json.JSONDecodeError as error:
                if not self.eof:  # read on (decoding again), also at the end: positions stay in one buffer
                    self.fill()
                    continue
                line, column = self.line_and_column(error.pos)
                problem = f"invalid JSON: {error.msg} (line {line}, column {column})"
                raise FileStructureError(where, [Issue("row", f"{problem}; nothing after it can be read")]) from None
            except RecursionError:
                problem = f"{_NESTED_TOO_DEEPLY}; nothing after it can be read"
                raise FileStructureError(where, [Issue("row", problem)]) from None
            except ValueError:  # an integer too long for int(): decode again, marking such integers
                decoder = _MARKING_DECODER
                continue
            if end == len(self.buffer) and not self.eof:  # a number may continue in the next chunk
                self.fill()
                continue
            start, self.position = self.position, end
            suspect = self.undecodable and _INVALID_BYTE.search(self.buffer, start, end) is not None
            issues = _bad_values(value) if suspect or decoder is _MARKING_DECODER else []
            return DataError(where, issues) if issues else value

    def trailing_content(self, path: str | Path) -> FileStructureError | None:
        """An error located at the first character after the end of a JSON list, when there is one."""
        if not self.head():
            return None
        line, column = self.line_and_column(self.position)
        while len(self.buffer) - self.position < 40 and self.fill():
            pass
        shown = _printable(self.buffer[self.position : self.position + 40])
        return FileStructureError(
            f"{path}:{line}:{column}",
            [
                Issue(
                    "file",
                    f"has content after its JSON list: {shown!r} (a file holds one JSON list, or one JSON object"
                    " per line)",
                )
            ],
        )


def iter_list(stream: IO[bytes], path: str | Path) -> Iterator[tuple[str, Any]]:
    """``(where, element)`` for every element of a top-level JSON list (``where`` is ``path[INDEX]``).

    An element that holds a byte that is not UTF-8 or an integer too long for ``int()`` comes as a
    :class:`DataError` naming the field (the next elements are still read).

    Raises:
        FileStructureError: when the text is not a JSON list, an element is malformed (located at its
            index), or something follows the list (located at its line and column).
    """
    text = _TextChunks(stream)
    if text.head() != "[":
        raise FileStructureError(f"{path}", [Issue("row", "expected a JSON list")])
    text.position += 1
    index, expect_value = 0, True
    while True:
        head = text.head()
        if head == "]" and (index == 0 or not expect_value):
            text.position += 1
            trailing = text.trailing_content(path)
            if trailing is not None:
                raise trailing
            return
        if not expect_value:
            if head != ",":
                raise FileStructureError(
                    f"{path}[{index}]", [Issue("row", "expected ',' or ']' after the previous item")]
                )
            text.position += 1
            expect_value = True
            continue
        yield f"{path}[{index}]", text.decode(f"{path}[{index}]")
        index, expect_value = index + 1, False


def iter_rows(stream: IO[bytes], path: str | Path) -> Iterator[tuple[str, Any]]:
    """``(where, value)`` for every row of a jsonl file or a JSON list, decided by the first character.

    A bad row gives a :class:`DataError` as its value (the next rows are still read); a malformed JSON
    list raises a :class:`FileStructureError` (nothing after it can be located).
    """
    if is_json_list(stream):
        yield from iter_list(stream, path)
        return
    for where, line in iter_lines(stream, path):
        yield where, _decode_line(line, where)


def progress_disabled(progress: bool | None) -> bool | None:
    """tqdm's ``disable`` for a ``progress`` option: ``None`` shows a bar only on a terminal.

    Example:
        >>> progress_disabled(True), progress_disabled(False), progress_disabled(None)
        (False, True, None)
    """
    return None if progress is None else not progress


def _exit(signal_number: int, frame: Any) -> None:
    raise SystemExit(128 + signal_number)


def _exit_on_sigterm() -> Any:
    """Let SIGTERM raise SystemExit, as Ctrl-C raises KeyboardInterrupt, so that ``with`` blocks clean up.

    Only in the main thread and while SIGTERM has its default action (killing at once).

    Returns:
        The handler to put back afterwards, or None when nothing was changed.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None
    return signal.signal(signal.SIGTERM, _exit)


class JsonWriter:
    """Writes rows as jsonl (``.jsonl`` and other suffixes) or as one JSON list (``.json``), atomically.

    Use as a context manager; the destination appears only when the block ends without an exception.
    Rows go to a hidden temporary file next to it (``.NAME.PID.tmp``), removed when the block fails or
    is interrupted by Ctrl-C or SIGTERM (a ``kill -9`` cannot be caught and leaves it behind).

    Args:
        path: The destination.
        as_list: Write one JSON list (default: when ``path`` ends in ``.json``).
        allow_empty: When False and no row was written, the destination is left as it was
            (:attr:`replaced` tells).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "rows.json"
        >>> with JsonWriter(path) as writer:
        ...     writer.write({"a": 1}); writer.write({"a": 2})
        >>> json.loads(path.read_text())
        [{'a': 1}, {'a': 2}]
    """

    def __init__(self, path: str | Path, as_list: bool | None = None, *, allow_empty: bool = True):
        self.path = Path(path)
        self.as_list = self.path.suffix == ".json" if as_list is None else as_list
        self.allow_empty = allow_empty
        self.count = 0
        #: Whether the destination was written (False until the block ends, and when it failed or was empty).
        self.replaced = False
        self._temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self._file: IO[str] | None = None
        self._previous_sigterm: Any = None

    def __enter__(self) -> JsonWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._previous_sigterm = _exit_on_sigterm()
        try:
            self._file = open(self._temporary, "w", encoding="utf-8")
        except BaseException:
            self._restore_sigterm()
            raise
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
        try:
            if self.as_list:
                self._file.write("\n]\n")
            self._file.close()
            if kind is None and (self.count or self.allow_empty):
                os.replace(self._temporary, self.path)
                self.replaced = True
        finally:
            if not self.replaced:
                self._temporary.unlink(missing_ok=True)
            self._restore_sigterm()

    def _restore_sigterm(self) -> None:
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None

"""Reading, writing and converting datasets in any registered format, streaming and with located errors.

>>> import tempfile, pathlib
>>> from univg_plugin.data import GroundingSample, read, write
>>> path = pathlib.Path(tempfile.mkdtemp()) / "data.jsonl"
>>> sample = GroundingSample(id="a", images=["x.png"], question="Find it.", boxes=[[1, 2, 3, 4]])
>>> write([sample], path, "univg")
1
>>> [s.id for s in read(path, "univg")]
['a']
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import ValidationError
from tqdm.auto import tqdm

from .errors import DataError, FieldError, FileStructureError, Issue, issues_of
from .formats import Format, get_format
from .io import JsonWriter, progress_disabled
from .media import fill_image_sizes
from .schema import GroundingSample

logger = logging.getLogger("univg_plugin")

ErrorPolicy = Literal["raise", "skip"]
T = TypeVar("T")
_PROGRESS_EVERY = 1024


def _skip(error: DataError) -> None:
    logger.warning("skipped: %s", error)


def read_with_errors(
    path: str | Path, fmt: str = "univg", *, progress: bool | None = False, **options: Any
) -> Iterator[GroundingSample | DataError]:
    """Every sample of a file, and a :class:`DataError` in place of every bad row (streaming).

    Args:
        path: A jsonl file or a file holding one JSON list.
        fmt: Registered format name (see :data:`~univg_plugin.data.formats.FORMATS`).
        progress: Show a progress bar (bytes read); None shows one only on a terminal.
        **options: Options of the format's reader (e.g. ``space`` for ``mig_bench``).

    Yields:
        Samples (remembering their source row, see :attr:`GroundingSample.where`) and errors, in file
        order. A :class:`FileStructureError` (a malformed JSON list, content after it) is the last item.
    """
    reader = get_format(fmt, **options)
    if not reader.readable:
        raise ValueError(f"format {fmt!r} cannot be read")
    path = Path(path)
    with (
        open(path, "rb") as stream,
        tqdm(
            total=path.stat().st_size, unit="B", unit_scale=True, desc=path.name, disable=progress_disabled(progress)
        ) as bar,
    ):
        try:
            for index, (where, raw) in enumerate(reader.rows(stream, path)):
                if index % _PROGRESS_EVERY == 0 and not bar.disable:
                    bar.update(stream.tell() - bar.n)
                yield from _parsed(reader, raw, where, f"{path.stem}-{index}")
        except DataError as error:
            yield error
        bar.update(bar.total - bar.n)


def _parsed(reader: Format, raw: Any, where: str, default_id: str) -> Iterator[GroundingSample | DataError]:
    """The samples of one row, or the row's error (also when the reader fails in a way it did not foresee)."""
    if isinstance(raw, DataError):
        yield raw
        return
    try:
        samples = reader.parse(raw, default_id)
    except (ValidationError, FieldError) as error:
        yield DataError(where, issues_of(error))
        return
    except DataError as error:
        yield DataError(where, error.issues)
        return
    except Exception as error:  # a reader (maybe another package's) that meets a value it did not expect
        yield DataError(where, [Issue("row", f"the {reader.name} reader failed: {type(error).__name__}: {error}")])
        return
    for sample in samples:
        yield sample.with_source(where)


def _guarded(
    items: Iterable[T | DataError], errors: ErrorPolicy, on_skip: Callable[[DataError], None] | None
) -> Iterator[T]:
    """The items, with each error raised (``raise``) or handed to ``on_skip`` (``skip``).

    A :class:`FileStructureError` is raised under both policies: the rows after it cannot be read.
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
    for item in items:
        if isinstance(item, DataError):
            if errors == "raise" or isinstance(item, FileStructureError):
                raise item
            (on_skip or _skip)(item)
        else:
            yield item


def read(
    path: str | Path,
    fmt: str = "univg",
    *,
    errors: ErrorPolicy = "raise",
    on_skip: Callable[[DataError], None] | None = None,
    progress: bool | None = False,
    **options: Any,
) -> Iterator[GroundingSample]:
    """The samples of a file, streaming.

    Args:
        path: A jsonl file or a file holding one JSON list.
        fmt: Registered format name: ``univg``, ``univg_stage1``, ``sharegpt``, ``univg_stage2``,
            ``migician``, ``mig_bench``, ``vlm_r1``.
        errors: ``raise`` the first bad row as a :class:`DataError` (naming file, row and field), or
            ``skip`` bad rows, handing each error to ``on_skip`` (default: a logged warning). A
            :class:`FileStructureError` (a malformed JSON list, content after it) is raised either way.
        on_skip: Called with each skipped row's error.
        progress: Show a progress bar (None: only on a terminal).
        **options: Options of the format's reader.
    """
    yield from _guarded(read_with_errors(path, fmt, progress=progress, **options), errors, on_skip)


def write(
    samples: Iterable[GroundingSample],
    path: str | Path,
    fmt: str = "univg",
    *,
    errors: ErrorPolicy = "raise",
    on_skip: Callable[[DataError], None] | None = None,
    progress: bool | None = False,
    allow_empty: bool = True,
    **options: Any,
) -> int:
    """Write samples in a format (jsonl, or one JSON list when ``path`` ends in ``.json``), atomically.

    Args:
        samples: Any iterable (consumed once, streaming).
        path: Output file; it appears only once every row is written.
        fmt: Registered format name: ``univg``, ``univg_stage1``, ``sharegpt``, ``univg_stage2``,
            ``mig_bench``, ``vlm_r1``, ``grpo``.
        errors: ``raise`` on the first sample the format cannot hold, or ``skip`` it (see :func:`read`).
        on_skip: Called with each skipped sample's error.
        progress: Show a progress bar (None: only on a terminal).
        allow_empty: When False and there is no row to write, ``path`` is left as it was.
        **options: Options of the format's writer (e.g. ``dataset_name`` for ``sharegpt``).

    Returns:
        The number of rows written.
    """
    writer_format = get_format(fmt, **options)
    if not writer_format.writable:
        raise ValueError(f"format {fmt!r} cannot be written")
    path = Path(path)

    def rows() -> Iterator[dict[str, Any] | str | DataError]:
        for sample in samples:
            try:
                yield writer_format.dump(sample)
            except FieldError as error:
                yield DataError(sample.where, [error.issue])
            except DataError as error:
                yield error

    with JsonWriter(path, allow_empty=allow_empty) as output:
        for row in tqdm(
            _guarded(rows(), errors, on_skip), unit=" rows", desc=path.name, disable=progress_disabled(progress)
        ):
            output.write(row)
    if output.replaced:
        writer_format.finish(path)
    return output.count


def convert(
    source: str | Path,
    destination: str | Path,
    source_format: str,
    destination_format: str,
    *,
    errors: ErrorPolicy = "raise",
    on_skip: Callable[[DataError], None] | None = None,
    fill_sizes: bool = False,
    media_root: str | Path | None = None,
    allow_outside_root: bool = False,
    allow_empty: bool = False,
    progress: bool | None = False,
    read_options: dict[str, Any] | None = None,
    write_options: dict[str, Any] | None = None,
) -> int:
    """Convert a file from one format to another, streaming (one row in memory at a time).

    Args:
        source: Input file.
        destination: Output file (written atomically); never ``source`` itself (nor a link to it).
        source_format: Format of ``source``.
        destination_format: Format of ``destination``.
        errors: ``raise`` on the first bad row, or ``skip`` bad rows (see :func:`read`).
        on_skip: Called with each skipped row's error.
        fill_sizes: Read missing ``image_sizes`` from the image files (needed to convert pixel boxes
            to normalized ones and back).
        media_root: Directory the image paths are relative to (default: the source's directory).
        allow_outside_root: Read image files that lie outside ``media_root`` too.
        allow_empty: Write ``destination`` even when it would hold no row.
        progress: Show a progress bar (None: only on a terminal).
        read_options, write_options: Options of the reader and of the writer.

    Returns:
        The number of rows written.

    Raises:
        ValueError: ``destination`` is ``source`` (checked before anything is read or written).
        DataError: a bad row (under ``errors="raise"``), or no row to write (unless ``allow_empty``).
    """
    _refuse_same_file(source, destination)
    skipped: list[DataError] = []

    def skip(error: DataError) -> None:
        skipped.append(error)
        (on_skip or _skip)(error)

    items = read_with_errors(source, source_format, progress=progress, **(read_options or {}))
    if fill_sizes:
        items = _filled(items, Path(source).parent if media_root is None else media_root, allow_outside_root)
    samples = _guarded(items, errors, skip)
    written = write(
        samples,
        destination,
        destination_format,
        errors=errors,
        on_skip=skip,
        allow_empty=allow_empty,
        **(write_options or {}),
    )
    if not written and not allow_empty:
        reason = f"has no row to write ({len(skipped)} skipped)" if skipped else "holds no samples"
        raise DataError(str(source), [Issue("file", f"{reason}; nothing written (--allow-empty writes an empty file)")])
    return written


def _refuse_same_file(source: str | Path, destination: str | Path) -> None:
    """Refuse to convert a file onto itself (the same path, ``sub/..``, a symbolic or a hard link): it would be lost."""
    same = os.path.realpath(source) == os.path.realpath(destination)
    if same or (os.path.exists(destination) and os.path.samefile(source, destination)):
        raise ValueError(
            f"{destination} is the input file {source}: converting would replace it; write to another path"
        )


def _filled(
    items: Iterable[GroundingSample | DataError], media_root: str | Path, allow_outside_root: bool
) -> Iterator[GroundingSample | DataError]:
    for item in items:
        if isinstance(item, DataError):
            yield item
            continue
        try:
            yield fill_image_sizes(item, media_root, allow_outside_root=allow_outside_root)
        except DataError as error:
            yield error

"""Image files behind the samples: resolving paths, reading sizes, checking that the files exist.

Paths in a sample are relative to a media root (absolute paths are used as they are). A path that
resolves outside the media root (``../..``, an absolute path elsewhere, a symbolic link that points
out) is reported and not opened, unless allowed. Only regular files are opened (never a FIFO or a
device), and only their header is read: sizes come from PIL's lazy open, and a file whose first
bytes match no image format is reported after reading at most :data:`HEADER_BYTES`.
"""

from __future__ import annotations

import io
import os
import stat
from functools import lru_cache
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from pydantic import ValidationError

from .errors import DataError, Issue, issues_of
from .schema import GroundingSample

#: The most bytes read from a file whose first bytes match no image format's signature.
HEADER_BYTES = 1 << 16
_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def resolve(path: str, media_root: str | Path | None) -> Path:
    """The file of an image path: ``media_root / path`` for a relative path, else ``path``."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() or media_root is None else Path(media_root) / candidate


def outside_root(file: Path, media_root: str | Path) -> str | None:
    """Where ``file`` really is (symbolic links and ``..`` resolved) when that is outside ``media_root``, else None."""
    real, root = os.path.realpath(file), os.path.realpath(media_root)
    try:
        inside = os.path.commonpath([real, root]) == root
    except ValueError:  # another drive
        inside = False
    return None if inside else real


def _signature_formats() -> tuple[list[str], list[str]]:
    """PIL's formats that recognise a file by its first bytes, and those that do not (they read further to tell)."""
    Image.init()
    signed = [name for name in Image.ID if Image.OPEN[name][1] is not None]
    return signed, [name for name in Image.ID if name not in signed]


def _header_size(stream: io.BufferedReader, file: Path) -> tuple[int, int]:
    """The size in an image header; formats without a signature see at most :data:`HEADER_BYTES`."""
    signed, unsigned = _signature_formats()
    try:
        with Image.open(stream, formats=signed) as image:
            return image.size
    except UnidentifiedImageError:
        stream.seek(0)
    try:
        with Image.open(io.BytesIO(stream.read(HEADER_BYTES)), formats=unsigned) as image:
            return image.size
    except UnidentifiedImageError:
        raise ValueError(f"{file} is not an image (its first bytes match no image format)") from None


@lru_cache(maxsize=65536)
def image_size(file: Path) -> tuple[int, int]:
    """``(width, height)`` of an image file, from its header (cached: multi-image datasets reuse images).

    Raises:
        FileNotFoundError: when the file is missing.
        ValueError: when it is not a regular file (a FIFO is never waited on) or not an image PIL reads.
    """
    descriptor = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        kind = next((name for is_kind, name in _FILE_KINDS if is_kind(mode)), "of another kind")
        raise ValueError(f"{file} is not a regular file ({kind})")
    with open(descriptor, "rb") as stream:
        return _header_size(stream, file)


def media_issues(
    sample: GroundingSample, media_root: str | Path | None, *, allow_outside_root: bool = False
) -> list[Issue]:
    """Image files outside the media root, missing, unreadable or not images, and ``image_sizes`` that disagree.

    Args:
        sample: The sample.
        media_root: Directory its image paths are relative to (None: paths as they are, no root to stay in).
        allow_outside_root: Also read files that resolve outside ``media_root``.
    """
    issues = []
    for index, path in enumerate(sample.images):
        file = resolve(path, media_root)
        elsewhere = None if media_root is None or allow_outside_root else outside_root(file, media_root)
        if elsewhere is not None:
            issues.append(
                Issue(
                    f"images[{index}]",
                    f"{path!r} is outside the media root {media_root} (it is {elsewhere});"
                    " allow with --allow-outside-root",
                )
            )
            continue
        try:
            size = image_size(file)
        except FileNotFoundError:
            issues.append(Issue(f"images[{index}]", f"file not found: {file}"))
            continue
        except (OSError, ValueError) as error:
            issues.append(Issue(f"images[{index}]", f"cannot read the image: {error}"))
            continue
        if sample.image_sizes is not None and tuple(sample.image_sizes[index]) != size:
            listed = list(sample.image_sizes[index])
            issues.append(Issue(f"image_sizes[{index}]", f"is {listed} but {file} is {list(size)}"))
    return issues


def fill_image_sizes(
    sample: GroundingSample, media_root: str | Path | None, *, allow_outside_root: bool = False
) -> GroundingSample:
    """The sample with ``image_sizes`` read from its files (unchanged when it already has them).

    Raises:
        DataError: naming the sample and field when a file is outside the media root (unless
            ``allow_outside_root``), missing or unreadable, or when the boxes turn out to lie outside the image.
    """
    if sample.image_sizes is not None:
        return sample
    issues = media_issues(sample, media_root, allow_outside_root=allow_outside_root)
    if issues:
        raise DataError(sample.where, issues)
    sizes = [list(image_size(resolve(path, media_root))) for path in sample.images]
    try:
        filled = GroundingSample.model_validate({**sample.model_dump(), "image_sizes": sizes})
    except ValidationError as error:
        raise DataError(sample.where, issues_of(error)) from None
    return filled.with_source(sample.where)

"""Image files behind the samples: resolving paths, reading sizes, checking that the files exist.

Paths in a sample are relative to a media root (absolute paths are used as they are). Sizes are read
from the image header only (PIL opens lazily), so checking a large dataset costs one small read per image.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from pydantic import ValidationError

from .errors import DataError, Issue, issues_of
from .schema import GroundingSample


def resolve(path: str, media_root: str | Path | None) -> Path:
    """The file of an image path: ``media_root / path`` for a relative path, else ``path``."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() or media_root is None else Path(media_root) / candidate


@lru_cache(maxsize=65536)
def image_size(file: Path) -> tuple[int, int]:
    """``(width, height)`` of an image file (cached: multi-image datasets reuse images).

    Raises:
        FileNotFoundError: when the file is missing.
        ValueError: when it is not an image PIL can read.
    """
    try:
        with Image.open(file) as image:
            return image.size
    except UnidentifiedImageError:
        raise ValueError(f"{file} is not a readable image") from None


def media_issues(sample: GroundingSample, media_root: str | Path | None) -> list[Issue]:
    """Missing or unreadable image files, and ``image_sizes`` that disagree with the files."""
    issues = []
    for index, path in enumerate(sample.images):
        file = resolve(path, media_root)
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


def fill_image_sizes(sample: GroundingSample, media_root: str | Path | None) -> GroundingSample:
    """The sample with ``image_sizes`` read from its files (unchanged when it already has them).

    Raises:
        DataError: naming the sample and field when a file is missing or unreadable, or when the boxes
            turn out to lie outside the image.
    """
    if sample.image_sizes is not None:
        return sample
    issues = media_issues(sample, media_root)
    if issues:
        raise DataError(sample.where, issues)
    sizes = [list(image_size(resolve(path, media_root))) for path in sample.images]
    try:
        filled = GroundingSample.model_validate({**sample.model_dump(), "image_sizes": sizes})
    except ValidationError as error:
        raise DataError(sample.where, issues_of(error)) from None
    return filled.with_source(sample.where)

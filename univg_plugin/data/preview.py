"""A dataset shown, not read: each sample's images with its truth boxes drawn where its coordinate space puts them.

:func:`preview` writes ``index.html`` (a grid of cards: the images, the target image marked, the question
and the reasoning) and one JPEG thumbnail per image under ``images/``. Boxes go to pixels through the
package's one conversion, so a box in the wrong space shows in the wrong place; a box that leaves its
image, a missing image and a target image that is not specified are written on the card.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..visual import TRUTH, Figure, Layer, Panel, card, draw_panels, escape, grid, legend, write_page
from .errors import DataError
from .files import read_with_errors
from .media import resolve
from .schema import GroundingSample, format_box

#: Samples shown when neither ids nor a count are given.
DEFAULT_COUNT = 24
#: Bad rows listed on the page (all are counted).
_LISTED_ERRORS = 20


@dataclass
class PreviewResult:
    """What :func:`preview` wrote.

    Attributes:
        page: The ``index.html``.
        samples: Samples shown.
        bad_rows: Rows that could not be read (skipped; the first ones are listed on the page).
        missing_ids: Asked-for ids that are not in the file.
        notes: Notes written on the cards (boxes outside their image, missing images, ...).
    """

    page: Path
    samples: int
    bad_rows: int = 0
    missing_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _samples(items: Iterable[GroundingSample | DataError], errors: list[DataError]) -> Iterator[GroundingSample]:
    """The samples of ``items``; each error is appended to ``errors``."""
    for item in items:
        if isinstance(item, DataError):
            errors.append(item)
        else:
            yield item


def select(
    items: Iterable[GroundingSample | DataError], count: int, ids: Sequence[str] = (), seed: int | None = None
) -> tuple[list[GroundingSample], list[DataError]]:
    """The samples to show and the bad rows met, streaming.

    With ``ids``: those samples, in file order. Otherwise the first ``count`` samples, or with a ``seed`` a
    uniform random ``count`` of them (reservoir sampling, in file order). Reading stops as soon as the
    choice is made (the first ``count``, or every asked id found).
    """
    wanted, errors = set(ids), []
    chosen: list[tuple[int, GroundingSample]] = []  # (position among the samples, sample)
    rng = random.Random(seed)
    for seen, sample in enumerate(_samples(items, errors)):
        if wanted:
            if sample.id in wanted:
                chosen.append((seen, sample))
                wanted.discard(sample.id)
                if not wanted:
                    break
        elif len(chosen) < count:
            chosen.append((seen, sample))
            if seed is None and len(chosen) == count:
                break
        elif (slot := rng.randrange(seen + 1)) < count:
            chosen[slot] = (seen, sample)
    return [sample for _, sample in sorted(chosen, key=lambda pair: pair[0])], errors


def _panels(sample: GroundingSample, number: int, media_root: str | os.PathLike | None, out: Path) -> list[Panel]:
    """One panel per image of the sample; the truth boxes on the target image (on every one when unspecified)."""
    panels = []
    for index, path in enumerate(sample.images, start=1):
        drawn = sample.target_image in (None, index)
        name = f"images/{number:05d}-{index}.jpg"  # JPEG: a preview may show thousands of images
        caption = f"image {index}" + (" (target)" if sample.target_image == index else "")
        layers = [Layer(sample.boxes, sample.space, TRUTH)] if drawn else []
        panels.append(Panel(resolve(path, media_root), out / name, layers, caption, name, sample.target_image == index))
    return panels


def _card(sample: GroundingSample, drawn: list[tuple[Figure, list[str]]]) -> tuple[str, list[str]]:
    """The sample's card and its notes."""
    notes = [note for _, figure_notes in drawn for note in figure_notes]
    if sample.target_image is None and len(sample.images) > 1:
        notes.insert(0, "target image not specified: the boxes are drawn on every image")
    facts = [f"task {sample.task}", f"{len(sample.images)} image(s)", f"space {sample.space.value}"]
    facts += [f"{key} {sample.meta[key]}" for key in ("difficulty", "source") if key in sample.meta]
    facts.append("boxes " + " ".join(format_box(box) for box in sample.boxes))
    texts = [("question", sample.question), ("reasoning", sample.reasoning)]
    figures = [figure for figure, _ in drawn]
    return card(sample.id, figures, facts=facts, notes=notes, texts=texts, failed=bool(notes)), notes


def _header(path: Path, fmt: str, shown: int, errors: list[DataError], missing: list[str]) -> list[str]:
    """The page's introduction: what is shown, the legend, bad rows and ids not found."""
    parts = [
        f"<p>{shown} sample(s) of <code>{escape(path)}</code> (format <code>{escape(fmt)}</code>). "
        "Truth boxes are drawn where their coordinate space puts them: a box in the wrong space lands in the "
        "wrong place. The target image is marked.</p>",
        legend([TRUTH]),
    ]
    if missing:
        parts.append(f'<p class="note">ids not in the file: {escape(", ".join(missing))}</p>')
    if errors:
        items = "".join(f"<li>{escape(error)}</li>" for error in errors[:_LISTED_ERRORS])
        more = f"<li>... and {len(errors) - _LISTED_ERRORS} more</li>" if len(errors) > _LISTED_ERRORS else ""
        parts.append(f'<p class="note">{len(errors)} bad row(s) skipped:</p><ul>{items}{more}</ul>')
    return parts


def preview(
    path: str | os.PathLike,
    out_dir: str | os.PathLike,
    fmt: str = "univg",
    *,
    count: int = DEFAULT_COUNT,
    ids: Sequence[str] = (),
    seed: int | None = None,
    media_root: str | os.PathLike | None = None,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    workers: int | None = None,
    progress: bool | None = False,
    **options: Any,
) -> PreviewResult:
    """Write ``out_dir/index.html`` showing samples of a dataset file with their truth boxes drawn.

    Args:
        path: The dataset file (any readable format).
        out_dir: Where ``index.html`` and ``images/`` go.
        fmt: Its format (see ``univg data formats``).
        count: How many samples (the first ones, or a seeded random choice).
        ids: Show these samples instead (in file order).
        seed: Choose ``count`` samples at random with this seed instead of the first ones.
        media_root: Directory the image paths are relative to (default: ``path``'s directory).
        min_pixels: The processor's ``min_pixels`` for ``abs_input`` boxes (default: Qwen2-VL's).
        max_pixels: The processor's ``max_pixels`` (likewise).
        workers: Drawing processes (default: the usable CPUs).
        progress: Show progress bars (None: only on a terminal).
        **options: Options of the format's reader.

    Raises:
        ValueError: ``count`` below 1, or no sample to show.
        DataError: a file that cannot be read past some point (a broken JSON list).
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    path, out = Path(path), Path(out_dir)
    root = path.parent if media_root is None else media_root
    samples, errors = select(read_with_errors(path, fmt, progress=progress, **options), count, ids, seed)
    missing = [identity for identity in dict.fromkeys(ids) if identity not in {sample.id for sample in samples}]
    if not samples:
        found = f"none of the ids {', '.join(missing)}" if ids else "no readable sample"
        raise ValueError(f"{path}: {found} to preview" + (f" ({len(errors)} bad row(s))" if errors else ""))
    panels = [_panels(sample, number, root, out) for number, sample in enumerate(samples)]
    flat = [panel for sample_panels in panels for panel in sample_panels]
    limits = {"min_pixels": min_pixels, "max_pixels": max_pixels}
    drawn = iter(draw_panels(flat, workers=workers, progress=progress, **limits))
    cards, notes = [], []
    for sample, sample_panels in zip(samples, panels):
        html, sample_notes = _card(sample, [next(drawn) for _ in sample_panels])
        cards.append(html)
        notes += [f"{sample.id}: {note}" for note in sample_notes]
    body = [*_header(path, fmt, len(samples), errors, missing), grid(cards)]
    page = write_page(out / "index.html", f"Preview of {path.name}", body)
    return PreviewResult(page, len(samples), len(errors), missing, notes)

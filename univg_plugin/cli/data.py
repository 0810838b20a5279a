"""``univg data``: validate, convert, describe and synthesize grounding datasets."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..qwen_vl import MODEL_FAMILIES
from .options import DATA_FILE, DIRECTORY, parse_key_values, read_option


def _weights(text: str | None, flag: str) -> dict[str, float] | None:
    """``"diff=2,common_object"`` -> ``{"diff": 2.0, "common_object": 1.0}``."""
    if not text:
        return None
    weights = {}
    for item in text.split(","):
        name, _, weight = item.strip().partition("=")
        try:
            weights[name] = float(weight) if weight else 1.0
        except ValueError:
            raise click.BadParameter(f"bad weight in {item!r}", param_hint=flag) from None
    return weights


@click.group()
def data() -> None:
    """Validate, convert, describe and synthesize CoT grounding datasets.

    Our format ("univg") is jsonl with one sample per line: id, task, images, question, reasoning,
    boxes, space, target_image, image_sizes, meta. Run `univg data formats` for every format that
    can be read or written, and docs/data.md for the details.
    """


@data.command("formats")
def formats_command() -> None:
    """List the dataset formats: whether each is read and/or written, what it cannot hold, its package."""
    from ..data.formats import FORMATS, describe, format_class

    for name in FORMATS.names():
        cls = format_class(name)
        modes = "/".join(mode for mode, ok in (("read", cls.readable), ("write", cls.writable)) if ok)
        summary, lost = describe(cls)
        click.echo(f"{name} ({modes}) from {FORMATS.provider(name)}\n  {summary}")
        if lost:
            click.echo(f"  cannot hold: {lost}")


_ALLOW_OUTSIDE_ROOT = click.option(
    "--allow-outside-root",
    is_flag=True,
    help="Read image files whose paths resolve outside the media root (../, absolute paths, links) too.",
)


@data.command("validate")
@click.argument("file", type=DATA_FILE)
@click.option("--format", "fmt", default="univg", show_default=True, help="Format of FILE (see `univg data formats`).")
@click.option(
    "--check-files",
    is_flag=True,
    help="Also check that every image lies in the media root, is an image (only its header is read), and matches"
    " image_sizes.",
)
@click.option(
    "--media-root",
    type=DIRECTORY,
    help="Directory the image paths are relative to [default: FILE's directory].",
)
@_ALLOW_OUTSIDE_ROOT
@click.option(
    "--max-errors", type=int, default=50, show_default=True, help="Print at most this many bad rows (0: all)."
)
@read_option("Reader option KEY=VALUE (e.g. space=norm1).")
def validate_command(
    file: Path,
    fmt: str,
    check_files: bool,
    media_root: Path | None,
    allow_outside_root: bool,
    max_errors: int,
    read_options: tuple[str, ...],
) -> None:
    """Validate every row of FILE and report every bad row: file:line (or file[index]), field, problem.

    Exits 1 when any row is bad or FILE holds no samples. Checks placeholder/image counts, degenerate
    or out-of-image boxes, target indices, image sizes, unknown coordinate spaces, duplicate ids,
    content after a JSON list, and with --check-files the image files themselves.
    """
    from ..data import get_format, validate_file

    options = parse_key_values(read_options, "--read-option")
    try:
        get_format(fmt, **options)
    except (ValueError, TypeError) as error:
        raise click.BadParameter(str(error)) from None

    printed = 0

    def show(error) -> None:
        nonlocal printed
        if max_errors == 0 or printed < max_errors:
            click.echo(str(error), err=True)
        printed += 1

    report = validate_file(
        file,
        fmt,
        check_files=check_files,
        media_root=media_root,
        allow_outside_root=allow_outside_root,
        progress=None,
        on_error=show,
        **options,
    )
    if max_errors and printed > max_errors:
        click.echo(f"... and {printed - max_errors} more bad row(s)", err=True)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(report.summary())
    if not report.ok:
        raise SystemExit(1)


@data.command("convert")
@click.argument("source", type=DATA_FILE)
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from", "source_format", required=True, help="Format of SOURCE (see `univg data formats`).")
@click.option("--to", "destination_format", required=True, help="Format of DESTINATION.")
@click.option("--skip-invalid", is_flag=True, help="Skip bad rows (each is reported) instead of stopping at the first.")
@click.option("--fill-sizes", is_flag=True, help="Read missing image_sizes from the image files (pixel <-> 0-1000).")
@click.option(
    "--media-root",
    type=DIRECTORY,
    help="Directory the image paths are relative to [default: SOURCE's directory].",
)
@_ALLOW_OUTSIDE_ROOT
@click.option("--allow-empty", is_flag=True, help="Write DESTINATION even when it holds no row.")
@read_option("Reader option KEY=VALUE (e.g. space=norm1).")
@click.option(
    "-w", "--write-option", "write_options", multiple=True, help="Writer option KEY=VALUE (e.g. dataset_name=train)."
)
@click.option(
    "--family",
    type=click.Choice(sorted(MODEL_FAMILIES)),
    help="Write answers as this model family does (univg_stage1, sharegpt, univg_stage2; the writer option "
    "`family`): qwen2_5_vl also needs -w min_pixels=N -w max_pixels=N, its processor's. [default: qwen2_vl]",
)
def convert_command(
    source: Path,
    destination: Path,
    source_format: str,
    destination_format: str,
    skip_invalid: bool,
    fill_sizes: bool,
    media_root: Path | None,
    allow_outside_root: bool,
    allow_empty: bool,
    read_options: tuple[str, ...],
    write_options: tuple[str, ...],
    family: str | None,
) -> None:
    """Convert SOURCE (in --from format) to DESTINATION (in --to format), streaming.

    DESTINATION is jsonl, or one JSON list when it ends in .json; it is written atomically (an
    interrupted run leaves nothing behind) and never onto SOURCE. Writing `sharegpt` also adds the
    dataset_info.json entry next to DESTINATION. Exits 1 at the first bad row (naming file, row and
    field) unless --skip-invalid, and when there is no row to write unless --allow-empty. A JSON
    list that breaks off (or has content after it) stops the conversion even with --skip-invalid.

    Example: univg data convert --from mig_bench --to univg MIG_data.json mig.jsonl --skip-invalid

    Example: univg data convert --from univg --to sharegpt --family qwen3_vl data.jsonl sft/train.jsonl
    """
    from ..data import DataError, convert

    skipped = 0

    def skip(error: DataError) -> None:
        nonlocal skipped
        skipped += 1
        click.echo(f"skipped: {error}", err=True)

    try:
        written = convert(
            source,
            destination,
            source_format,
            destination_format,
            errors="skip" if skip_invalid else "raise",
            on_skip=skip,
            fill_sizes=fill_sizes,
            media_root=media_root,
            allow_outside_root=allow_outside_root,
            allow_empty=allow_empty,
            progress=None,
            read_options=parse_key_values(read_options, "--read-option"),
            write_options={
                **parse_key_values(write_options, "--write-option"),
                **({"family": family} if family else {}),
            },
        )
    except (DataError, ValueError, TypeError) as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(f"wrote {written} row(s) to {destination}" + (f"; skipped {skipped} bad row(s)" if skipped else ""))


@data.command("stats")
@click.argument("file", type=DATA_FILE)
@click.option("--format", "fmt", default="univg", show_default=True, help="Format of FILE.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@read_option("Reader option KEY=VALUE.")
def stats_command(file: Path, fmt: str, as_json: bool, read_options: tuple[str, ...]) -> None:
    """Describe FILE: samples per task, images per sample, coordinate spaces, difficulty, box sizes
    and the share with reasoning. Bad rows are skipped and counted (run `univg data validate`)."""
    from ..data import DataError, DatasetStats, read

    skipped = 0

    def skip(error) -> None:
        nonlocal skipped
        skipped += 1

    options = parse_key_values(read_options, "--read-option")
    try:
        stats = DatasetStats().update(read(file, fmt, errors="skip", on_skip=skip, progress=None, **options))
    except DataError as error:  # a JSON list that breaks off: the rest cannot be read
        click.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None
    if as_json:
        click.echo(json.dumps({**stats.to_dict(), "bad_rows": skipped}, indent=2))
    else:
        click.echo(stats.render())
        if skipped:
            click.echo(f"{skipped} bad row(s) skipped: run `univg data validate {file}`", err=True)


@data.command("preview")
@click.argument("file", type=DATA_FILE)
@click.option("--out", "out_dir", type=DIRECTORY, required=True, help="Where index.html and images/ go.")
@click.option("--format", "fmt", default="univg", show_default=True, help="Format of FILE (see `univg data formats`).")
@click.option("--n", "count", type=int, default=24, show_default=True, help="How many samples (the first ones).")
@click.option("--ids", multiple=True, help="Show these sample ids instead (comma-separated, or repeat the option).")
@click.option("--seed", type=int, help="Show a seeded random choice of --n samples instead of the first ones.")
@click.option(
    "--media-root", type=DIRECTORY, help="Directory the image paths are relative to [default: FILE's directory]."
)
@click.option("--min-pixels", type=int, help="Processor min_pixels for abs_input boxes [default: Qwen2-VL's].")
@click.option("--max-pixels", type=int, help="Processor max_pixels for abs_input boxes [default: Qwen2-VL's].")
@click.option("--workers", type=int, help="Drawing processes [default: the usable CPUs].")
@read_option("Reader option KEY=VALUE (e.g. space=norm1).")
def preview_command(
    file: Path, out_dir: Path, fmt: str, ids: tuple[str, ...], read_options: tuple[str, ...], **settings
) -> None:
    """Draw samples of FILE with their truth boxes on their images: OUT/index.html (open it in a browser).

    Boxes are drawn where the sample's coordinate space puts them, so a box in the wrong space shows in
    the wrong place; the target image is marked, the question and the reasoning are the caption. Bad
    rows are skipped, counted and listed on the page; a missing image, a box outside its image and an
    unspecified target image are noted on the sample's card.

    Example: univg data preview mig.jsonl --n 50 --seed 0 --out preview/
    """
    from ..data import DataError
    from ..data.preview import preview

    wanted = [identity.strip() for value in ids for identity in value.split(",") if identity.strip()]
    try:
        result = preview(
            file, out_dir, fmt, ids=wanted, progress=None, **settings, **parse_key_values(read_options, "--read-option")
        )
    except (DataError, ValueError, TypeError) as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None
    if result.missing_ids:
        click.echo(f"warning: ids not in {file}: {', '.join(result.missing_ids)}", err=True)
    if result.bad_rows:
        click.echo(f"warning: {result.bad_rows} bad row(s) skipped (listed on the page)", err=True)
    if result.notes:
        click.echo(f"note: {len(result.notes)} note(s) on the cards, e.g. {result.notes[0]}", err=True)
    click.echo(f"wrote {result.samples} sample(s) to {result.page}")


@data.command("synth")
@click.argument("out", type=DIRECTORY)
@click.option("--n", "count", type=int, default=100, show_default=True, help="Number of samples.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same data).")
@click.option("--image-size", type=str, default="224", show_default=True, help="Image side, or WIDTHxHEIGHT.")
@click.option("--tasks", help="Task mix, e.g. 'diff=2,common_object' [default: all six, equally].")
@click.option("--difficulty", help="Difficulty mix, e.g. 'easy=1,hard=3' [default: easy, medium, hard equally].")
@click.option("--file-name", default="data.jsonl", show_default=True, help="Name of the jsonl file in OUT.")
@click.option(
    "--grid",
    type=int,
    help="Put objects in the cells of a GRID x GRID lattice on a position-coloured background "
    "(for tiny models trained from scratch; see docs/demo.md).",
)
def synth_command(
    out: Path,
    count: int,
    seed: int,
    image_size: str,
    tasks: str | None,
    difficulty: str | None,
    file_name: str,
    grid: int | None,
) -> None:
    """Write COUNT synthetic multi-image grounding samples (PNG images + univg jsonl) to OUT.

    Coloured shapes on varied backgrounds, 1-4 images per sample, tasks mirroring MIG-Bench
    (common_object, diff, refer_grounding, region, group_grounding, counting), each with a short
    correct reasoning chain, the target image and its box (0-1000, with image_sizes), graded
    easy/medium/hard by object size and distractors (meta.difficulty).
    """
    from ..data.synth import generate
    from ..demo.tasks import COMPACT_BUILDERS

    width, _, height = image_size.lower().partition("x")
    try:
        size = (int(width), int(height or width))
        path = generate(
            out,
            count,
            seed,
            image_size=size,
            tasks=_weights(tasks, "--tasks"),
            difficulties=_weights(difficulty, "--difficulty"),
            file_name=file_name,
            progress=None,
            grid=grid,
            builders=COMPACT_BUILDERS,
        )
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    click.echo(f"wrote {count} sample(s) to {path}")

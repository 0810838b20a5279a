"""``univg eval``: score predictions, or generate them with a checkpoint and score them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ..qwen_vl import MODEL_FAMILIES, checkpoint_family
from .options import DATA_FILE, DIRECTORY, option_group, parse_key_values, read_option

if TYPE_CHECKING:
    from ..data import GroundingSample
    from ..eval.generate import GenerationResult
    from ..eval.predictions import PredictionSet

# The values of CoordinateSpace, AnswerPolicy and eval.generate.Backend, written out: `univg --help` imports no numpy
# (tests/eval/test_eval_cli.py checks that they agree).
_SPACES = ("norm1000", "abs_input", "norm1", "abs_image")
_POLICIES = ("strict", "lenient", "first")
_BACKENDS = ("transformers", "vllm")

_scoring_options = option_group(
    click.option(
        "--benchmark",
        "benchmarks",
        type=DATA_FILE,
        multiple=True,
        required=True,
        help="Benchmark file; repeat it for several (e.g. the five zero-shot sets, one task each).",
    ),
    click.option(
        "--format",
        "fmt",
        default="auto",
        show_default=True,
        help="Benchmark layout: mig_bench, zero_shot, univg (ours, e.g. from `univg data synth`), any readable "
        "format of `univg data formats`, or auto (told by the first row).",
    ),
    read_option("Benchmark reader option KEY=VALUE (e.g. frames_root=DIR for ReVOS rows, space=norm1000)."),
    click.option(
        "--media-root",
        type=DIRECTORY,
        help="Directory the benchmark's image paths are relative to [default: the first benchmark's directory].",
    ),
    click.option(
        "--family",
        type=click.Choice(sorted(MODEL_FAMILIES)),
        help="The model's family: its answers are read in its box space (qwen2_vl, qwen3_vl: norm1000; qwen2_5_vl: "
        "abs_input) [default: none named; --space].",
    ),
    click.option(
        "--space",
        type=click.Choice(_SPACES),
        help="Coordinate space of the boxes the model writes, over the --family's: norm1000 (Qwen2-VL, UniVG-R1, "
        "Qwen3-VL), abs_input (Qwen2.5-VL: pixels of the resized input), norm1 (0-1 floats), abs_image (original "
        "pixels) [default: the --family's, else norm1000].",
    ),
    click.option(
        "--answer-policy",
        "policy",
        type=click.Choice(_POLICIES),
        help="Where the box is read: strict (inside <answer> only), lenient (<answer>, else the last box), "
        "first (the first box anywhere) [default: what the benchmark's official scripts do: first for "
        "mig_bench and zero_shot, strict otherwise].",
    ),
    click.option(
        "--group-by",
        default="task",
        show_default=True,
        help="Group the metrics by task, or by a meta key (e.g. difficulty for `univg data synth` data).",
    ),
    click.option(
        "--min-pixels", type=int, help="Image processor min_pixels (generation, and abs_input boxes when scoring)."
    ),
    click.option(
        "--max-pixels", type=int, help="Image processor max_pixels (generation, and abs_input boxes when scoring)."
    ),
    click.option("--compare", type=click.Choice(["paper"]), help="Show the paper's published numbers beside ours."),
    click.option(
        "--ignore-unknown-ids", is_flag=True, help="Skip predictions whose id is not in the benchmark [default: error]."
    ),
    click.option("--no-plot", is_flag=True, help="Do not write the PNG bar chart."),
    click.option(
        "--gallery",
        "gallery_count",
        type=int,
        default=4,
        show_default=True,
        help="Samples of each kind (worst, best, random) per group drawn in gallery.html (0: no gallery).",
    ),
)
_generation_options = option_group(
    click.option("--batch-size", type=int, default=8, show_default=True, help="Samples per generate call."),
    click.option("--max-new-tokens", type=int, default=256, show_default=True, help="Generation budget per sample."),
    click.option(
        "--backend",
        type=click.Choice(_BACKENDS),
        default="transformers",
        show_default=True,
        help="Generation engine (vllm must be installed).",
    ),
    click.option("--sample", "do_sample", is_flag=True, help="Sample instead of greedy decoding."),
    click.option("--temperature", type=float, default=1.0, show_default=True, help="Sampling temperature (--sample)."),
    click.option("--device", help="Torch device [default: cuda when available, else cpu]."),
    click.option("--dtype", help="Torch dtype, e.g. bfloat16 [default: bfloat16 on cuda, float32 on cpu]."),
    click.option(
        "--fresh",
        is_flag=True,
        help="Discard OUT_DIR/predictions.jsonl and generate every sample again [default: resume it, refusing "
        "predictions of another model, other settings or other prompts].",
    ),
)
#: The parameters of `_generation_options`, passed to `generate_predictions` as they are.
_GENERATION = ("batch_size", "max_new_tokens", "backend", "do_sample", "temperature", "device", "dtype", "fresh")


def _fail(error: Exception) -> NoReturn:
    click.echo(f"error: {error}", err=True)
    raise SystemExit(1)


def _load(benchmarks: tuple[Path, ...], fmt: str, read_options: tuple[str, ...]) -> tuple[list[GroundingSample], str]:
    from ..eval.benchmark import load_benchmark

    return load_benchmark(benchmarks, fmt, **parse_key_values(read_options, "--read-option"))


def _score_and_report(
    predictions: Path | PredictionSet,
    samples: list[GroundingSample],
    fmt: str,
    out_dir: Path,
    media_root: Path,
    **settings: Any,
) -> None:
    from ..eval import score
    from ..eval.gallery import write_gallery
    from ..eval.predictions import as_predictions

    settings["space"] = _model_space(settings["family"], settings["space"])  # score() takes the family too
    compare = settings.pop("compare") == "paper"
    plot = not settings.pop("no_plot")
    gallery_count = settings.pop("gallery_count")
    predictions = as_predictions(predictions)
    report = score(
        predictions,
        samples,
        benchmark=fmt,
        media_root=media_root,
        unknown_ids="ignore" if settings.pop("ignore_unknown_ids") else "raise",
        progress=None,
        **settings,
    )
    click.echo(report.table(compare=compare))
    _note_odd_truth(report.truth_notes)
    if compare and report.paper is None:
        click.echo(f"note: the paper reports no numbers for the {fmt} layout", err=True)
    elif compare and not report.paper_values():
        click.echo("note: the paper's numbers are per task: group by task to see them beside each row", err=True)
    files = report.write(out_dir, compare=compare, plot=plot)
    if gallery_count > 0:
        files["gallery"] = write_gallery(report, samples, predictions, out_dir, count=gallery_count, progress=None)
    click.echo("wrote " + ", ".join(str(path) for path in files.values()), err=True)


def _model_space(family: str | None, space: str | None) -> str:
    """The space the answers are read in: ``--space``, else the family's, else Qwen2-VL's (norm1000)."""
    return space or MODEL_FAMILIES[family or "qwen2_vl"].box_space


def _note_checkpoint_family(model_path: Path, family: str | None, space: str | None) -> None:
    """Say so when the checkpoint's own family writes boxes in another space than the one scored."""
    try:
        own = checkpoint_family(model_path).name
    except (FileNotFoundError, ValueError):
        return
    scored = _model_space(family, space)
    if own != family and MODEL_FAMILIES[own].box_space != scored:
        click.echo(
            f"note: the checkpoint is a {own} model, which writes boxes in {MODEL_FAMILIES[own].box_space}; its "
            f"answers are scored in {scored} (pass --family {own} if it was trained in its family's convention)",
            err=True,
        )


def _note_odd_truth(notes: list[tuple[str, str]], shown: int = 10) -> None:
    """Say which ground-truth boxes are odd (scored as written, every row counted)."""
    if not notes:
        return
    lines = [f"  {identity}: {note}" for identity, note in notes[:shown]]
    if len(notes) > shown:
        lines.append(f"  ... and {len(notes) - shown} more (report.json: truth_notes)")
    header = f"note: {len(notes)} ground-truth box(es) are odd; scored as written, as the official script does:"
    click.echo("\n".join([header, *lines]), err=True)


def _generate(
    model_path: Path,
    samples: list[GroundingSample],
    out: Path,
    media_root: Path,
    min_pixels: int | None,
    max_pixels: int | None,
    generation: dict[str, Any],
) -> GenerationResult:
    """Generate ``out/predictions.jsonl`` (resuming it) and say what was done; returns the ``GenerationResult``."""
    from ..eval.generate import generate_predictions

    result = generate_predictions(
        model_path,
        samples,
        out / "predictions.jsonl",
        min_pixels=min_pixels,
        max_pixels=max_pixels,
        media_root=media_root,
        progress=None,
        **generation,
    )
    click.echo(
        f"generated {result.generated} sample(s) ({result.samples_per_second:.2f}/s), "
        f"{result.skipped} already in {result.path}",
        err=True,
    )
    return result


@click.group("eval")
def eval_group() -> None:
    """Evaluate grounding: MIG-Bench, the zero-shot reasoning-grounding sets (LISA, LLMSeg, ReasonVOS,
    ReVOS) and our own format (e.g. `univg data synth`), with the benchmarks' own metrics.

    Metrics per task and overall: accuracy at IoU >= 0.3 / 0.5 / 0.7, mean IoU, target-image accuracy
    (multi-image samples whose question does not name the target) and the share of outputs with no
    box; `average` is the unweighted mean over tasks (the paper's Avg). Outputs: a table on the
    terminal, report.json, report.md, report.png, results.jsonl (one row per sample) and gallery.html
    (the worst, best and random answers of each group drawn on their images). See docs/eval.md.
    """


@eval_group.command("score")
@click.argument("predictions", type=DATA_FILE)
@_scoring_options
@click.option("--out-dir", type=DIRECTORY, help="Where the reports go [default: PREDICTIONS' directory].")
def score_command(
    predictions: Path,
    benchmarks: tuple[Path, ...],
    fmt: str,
    read_options: tuple[str, ...],
    media_root: Path | None,
    out_dir: Path | None,
    **settings: Any,
) -> None:
    """Score PREDICTIONS (jsonl: {"id": ..., "output": raw model text} per sample) on the benchmark.

    Samples without a prediction count as failures (missing); a prediction whose id is not in the
    benchmark is an error unless --ignore-unknown-ids. Image files are only read when a conversion
    needs a size the benchmark lacks (pixel boxes).

    Example: univg eval score preds.jsonl --benchmark MIG_data.json --compare paper
    """
    from ..data import DataError

    try:
        samples, fmt = _load(benchmarks, fmt, read_options)
        root = media_root or benchmarks[0].parent
        _score_and_report(predictions, samples, fmt, out_dir or predictions.parent, root, **settings)
    except (DataError, ValueError, OSError) as error:
        _fail(error)


@eval_group.command("run")
@click.option("--model", "model_path", required=True, type=click.Path(exists=True, path_type=Path), help="Checkpoint.")
@_scoring_options
@click.option(
    "--out-dir",
    type=DIRECTORY,
    help="Where predictions.jsonl and the reports go; rerun with the same one to resume "
    "[default: eval/MODEL-BENCHMARK].",
)
@_generation_options
@click.option("--limit", type=int, help="Only the first N samples (a quick look; after a full run: score those N).")
def run_command(
    model_path: Path,
    benchmarks: tuple[Path, ...],
    fmt: str,
    read_options: tuple[str, ...],
    media_root: Path | None,
    out_dir: Path | None,
    limit: int | None,
    **settings: Any,
) -> None:
    """Generate with the checkpoint at --model on the benchmark, then score (like `univg eval score`).

    The prompts are the training prompts (the question, the paper's <think>/<answer> instruction and
    the processor's chat template); decoding is greedy unless --sample; vision placeholder tokens are
    never generated. Predictions are appended to OUT_DIR/predictions.jsonl batch by batch: rerunning
    the same command skips the samples already there. What produced them (the model's path and
    fingerprint, the generation settings, each sample's prompt) is recorded in predictions.meta.json;
    a rerun with another model, other settings or another benchmark is refused (use another --out-dir,
    or --fresh). With --limit, only the first N samples are generated and scored.

    Example: univg eval run --model ckpt --benchmark synth/data.jsonl --group-by difficulty
    """
    from ..data import DataError
    from ..eval.predictions import read_predictions

    try:
        samples, fmt = _load(benchmarks, fmt, read_options)
        if limit is not None:
            samples = samples[:limit]
        root = media_root or benchmarks[0].parent
        out = out_dir or Path("eval") / f"{model_path.resolve().name}-{benchmarks[0].stem}"
        generation = {name: settings.pop(name) for name in _GENERATION}
        _note_checkpoint_family(model_path, settings["family"], settings["space"])
        result = _generate(model_path, samples, out, root, settings["min_pixels"], settings["max_pixels"], generation)
        settings["min_pixels"] = settings["min_pixels"] or result.min_pixels
        settings["max_pixels"] = settings["max_pixels"] or result.max_pixels
        predictions = read_predictions(result.path).subset(sample.id for sample in samples)
        _score_and_report(predictions, samples, fmt, out, root, **settings)
    except (DataError, ValueError, OSError, ImportError) as error:
        _fail(error)

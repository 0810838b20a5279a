"""``univg predict``: ask a checkpoint one question about images; ``univg app``: the same in a browser."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import click

from ..qwen_vl import MODEL_FAMILIES
from .eval import _POLICIES, _SPACES, _fail
from .options import DATA_FILE, DIRECTORY, EXISTING_FILE, option_group

_CHECKPOINT = click.Path(exists=True, file_okay=False, path_type=Path)
_FAMILY_SPACES = ", ".join(f"{name}: {family.box_space}" for name, family in MODEL_FAMILIES.items())

_model_options = option_group(
    click.option("--model", "model_path", required=True, type=_CHECKPOINT, help="Checkpoint directory."),
    click.option(
        "--space",
        type=click.Choice(_SPACES),
        help="Coordinate space of the boxes the model writes [default: its family's, by config.json's model_type: "
        f"{_FAMILY_SPACES}].",
    ),
    click.option(
        "--answer-policy",
        "policy",
        type=click.Choice(_POLICIES),
        default="lenient",
        show_default=True,
        help="Where the box is read: strict (inside <answer> only), lenient (<answer>, else the last box), "
        "first (the first box anywhere).",
    ),
    click.option("--max-new-tokens", type=int, default=256, show_default=True, help="Generation budget."),
    click.option("--min-pixels", type=int, help="Image processor min_pixels [default: the checkpoint's]."),
    click.option("--max-pixels", type=int, help="Image processor max_pixels [default: the checkpoint's]."),
    click.option("--device", help="Torch device [default: cuda when available, else cpu]."),
    click.option("--dtype", help="Torch dtype, e.g. bfloat16 [default: bfloat16 on cuda, float32 on cpu]."),
)


@click.command()
@click.argument("question")
@click.option(
    "--image",
    "images",
    type=EXISTING_FILE,
    multiple=True,
    required=True,
    help="An image; repeat for several, in the order the question counts them (image 1, image 2, ...).",
)
@_model_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default="prediction.png",
    show_default=True,
    help="PNG written: the image the answer names, its box drawn.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text (for scripts).")
def predict(question: str, images: tuple[Path, ...], out: Path, as_json: bool, **options: Any) -> None:
    """Ask the checkpoint at --model QUESTION about the --image files, print its reasoning and answer,
    and draw its box on the image the answer names.

    The prompt is the training prompt (as `univg eval run` builds it), decoding is greedy. The box is read
    in the model's coordinate space (its family's, or --space) and drawn on the image the answer names,
    else the one the question names, else image 1 (with a note). An answer without a box is printed with
    a note, and the image is written without one. --json prints the reasoning, the answer, the boxes as
    written and in pixels, the image, the note and the PNG's path as one object.

    Example: univg predict --model ckpt --image a.jpg --image b.jpg "Which image shows a red car? Find it."
    """
    from ..compat import UnsupportedVersionError
    from ..data import DataError

    try:
        from ..eval.predict import Predictor

        prediction = Predictor(options.pop("model_path"), **options)(images, question)
        out.parent.mkdir(parents=True, exist_ok=True)
        prediction.draw().save(out, format="PNG")
        if as_json:
            click.echo(json.dumps({**prediction.as_json(), "png": str(out)}))
        else:
            click.echo(f"reasoning: {prediction.reasoning or '(none)'}")
            click.echo("\n".join(prediction.describe()))
        if prediction.note:
            click.echo(f"note: {prediction.note}", err=True)
        click.echo(f"wrote {out}", err=True)
    except (DataError, ValueError, OSError, ImportError, UnsupportedVersionError) as error:
        _fail(error)


@click.command("app")
@_model_options
@click.option(
    "--examples",
    type=DATA_FILE,
    help="Benchmark file whose first samples of at most 4 images (their files found) the page offers as examples.",
)
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    help="Layout of --examples: any readable format of `univg data formats`, or auto.",
)
@click.option("--media-root", type=DIRECTORY, help="Directory of the examples' images [default: their file's].")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on (0.0.0.0: every interface).")
@click.option("--port", type=int, default=7860, show_default=True, help="Port to serve on.")
def app(examples: Path | None, fmt: str, media_root: Path | None, host: str, port: int, **options: Any) -> None:
    """Serve a page (Gradio) to ask the checkpoint at --model about 1-4 uploaded images.

    Each question is answered like `univg predict`: the training prompt, greedy decoding, the reasoning,
    the answer and its box drawn on the image it names. With --examples, the page lists the first
    samples of that benchmark file (those with at most 4 images) to try. Gradio comes with
    LLaMA-Factory, or `pip install 'univg-plugin[app]'`. Stop it with Ctrl-C.

    Example: univg app --model ckpt --examples MIG_data.json
    """
    from ..compat import UnsupportedVersionError
    from ..data import DataError

    if importlib.util.find_spec("gradio") is None:
        _fail(ImportError("univg app needs Gradio, which is not installed: pip install 'univg-plugin[app]'"))
    try:
        from ..app import example_rows, launch
        from ..eval.benchmark import load_benchmark
        from ..eval.predict import Predictor

        rows = []
        if examples is not None:
            samples = load_benchmark(examples, fmt)[0]
            root = media_root or examples.parent
            rows = example_rows(samples, root)
            click.echo(f"examples: {len(rows)} sample(s) of {examples} (at most 4 images, found in {root})", err=True)
        predictor = Predictor(options.pop("model_path"), **options)
    except (DataError, ValueError, OSError, ImportError, UnsupportedVersionError) as error:
        _fail(error)
    launch(predictor, rows, host=host, port=port)

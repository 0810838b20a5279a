"""``univg tiny-model``: build a tiny random Qwen-VL checkpoint offline."""

from __future__ import annotations

from pathlib import Path

import click

from ..tiny_models import FAMILIES


@click.command("tiny-model")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--family",
    type=click.Choice(FAMILIES),
    default="qwen2_vl",
    show_default=True,
    help="Model family: Qwen2-VL (0-1000 boxes), Qwen2.5-VL (pixels of the resized input) or Qwen3-VL "
    "(JSON boxes in 0-1000, 16-pixel patches).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random weights.")
@click.option("--hidden-size", type=int, default=64, show_default=True, help="Language-model width.")
@click.option("--layers", type=int, default=2, show_default=True, help="Decoder layers.")
def tiny_model(path: Path, family: str, seed: int, hidden_size: int, layers: int) -> None:
    """Write a tiny, randomly initialised Qwen-VL checkpoint to PATH (no download).

    The checkpoint has the real architecture classes, a trained byte-level BPE tokenizer with every
    Qwen special token, the chat template and image/video processors with small pixel limits. It
    loads with transformers' AutoProcessor / AutoModelForImageTextToText, the family's LLaMA-Factory
    template (qwen2_vl; Qwen3-VL: qwen3_vl) and TRL's GRPOTrainer. Tests, tiny recipes and the demo use it.
    """
    from ..tiny_models import TinyModelSpec, build_tiny_qwen_vl

    spec = TinyModelSpec(hidden_size=hidden_size, num_hidden_layers=layers, intermediate_size=hidden_size * 2)
    out = build_tiny_qwen_vl(path, family=family, seed=seed, spec=spec)  # type: ignore[arg-type]
    click.echo(f"wrote a tiny {family} checkpoint to {out}")

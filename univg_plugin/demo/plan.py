"""The demo's plans: model size, data sizes and training settings of ``univg demo`` (default, --long, --quick)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..qwen_vl import RESIZE_FACTOR, model_family
from ..tiny_models import TinyModelSpec

#: Words the demo data uses, given to the tokenizer so they are single tokens (shorter sequences).
_VOCABULARY = (
    "Locate the square. Find the square in these images. The square is at the square is in image at the "
    "top bottom left right center top-left top-right bottom-left bottom-right "
    "red green blue yellow purple orange white black "
    "First output the thinking process in tags and then output the bounding box. So the target is in image"
    # the chat template's role names and an answer's first word, each right after a special token
    "\nsystem\nuser\nassistant\nimage\n"
)
#: The smallest image the demo's processors take: one vision token (a 28 x 28 pixel cell).
ONE_TOKEN_PIXELS = RESIZE_FACTOR * RESIZE_FACTOR


@dataclass(frozen=True)
class DemoPlan:
    """Sizes and settings of one demo run.

    Attributes:
        train_samples: Synthetic training samples (fresh ones: the model must not memorise images).
        test_samples: Held-out samples.
        image_size: Side of the square images, in pixels.
        grid: Objects sit in a ``grid x grid`` lattice of ``image_size / grid`` pixel cells.
        model: Size of the Qwen2-VL built from scratch.
        sft_steps: Stage-1 optimizer steps.
        sft_batch: Stage-1 batch size.
        sft_learning_rate: Stage-1 peak learning rate (cosine schedule).
        sft_processes: Stage-1 data-parallel processes (torchrun) where the machine has that many cores, each
            with ``sft_batch / sft_processes`` samples a step (the same global batch).
        grpo_steps: Stage-2 optimizer steps (each run).
        grpo_prompts: Prompts per stage-2 step.
        num_generations: Completions per prompt (G).
        grpo_learning_rate: Stage-2 learning rate.
        max_completion_length: Stage-2 completion tokens (and the evaluation's).
        eval_batch: Generation batch size of the evaluation.
        grpo_loss_type: TRL's loss aggregation in stage 2 (``grpo``: per completion; ``dapo``: per token).
        grpo_min_p: Stage-2 sampling drops tokens below ``min_p`` x the top token's probability (None: off).
        family: The Qwen-VL family built and trained (``qwen2_vl``, the paper's; ``qwen2_5_vl``; ``qwen3_vl``).
    """

    train_samples: int
    test_samples: int
    image_size: int
    grid: int
    model: TinyModelSpec
    sft_steps: int
    sft_batch: int
    sft_learning_rate: float
    grpo_steps: int
    grpo_prompts: int
    num_generations: int
    grpo_learning_rate: float
    max_completion_length: int
    eval_batch: int = 150
    sft_processes: int = 2
    grpo_loss_type: str = "grpo"
    grpo_min_p: float | None = None
    family: str = "qwen2_vl"


def one_token_pixels(family: str) -> int:
    """The smallest image ``family``'s processor takes in the demo: one vision token (a resize-factor square).

    Example:
        >>> one_token_pixels("qwen2_vl"), one_token_pixels("qwen3_vl")
        (784, 1024)
    """
    return model_family(family).resize_factor ** 2


def input_pixels(plan: DemoPlan) -> int:
    """The pixels of the plan's images resized for its family (sides a multiple of the resize factor): the
    stages' ``image_max_pixels``, so that every stage sees one vision token per lattice cell.

    Example:
        >>> input_pixels(PLANS["quick"]), input_pixels(replace(PLANS["quick"], family="qwen3_vl"))
        (7056, 9216)
    """
    factor = model_family(plan.family).resize_factor
    side = max(1, round(plan.image_size / factor)) * factor
    return side * side


_MODEL = TinyModelSpec(
    hidden_size=128,
    num_hidden_layers=4,
    num_attention_heads=4,
    num_key_value_heads=2,
    intermediate_size=256,
    vision_depth=2,
    vision_embed_dim=64,
    vision_num_heads=4,
    min_pixels=ONE_TOKEN_PIXELS,
    max_pixels=112 * 112,
    vocab_size=800,
    corpus=(_VOCABULARY,) * 8,
    extra_tokens=("<think>", "</think>", "<answer>", "</answer>"),
    language_init_std=0.08,
)

_DEFAULT = DemoPlan(
    train_samples=19200,  # each seen once by stage 1 (1,200 steps of 16)
    test_samples=600,
    image_size=84,
    grid=3,
    model=_MODEL,
    sft_steps=1200,
    sft_batch=16,
    sft_learning_rate=5e-4,
    grpo_steps=10,
    grpo_prompts=16,
    num_generations=4,
    grpo_learning_rate=2e-5,
    max_completion_length=96,
)

#: The plans by name: ``default``, ``long`` (``--long``) and ``quick`` (``--quick``).
PLANS: dict[str, DemoPlan] = {
    "default": _DEFAULT,
    # A cold-start stage 1 and 400 GRPO steps, sampled without the tail of junk tokens a tiny model puts
    # probability on: stage 2 gains over stage 1 (about 40 minutes; docs/demo.md).
    "long": replace(
        _DEFAULT,
        train_samples=24000,
        test_samples=900,
        model=replace(_MODEL, intermediate_size=512),  # the model docs/demo.md's --long numbers were measured with
        sft_steps=800,
        grpo_steps=400,
        grpo_loss_type="dapo",
        grpo_min_p=0.1,
    ),
    "quick": replace(
        _DEFAULT,
        train_samples=200,
        test_samples=24,
        model=replace(_MODEL, hidden_size=64, intermediate_size=128, num_hidden_layers=2),
        sft_steps=20,
        sft_batch=8,
        sft_learning_rate=1e-3,
        grpo_steps=3,
        grpo_prompts=2,
        max_completion_length=48,
        sft_processes=1,  # two processes start slower than 20 steps take
    ),
}

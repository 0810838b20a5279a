"""Tiny, randomly initialised Qwen2-VL / Qwen2.5-VL / Qwen3-VL checkpoints built offline.

Tests, recipes and the demo need real checkpoints (the real architecture classes, tokenizer, chat
template and processors) but no model can be downloaded here. :func:`build_tiny_qwen_vl` writes a
complete checkpoint directory in a few seconds:

- a byte-level BPE tokenizer trained on a few lines of text, with every Qwen special token, wrapped as
  ``Qwen2TokenizerFast`` (digits are split one per token, as in Qwen's pre-tokenizer; Qwen3-VL's also has
  ``<think>`` / ``</think>`` as added tokens, as Qwen3's tokenizer does);
- a Qwen-VL chat template (images become ``<|vision_start|><|image_pad|><|vision_end|>``; Qwen3-VL's has no
  default system message, as Qwen3-VL-Instruct's);
- ``Qwen2VLImageProcessor`` and the family's video processor (``Qwen2VLVideoProcessor``,
  ``Qwen3VLVideoProcessor``) with small pixel limits and the family's patch size (14, Qwen3-VL: 16) and
  normalisation (Qwen3-VL: mean and std 0.5);
- a model built from a small config with random weights, deterministic for a seed.

Example:
    >>> from univg_plugin.tiny_models import build_tiny_qwen_vl
    >>> path = build_tiny_qwen_vl("/tmp/tiny-qwen2-vl", family="qwen2_vl", seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from .qwen_vl import (
    DEFAULT_MIN_PIXELS,
    MODEL_FAMILIES,
    QWEN3_VL_CHAT_TEMPLATE,
    QWEN3_VL_EXTRA_ADDED_TOKENS,
    QWEN_EXTRA_ADDED_TOKENS,
    QWEN_SPECIAL_TOKENS,
    QWEN_SPLIT_PATTERN,
    QWEN_VL_CHAT_TEMPLATE,
    model_family,
)

Family = Literal["qwen2_vl", "qwen2_5_vl", "qwen3_vl"]
FAMILIES: tuple[str, ...] = tuple(MODEL_FAMILIES)
#: The tiny processors' upper pixel bound: at most 16 image tokens per image, 12 with Qwen3-VL's 32-pixel merges
#: (Qwen's default is far larger).
TINY_MAX_PIXELS = 112 * 112

_DEFAULT_CORPUS: tuple[str, ...] = (
    "You are a helpful assistant.",
    "Locate the red circle in image 2 and output its bounding box.",
    "Find the object that appears in every image. Which image contains the largest square?",
    "<think>The blue square is at the top left of the second image.</think><answer>(120,340),(560,780)</answer>",
    "It's in the third image. <|box_start|>(316,58),(764,999)<|box_end|>",
    '[{"bbox_2d": [12, 40, 230, 311], "label": "green triangle"}]',
    "Picture 1: Picture 2: Picture 3: the left, right, top, bottom, middle, first, second, third, fourth.",
    "red green blue yellow purple orange black white circle square triangle star small large",
    "0123456789 (x1,y1),(x2,y2) [x1, y1, x2, y2] <box>1 2 3 4</box>",
)


@dataclass(frozen=True)
class TinyModelSpec:
    """Sizes of a tiny checkpoint. The defaults build a ~1M-parameter model in about a second.

    Attributes:
        hidden_size: Width of the language model (and of the vision merger's output).
        num_hidden_layers: Decoder layers.
        num_attention_heads: Query heads; ``hidden_size // num_attention_heads`` is the head dim.
        num_key_value_heads: Key/value heads (grouped-query attention).
        intermediate_size: MLP width of the language model.
        vision_depth: Vision transformer blocks.
        vision_embed_dim: Width of the vision transformer.
        vision_num_heads: Heads of the vision transformer.
        min_pixels: Image processor lower pixel bound (Qwen's default).
        max_pixels: Image processor upper pixel bound (:data:`TINY_MAX_PIXELS`: at most 16 image tokens).
        vocab_size: Target size of the trained BPE vocabulary (before special tokens).
        corpus: Extra lines the tokenizer is trained on, beside the built-in ones.
        extra_tokens: Added (non-special) tokens, e.g. ``("<think>", "</think>")``.
        language_init_std: Standard deviation of the language model's initial linear weights (None: the
            config's ``initializer_range``, 0.02). Trained from scratch, a larger value (0.08) learns to
            localise and to tell squares apart sooner (``docs/notes/demo-trials.md``).
    """

    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    intermediate_size: int = 128
    vision_depth: int = 2
    vision_embed_dim: int = 32
    vision_num_heads: int = 2
    min_pixels: int = DEFAULT_MIN_PIXELS
    max_pixels: int = TINY_MAX_PIXELS
    vocab_size: int = 600
    corpus: tuple[str, ...] = ()
    extra_tokens: tuple[str, ...] = field(default_factory=tuple)
    language_init_std: float | None = None

    def __post_init__(self) -> None:
        head_dim, remainder = divmod(self.hidden_size, self.num_attention_heads)
        if remainder or head_dim % 2:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be an even multiple of num_attention_heads "
                f"({self.num_attention_heads}) so that the rotary sections fit the head dim"
            )
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")
        if self.vision_embed_dim % self.vision_num_heads:
            raise ValueError("vision_embed_dim must be a multiple of vision_num_heads")

    @property
    def mrope_section(self) -> list[int]:
        """Split of half the head dim into temporal / height / width rotary sections."""
        half = self.hidden_size // self.num_attention_heads // 2
        temporal = half // 4 if half >= 4 else 0
        height = (half - temporal) // 2
        return [temporal, height, half - temporal - height]


def _train_tokenizer(family: Family, spec: TinyModelSpec):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2TokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN_SPLIT_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=spec.vocab_size,
        special_tokens=[],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator([*_DEFAULT_CORPUS, *spec.corpus], trainer)
    chat_template = QWEN3_VL_CHAT_TEMPLATE if family == "qwen3_vl" else QWEN_VL_CHAT_TEMPLATE
    wrapped = Qwen2TokenizerFast(
        tokenizer_object=tokenizer,
        unk_token=None,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=list(QWEN_SPECIAL_TOKENS[1:]),
        errors="replace",
        clean_up_tokenization_spaces=False,
        model_max_length=32768,
    )
    wrapped.add_special_tokens({"additional_special_tokens": list(QWEN_SPECIAL_TOKENS[1:])})
    added = QWEN3_VL_EXTRA_ADDED_TOKENS if family == "qwen3_vl" else QWEN_EXTRA_ADDED_TOKENS
    wrapped.add_tokens([*added, *(token for token in spec.extra_tokens if token not in added)])
    wrapped.chat_template = chat_template
    wrapped.padding_side = "left"
    return wrapped


def _vision_config(family: Family, spec: TinyModelSpec) -> tuple[type, dict[str, Any]]:
    """The model config class of ``family`` and the settings of its vision tower."""
    if family == "qwen2_vl":
        from transformers import Qwen2VLConfig

        return Qwen2VLConfig, {
            "depth": spec.vision_depth,
            "embed_dim": spec.vision_embed_dim,
            "hidden_size": spec.hidden_size,
            "num_heads": spec.vision_num_heads,
            "mlp_ratio": 2,
        }
    if family == "qwen3_vl":
        from transformers import Qwen3VLConfig

        return Qwen3VLConfig, {
            "depth": spec.vision_depth,
            "hidden_size": spec.vision_embed_dim,
            "intermediate_size": spec.vision_embed_dim * 2,
            "num_heads": spec.vision_num_heads,
            "out_hidden_size": spec.hidden_size,
            "patch_size": model_family(family).patch_size,
            "num_position_embeddings": 64,  # an 8 x 8 grid of learned positions, interpolated per image
            "deepstack_visual_indexes": [0],  # one early vision block also feeds the first decoder layer
        }
    from transformers import Qwen2_5_VLConfig

    return Qwen2_5_VLConfig, {
        "depth": spec.vision_depth,
        "hidden_size": spec.vision_embed_dim,
        "intermediate_size": spec.vision_embed_dim * 2,
        "num_heads": spec.vision_num_heads,
        "out_hidden_size": spec.hidden_size,
        "fullatt_block_indexes": [spec.vision_depth - 1],
        "window_size": 56,
    }


def _rope_scaling(family: Family, spec: TinyModelSpec) -> dict[str, Any]:
    """Multimodal rotary settings: Qwen3-VL interleaves the sections, with as many height as width frequencies."""
    if family != "qwen3_vl":
        return {"type": "mrope", "rope_type": "default", "mrope_section": spec.mrope_section}
    half = spec.hidden_size // spec.num_attention_heads // 2
    spatial = max(1, half * 5 // 16)  # Qwen3-VL's own split is [24, 20, 20] of 64
    return {"rope_type": "default", "mrope_section": [half - 2 * spatial, spatial, spatial], "mrope_interleaved": True}


def _build_config(family: Family, spec: TinyModelSpec, tokenizer):
    """The model config: the spec's sizes, the tokenizer's vocabulary and special token ids."""
    token_id = tokenizer.convert_tokens_to_ids
    text_config = {
        "vocab_size": len(tokenizer),
        "hidden_size": spec.hidden_size,
        "intermediate_size": spec.intermediate_size,
        "num_hidden_layers": spec.num_hidden_layers,
        "num_attention_heads": spec.num_attention_heads,
        "num_key_value_heads": spec.num_key_value_heads,
        "max_position_embeddings": 4096,
        "rope_theta": 10000.0,
        "rope_scaling": _rope_scaling(family, spec),
        "tie_word_embeddings": True,
        "bos_token_id": token_id("<|endoftext|>"),
        "eos_token_id": token_id("<|im_end|>"),
        "pad_token_id": token_id("<|endoftext|>"),
    }
    if family == "qwen3_vl":
        text_config["head_dim"] = spec.hidden_size // spec.num_attention_heads
    special_ids = {
        "image_token_id": token_id("<|image_pad|>"),
        "video_token_id": token_id("<|video_pad|>"),
        "vision_start_token_id": token_id("<|vision_start|>"),
        "vision_end_token_id": token_id("<|vision_end|>"),
    }
    config_class, vision_config = _vision_config(family, spec)
    config = config_class(
        text_config=text_config,
        vision_config=vision_config,
        tie_word_embeddings=True,
        **special_ids,
        **{k: v for k, v in text_config.items() if k.endswith("token_id")},
    )
    return config


def _processor_classes(family: Family) -> tuple[type, str]:
    """The family's processor class and the name of its video processor class."""
    if family == "qwen2_vl":
        from transformers import Qwen2VLProcessor

        return Qwen2VLProcessor, "Qwen2VLVideoProcessor"
    if family == "qwen3_vl":
        from transformers import Qwen3VLProcessor

        return Qwen3VLProcessor, "Qwen3VLVideoProcessor"
    from transformers import Qwen2_5_VLProcessor

    return Qwen2_5_VLProcessor, "Qwen2VLVideoProcessor"


def _build_processor(family: Family, spec: TinyModelSpec, tokenizer):
    import transformers
    from transformers import Qwen2VLImageProcessor

    patches = {"patch_size": model_family(family).patch_size}
    if family == "qwen3_vl":  # Qwen3-VL normalises to [-1, 1] (its preprocessor_config.json)
        patches.update(image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5])
    image_processor = Qwen2VLImageProcessor(min_pixels=spec.min_pixels, max_pixels=spec.max_pixels, **patches)
    processor_class, video_class_name = _processor_classes(family)
    chat_template = tokenizer.chat_template
    try:
        video_class = getattr(transformers, video_class_name)
        video_processor = video_class(
            size={"shortest_edge": spec.min_pixels, "longest_edge": spec.max_pixels},
            min_pixels=spec.min_pixels,
            max_pixels=spec.max_pixels,
            **patches,
        )
    except ImportError:  # video processors need torchvision
        if family == "qwen3_vl":
            raise ImportError(
                "a tiny Qwen3-VL needs torchvision: Qwen3VLProcessor requires its video processor"
            ) from None
        return processor_class(image_processor=image_processor, tokenizer=tokenizer, chat_template=chat_template)
    return processor_class(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=video_processor,
        chat_template=chat_template,
    )


def build_tiny_qwen_vl(
    path: str | Path,
    family: Family = "qwen2_vl",
    seed: int = 0,
    spec: TinyModelSpec | None = None,
) -> Path:
    """Write a tiny, randomly initialised Qwen-VL checkpoint (model, tokenizer, processors) to ``path``.

    Args:
        path: Output directory (created if missing; existing files are overwritten).
        family: ``"qwen2_vl"`` (Qwen2-VL), ``"qwen2_5_vl"`` (Qwen2.5-VL) or ``"qwen3_vl"`` (Qwen3-VL): a key
            of :data:`univg_plugin.qwen_vl.MODEL_FAMILIES`.
        seed: Seed of the random weights; the same seed and spec give identical files.
        spec: Sizes; :class:`TinyModelSpec` defaults when omitted.

    Returns:
        The checkpoint directory, loadable with ``AutoProcessor.from_pretrained`` and
        ``AutoModelForImageTextToText.from_pretrained`` (or the model class) and usable with
        the family's LLaMA-Factory template (``ModelFamily.llamafactory_template``) and TRL's ``GRPOTrainer``.
    """
    import torch
    import transformers
    from transformers import GenerationConfig

    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {', '.join(FAMILIES)}")
    spec = spec or TinyModelSpec()
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)

    tokenizer = _train_tokenizer(family, spec)
    config = _build_config(family, spec, tokenizer)
    torch.manual_seed(seed)
    model = getattr(transformers, model_family(family).model_class)(config).to(torch.float32).eval()
    if spec.language_init_std is not None:
        for module in model.model.language_model.modules():
            if isinstance(module, torch.nn.Linear):
                torch.nn.init.normal_(module.weight, std=spec.language_init_std)
    eos_ids = [tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")]
    model.generation_config = GenerationConfig(
        eos_token_id=eos_ids, pad_token_id=tokenizer.pad_token_id, bos_token_id=config.bos_token_id
    )
    model.save_pretrained(out, safe_serialization=True)
    _build_processor(family, spec, tokenizer).save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "univg_tiny_spec.json").write_text(
        json.dumps({"family": family, "seed": seed, **asdict(spec)}, indent=2) + "\n"
    )
    return out

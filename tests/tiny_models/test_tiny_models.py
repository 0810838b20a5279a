"""The offline tiny checkpoints: deterministic, loadable by transformers, both families."""

from __future__ import annotations

import hashlib

import pytest
import torch
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor

from univg_plugin.tiny_models import TinyModelSpec, build_tiny_qwen_vl


def _digest(path) -> str:
    return hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()


def test_same_seed_gives_identical_weights_and_tokenizer(tmp_path):
    first = build_tiny_qwen_vl(tmp_path / "a", seed=3)
    second = build_tiny_qwen_vl(tmp_path / "b", seed=3)
    other = build_tiny_qwen_vl(tmp_path / "c", seed=4)
    assert _digest(first) == _digest(second)
    assert _digest(first) != _digest(other)
    assert (first / "tokenizer.json").read_text() == (second / "tokenizer.json").read_text()


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl"])
def test_checkpoint_loads_and_generates_with_several_images(tmp_path, family):
    path = build_tiny_qwen_vl(tmp_path / family, family=family)
    processor = AutoProcessor.from_pretrained(path)
    model = AutoModelForImageTextToText.from_pretrained(path)
    assert (
        type(model).__name__
        == {"qwen2_vl": "Qwen2VLForConditionalGeneration", "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration"}[family]
    )
    tokenizer = processor.tokenizer
    for token in ("<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|image_pad|>", "<|box_start|>", "<|box_end|>"):
        assert token in tokenizer.get_vocab(), token
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "image"},
                {"type": "image"},
                {"type": "text", "text": "Where is the square in image 2?"},
            ],
        }
    ]
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert text.count("<|image_pad|>") == 2 and text.endswith("<|im_start|>assistant\n")
    images = [Image.new("RGB", (100, 80), "red"), Image.new("RGB", (64, 96), "blue")]
    inputs = processor(text=[text], images=images, return_tensors="pt")
    assert inputs["image_grid_thw"].shape == (2, 3)
    suppress = [tokenizer.convert_tokens_to_ids(t) for t in ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>")]
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=6, do_sample=True, suppress_tokens=suppress)
    assert output.shape[1] > inputs["input_ids"].shape[1]


def test_spec_rejects_rotary_sections_that_do_not_fit():
    with pytest.raises(ValueError, match="even multiple"):
        TinyModelSpec(hidden_size=60, num_attention_heads=4)


def test_tokenizer_splits_digits_one_per_token(tiny_qwen2_vl):
    tokenizer = AutoProcessor.from_pretrained(tiny_qwen2_vl).tokenizer
    tokens = tokenizer.tokenize("(316,58)")
    assert [t for t in tokens if t.isdigit()] == ["3", "1", "6", "5", "8"]


def test_language_init_std_scales_only_the_language_models_linear_weights(tmp_path):
    spec = TinyModelSpec(language_init_std=0.08)
    default = AutoModelForImageTextToText.from_pretrained(build_tiny_qwen_vl(tmp_path / "a"))
    wider = AutoModelForImageTextToText.from_pretrained(build_tiny_qwen_vl(tmp_path / "b", spec=spec))
    weights = dict(default.named_parameters())
    rescaled = kept = 0
    for name, weight in wider.named_parameters():
        if "language_model" in name and name.endswith("proj.weight"):
            assert abs(weight.std().item() - 0.08) < 0.01 and weights[name].std().item() < 0.03, name
            rescaled += 1
        elif "visual" in name or "embed_tokens" in name:
            assert torch.equal(weight, weights[name]), name
            kept += 1
    assert rescaled == 7 * spec.num_hidden_layers and kept > 0  # q, k, v, o, gate, up, down per layer

"""The offline tiny checkpoints: deterministic, loadable by transformers, both families."""

from __future__ import annotations

import hashlib

import pytest
import torch
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor

from univg_plugin.boxes import input_size_from_grid
from univg_plugin.qwen_vl import MODEL_FAMILIES
from univg_plugin.tiny_models import FAMILIES, TinyModelSpec, build_tiny_qwen_vl


def _digest(path) -> str:
    return hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()


def test_same_seed_gives_identical_weights_and_tokenizer(tmp_path):
    first = build_tiny_qwen_vl(tmp_path / "a", seed=3)
    second = build_tiny_qwen_vl(tmp_path / "b", seed=3)
    other = build_tiny_qwen_vl(tmp_path / "c", seed=4)
    assert _digest(first) == _digest(second)
    assert _digest(first) != _digest(other)
    assert (first / "tokenizer.json").read_text() == (second / "tokenizer.json").read_text()


#: transformers' model class of each family.
MODEL_CLASSES = {
    "qwen2_vl": "Qwen2VLForConditionalGeneration",
    "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
    "qwen3_vl": "Qwen3VLForConditionalGeneration",
}


def test_every_family_is_built():
    assert set(FAMILIES) == set(MODEL_CLASSES) == set(MODEL_FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_checkpoint_loads_and_generates_with_several_images(tmp_path, family):
    path = build_tiny_qwen_vl(tmp_path / family, family=family)
    processor = AutoProcessor.from_pretrained(path)
    model = AutoModelForImageTextToText.from_pretrained(path)
    assert type(model).__name__ == MODEL_CLASSES[family]
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


def test_qwen3_vl_has_its_processors_patches_tokens_and_template(tiny_qwen3_vl):
    processor = AutoProcessor.from_pretrained(tiny_qwen3_vl)
    assert type(processor).__name__ == "Qwen3VLProcessor"
    assert type(processor.video_processor).__name__ == "Qwen3VLVideoProcessor"
    for part in (processor.image_processor, processor.video_processor):  # Qwen3-VL: 16-pixel patches, 2 x 2 merged
        assert (part.patch_size, part.merge_size, list(part.image_mean)) == (16, 2, [0.5, 0.5, 0.5])
    image = Image.new("RGB", (90, 60))
    grid = processor(text=["<|vision_start|><|image_pad|><|vision_end|>"], images=[image])["image_grid_thw"]
    assert grid.tolist() == [[1, 4, 6]]  # resized to 96 x 64 (multiples of 32), in 16-pixel patches
    assert input_size_from_grid(grid, MODEL_FAMILIES["qwen3_vl"].patch_size).tolist() == [[96.0, 64.0]]
    assert processor.tokenizer.tokenize("<think>\n</think>") == ["<think>", "Ċ", "</think>"]
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where?"}]}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert (
        text == "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Where?<|im_end|>\n<|im_start|>assistant\n"
    )


def test_qwen3_vl_reads_a_video(tiny_qwen3_vl):
    import numpy as np

    processor = AutoProcessor.from_pretrained(tiny_qwen3_vl)
    model = AutoModelForImageTextToText.from_pretrained(tiny_qwen3_vl)
    messages = [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "What moves?"}]}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    video = np.zeros((4, 64, 64, 3), dtype=np.uint8)
    inputs = processor(text=[text], videos=[video], return_tensors="pt")
    assert inputs["video_grid_thw"].tolist() == [[2, 2, 2]] and "seconds>" in processor.decode(inputs["input_ids"][0])
    with torch.no_grad():
        assert model(**inputs).logits.shape[:2] == inputs["input_ids"].shape


def test_qwen3_vl_build_is_deterministic(tmp_path):
    first = build_tiny_qwen_vl(tmp_path / "a", family="qwen3_vl", seed=1)
    second = build_tiny_qwen_vl(tmp_path / "b", family="qwen3_vl", seed=1)
    files = sorted(path.name for path in first.iterdir())
    assert files == sorted(path.name for path in second.iterdir())
    for name in files:  # weights, tokenizer, processors' configs (their file names differ between transformers 4 and 5)
        assert (first / name).read_bytes() == (second / name).read_bytes(), name

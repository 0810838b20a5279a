"""Generation: ``univg eval run`` end to end on a tiny checkpoint, resuming, prompts and token suppression."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from univg_plugin.cli import main
from univg_plugin.data import read
from univg_plugin.data.synth import generate
from univg_plugin.eval import generate_predictions, score
from univg_plugin.qwen_vl import VISION_PLACEHOLDER_TOKENS


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    """8 synthetic samples (all tasks, all difficulties) with 64-pixel images."""
    return generate(tmp_path_factory.mktemp("synth"), n=8, seed=0, image_size=64)


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_eval_run_end_to_end_and_resume(tiny_qwen2_vl, synth, tmp_path):
    out = tmp_path / "run"
    args = ["eval", "run", "--model", str(tiny_qwen2_vl), "--benchmark", str(synth), "--out-dir", str(out)]
    args += ["--batch-size", "4", "--max-new-tokens", "8", "--group-by", "difficulty"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "generated 8 sample(s)" in result.stderr and "0 already in" in result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()[2:5]] == ["easy", "medium", "hard"]
    predictions = _rows(out / "predictions.jsonl")
    ids = [sample.id for sample in read(synth)]
    assert [row["id"] for row in predictions] == ids
    assert all(isinstance(row["output"], str) and 0 <= row["generated_tokens"] <= 8 for row in predictions)
    assert all(len(row["input_sizes"]) == len(sample.images) for row, sample in zip(predictions, read(synth)))
    report = json.loads((out / "report.json").read_text())
    assert set(report["groups"]) == {"easy", "medium", "hard"} and report["all"]["count"] == 8
    assert report["settings"]["min_pixels"] == 56 * 56 and report["settings"]["max_pixels"] == 112 * 112
    assert len(_rows(out / "results.jsonl")) == 8 and (out / "report.png").is_file() and (out / "report.md").is_file()

    # an interrupted run: three rows lost, the last one cut mid-line
    lines = (out / "predictions.jsonl").read_text().splitlines(keepends=True)
    (out / "predictions.jsonl").write_text("".join(lines[:5]) + lines[5][:20])
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "generated 3 sample(s)" in result.stderr and "5 already in" in result.stderr
    assert sorted(row["id"] for row in _rows(out / "predictions.jsonl")) == sorted(ids)
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert "generated 0 sample(s)" in result.stderr and "8 already in" in result.stderr


@pytest.mark.slow
def test_greedy_generation_is_deterministic_and_batch_independent(tiny_qwen2_vl, synth, tmp_path):
    samples = list(read(synth))[:4]
    one = generate_predictions(
        tiny_qwen2_vl,
        samples,
        tmp_path / "b1.jsonl",
        batch_size=1,
        max_new_tokens=6,
        media_root=synth.parent,
        progress=False,
    )
    four = generate_predictions(
        tiny_qwen2_vl,
        samples,
        tmp_path / "b4.jsonl",
        batch_size=4,
        max_new_tokens=6,
        media_root=synth.parent,
        progress=False,
    )
    assert (one.generated, four.generated, one.skipped) == (4, 4, 0) and one.samples_per_second > 0
    assert [row["output"] for row in _rows(one.path)] == [row["output"] for row in _rows(four.path)]


@pytest.mark.slow
def test_qwen2_5_vl_rows_carry_the_model_input_sizes(tiny_qwen2_5_vl, synth, tmp_path):
    samples = list(read(synth))[:2]
    result = generate_predictions(
        tiny_qwen2_5_vl, samples, tmp_path / "p.jsonl", max_new_tokens=4, media_root=synth.parent, max_pixels=56 * 56
    )
    rows = _rows(result.path)
    assert {tuple(size) for row in rows for size in row["input_sizes"]} == {(56, 56)}
    report = score(result.path, samples, space="abs_input", max_pixels=56 * 56)
    assert report.overall.count == 2


@pytest.mark.slow
def test_vision_placeholders_are_never_generated(tiny_qwen2_vl, synth):
    from univg_plugin.eval.generate import _chat_text, _images, _Transformers

    samples = list(read(synth))[:2]
    options = {"min_pixels": None, "max_pixels": None, "media_root": synth.parent, "max_new_tokens": 24}
    options.update(do_sample=True, temperature=100.0, device="cpu", dtype=None)
    generator = _Transformers(tiny_qwen2_vl, options)
    texts = [_chat_text(generator.processor, sample) for sample in samples]
    assert all(text.count("<|image_pad|>") == len(sample.images) for text, sample in zip(texts, samples))
    assert all(text.endswith("</answer> tags.<|im_end|>\n<|im_start|>assistant\n") for text in texts)
    images = [image for row in _images(samples, synth.parent) for image in row]
    inputs = generator.processor(text=texts, images=images, padding=True, return_tensors="pt")
    vocab = generator.processor.tokenizer.get_vocab()
    vision = torch.tensor([vocab[token] for token in VISION_PLACEHOLDER_TOKENS])

    def vision_tokens(**overrides) -> int:
        torch.manual_seed(0)
        # 2 prompts x 16 sequences x 24 tokens over ~620 tokens: about 6 placeholders when not suppressed
        generated = generator.model.generate(**inputs, **{**generator.kwargs, "num_return_sequences": 16, **overrides})
        return int(torch.isin(generated[:, inputs["input_ids"].shape[1] :], vision).sum())

    assert vision_tokens(suppress_tokens=None) > 0  # a random model samples them ...
    assert vision_tokens() == 0  # ... unless suppressed


def test_missing_images_are_listed_before_loading_anything(synth, tmp_path):
    samples = list(read(synth))
    with pytest.raises(FileNotFoundError, match=r"image file\(s\) are missing .*\n.*data.jsonl:1: images\[0\]"):
        generate_predictions(tmp_path / "no-model", samples, tmp_path / "p.jsonl", media_root=tmp_path)


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed")
def test_vllm_backend_needs_vllm(synth, tmp_path):
    with pytest.raises(ImportError, match="backend 'vllm' needs vLLM, which is not installed: pip install vllm"):
        generate_predictions(tmp_path, list(read(synth)), tmp_path / "p.jsonl", backend="vllm")


def test_an_output_file_of_another_benchmark_is_refused(synth, tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "from-elsewhere", "output": ""}\n')
    with pytest.raises(ValueError, match="holds 1 prediction\\(s\\) of other samples"):
        generate_predictions(tmp_path, list(read(synth)), path, media_root=synth.parent)

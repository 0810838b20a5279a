"""Resuming ``univg eval run`` never mixes models, benchmarks or settings; a subset of a finished run is scored
as it is; malformed prediction fields are located errors."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from paths import GOLDEN

from univg_plugin.cli import main
from univg_plugin.data import DataError, read
from univg_plugin.data.synth import generate
from univg_plugin.eval import generate_predictions, read_predictions
from univg_plugin.eval.provenance import model_fingerprint, record_path
from univg_plugin.tiny_models import build_tiny_qwen_vl


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    """8 synthetic samples with 64-pixel images."""
    return generate(tmp_path_factory.mktemp("synth"), n=8, seed=0, image_size=64)


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _run(*args: str):
    return CliRunner().invoke(main, ["eval", "run", *args], catch_exceptions=False)


@pytest.mark.slow
def test_another_checkpoint_of_the_same_name_is_refused_and_fresh_regenerates(
    tiny_qwen2_vl, synth, tmp_path, monkeypatch
):
    first, second = tmp_path / "m1" / "checkpoint-500", tmp_path / "m2" / "checkpoint-500"
    shutil.copytree(tiny_qwen2_vl, first)
    build_tiny_qwen_vl(second, family="qwen2_vl", seed=1)
    monkeypatch.chdir(tmp_path)  # the default output folder, eval/checkpoint-500-data, is the same for both
    common = ["--benchmark", str(synth), "--limit", "2", "--max-new-tokens", "2", "--no-plot"]
    result = _run("--model", str(first), *common)
    assert result.exit_code == 0, result.output
    predictions = tmp_path / "eval" / "checkpoint-500-data" / "predictions.jsonl"
    written = predictions.read_text()

    result = _run("--model", str(second), *common)
    assert result.exit_code == 1
    assert "holds 2 prediction(s) made otherwise than this run" in result.stderr
    assert f"model path: {first.resolve()} (recorded) != {second.resolve()} (now)" in result.stderr
    assert "model fingerprint:" in result.stderr and "--fresh" in result.stderr
    assert predictions.read_text() == written

    result = _run("--model", str(second), *common, "--fresh")
    assert result.exit_code == 0, result.output
    assert "generated 2 sample(s)" in result.stderr and "0 already in" in result.stderr
    assert json.loads(record_path(predictions).read_text())["model"]["path"] == str(second.resolve())
    assert _run("--model", str(second), *common).exit_code == 0


@pytest.mark.slow
def test_the_same_path_with_other_weights_settings_or_prompts_is_refused(tiny_qwen2_vl, synth, tmp_path):
    model = tmp_path / "ckpt"
    shutil.copytree(tiny_qwen2_vl, model)
    samples = list(read(synth))[:2]
    out = tmp_path / "p.jsonl"
    options = {"max_new_tokens": 2, "media_root": synth.parent, "progress": False}
    assert generate_predictions(model, samples, out, **options).generated == 2
    assert generate_predictions(model, samples, out, **options).skipped == 2  # the same run resumes

    changes = [
        ({"max_new_tokens": 3}, r"max_new_tokens: 2 \(recorded\) != 3 \(now\)"),
        ({"do_sample": True}, r"do_sample: False \(recorded\) != True \(now\)"),
        ({"max_pixels": 56 * 56}, r"max_pixels: None \(recorded\) != 3136 \(now\)"),
        ({"dtype": "bfloat16"}, r"dtype: 'float32' \(recorded\) != 'bfloat16' \(now\)"),
        ({"media_root": tmp_path}, r"media_root: "),
    ]
    for change, message in changes:
        with pytest.raises(ValueError, match=message):
            generate_predictions(model, samples, out, **{**options, **change})
    edited = [samples[0].model_copy(update={"question": "Another question."}), samples[1]]
    with pytest.raises(ValueError, match=r"prompt of 1 sample\(s\) differs \(e.g. '[^']+'\)"):
        generate_predictions(model, edited, out, **options)

    build_tiny_qwen_vl(tmp_path / "other", family="qwen2_vl", seed=1)
    shutil.copy(tmp_path / "other" / "model.safetensors", model / "model.safetensors")
    with pytest.raises(ValueError, match=r"model fingerprint: sha256:\w+ \(recorded\) != sha256:\w+ \(now\)"):
        generate_predictions(model, samples, out, **options)
    assert len(_rows(out)) == 2
    result = generate_predictions(model, samples, out, **options, fresh=True)
    assert (result.generated, result.skipped, len(_rows(out))) == (2, 0, 2)


@pytest.mark.slow
def test_limit_after_a_full_run_scores_the_subset_and_generates_nothing(tiny_qwen2_vl, synth, tmp_path):
    out = tmp_path / "run"
    common = ["--model", str(tiny_qwen2_vl), "--benchmark", str(synth), "--out-dir", str(out)]
    common += ["--max-new-tokens", "2", "--no-plot"]
    assert _run(*common).exit_code == 0
    result = _run(*common, "--limit", "5")
    assert result.exit_code == 0, result.output
    assert "generated 0 sample(s)" in result.stderr and "5 already in" in result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["all"]["count"] == 5 and report["settings"]["predictions"] == 5
    assert len(_rows(out / "results.jsonl")) == 5 and len(_rows(out / "predictions.jsonl")) == 8
    result = _run(*common)  # and the full set again
    assert result.exit_code == 0 and "8 already in" in result.stderr


def test_predictions_without_a_record_are_refused(synth, tmp_path):
    samples = list(read(synth))
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"id": samples[0].id, "output": "(1,2),(3,4)"}) + "\n")
    message = r"holds 1 prediction\(s\) but no record of what produced them \(p.meta.json is missing\).*--fresh"
    with pytest.raises(ValueError, match=message):
        generate_predictions(tmp_path, samples, path, media_root=synth.parent)
    assert path.read_text().count("\n") == 1  # nothing discarded


def test_an_unreadable_record_is_a_located_error(synth, tmp_path):
    samples = list(read(synth))
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"id": samples[0].id, "output": ""}) + "\n")
    record_path(path).write_text('{"model": 3}')
    with pytest.raises(DataError, match=r"p.meta.json: model: must be an object"):
        generate_predictions(tmp_path, samples, path, media_root=synth.parent)


def test_model_fingerprint_follows_the_files_that_make_the_model(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "qwen2_vl"}')
    (model / "model.safetensors").write_bytes(os.urandom(1 << 16))
    (model / "report.json").write_text("{}")  # not part of the model
    before = model_fingerprint(model)
    assert before.startswith("sha256:") and model_fingerprint(model) == before
    copy = shutil.copytree(model, tmp_path / "copy")
    assert model_fingerprint(copy) == before  # a copy is the same model
    (model / "report.json").write_text('{"changed": true}')
    assert model_fingerprint(model) == before
    weights = bytearray((model / "model.safetensors").read_bytes())
    weights[1000] ^= 1
    (model / "model.safetensors").write_bytes(bytes(weights))
    assert model_fingerprint(model) != before
    (copy / "config.json").write_text('{"model_type": "qwen2_5_vl"}')
    assert model_fingerprint(copy) != before
    assert model_fingerprint(tmp_path / "not-a-directory") is None


def test_large_weight_files_are_sampled(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    shard = model / "model-00001-of-00002.safetensors"
    with open(shard, "wb") as stream:
        stream.truncate(64 << 20)  # 64 MiB, read in sampled blocks
    before = model_fingerprint(model)
    with open(shard, "r+b") as stream:
        stream.seek(0)
        stream.write(b"\x01")
    assert model_fingerprint(model) != before
    changed = model_fingerprint(model)
    with open(shard, "ab") as stream:
        stream.write(b"\x00")
    assert model_fingerprint(model) not in (before, changed)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        (
            "[[null, 2]]",
            r"p.jsonl:1: input_sizes\[0\]: must be \[width, height\] of positive integers, got \[None, 2\]",
        ),
        ('[["56", 56]]', r"p.jsonl:1: input_sizes\[0\]: must be \[width, height\] of positive integers"),
        ("[[true, 56]]", r"p.jsonl:1: input_sizes\[0\]: must be"),
        ("[[56, 0]]", r"p.jsonl:1: input_sizes\[0\]: must be"),
        ("[[56, 56.5]]", r"p.jsonl:1: input_sizes\[0\]: must be"),
        ("[[56, NaN]]", r"p.jsonl:1: input_sizes\[0\]: must be"),
        ("[[56, 56], [1e400, 56]]", r"p.jsonl:1: input_sizes\[1\]: must be"),
        ("[[56, 56, 1]]", r"p.jsonl:1: input_sizes\[0\]: must be"),
        ('"56x56"', r"p.jsonl:1: input_sizes: must be a list"),
        ("[[56, " + "9" * 5000 + "]]", r"p.jsonl:1: row: cannot be read: Exceeds the limit \(4300 digits\)"),
    ],
)
def test_malformed_input_sizes_are_located_errors(tmp_path, sizes, message):
    path = tmp_path / "p.jsonl"
    path.write_text(f'{{"id": "a", "output": "x", "input_sizes": {sizes}}}\n')
    with pytest.raises(DataError, match=message):
        read_predictions(path)


def test_deeply_nested_json_is_a_located_error(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a", "output": "x", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    with pytest.raises(DataError, match=r"p.jsonl:1: row: cannot be read"):
        read_predictions(path)


def test_univg_eval_score_names_a_malformed_field(tmp_path):
    predictions = tmp_path / "p.jsonl"
    predictions.write_text('{"id": "u1", "output": "x", "input_sizes": [[null, 2]]}\n')
    args = ["eval", "score", str(predictions), "--benchmark", str(GOLDEN / "eval" / "univg.jsonl"), "--no-plot"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "p.jsonl:1: input_sizes[0]: must be [width, height] of positive integers" in result.stderr
    assert "Traceback" not in result.output

"""`univg eval --family`: the answers are read in the family's space (`--space` still wins); `eval run` says so
when the checkpoint's own family writes another space than the one scored."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from paths import GOLDEN

from univg_plugin.cli import main

#: u-1 of the golden univg benchmark: a 224 x 224 image, target (12, 30, 240, 310) in 0-1000.
JSON_ANSWER = '<think>x</think><answer>[{"bbox_2d": [12, 30, 240, 310]}]</answer>'


def iou_of_u1(tmp_path, *options: str) -> float:
    predictions = tmp_path / "p.jsonl"
    predictions.write_text(json.dumps({"id": "u-1", "output": JSON_ANSWER}) + "\n")
    out = tmp_path / "-".join(options)
    args = ["eval", "score", str(predictions), "--benchmark", str(GOLDEN / "univg.jsonl"), "--out-dir", str(out)]
    result = CliRunner().invoke(main, [*args, "--no-plot", "--gallery", "0", *options])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return next(row["iou"] for row in rows if row["id"] == "u-1")


def test_the_family_sets_the_space_and_space_overrides_it(tmp_path):
    assert iou_of_u1(tmp_path, "--family", "qwen3_vl") == 1.0  # 0-1000, JSON
    assert iou_of_u1(tmp_path, "--family", "qwen2_5_vl") == pytest.approx(
        0.0252, abs=1e-3
    )  # read as pixels of 224 x 224
    assert iou_of_u1(tmp_path, "--family", "qwen2_5_vl", "--space", "norm1000") == 1.0
    assert iou_of_u1(tmp_path) == 1.0  # no family: Qwen2-VL's norm1000, as before


def test_help_names_the_families():
    result = CliRunner().invoke(main, ["eval", "score", "--help"])
    assert "--family [qwen2_5_vl|qwen2_vl|qwen3_vl]" in result.output


@pytest.mark.slow
def test_run_notes_a_checkpoint_of_another_familys_space(tiny_qwen2_5_vl, tmp_path):
    from univg_plugin.data.synth import generate

    synth = generate(tmp_path / "synth", n=1, seed=0, image_size=64)
    args = ["eval", "run", "--model", str(tiny_qwen2_5_vl), "--benchmark", str(synth), "--max-new-tokens", "2"]
    args += ["--no-plot", "--gallery", "0"]
    plain = CliRunner().invoke(main, [*args, "--out-dir", str(tmp_path / "a")])
    assert plain.exit_code == 0, plain.output
    assert (
        "note: the checkpoint is a qwen2_5_vl model, which writes boxes in abs_input; its answers are scored in "
        "norm1000 (pass --family qwen2_5_vl" in plain.stderr
    )
    named = CliRunner().invoke(main, [*args, "--family", "qwen2_5_vl", "--out-dir", str(tmp_path / "b")])
    assert named.exit_code == 0 and "note: the checkpoint" not in named.stderr


def test_the_familys_resize_factor_converts_abs_input_without_recorded_input_sizes():
    from univg_plugin.data import GroundingSample
    from univg_plugin.eval import score

    # a 1000 x 1000 image is resized to 992 x 992 by Qwen3-VL (factor 32), to 1008 x 1008 by Qwen2-VL's factor 28
    sample = GroundingSample(
        id="a", images=["x.png"], question="Find it.", boxes=[[125, 250, 625, 750]], image_sizes=[[1000, 1000]]
    )
    outputs = {"a": '<answer>[{"bbox_2d": [124, 248, 620, 744]}]</answer>'}
    report = score(outputs, [sample], family="qwen3_vl", space="abs_input", max_pixels=16777216)
    assert report.results.iou[0] == pytest.approx(1.0)
    assert report.settings["family"] == "qwen3_vl" and report.settings["space"] == "abs_input"
    assert score(outputs, [sample], space="abs_input", max_pixels=16777216).results.iou[0] == pytest.approx(
        0.946, abs=1e-3
    )
    assert score(outputs, [sample], family="qwen2_5_vl", max_pixels=16777216).settings["space"] == "abs_input"
    with pytest.raises(KeyError, match="unknown model family 'qwen9_vl'"):
        score(outputs, [sample], family="qwen9_vl")

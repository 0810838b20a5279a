"""Golden scoring tests, one per benchmark layout: hand-written predictions, hand-computed metrics.

The expected numbers (tests/golden/eval/*.expected.json) were computed by hand from the benchmarks'
published metric definitions (see docs/eval.md), not by this package.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paths import GOLDEN as GOLDEN_ROOT
from PIL import Image

from univg_plugin.data import DataError
from univg_plugin.eval import load_benchmark, score

GOLDEN = GOLDEN_ROOT / "eval"
_ZERO_SHOT_FILES = ("lisa_val.json", "ReasonVOS_eval.json", "ReVOS_eval.json", "LLMSeg_eval.json")


def _expected(name: str) -> dict:
    return json.loads((GOLDEN / name).read_text())


def _check_samples(report, expected: dict) -> None:
    records = {record["id"]: record for record in report.results.records(report.results.labels("task"))}
    assert set(records) == set(expected)
    for identity, want in expected.items():
        got = records[identity]
        assert got["iou"] == pytest.approx(want["iou"], abs=1e-12), identity
        assert got["reason"] == want["reason"], identity
        if "predicted_image" in want:
            assert got["predicted_image"] == want["predicted_image"], identity


def _check_groups(groups: dict, expected: dict) -> None:
    assert set(groups) == set(expected)
    for name, want in expected.items():
        got = groups[name].as_dict()
        for key, value in want.items():
            if value is None:
                assert got[key] is None, (name, key)
            else:
                assert got[key] == pytest.approx(value, abs=1e-9), (name, key)


def test_mig_bench_golden():
    samples, fmt = load_benchmark(GOLDEN / "mig_bench.json")
    assert fmt == "mig_bench"
    report = score(GOLDEN / "mig_bench.predictions.jsonl", samples, benchmark=fmt)
    expected = _expected("mig_bench.expected.json")
    _check_samples(report, expected["samples"])
    _check_groups(report.groups, expected["groups"])
    assert list(report.groups) == list(expected["groups"])  # the paper's column order
    _check_groups({"all": report.overall, "average": report.average}, {k: expected[k] for k in ("all", "average")})
    assert report.settings["policy"] == "first" and report.settings["iou_space"] == "ground truth's own"


def test_mig_bench_strict_policy_reads_only_the_answer():
    samples, fmt = load_benchmark(GOLDEN / "mig_bench.json")
    report = score(GOLDEN / "mig_bench.predictions.jsonl", samples, benchmark=fmt, policy="strict")
    records = {record["id"]: record for record in report.results.records(report.results.labels("task"))}
    assert records["diff-1"]["iou"] == pytest.approx(1.0)  # the answer box, not the one in <think>
    assert records["vd-1"]["reason"] == "no_box"  # no <answer> block


def test_revised_mig_bench_is_scored_in_its_own_0_1000_space():
    samples, fmt = load_benchmark(GOLDEN / "mig_bench_revised.json")
    assert {sample.space.value for sample in samples} == {"norm1000"}
    report = score(GOLDEN / "mig_bench_revised.predictions.jsonl", samples, benchmark=fmt)
    assert report.results.iou.tolist() == [0.5, 0.6, 0.7]  # exact: thresholds are inclusive
    assert (report.overall.acc50, report.overall.acc70) == (100.0, pytest.approx(100 / 3))


@pytest.fixture
def zero_shot_media(tmp_path) -> Path:
    """The images of the zero-shot golden files, with the sizes the expected numbers assume."""
    sizes = {"lisa/1.png": (100, 80), "lisa/2.png": (100, 80), "llmseg/1.png": (200, 100)}
    sizes.update({f"rvos/f{k}.png": (100, 100) for k in range(1, 5)})
    sizes.update({f"frames/vid1/frame_{k}.png": (100, 100) for k in range(1, 12)})
    for relative, size in sizes.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, (90, 120, 200)).save(tmp_path / relative)
    return tmp_path


def test_zero_shot_golden(zero_shot_media):
    files = [GOLDEN / name for name in _ZERO_SHOT_FILES]
    samples, fmt = load_benchmark(files, frames_root=str(zero_shot_media / "frames"))
    assert fmt == "zero_shot"
    report = score(GOLDEN / "zero_shot.predictions.jsonl", samples, benchmark=fmt, media_root=zero_shot_media)
    expected = _expected("zero_shot.expected.json")
    _check_samples(report, expected["samples"])
    _check_groups(report.groups, expected["groups"])
    assert list(report.groups) == ["lisa_val", "llmseg", "reasonvos", "revos"]  # the paper's column order
    assert report.overall.target_acc is None  # every frame question names its target frame


def test_zero_shot_needs_the_images_for_their_sizes():
    samples, fmt = load_benchmark(GOLDEN / "lisa_val.json")
    with pytest.raises(DataError, match=r"lisa_val.json\[0\]: images\[0\]: file not found: .*lisa/1.png"):
        score(GOLDEN / "zero_shot.predictions.jsonl", samples, benchmark=fmt, unknown_ids="ignore")


def test_univg_golden_grouped_by_difficulty():
    samples, fmt = load_benchmark(GOLDEN / "univg.jsonl")
    assert fmt == "univg"
    report = score(GOLDEN / "univg.predictions.jsonl", samples, benchmark=fmt, group_by="difficulty")
    expected = _expected("univg.expected.json")
    _check_samples(report, expected["samples"])
    assert list(report.groups) == ["easy", "medium", "hard"]
    _check_groups(report.groups, expected["difficulty"])
    by_task = report.by("task")
    assert by_task["group_grounding"].target_acc == 50.0 and by_task["common_object"].target_acc is None

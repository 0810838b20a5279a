"""A benchmark's ground truth is scored as its official script scores it: odd boxes as written, every row counted.

The rows below are built like the seven odd rows of the published MIG-Bench file (``MIG_data.json``, 4,295
items: rows 7, 126 and 163 have y1 > y2, row 512 x1 > x2, row 105 both, rows 34 and 703 reach past 1.0),
plus a zero-width box. The expected IoUs are computed by hand with Migician's ``calculate_iou``
(``eval/utils.py``): ``I / (A + B - I)`` on the boxes as written, 0 when the intersection is empty.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from univg_plugin.cli import main
from univg_plugin.data import DataError, read
from univg_plugin.eval import load_benchmark, score
from univg_plugin.eval.metrics import benchmark_iou

# (answer as in MIG_data.json, the model's output in 0-1000, the official IoU computed by hand)
_ROWS = [
    ([0.321, 0.096, 0.999, 0.724], "(321,96),(999,724)", 1.0),  # row 0, a normal one
    ([0.027, 0.18, 0.143, 0.051], "(27,51),(143,180)", 0.0),  # row 7: y1 > y2, never hit
    ([0.319, 0.186, 1.048, 0.535], "(319,186),(1000,535)", 0.681 / 0.729),  # row 34: x2 past 1.0
    ([0.271, 0.382, 0.085, 0.225], "(85,225),(271,382)", 0.0),  # row 105: both swapped
    ([0.729, 0.64, 0.526, 0.835], "(526,640),(729,835)", 0.0),  # row 512: x1 > x2
    ([0.502, 0.254, 0.99, 1.035], "(502,254),(990,1000)", 0.746 / 0.781),  # row 703: y2 past 1.0
    ([0.3, 0.2, 0.3, 0.6], "(300,200),(301,600)", 0.0),  # zero width: I = 0
]


def _mig_row(answer: list[float]) -> dict:
    return {
        "task": "common_object",
        "images": ["./MIG-Bench/images/a.jpg", "./MIG-Bench/images/b.jpg"],
        "question": "These images share one object in common. Recognize and locate this object in the 1th image. ",
        "answer": answer,
        "additional_info": "",
        "need_format": True,
    }


@pytest.fixture
def mig_bench(tmp_path) -> Path:
    path = tmp_path / "MIG_data.json"
    path.write_text(json.dumps([_mig_row(answer) for answer, _, _ in _ROWS], indent=4))
    return path


def _predictions(path: Path, outputs: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps({"id": key, "output": value}) + "\n" for key, value in outputs.items()))
    return path


def test_mig_bench_rows_with_odd_truth_are_read_as_written(mig_bench):
    samples, fmt = load_benchmark(mig_bench)
    assert fmt == "mig_bench" and len(samples) == len(_ROWS)
    assert [sample.id for sample in samples] == [f"MIG_data-{index}" for index in range(len(_ROWS))]
    assert [list(sample.boxes[0]) for sample in samples] == [answer for answer, _, _ in _ROWS]
    assert {sample.space.value for sample in samples} == {"norm1"}
    assert samples[1].where == f"{mig_bench}[1]" and samples[1].target_image == 1
    assert samples[1].question == samples[0].question and samples[1].task == "common_object"


def test_mig_bench_odd_truth_scores_as_the_official_script(mig_bench):
    samples, fmt = load_benchmark(mig_bench)
    outputs = {sample.id: output for sample, (_, output, _) in zip(samples, _ROWS)}
    report = score(outputs, samples, benchmark=fmt)
    assert report.results.iou.tolist() == pytest.approx([iou for _, _, iou in _ROWS], abs=1e-12)
    assert report.overall.count == 7  # the paper's denominator: every row
    assert report.overall.acc50 == pytest.approx(100 * 3 / 7) and report.overall.acc70 == pytest.approx(100 * 3 / 7)
    assert report.overall.miou == pytest.approx(100 * sum(iou for _, _, iou in _ROWS) / 7)
    notes = dict(report.truth_notes)
    assert sorted(notes) == [f"MIG_data-{index}" for index in range(1, 7)]
    assert "swapped" in notes["MIG_data-1"] and "y1 > y2" in notes["MIG_data-1"]
    assert "x1 > x2" in notes["MIG_data-4"] and "y1 > y2" in notes["MIG_data-3"]
    assert "beyond" in notes["MIG_data-2"] and "x2 = 1.048" in notes["MIG_data-2"]
    assert "y2 = 1.035" in notes["MIG_data-5"] and "zero width" in notes["MIG_data-6"]
    assert report.to_dict()["truth_notes"][0] == {"id": "MIG_data-1", "note": notes["MIG_data-1"]}
    assert "MIG_data-4" in report.to_markdown()


def test_univg_eval_score_reads_the_whole_file_and_notes_the_odd_rows(mig_bench, tmp_path):
    predictions = _predictions(tmp_path / "p.jsonl", {"MIG_data-0": _ROWS[0][1], "MIG_data-2": _ROWS[2][1]})
    args = ["eval", "score", str(predictions), "--benchmark", str(mig_bench), "--no-plot"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "note: 6 ground-truth box(es) are odd; scored as written, as the official script does" in result.stderr
    assert "MIG_data-1: [0.027, 0.18, 0.143, 0.051] swapped (y1 > y2)" in result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["all"]["count"] == 7 and len(report["truth_notes"]) == 6


def test_training_readers_stay_strict(mig_bench):
    with pytest.raises(DataError, match=r"MIG_data.json\[1\]: boxes\[0\]: is degenerate or swapped"):
        list(read(mig_bench, "mig_bench"))


def test_other_problems_of_a_row_with_an_odd_box_are_still_errors(tmp_path):
    row = {**_mig_row([0.027, 0.18, 0.143, 0.051]), "question": "Locate it in the 3th image."}  # 2 images
    path = tmp_path / "MIG_data.json"
    path.write_text(json.dumps([_mig_row([0.1, 0.1, 0.5, 0.5]), row]))
    with pytest.raises(DataError, match=r"MIG_data.json\[1\]: .*target_image"):
        load_benchmark(path)


def test_revised_mig_bench_in_0_1000_keeps_its_space(tmp_path):
    path = tmp_path / "revised_MIG_bench.json"
    path.write_text(json.dumps([_mig_row([10, 20, 300, 400]), _mig_row([27, 180, 143, 51])]))
    samples, _ = load_benchmark(path)
    assert [sample.space.value for sample in samples] == ["norm1000", "norm1000"]
    assert list(samples[1].boxes[0]) == [27, 180, 143, 51]
    report = score({"revised_MIG_bench-1": "(27,51),(143,180)"}, samples, benchmark="mig_bench")
    assert report.results.iou[1] == 0.0 and report.overall.count == 2


def test_zero_shot_pixel_truth_as_written(tmp_path, make_images):
    [image] = make_images(tmp_path / "lisa", 1, size=(200, 100))
    rows = [
        {"image_path": f"lisa/{image.name}", "instruction": "the chair", "boxes": [[120, 10, 40, 60]]},  # x1 > x2
        {"image_path": f"lisa/{image.name}", "instruction": "the sofa", "bbox": [[20, 10], [220, 60]]},  # past 200
    ]
    path = tmp_path / "lisa_val.json"
    path.write_text(json.dumps(rows))
    samples, fmt = load_benchmark(path)
    assert fmt == "zero_shot" and [list(sample.boxes[0]) for sample in samples] == [
        [120, 10, 40, 60],
        [20, 10, 220, 60],
    ]
    outputs = {"lisa_val-0": "(200,100),(600,600)", "lisa_val-1": "(100,100),(1000,600)"}
    report = score(outputs, samples, benchmark=fmt, media_root=tmp_path)
    # row 1 in 0-1: truth [0.1, 0.1, 1.1, 0.6], prediction [0.1, 0.1, 1.0, 0.6]: I = 0.45, U = 0.5 (+1e-6)
    assert report.results.iou.tolist() == [0.0, pytest.approx(0.45 / (0.5 + 1e-6), rel=1e-9)]
    notes = dict(report.truth_notes)
    assert "x1 > x2" in notes["lisa_val-0"] and "beyond" in notes["lisa_val-1"]


def test_univg_benchmark_truth_as_written(tmp_path):
    row = {
        "id": "u1",
        "images": ["a.png"],
        "question": "Find it.",
        "boxes": [[500, 100, 100, 500]],
        "space": "norm1000",
    }
    path = tmp_path / "bench.jsonl"
    path.write_text(json.dumps(row) + "\n")
    samples, fmt = load_benchmark(path)
    assert fmt == "univg" and list(samples[0].boxes[0]) == [500, 100, 100, 500]
    report = score({"u1": "<answer>(100,100),(500,500)</answer>"}, samples)
    assert report.results.iou.tolist() == [0.0] and "x1 > x2" in dict(report.truth_notes)["u1"]


def _official_calculate_iou(truth: list[float], predicted: list[float]) -> float:
    """Migician's ``calculate_iou`` (eval/utils.py), re-written from its definition."""
    left, top = max(truth[0], predicted[0]), max(truth[1], predicted[1])
    right, bottom = min(truth[2], predicted[2]), min(truth[3], predicted[3])
    if right < left or bottom < top:
        return 0.0
    intersection = (right - left) * (bottom - top)
    union = (
        (truth[2] - truth[0]) * (truth[3] - truth[1])
        + (predicted[2] - predicted[0]) * (predicted[3] - predicted[1])
        - intersection
    )
    return intersection / union


def _official_compute_iou(truth: list[float], predicted: list[float]) -> float:
    """The zero-shot scripts' ``compute_iou`` (AMAP-ML/UniVG-R1 eval/zero_shot/*/eval.py), re-written."""
    width = max(0.0, min(truth[2], predicted[2]) - max(truth[0], predicted[0]))
    height = max(0.0, min(truth[3], predicted[3]) - max(truth[1], predicted[1]))
    intersection = width * height
    areas = (truth[2] - truth[0]) * (truth[3] - truth[1]) + (predicted[2] - predicted[0]) * (
        predicted[3] - predicted[1]
    )
    denominator = areas - intersection + 1e-6
    return intersection / denominator if denominator else math.nan


_COORDINATE = st.sampled_from([-0.05, 0.0, 0.027, 0.18, 0.3, 0.5, 0.729, 0.999, 1.0, 1.035, 1.048])
_BOX = st.lists(_COORDINATE, min_size=4, max_size=4)
_WELL_ORDERED = _BOX.filter(lambda box: box[0] < box[2] and box[1] < box[3])


@settings(max_examples=500, deadline=None)
@given(_BOX, _WELL_ORDERED)
def test_benchmark_iou_is_the_official_formula_on_any_truth(truth, predicted):
    """Any truth box (swapped, zero-area, past the image) against a prediction the scorer keeps."""
    expected = _official_calculate_iou(truth, predicted)
    assert benchmark_iou(np.array([truth]), np.array([predicted]))[0] == pytest.approx(max(expected, 0.0), abs=1e-12)
    zero_shot = _official_compute_iou(truth, predicted)
    assume(math.isfinite(zero_shot))
    got = benchmark_iou(np.array([truth]), np.array([predicted]), 1e-6)[0]
    assert got == pytest.approx(max(zero_shot, 0.0), abs=1e-9)

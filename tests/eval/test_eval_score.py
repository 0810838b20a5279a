"""Scoring: inputs in every accepted shape, coordinate spaces, grouping, and bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from paths import GOLDEN as GOLDEN_ROOT

from univg_plugin.boxes import smart_resize
from univg_plugin.data import DataError, GroundingSample
from univg_plugin.eval import detect_format, load_benchmark, read_predictions, score
from univg_plugin.eval.predictions import PredictionSet, as_predictions, completed_ids

GOLDEN = GOLDEN_ROOT / "eval"


def _sample(identity: str = "a", **fields) -> GroundingSample:
    values = {"images": ["x.png"], "question": "Find it.", "boxes": [[100, 100, 500, 500]], **fields}
    return GroundingSample(id=identity, **values)


def _write(path: Path, rows: list) -> Path:
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))
    return path


def test_predictions_in_every_shape_score_the_same(tmp_path):
    samples = [_sample("a"), _sample("b")]
    outputs = {"a": "<answer>(100,100),(500,500)</answer>", "b": "<answer>(100,100),(300,500)</answer>"}
    path = _write(tmp_path / "p.jsonl", [{"id": key, "output": value} for key, value in outputs.items()])
    shapes = [
        outputs,
        path,
        str(path),
        [{"id": key, "output": value} for key, value in outputs.items()],
        {key: {"output": value} for key, value in outputs.items()},
        PredictionSet(dict(outputs)),
    ]
    for shape in shapes:
        assert score(shape, samples).results.iou.tolist() == [1.0, 0.5]


def test_integer_ids_are_read_as_strings(tmp_path):
    path = _write(tmp_path / "p.jsonl", [{"id": 7, "output": "<answer>(100,100),(500,500)</answer>"}])
    assert score(path, [_sample("7")]).overall.acc50 == 100.0


def test_qwen2_5_vl_boxes_in_model_input_pixels():
    sample = _sample(images=["x.png"], boxes=[[0, 0, 500, 1000]], image_sizes=[[640, 480]])
    height, width = smart_resize(480, 640, max_pixels=640000)  # 476 x 644
    output = f'[{{"bbox_2d": [0, 0, {int(width) // 2}, {int(height)}], "label": "left half"}}]'
    report = score({"a": output}, [sample], space="abs_input", policy="lenient", max_pixels=640000)
    assert report.results.iou[0] == pytest.approx(1.0)
    # input sizes recorded at generation win over the pixel limits
    recorded = {"a": {"output": "[0, 0, 50, 100]", "input_sizes": [[100, 100]]}}
    assert score(recorded, [sample], space="abs_input", policy="lenient").results.iou[0] == pytest.approx(1.0)


def test_each_prediction_converts_with_its_own_sample_sizes():
    samples = [
        _sample("a", boxes=[[0, 0, 50, 50]], space="abs_image", image_sizes=[[100, 100]]),
        _sample("b", boxes=[[0, 0, 320, 480]], space="abs_image", image_sizes=[[640, 480]]),
    ]
    predictions = {"a": "", "b": {"output": "<answer>[0, 0, 322, 476]</answer>", "input_sizes": [[644, 476]]}}
    assert score(predictions, samples, space="abs_input").results.iou.tolist() == [0.0, pytest.approx(1.0)]


def test_pixel_ground_truth_and_normalized_predictions():
    sample = _sample(boxes=[[64, 48, 320, 480]], space="abs_image", image_sizes=[[640, 480]])
    assert score({"a": "<answer>(100,100),(500,1000)</answer>"}, [sample]).results.iou[0] == pytest.approx(1.0)
    assert score({"a": "<answer>[0.1, 0.1, 0.5, 1.0]</answer>"}, [sample], space="norm1").results.iou[0] == (
        pytest.approx(1.0)
    )


def test_sizes_are_read_from_the_image_files(tmp_path, make_images):
    [image] = make_images(tmp_path, 1, size=(200, 100))
    sample = _sample(images=[image.name], boxes=[[20, 10, 100, 50]], space="abs_image")
    report = score({"a": "<answer>(100,100),(500,500)</answer>"}, [sample], media_root=tmp_path)
    assert report.results.iou[0] == pytest.approx(1.0)


def test_missing_image_names_the_sample_and_the_file(tmp_path):
    sample = _sample(images=["gone.png"], boxes=[[20, 10, 100, 50]], space="abs_image")
    with pytest.raises(DataError, match=r"id 'a': images\[0\]: file not found: .*gone.png .*media root"):
        score({"a": "<answer>(1,1),(5,5)</answer>"}, [sample], media_root=tmp_path)


def test_sizes_are_not_needed_between_normalized_spaces(tmp_path):
    sample = _sample(images=["gone.png"], boxes=[[0.1, 0.1, 0.5, 0.5]], space="norm1")
    report = score({"a": "(100,100),(500,500)"}, [sample], benchmark="mig_bench", media_root=tmp_path)
    assert report.results.iou[0] == pytest.approx(1.0)


def test_unknown_prediction_ids_are_an_error_naming_them(tmp_path):
    path = _write(tmp_path / "p.jsonl", [{"id": "a", "output": ""}, {"id": "zzz", "output": ""}])
    with pytest.raises(ValueError, match=r"1 prediction id\(s\) are not in the benchmark: 'zzz' \(.*p.jsonl:2\)"):
        score(path, [_sample("a")])
    assert score(path, [_sample("a")], unknown_ids="ignore").settings["ignored_unknown_ids"] == 1


def test_missing_predictions_count_as_failures():
    report = score({"a": "<answer>(100,100),(500,500)</answer>"}, [_sample("a"), _sample("b")])
    assert (report.overall.count, report.overall.missing, report.overall.acc50) == (2, 1, 50.0)
    assert report.results.records(["x", "x"]).__next__()["reason"] is None


def test_empty_output_is_a_parse_failure():
    report = score({"a": ""}, [_sample("a")])
    assert (report.overall.parse_fail, report.overall.acc30, report.overall.missing) == (100.0, 0.0, 0)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["{not json"], r"p.jsonl:1: row: invalid JSON"),
        ([{"id": "a"}], r"p.jsonl:1: output: is missing"),
        ([{"id": "a", "output": None}], r"p.jsonl:1: output: is missing"),
        ([{"output": "x"}], r"p.jsonl:1: id: is missing"),
        ([{"id": "a", "output": 3}], r"p.jsonl:1: output: must be a string, got 3"),
        ([{"id": "a", "output": "x", "input_sizes": [1, 2]}], r"p.jsonl:1: input_sizes: must be a list"),
        (
            [{"id": "a", "output": "x"}, {"id": "a", "output": "y"}],
            r"p.jsonl:2: id: 'a' is predicted twice \(first at .*p.jsonl:1\)",
        ),
        (["[1, 2]"], r"p.jsonl:1: row: expected a JSON object, got list"),
    ],
)
def test_bad_prediction_rows_name_file_line_and_field(tmp_path, rows, message):
    path = _write(tmp_path / "p.jsonl", rows)
    with pytest.raises(DataError, match=message):
        read_predictions(path)


def test_empty_inputs_are_errors(tmp_path):
    empty = tmp_path / "p.jsonl"
    empty.write_text("\n")
    with pytest.raises(ValueError, match="no predictions"):
        score(empty, [_sample()])
    with pytest.raises(ValueError, match="no samples"):
        score({"a": ""}, [])
    (tmp_path / "b.jsonl").write_text("")
    with pytest.raises(ValueError, match="no samples"):
        load_benchmark(tmp_path / "b.jsonl", "univg")


def test_bad_options_are_errors():
    with pytest.raises(ValueError, match="unknown answer policy"):
        score({"a": ""}, [_sample()], policy="everywhere")
    with pytest.raises(ValueError, match="unknown coordinate space"):
        score({"a": ""}, [_sample()], space="pixels")
    with pytest.raises(ValueError, match=r"cannot group by 'level'.*meta key: difficulty"):
        score({"a": ""}, [_sample(meta={"difficulty": "easy"})], group_by="level")
    with pytest.raises(ValueError, match="used twice"):
        score({"a": ""}, [_sample(), _sample()])


def test_grouping_by_a_meta_key_and_regrouping():
    samples = [_sample(str(i), task=task, meta={"difficulty": level}) for i, (task, level) in
               enumerate([("a", "hard"), ("b", "easy"), ("a", "medium")])]  # fmt: skip
    samples.append(_sample("3", task="b"))
    outputs = {"0": "<answer>(100,100),(500,500)</answer>", "1": "", "2": "", "3": ""}
    report = score(outputs, samples, group_by="difficulty")
    assert list(report.groups) == ["easy", "medium", "hard", "(none)"]
    assert report.groups["hard"].acc50 == 100.0
    by_task = report.regroup("task")
    assert list(by_task.groups) == ["a", "b"] and by_task.groups["a"].acc50 == 50.0
    assert [name for name, _ in by_task.rows()] == ["a", "b", "all", "average"]


def test_detect_format(tmp_path):
    assert detect_format(GOLDEN / "mig_bench.json") == "mig_bench"
    assert detect_format(GOLDEN / "lisa_val.json") == "zero_shot"
    assert detect_format(GOLDEN / "univg.jsonl") == "univg"
    _write(tmp_path / "x.jsonl", [{"foo": 1}])
    with pytest.raises(ValueError, match="cannot tell its layout"):
        detect_format(tmp_path / "x.jsonl")


def test_duplicate_ids_across_benchmark_files(tmp_path):
    rows = (GOLDEN / "univg.jsonl").read_text().splitlines()[:1]
    _write(tmp_path / "a.jsonl", rows)
    _write(tmp_path / "b.jsonl", rows)
    with pytest.raises(DataError, match=r"b.jsonl:1: id: 'u1' is used twice \(first at .*a.jsonl:1\)"):
        load_benchmark([tmp_path / "a.jsonl", tmp_path / "b.jsonl"])


def test_completed_ids_repairs_an_interrupted_last_line(tmp_path):
    path = tmp_path / "p.jsonl"
    assert completed_ids(path) == set()
    path.write_text('{"id": "a", "output": "x"}\n{"id": "b", "outp')
    assert completed_ids(path) == {"a"}
    assert path.read_text() == '{"id": "a", "output": "x"}\n'
    path.write_text('{"id": "a", "output": "x"}')  # complete but unterminated: kept
    assert completed_ids(path) == {"a"} and path.read_text().endswith("\n")


def test_as_predictions_keeps_recorded_input_sizes():
    found = as_predictions([{"id": "a", "output": "x", "input_sizes": [[28, 56]]}])
    assert found.input_sizes == {"a": ((28, 56),)} and found.where == {"a": "predictions[0]"}
    recorded = as_predictions({"a": {"output": "x", "input_sizes": [[28, 56]]}})
    assert (recorded.outputs, recorded.input_sizes) == ({"a": "x"}, {"a": ((28, 56),)})
    assert np.isnan(score({"a": "x"}, [_sample()]).results.boxes).all()

"""Stage-1 answers and stage-2 boxes written in each model family's convention (univg_plugin.qwen_vl.MODEL_FAMILIES)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from univg_plugin.boxes import answer_boxes
from univg_plugin.cli import main
from univg_plugin.data import DataError, GroundingSample, family_answer, family_boxes, paper_answer, read, write
from univg_plugin.qwen_vl import MODEL_FAMILIES
from univg_plugin.rewards.presets import preset

#: A 640 x 480 image: Qwen2.5-VL's processor with these limits resizes it to 644 x 476 (factor 28).
LIMITS = {"min_pixels": 3136, "max_pixels": 640000}


def sample(**changes) -> GroundingSample:
    fields = {
        "id": "s1",
        "images": ["a.png", "b.png"],
        "question": "Find the red star.",
        "reasoning": "Only image 2 has a red star.",
        "boxes": [[100, 200, 500, 1000]],
        "target_image": 2,
        "image_sizes": [[320, 240], [640, 480]],
    }
    return GroundingSample(**{**fields, **changes})


def test_each_family_writes_its_own_syntax_space_and_reasoning_tags():
    assert (
        family_answer(sample(), "qwen2_vl")
        == paper_answer(sample())
        == (
            "<think>Only image 2 has a red star. So the target is in image 2.</think>"
            "<answer>(100,200),(500,1000)</answer>"
        )
    )
    assert family_answer(sample(), "qwen3_vl") == (
        "<think>\nOnly image 2 has a red star. So the target is in image 2.\n</think>\n\n"
        '<answer>[{"bbox_2d": [100, 200, 500, 1000]}]</answer>'
    )
    # Qwen2.5-VL: pixels of the target image (640 x 480) once resized to 644 x 476
    assert family_answer(sample(), "qwen2_5_vl", **LIMITS).endswith(
        '</think><answer>[{"bbox_2d": [64, 95, 322, 476]}]</answer>'
    )
    # smaller limits, a smaller input (364 x 252)
    assert family_boxes(sample(), "qwen2_5_vl", min_pixels=3136, max_pixels=100000).tolist() == [[36, 50, 182, 252]]


@pytest.mark.parametrize("family", sorted(MODEL_FAMILIES))
def test_a_written_answer_passes_its_familys_format_and_scores_1_with_its_preset(family):
    # 700 x 700 is its own model input (a multiple of 28 within the limits), and the box lies on the 0-1000 grid
    exact = sample(boxes=[[70, 140, 350, 700]], space="abs_image", image_sizes=[[700, 700], [700, 700]])
    conventions = MODEL_FAMILIES[family]
    answer = family_answer(exact, family, **LIMITS)
    assert re.search(conventions.format_pattern, answer)
    options = LIMITS if conventions.box_space == "abs_input" else {}
    iou = preset(family, "iou", solution_space="abs_image", **options)
    columns = {"solution": [exact.boxes], "image_sizes": [exact.image_sizes], "target_image": [2]}
    assert iou([answer], **columns) == [1.0]
    assert preset(family, "format")([answer]) == [1.0]


def test_qwen2_5_vl_needs_the_processors_pixel_limits_and_the_image_sizes():
    with pytest.raises(ValueError, match="give min_pixels and max_pixels"):
        family_answer(sample(), "qwen2_5_vl")
    with pytest.raises(DataError, match=r"id 's1': image_sizes: .*needs"):
        family_answer(sample(image_sizes=None), "qwen2_5_vl", **LIMITS)
    with pytest.raises(KeyError, match="unknown model family 'qwen9'"):
        family_answer(sample(), "qwen9")


def test_a_box_thinner_than_one_input_pixel_is_refused():
    with pytest.raises(DataError, match=r"collapses to \[64, 95, 64, 476\] on qwen2_5_vl's model-input pixel grid"):
        family_boxes(sample(boxes=[[100, 200, 100.1, 1000]]), "qwen2_5_vl", **LIMITS)


@pytest.mark.parametrize(
    ("family", "space", "boxes"),
    [("qwen3_vl", "norm1000", [[100, 200, 500, 1000]]), ("qwen2_5_vl", "abs_input", [[64, 95, 322, 476]])],
)
def test_stage1_files_are_written_and_read_back_in_the_family(tmp_path, family, space, boxes):
    path = tmp_path / "stage1.jsonl"
    write([sample()], path, "univg_stage1", family=family, **LIMITS)
    answer = json.loads(path.read_text())["conversations"][1]["value"]
    assert answer == family_answer(sample(), family, **LIMITS)
    (back,) = read(path, "univg_stage1", family=family)
    assert (back.space.value, [list(box) for box in back.boxes], back.target_image) == (space, boxes, 2)
    assert back.reasoning == "Only image 2 has a red star."


def test_stage2_files_hold_the_familys_boxes(tmp_path):
    path = tmp_path / "stage2.json"
    write([sample()], path, "univg_stage2", family="qwen2_5_vl", **LIMITS)
    assert json.loads(path.read_text())[0]["answer"] == [64, 95, 322, 476]
    (back,) = read(path, "univg_stage2", family="qwen2_5_vl")
    assert (back.space.value, [list(box) for box in back.boxes]) == ("abs_input", [[64, 95, 322, 476]])
    write([sample()], path, "univg_stage2", family="qwen3_vl")
    assert json.loads(path.read_text())[0]["answer"] == [100, 200, 500, 1000]


def test_convert_family_option_writes_the_familys_answers(tmp_path):
    source, out = tmp_path / "data.jsonl", tmp_path / "sft" / "train.jsonl"
    write([sample()], source, "univg")
    result = CliRunner().invoke(
        main, ["data", "convert", "--from", "univg", "--to", "sharegpt", "--family", "qwen3_vl", str(source), str(out)]
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(out.read_text())["conversations"][1]["value"]
    assert answer == family_answer(sample(), "qwen3_vl") and answer_boxes(answer).tolist() == [[100, 200, 500, 1000]]
    args = ["data", "convert", "--from", "univg", "--to", "univg_stage1", "--family", "qwen2_5_vl"]
    refused = CliRunner().invoke(main, [*args, str(source), str(tmp_path / "q25.jsonl")])
    assert refused.exit_code == 1 and "give min_pixels and max_pixels" in refused.stderr
    limits = ["-w", "min_pixels=3136", "-w", "max_pixels=640000"]
    written = CliRunner().invoke(main, [*args, *limits, str(source), str(tmp_path / "q25.jsonl")])
    assert written.exit_code == 0, written.output
    assert '[{\\"bbox_2d\\": [64, 95, 322, 476]}]' in (tmp_path / "q25.jsonl").read_text()

"""The ``zero_shot`` reader: the layouts of the LISA, LLMSeg, ReasonVOS and ReVOS evaluation files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paths import GOLDEN as GOLDEN_ROOT

from univg_plugin.data import DataError, prompt_messages, read, with_instruction

GOLDEN = GOLDEN_ROOT / "eval"

# The reference scripts' prompts (AMAP-ML/UniVG-R1 eval/zero_shot/*/eval.py), word for word.
IMAGE_PROMPT = (
    "Output the bounding box in the image corresponding to the instruction: {}. First output the thinking process "
    "in <think> </think> tags and then output the bounding box in <answer> </answer> tags."
)
FRAMES_PROMPT = (
    "This is a sequence of images from a video. Please understand the entire video content, and then output the "
    "bounding box in the third image according to the instruction: {}. First output the thinking process in "
    "<think> </think> tags and then output the bounding box in <answer> </answer> tags."
)


def _rows(tmp_path: Path, name: str, rows: list) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(rows))
    return path


def test_image_rows_give_the_reference_prompt():
    first, second = read(GOLDEN / "lisa_val.json", "zero_shot")
    assert (first.id, first.task, first.space.value, first.target_image) == ("lisa_val-0", "lisa_val", "abs_image", 1)
    assert first.boxes == [(20, 10, 60, 50), (0, 0, 5, 5)]  # scored against the first, as the reference
    assert with_instruction(first.question) == IMAGE_PROMPT.format("the thing people sit on")
    content = prompt_messages(second)[0]["content"]
    assert [part["type"] for part in content] == ["image", "text"]
    assert content[1]["text"] == IMAGE_PROMPT.format("what keeps the rain off")
    [llmseg] = read(GOLDEN / "LLMSeg_eval.json", "zero_shot")
    assert (llmseg.task, llmseg.boxes) == ("llmseg", [(10, 10, 50, 50)])


def test_frame_rows_target_the_third_frame():
    [sample] = read(GOLDEN / "ReasonVOS_eval.json", "zero_shot")
    assert (sample.task, sample.target_image, sample.boxes) == ("reasonvos", 3, [(10, 20, 30, 40)])
    assert with_instruction(sample.question) == FRAMES_PROMPT.format("the animal that is about to jump")
    assert [part["type"] for part in prompt_messages(sample)[0]["content"]] == ["image"] * 4 + ["text"]


def test_video_rows_resolve_frames_sorted_by_number(tmp_path):
    folder = tmp_path / "vid1"
    folder.mkdir()
    for k in range(1, 12):
        (folder / f"frame_{k}.png").write_bytes(b"")
    (folder / "notes.txt").write_text("not a frame")
    first, second = read(GOLDEN / "ReVOS_eval.json", "zero_shot", frames_root=str(tmp_path))
    assert first.boxes == [(40, 40, 80, 80)] and first.meta == {"video_id": "vid1"}
    assert [Path(path).name for path in second.images] == ["frame_2.png", "frame_4.png", "frame_10.png", "frame_11.png"]
    with pytest.raises(DataError, match=r"ReVOS_eval.json\[0\]: frames: video rows need the reader option frames_root"):
        next(read(GOLDEN / "ReVOS_eval.json", "zero_shot"))
    with pytest.raises(DataError, match=r"frames: indices \[40\] are out of range for the 11 frames"):
        rows = [{"video_id": "vid1", "frames": [0, 1, 40], "question": "q", "bbox_list": [[0, 0, 1, 1]] * 3}]
        next(read(_rows(tmp_path, "v.json", rows), "zero_shot", frames_root=str(tmp_path)))


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ("[1, 2, 3, 4]", (1, 2, 3, 4)),
        ("1,2,3,4", (1, 2, 3, 4)),
        ("1 2 3 4", (1, 2, 3, 4)),
        ([[1, 2], [3, 4]], (1, 2, 3, 4)),
        ([[1, 2, 3, 4]], (1, 2, 3, 4)),
        ([1.5, 2, 3, 4], (1.5, 2, 3, 4)),
    ],
)
def test_box_spellings(tmp_path, box, expected):
    path = _rows(tmp_path, "x.json", [{"image_path": "a.png", "question": "q", "bbox": box}])
    assert next(read(path, "zero_shot")).boxes == [expected]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"image_path": "a.png", "question": "q", "bbox": "none"}, r"bbox: holds no box"),
        ({"image_path": "a.png", "question": "q", "bbox": [1, 2, 3]}, r"bbox: holds no box"),
        ({"image_path": "a.png", "bbox": [1, 2, 3, 4]}, r"instruction: is missing"),
        ({"image_path": "", "question": "q", "bbox": [1, 2, 3, 4]}, r"image_path: must be a non-empty image path"),
        ({"question": "q", "bbox": [1, 2, 3, 4]}, r"row: expected 'image_path', 'image_list', or 'video_id'"),
        ({"image_list": ["a", "b"], "question": "q", "bbox_list": [[0, 0, 1, 1]] * 2}, r"frames: has 2 frame"),
        ({"image_list": ["a", "b", "c"], "question": "q", "bbox_list": [[0, 0, 1, 1]]}, r"bbox_list: must be a list"),
        ({"image_path": "a.png", "question": "q", "bbox": [4, 4, 1, 1]}, r"boxes\[0\]: is degenerate or swapped"),
    ],
)
def test_bad_rows_name_the_field(tmp_path, row, message):
    with pytest.raises(DataError, match=message):
        next(read(_rows(tmp_path, "x.json", [row]), "zero_shot"))


def test_options_task_and_target_frame(tmp_path):
    rows = [{"image_list": ["a", "b"], "question": "q", "bbox_list": [[0, 0, 1, 1], [0, 0, 2, 2]], "id": 9}]
    sample = next(read(_rows(tmp_path, "x.json", rows), "zero_shot", task="mine", target_frame="2"))
    assert (sample.id, sample.task, sample.target_image, sample.boxes) == ("9", "mine", 2, [(0, 0, 2, 2)])
    assert "in the second image according to" in sample.question
    with pytest.raises(ValueError, match="target_frame must be 1 to 10"):
        next(read(_rows(tmp_path, "x.json", rows), "zero_shot", target_frame=0))

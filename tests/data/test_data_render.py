"""A sample as stage 1 and stage 2 see it: prompt, paper answer, GRPO rows and dataset."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from univg_plugin.boxes import answer_boxes
from univg_plugin.data import (
    PAPER_INSTRUCTION,
    DataError,
    GroundingSample,
    grpo_dataset,
    grpo_row,
    paper_answer,
    prompt_messages,
    prompt_text,
    read,
    write,
)


def sample(**changes) -> GroundingSample:
    fields = {
        "id": "s1",
        "task": "group_grounding",
        "images": ["a.png", "b.png", "c.png"],
        "question": "Find the red star.",
        "reasoning": "Image 3 is the only one with a red star.",
        "boxes": [[100, 200, 300, 400]],
        "target_image": 3,
    }
    return GroundingSample(**{**fields, **changes})


def test_paper_instruction_is_the_papers_text():
    assert PAPER_INSTRUCTION == (
        "First output the thinking process in <think> </think> tags and then output the bounding box in "
        "<answer> </answer> tags."
    )


def test_paper_answer_layout_and_target_sentence():
    assert paper_answer(sample()) == (  # the question decides: it names no image, so the sentence is added
        "<think>Image 3 is the only one with a red star. So the target is in image 3.</think>"
        "<answer>(100,200),(300,400)</answer>"
    )
    unnamed = sample(reasoning="Only one image has a red star.", target_image=2)
    assert paper_answer(unnamed) == (
        "<think>Only one image has a red star. So the target is in image 2.</think><answer>(100,200),(300,400)</answer>"
    )
    named = sample(question="Find the red star in image 2.", target_image=2, reasoning=None)
    assert paper_answer(named) == "<think></think><answer>(100,200),(300,400)</answer>"
    assert paper_answer(sample(reasoning=None, target_image=1)) == (
        "<think>So the target is in image 1.</think><answer>(100,200),(300,400)</answer>"
    )


def test_paper_answer_converts_rounds_and_joins_several_boxes():
    pixels = sample(
        images=["a.png"],
        space="abs_image",
        boxes=[[64.3, 96, 320, 480], [0, 0, 639.9, 1]],
        target_image=1,
        image_sizes=[[640, 480]],
    )
    answer = paper_answer(pixels)
    assert answer.endswith("<answer>(100,200),(500,1000) (0,0),(1000,2)</answer>")
    assert answer_boxes(answer).tolist() == [[100, 200, 500, 1000], [0, 0, 1000, 2]]


def test_paper_answer_needs_sizes_for_pixel_boxes_and_names_the_sample():
    with pytest.raises(DataError) as caught:
        paper_answer(sample(space="abs_image"))
    assert str(caught.value) == (
        "id 's1': image_sizes: converting abs_image boxes to norm1000 needs image_sizes"
        " (fill it with: univg data convert --fill-sizes --media-root DIR)"
    )
    with pytest.raises(DataError, match=r"boxes\[0\]: \[0, 0, 0.5, 0.0001\] collapses to \[0, 0, 500, 0\]"):
        paper_answer(sample(space="norm1", boxes=[[0, 0, 0.5, 0.0001]]))


def test_prompt_text_has_one_placeholder_per_image_and_the_instruction_once():
    assert prompt_text(sample()) == "<image><image><image>Find the red star. " + PAPER_INSTRUCTION
    interleaved = sample(question="Compare <image>, <image> and <image>.")
    assert prompt_text(interleaved) == "Compare <image>, <image> and <image>. " + PAPER_INSTRUCTION
    already = sample(question="Find it. " + PAPER_INSTRUCTION)
    assert prompt_text(already).count(PAPER_INSTRUCTION) == 1


def test_prompt_messages_put_image_parts_at_the_placeholders():
    content = prompt_messages(sample(question="Compare <image>, <image> and <image>."))[0]["content"]
    assert content == [
        {"type": "text", "text": "Compare "},
        {"type": "image", "text": None},
        {"type": "text", "text": ", "},
        {"type": "image", "text": None},
        {"type": "text", "text": " and "},
        {"type": "image", "text": None},
        {"type": "text", "text": ". " + PAPER_INSTRUCTION},
    ]
    first = prompt_messages(sample())[0]
    assert first["role"] == "user"
    assert [part["type"] for part in first["content"]] == ["image", "image", "image", "text"]
    assert all(set(part) == {"type", "text"} for part in first["content"])


def test_grpo_row_keys_and_values():
    row = grpo_row(sample(images=["a.png", "/abs/b.png", "c.png"], image_sizes=[[4, 4]] * 3), media_root="/media")
    assert set(row) == {"prompt", "images", "solution", "solution_space", "target_image", "image_sizes", "id", "task"}
    assert row["images"] == ["/media/a.png", "/abs/b.png", "/media/c.png"]
    assert (row["solution"], row["solution_space"], row["target_image"]) == (
        [[100.0, 200.0, 300.0, 400.0]],
        "norm1000",
        3,
    )
    assert (row["image_sizes"], row["id"], row["task"]) == ([[4, 4]] * 3, "s1", "group_grounding")
    assert grpo_row(sample())["image_sizes"] is None
    json.dumps(row)  # plain data


def test_grpo_dataset_gives_pil_images(tmp_path, make_images):
    paths = make_images(tmp_path / "images", 3, size=(40, 30))
    rows = [sample(id=f"s{i}", images=[f"images/{p.name}" for p in paths]) for i in range(5)]
    dataset = grpo_dataset(rows, media_root=tmp_path, chunk_size=2)
    assert len(dataset) == 5 and dataset.column_names == [
        "id", "task", "prompt", "images", "solution", "solution_space", "target_image", "image_sizes"
    ]  # fmt: skip
    first = dataset[0]
    assert all(isinstance(image, Image.Image) and image.size == (40, 30) for image in first["images"])
    assert first["prompt"] == prompt_messages(rows[0])
    assert first["image_sizes"] is None and first["target_image"] == 3
    assert len(grpo_dataset([])) == 0


def test_grpo_jsonl_writer(tmp_path):
    path = tmp_path / "grpo.jsonl"
    write([sample(), sample(id="s2")], path, "grpo", media_root="/m")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows[0] == json.loads(json.dumps(grpo_row(sample(), media_root="/m")))
    with pytest.raises(ValueError, match="format 'grpo' cannot be read"):
        list(read(path, "grpo"))

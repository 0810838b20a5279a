"""GroundingSample validation: every check, its exact message, all problems of a sample at once."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from univg_plugin.data import FieldError, GroundingSample
from univg_plugin.data.errors import issues_of

BASE = {
    "id": "a",
    "task": "common_object",
    "images": ["1.png", "2.png"],
    "question": "Where is the dog?",
    "boxes": [[100, 200, 300, 400]],
}


def problems(**changes) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        GroundingSample(**{**BASE, **changes})
    return [(issue.field, issue.message) for issue in issues_of(caught.value)]


def test_a_valid_sample_keeps_its_fields():
    sample = GroundingSample(**BASE, target_image=2, image_sizes=[[640, 480], [320, 240]], meta={"k": [1]})
    assert sample.model_dump(mode="json") == {
        **BASE,
        "boxes": [[100.0, 200.0, 300.0, 400.0]],
        "reasoning": None,
        "space": "norm1000",
        "target_image": 2,
        "image_sizes": [[640, 480], [320, 240]],
        "meta": {"k": [1]},
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"question": "<image> Where is the dog?"},
            ("question", "has 1 <image> placeholder(s) but the sample has 2 image(s); use one per image, or none"),
        ),
        ({"question": "<image><image>  "}, ("question", "is empty")),
        ({"id": ""}, ("id", "is empty")),
        ({"images": ["1.png", " "]}, ("images[1]", "is an empty path")),
        ({"target_image": 3}, ("target_image", "3 is out of range for 2 image(s) (indices are 1-based)")),
        ({"target_image": 0}, ("target_image", "0 is out of range for 2 image(s) (indices are 1-based)")),
        (
            {"boxes": [[300, 200, 100, 400]]},
            ("boxes[0]", "is degenerate or swapped (needs x1 < x2): [300, 200, 100, 400]"),
        ),
        (
            {"boxes": [[100, 200, 300, 200]]},
            ("boxes[0]", "is degenerate or swapped (needs y1 < y2): [100, 200, 300, 200]"),
        ),
        (
            {"boxes": [[0, 0, 10, 1001]]},
            ("boxes[0]", "lies outside the image: [0, 0, 10, 1001] is not within [0, 1000] (norm1000)"),
        ),
        (
            {"boxes": [[0, 0, 0.5, 1.2]], "space": "norm1"},
            ("boxes[0]", "lies outside the image: [0, 0, 0.5, 1.2] is not within [0, 1] (norm1)"),
        ),
        ({"boxes": [[-1, 0, 10, 10]]}, ("boxes[0]", "has a negative coordinate: [-1, 0, 10, 10]")),
        ({"boxes": [[0, 0, float("nan"), 10]]}, ("boxes[0]", "has a non-finite coordinate: [0, 0, nan, 10]")),
        (
            {
                "boxes": [[0, 0, 700, 10]],
                "space": "abs_image",
                "target_image": 2,
                "image_sizes": [[800, 600], [640, 480]],
            },
            ("boxes[0]", "lies outside the image: [0, 0, 700, 10] is not inside image 2 of size 640x480 (abs_image)"),
        ),
        ({"image_sizes": [[640, 480]]}, ("image_sizes", "has 1 entries but the sample has 2 image(s)")),
        ({"image_sizes": [[640, 480], [0, 480]]}, ("image_sizes[1]", "must be positive, got [0, 480]")),
        ({"reasoning": "a <answer>(1,2),(3,4)</answer>"}, ("reasoning", "must not contain <think>/<answer> tags")),
        ({"space": "pixels"}, ("space", "Input should be 'norm1000', 'norm1', 'abs_input' or 'abs_image'")),
        ({"boxes": [[1, 2, 3]]}, ("boxes[0][3]", "Field required")),
        ({"boxes": []}, ("boxes", "List should have at least 1 item after validation, not 0")),
        ({"extra": 1}, ("extra", "Extra inputs are not permitted")),
    ],
)
def test_each_check_has_an_exact_message(changes, expected):
    assert problems(**changes) == [expected]


def test_every_problem_of_a_sample_is_reported_at_once():
    found = problems(question="<image>x", target_image=5, boxes=[[5, 5, 1, 9], [0, 0, 2000, 10]])
    assert [field for field, _ in found] == ["question", "target_image", "boxes[0]", "boxes[1]"]


def test_single_image_samples_target_image_one_and_empty_reasoning_is_none():
    sample = GroundingSample(**{**BASE, "images": ["1.png"]}, reasoning="")
    assert (sample.target_image, sample.reasoning) == (1, None)
    assert GroundingSample(**BASE).target_image is None  # several images: not specified


def test_pixel_boxes_are_checked_against_the_only_image_when_it_has_a_size():
    single = {**BASE, "images": ["1.png"], "space": "abs_image", "boxes": [[0, 0, 60, 10]]}
    with pytest.raises(ValidationError, match="is not inside image 1 of size 50x40"):
        GroundingSample(**single, image_sizes=[[50, 40]])
    assert GroundingSample(**single)  # the size is unknown: only negative pixels are caught


def test_boxes_convert_between_spaces():
    sample = GroundingSample(**BASE, space="abs_image", target_image=2, image_sizes=[[800, 600], [640, 480]])
    assert sample.boxes_in("norm1000").tolist() == [[156.25, 416.6666666666667, 468.75, 833.3333333333334]]
    assert sample.boxes_in("abs_image").tolist() == [[100.0, 200.0, 300.0, 400.0]]
    norm1 = GroundingSample(**{**BASE, "boxes": [[0.1, 0.2, 0.3, 0.4]]}, space="norm1")
    assert norm1.boxes_in("norm1000").round(6).tolist() == [[100.0, 200.0, 300.0, 400.0]]  # no image size needed
    # Qwen2.5-VL's absolute model-input pixels: 640x480 -> smart_resize -> 644x476
    single = GroundingSample(**{**BASE, "images": ["1.png"]}, image_sizes=[[640, 480]])
    assert single.boxes_in("abs_input", max_pixels=640000).round(2).tolist() == [[64.4, 95.2, 193.2, 190.4]]


def test_converting_pixels_without_sizes_names_the_field():
    sample = GroundingSample(**{**BASE, "images": ["1.png"]}, space="abs_image")
    with pytest.raises(FieldError) as caught:
        sample.boxes_in("norm1000")
    assert str(caught.value) == (
        "image_sizes: converting abs_image boxes to norm1000 needs image_sizes"
        " (fill it with: univg data convert --fill-sizes --media-root DIR)"
    )
    several = GroundingSample(**BASE, space="abs_image", image_sizes=[[640, 480], [320, 240]])
    with pytest.raises(FieldError, match="needs the target image's size"):
        several.boxes_in("norm1000")

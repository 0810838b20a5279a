"""Rewards never raise on model output, dataset problems name their column and row, the fast path equals the regex."""

from __future__ import annotations

import random
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from univg_plugin.boxes import answer_boxes, first_answer_boxes
from univg_plugin.rewards import REWARDS, get

TRUTH = [[1, 2, 3, 4]]


@pytest.mark.parametrize(
    "answer",
    [
        "the firſt image",  # a long s: IGNORECASE matches `first`, no ordinal of ours
        "the fırst image",  # a dotless i
        "the ſecond image",
        "image " + "1" * 5000,  # beyond int()'s 4,300 digits
        "image " + "1" * 10,
        "the " + "9" * 5000 + "th image",
    ],
)
def test_image_rewards_never_raise_on_odd_image_names(answer):
    for name in ("image_index", "grounding"):
        assert get(name)([f"<answer>{answer}</answer>"], solution=TRUTH, target_image=[1]) == [0.0]


def test_an_ordinal_still_reads_in_any_ascii_case():
    assert get("image_index")(["<answer>the FIRST image</answer>"], target_image=[1]) == [1.0]


def test_multimodal_parts_that_are_not_text_are_ignored():
    parts = [
        {"type": "text", "text": 5},
        {"type": "text", "text": None},
        {"type": "text", "text": "<answer>image 1</answer>"},
    ]
    completion = [{"role": "assistant", "content": parts}]
    for name in sorted(REWARDS.builtins):
        get(name)([completion], solution=TRUTH, target_image=[1])  # no TypeError
    assert get("image_index")([completion], target_image=[1]) == [1.0]


@pytest.mark.parametrize("solution", [[10**400, 0, 1, 1], [[1, 2, 3, 10**400]], [[1, 2, 3]]])
def test_a_solution_that_is_no_box_is_a_value_error_naming_column_and_row(solution):
    with pytest.raises(ValueError, match=r"column 'solution', row 1: expected text or boxes of 4 numbers"):
        get("iou")(["a", "b"], solution=[[0, 0, 1, 1], solution])


@pytest.mark.parametrize("value", ["abc", 2.5, -1, [1]])
def test_a_target_image_that_is_no_index_is_a_value_error_naming_column_and_row(value):
    for name in ("image_index", "grounding"):
        with pytest.raises(ValueError, match=r"column 'target_image', row 1: expected a 1-based image index"):
            get(name)(["<answer>image 1</answer>"] * 2, solution=TRUTH * 2, target_image=[1, value])


def test_a_missing_target_image_written_as_nan_does_not_apply():
    assert get("image_index")(["<answer>image 1</answer>"] * 2, target_image=[float("nan"), 1.0]) == [None, 1.0]


def test_a_malformed_box_is_no_box_on_the_fast_path_too():
    texts = ["<answer>(1,)2,(3,4)</answer>", "<answer>(1,2),(3,)4</answer>", "<answer>[1,,2,3]4</answer>"]
    assert get("iou")(texts, solution=[[1, 2, 3, 4]] * 3) == [0.0, 0.0, 0.0]
    assert np.isnan(first_answer_boxes(texts)).all()


_PIECES = st.sampled_from(
    ["(", ")", ",", ", ", "[", "]", " ", "1", "23", "456", "0", "\n", "-", ".", "<box>", "</box>"]
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_PIECES, max_size=24).map("".join), st.sampled_from(["strict", "lenient", "first"]))
def test_the_fast_path_agrees_with_the_regex_parser(answer, policy):
    text = f"<think>x</think><answer>{answer}</answer>"
    expected = answer_boxes(text, policy)
    got = first_answer_boxes([text, "<answer>(5,6),(7,8)</answer>"], policy)[0]  # a batch: the fast path runs
    if len(expected):
        assert got.tolist() == expected[0].tolist(), answer
    else:
        assert np.isnan(got).all(), answer


def test_multi_box_memory_is_bounded_on_a_megabyte_of_boxes():
    rng = random.Random(0)
    boxes = "".join(
        f"({rng.randrange(900)},{rng.randrange(900)}),({rng.randrange(900, 999)},999) " for _ in range(52_000)
    )
    text = f"<answer>{boxes}</answer>"
    assert len(text) > 1_000_000
    targets = [[rng.randrange(900), rng.randrange(900), rng.randrange(900, 999), 999] for _ in range(300)]
    reward = get("multi_box")
    reward(["<answer>(1,1),(2,2)</answer>"], solution=[targets])  # imports scipy outside the measurement
    tracemalloc.start()
    try:
        (score,) = reward([text], solution=[targets])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 0.0 <= score <= 1.0
    assert peak < 200e6, f"{peak / 1e6:.0f} MB"  # 528 MB before the cap on matched boxes


def test_answers_that_cannot_be_in_the_rewards_space_warn_once(recwarn):
    from univg_plugin.rewards import _truth

    _truth._warned.discard("space:norm1000")
    pixels = "<answer>[100, 200, 1500, 900]</answer>"  # a Qwen2.5-VL answer in input pixels
    with pytest.warns(
        UserWarning, match=r"1 of 2 answer boxes have coordinates above 1000, which norm1000 cannot hold"
    ):
        assert get("iou")([pixels, "<answer>(1,2),(3,4)</answer>"], solution=TRUTH * 2) == [0.0, 1.0]
    get("iou")([pixels], solution=TRUTH)
    assert not [w for w in recwarn if "cannot hold" in str(w.message)]  # once per process
    get("iou", space="abs_input", solution_space="abs_input")([pixels], solution=TRUTH)  # pixels are fine there


def test_abs_input_without_the_processors_pixel_limits_warns_once(recwarn):
    from univg_plugin.rewards import _truth

    _truth._warned.discard("pixel-limits")
    columns = {"solution": [[0, 0, 1920, 1080]], "image_sizes": [[[1920, 1080]]]}
    answer = ["<answer>[0, 0, 1316, 728]</answer>"]  # the whole image in Qwen2-VL's default input size
    with pytest.warns(UserWarning, match=r"without the processor's pixel limits: Qwen2-VL's defaults are assumed"):
        assert get("iou", space="abs_input", solution_space="abs_image")(answer, **columns) == [1.0]
    explicit = get("iou", space="abs_input", solution_space="abs_image", min_pixels=3136, max_pixels=12845056)
    assert explicit(["<answer>[0, 0, 1932, 1092]</answer>"], **columns) == [1.0]  # Qwen2.5-VL's own limits
    assert not [w for w in recwarn if "pixel limits" in str(w.message)]

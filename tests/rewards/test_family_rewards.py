"""Each family's presets: a perfect answer in the family's own syntax scores 1.0 with every box reward, and a
wrong-family setting is warned about once at call time (rewards never know the model otherwise)."""

from __future__ import annotations

import warnings

import pytest

from univg_plugin.data import GroundingSample, family_answer
from univg_plugin.qwen_vl import MODEL_FAMILIES
from univg_plugin.rewards import _truth, get
from univg_plugin.rewards.presets import preset

#: A 700 x 700 image is its own Qwen2.5-VL model input (a multiple of 28 within the limits).
LIMITS = {"min_pixels": 3136, "max_pixels": 640000}
SAMPLE = GroundingSample(
    id="a",
    images=["1.png", "2.png"],
    question="Find the star.",
    reasoning="Image 2 has it.",
    boxes=[[70, 140, 350, 700]],
    space="abs_image",
    target_image=2,
    image_sizes=[[700, 700], [700, 700]],
)
COLUMNS = {"solution": [[[70, 140, 350, 700]]], "image_sizes": [[[700, 700], [700, 700]]], "target_image": [2]}


@pytest.mark.parametrize("reward", ["iou", "iou_threshold", "giou", "grounding", "multi_box", "format"])
@pytest.mark.parametrize("family", sorted(MODEL_FAMILIES))
def test_a_perfect_answer_in_the_familys_syntax_scores_1(family, reward):
    answer = family_answer(SAMPLE, family, **LIMITS)
    options = LIMITS if MODEL_FAMILIES[family].box_space == "abs_input" and reward != "format" else {}
    if reward == "grounding":  # the answer names the target image in its reasoning ("So the target is in image 2.")
        options = {**options, "policy": "lenient"}
    scored = preset(family, reward, solution_space="abs_image", **options) if reward != "format" else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about
        if scored is None:
            assert preset(family, "format")([answer]) == [1.0]
        else:
            assert scored([answer], **COLUMNS) == [1.0]


def _warnings_of(reward, texts, **columns) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reward(texts, **columns)
    return [str(warning.message) for warning in caught]


def test_another_familys_syntax_is_warned_about_once(recwarn):
    for key in ("syntax:qwen2_5_vl", "syntax:qwen2_vl"):
        _truth._warned.discard(key)
    tuple_answer = "<think>x</think><answer>(10,20),(50,100)</answer>"
    json_answer = '<think>x</think><answer>[{"bbox_2d": [10, 20, 50, 100]}]</answer>'
    qwen2_5_vl = preset("qwen2_5_vl", "iou", **LIMITS)
    (message,) = _warnings_of(qwen2_5_vl, [tuple_answer, json_answer], **{k: v * 2 for k, v in COLUMNS.items()})
    assert message.startswith("1 of 2 answers are not written as qwen2_5_vl writes boxes") and "qwen2_vl do" in message
    assert _warnings_of(qwen2_5_vl, [tuple_answer], **COLUMNS) == []  # once per process
    (message,) = _warnings_of(preset("qwen2_vl", "giou"), [json_answer], solution=[[10, 20, 50, 100]])
    assert "not written as qwen2_vl writes boxes ((x1,y1),(x2,y2)) but as qwen2_5_vl / qwen3_vl do" in message
    # no family named: any syntax is fine (the space checks still apply)
    assert _warnings_of(get("iou"), [json_answer, tuple_answer], solution=[[10, 20, 50, 100]] * 2) == []


def test_0_1000_answers_scored_in_model_input_pixels_are_warned_about(recwarn):
    _truth._warned.discard("space:abs_input")
    small = {"solution": [[0, 0, 160, 120]], "image_sizes": [[320, 240]]}  # model input 308 x 252
    in_pixels = '<answer>[{"bbox_2d": [0, 0, 154, 126]}]</answer>'
    assert _warnings_of(preset("qwen2_5_vl", "iou", **LIMITS), [in_pixels], **small) == []
    in_norm1000 = '<answer>[{"bbox_2d": [0, 0, 500, 500]}]</answer>'
    (message,) = _warnings_of(preset("qwen2_5_vl", "iou", **LIMITS), [in_norm1000], **small)
    assert message.startswith("1 of 1 answer boxes have coordinates beyond their model input's width or height")
    assert "0-1000 (Qwen2-VL, Qwen3-VL" in message


def test_model_family_is_a_checked_option():
    with pytest.raises(ValueError, match="model_family"):
        get("iou", model_family="llava")
    with pytest.raises(ValueError, match="the qwen3_vl preset cannot score model_family='qwen2_vl'"):
        preset("qwen3_vl", "iou", model_family="qwen2_vl")
    assert "model_family" not in preset("qwen3_vl", "format").options  # the format reward reads the pattern only


def test_multi_box_warns_about_wrong_family_settings_as_the_other_box_rewards(recwarn):
    for key in ("syntax:qwen2_5_vl", "space:norm1000", "space:abs_input"):
        _truth._warned.discard(key)
    two_tuples = "<think>x</think><answer>(10,20),(50,100) (60,60),(90,90)</answer>"
    assert _warnings_of(preset("qwen2_5_vl", "multi_box", **LIMITS), [two_tuples], **COLUMNS)[0].startswith(
        "1 of 1 answers are not written as qwen2_5_vl writes boxes"
    )
    # pixels of a 1400-wide input scored in 0-1000: the second box is beyond 1000
    in_pixels = '<answer>[{"bbox_2d": [0, 0, 10, 10]}, {"bbox_2d": [900, 900, 1300, 1200]}]</answer>'
    (message,) = _warnings_of(get("multi_box"), [in_pixels], solution=[[[0, 0, 10, 10]]])
    assert message.startswith("1 of 1 answer boxes have coordinates above 1000, which norm1000 cannot hold")
    # 0-1000 answers scored in the pixels of a 700 x 700 input: the second box is beyond its width
    in_norm1000 = '<answer>[{"bbox_2d": [0, 0, 10, 10]}, {"bbox_2d": [600, 600, 900, 900]}]</answer>'
    (message,) = _warnings_of(preset("qwen2_5_vl", "multi_box", **LIMITS), [in_norm1000], **COLUMNS)
    assert message.startswith("1 of 1 answer boxes have coordinates beyond their model input's width or height")
    assert _warnings_of(preset("qwen2_5_vl", "multi_box", **LIMITS), ["<answer>no box</answer>"], **COLUMNS) == []

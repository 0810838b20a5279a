"""The metric definitions: where the box is read, the benchmarks' IoU, failure reasons, summaries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from univg_plugin.boxes import AnswerPolicy, answer_text, first_answer_boxes, parse_boxes, parse_image_index
from univg_plugin.eval.metrics import (
    INVALID,
    MISSING,
    NO_BOX,
    OK,
    PROTOCOLS,
    GroupMetrics,
    benchmark_iou,
    extract_boxes,
    failure_reasons,
    predicted_images,
    protocol_for,
    summarize,
)

# Pieces that make texts full of near-boxes, image mentions, tags and sentence ends.
_PIECES = st.sampled_from(
    [
        "(1,2),(3,4)",
        "(10, 20), (30, 40)",
        "[5, 6, 7, 8]",
        "[0.1, 0.2, 0.3, 0.4]",
        "<box>1 2 3 4</box>",
        "<|box_start|>",
        "(",
        ")",
        "[",
        "]",
        ",",
        "7",
        "-3",
        "1e3",
        " ",
        "\n",
        ".",
        ">",
        "<",
        "<answer>",
        "</answer>",
        "<think>",
        "</think>",
        "image 2",
        "Image-3",
        "image",
        "picture #4",
        "img5",
        "frame 6",
        "the second image",
        "3rd image",
        "2th",
        "first",
        "image 0",
        "İmage 7",
        "IMAGE 8",
        "images",
        "x",
        "so",
    ]
)
_TEXTS = st.lists(_PIECES, max_size=14).map("".join)


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_first_policy_is_the_parsers_first_box(text):
    expected = parse_boxes(text)[:1]
    got = extract_boxes([text], "first")[0]
    if len(expected):
        np.testing.assert_array_equal(got, expected[0])
    else:
        assert np.isnan(got).all()


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_predicted_image_reads_the_answer_first_then_the_last_mention(text):
    expected = parse_image_index(answer_text(text) or "") or parse_image_index(text, last=True) or 0
    assert predicted_images([text]).tolist() == [expected]


@settings(max_examples=200, deadline=None)
@given(st.lists(_TEXTS, min_size=1, max_size=6), st.sampled_from(["strict", "lenient"]))
def test_strict_and_lenient_are_the_batch_parser(texts, policy):
    np.testing.assert_array_equal(
        extract_boxes(texts, policy), first_answer_boxes(texts, AnswerPolicy(policy)), strict=True
    )


def test_policies_differ_where_the_answer_is_not_the_first_box():
    text = "<think>first (0,0),(100,100)</think><answer>(0,0),(400,500)</answer> then [1, 1, 9, 9]"
    assert extract_boxes([text], "first")[0].tolist() == [0, 0, 100, 100]
    assert extract_boxes([text], "strict")[0].tolist() == [0, 0, 400, 500]
    outside = "(1,1),(2,2) no answer block, last (3,3),(4,4)"
    assert np.isnan(extract_boxes([outside], "strict")).all()
    assert extract_boxes([outside], "lenient")[0].tolist() == [3, 3, 4, 4]
    assert extract_boxes([outside], "first")[0].tolist() == [1, 1, 2, 2]


def test_first_policy_finds_a_box_after_a_closing_answer_tag():
    assert extract_boxes(["<answer>none</answer> (5,6),(7,8)"], "first")[0].tolist() == [5, 6, 7, 8]
    assert np.isnan(extract_boxes([None, "", "no box"], "first")).all()


def test_unknown_policy_is_named():
    with pytest.raises(ValueError, match=r"unknown answer policy 'loose'.*strict, lenient, first"):
        extract_boxes(["x"], "loose")


def test_protocols_follow_the_official_scripts():
    assert protocol_for("mig_bench").policy == "first" and protocol_for("mig_bench").epsilon == 0
    zero_shot = protocol_for("zero_shot")
    assert zero_shot.iou_space.value == "norm1" and zero_shot.epsilon == 1e-6
    assert protocol_for("univg") is PROTOCOLS["default"] and PROTOCOLS["default"].policy == "strict"


def test_thresholds_are_inclusive_and_swapped_boxes_score_zero():
    truth = np.array([[0, 0, 500, 1000], [0, 0, 1000, 1000], [0, 0, 10, 10]], dtype=float)
    predicted = np.array([[0, 0, 1000, 1000], [0, 0, 700, 1000], [10, 10, 0, 0]], dtype=float)
    assert benchmark_iou(truth, predicted).tolist() == [0.5, 0.7, 0.0]
    one_axis = benchmark_iou(np.array([[0, 0, 10, 10]]), np.array([[8, 0, 2, 10]]))
    assert one_axis.tolist() == [0.0]


def test_epsilon_is_added_to_the_union():
    truth, predicted = np.array([[0, 0, 0.5, 1.0]]), np.array([[0, 0, 1.0, 1.0]])
    assert benchmark_iou(truth, predicted, 1e-6)[0] == pytest.approx(0.5 / (1 + 1e-6), rel=1e-12)
    assert benchmark_iou(truth, predicted, 1e-6)[0] < 0.5
    assert benchmark_iou(truth, np.array([[np.nan] * 4]), 1e-6).tolist() == [0.0]


def test_failure_reasons():
    boxes = np.array([[0, 0, 1, 1], [np.nan] * 4, [5, 5, 1, 1], [0, 0, 0, 9], [np.nan] * 4, [0, 0, np.inf, 1]])
    present = np.array([True, True, True, True, False, True])
    overlap = benchmark_iou(np.tile([[0.0, 0.0, 1.0, 1.0]], (6, 1)), boxes)
    assert failure_reasons(boxes, present, overlap).tolist() == [OK, NO_BOX, INVALID, INVALID, MISSING, INVALID]


def test_summarize_groups_and_average():
    overlap = np.array([1.0, 0.5, 0.2, 0.0])
    reasons = np.array([OK, OK, OK, NO_BOX])
    target = np.array([1.0, np.nan, 0.0, 0.0])
    first, second = summarize(overlap, reasons, target, np.array([0, 0, 1, 1]))
    assert (first.acc30, first.acc50, first.acc70, first.miou) == (100.0, 100.0, 50.0, 75.0)
    assert (first.target_acc, first.target_count) == (100.0, 1)
    assert (second.acc30, second.miou, second.parse_fail, second.target_acc) == (0.0, 10.0, 50.0, 0.0)
    average = GroupMetrics.average([first, second])
    assert (average.count, average.acc50, average.miou, average.target_acc) == (4, 50.0, 42.5, 50.0)


def test_predicted_images():
    texts = [
        "<think>image 1 vs image 2</think><answer>It is in the third image (1,2),(3,4)</answer>",
        "<think>Not image 1. So the target is in image 2.</think><answer>(1,2),(3,4)</answer>",
        "no mention",
        None,
    ]
    assert predicted_images(texts).tolist() == [3, 2, 0, 0]


def test_norm1000_to_norm1_is_the_benchmarks_division():
    from univg_plugin.boxes import convert_boxes

    values = np.arange(1001, dtype=np.float64)
    converted = convert_boxes(np.stack([values] * 4, axis=1), "norm1000", "norm1")
    np.testing.assert_array_equal(converted[:, 0], values / 1000)

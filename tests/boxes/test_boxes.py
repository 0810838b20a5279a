"""univg_plugin.boxes: parsing every box syntax, answer policies, image indices, coordinate spaces, IoU."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from univg_plugin.boxes import (
    AnswerPolicy,
    CoordinateSpace,
    answer_boxes,
    answer_text,
    convert_boxes,
    first_answer_boxes,
    giou,
    input_size_from_grid,
    iou,
    iou_matrix,
    is_valid_box,
    parse_boxes,
    parse_image_index,
    smart_resize,
)
from univg_plugin.qwen_vl import MODEL_FAMILIES

NAN, INF = float("nan"), float("inf")

# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<|box_start|>(316,58),(764,999)<|box_end|>", [[316, 58, 764, 999]]),
        ("It's in the third image. <|box_start|>(316,58),(764,999)<|box_end|>", [[316, 58, 764, 999]]),
        ("(1,2),(3,4)", [[1, 2, 3, 4]]),
        ("( 1 , 2 ) , ( 3 , 4 )", [[1, 2, 3, 4]]),
        ("(1,2)(3,4)", [[1, 2, 3, 4]]),
        ("[1,2,3,4]", [[1, 2, 3, 4]]),
        ("[10.5, 20.25, 30, 40.0]", [[10.5, 20.25, 30, 40]]),
        ("[.5, 1., 2e1, 3E-1]", [[0.5, 1, 20, 0.3]]),
        ("(-5,+6),(7,8)", [[-5, 6, 7, 8]]),
        ('{"bbox_2d": [12, 34, 56, 78], "label": "cat"}', [[12, 34, 56, 78]]),
        (
            '```json\n[{"bbox_2d": [1, 2, 3, 4], "label": "a"}, {"bbox_2d": [5, 6, 7, 8], "label": "b"}]\n```',
            [[1, 2, 3, 4], [5, 6, 7, 8]],
        ),
        ("<box>1 2 3 4</box>", [[1, 2, 3, 4]]),
        ("<box> 1, 2, 3.5, 4 </box>", [[1, 2, 3.5, 4]]),
        ("<box>(1,2),(3,4)</box>", [[1, 2, 3, 4]]),
        ("first (1,2),(3,4) then [5,6,7,8] then <box>9 10 11 12</box>", [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]),
        ("(١,٢),(3,4)", [[1, 2, 3, 4]]),  # Unicode digits, as the reference's \d
        ("[1,2,3]", []),
        ("[1,2,3,4,5]", []),
        ("(1,2)", []),
        ("no box at all", []),
        ("", []),
    ],
)
def test_parse_boxes_every_syntax(text, expected):
    boxes = parse_boxes(text)
    assert boxes.dtype == np.float64
    assert boxes.shape == (len(expected), 4)
    np.testing.assert_allclose(boxes, np.asarray(expected, dtype=np.float64).reshape(-1, 4))


def test_parse_boxes_non_string_and_huge_numbers():
    assert parse_boxes(None).shape == (0, 4)
    assert parse_boxes(123).shape == (0, 4)
    assert parse_boxes("(1" + "0" * 400 + ",2),(3,4)").tolist() == [[INF, 2, 3, 4]]


def test_parse_boxes_keeps_many_boxes_in_order():
    text = " ".join(f"({i},{i + 1}),({i + 2},{i + 3})" for i in range(10_000))
    boxes = parse_boxes(text)
    assert boxes.shape == (10_000, 4)
    assert boxes[:, 0].tolist() == list(range(10_000))


# --------------------------------------------------------------------------- answers


def test_answer_text_first_block_and_policies():
    text = "<think>a</think><answer> first </answer><answer>second</answer>"
    assert answer_text(text) == " first "
    assert answer_text("no tags") is None
    assert answer_text("no tags", "lenient") == "no tags"
    assert answer_text("<answer>unclosed") is None
    assert answer_text("</answer> <answer>x</answer>") == "x"
    assert answer_text("<answer><answer>x</answer></answer>") == "<answer>x"
    assert answer_text(None, "lenient") is None
    with pytest.raises(ValueError, match=r"unknown answer policy 'loose'.*strict, lenient"):
        answer_text("x", "loose")


@pytest.mark.parametrize(
    ("text", "strict", "lenient"),
    [
        ("<think>(0,0),(9,9)</think><answer>(1,2),(3,4)</answer>", [[1, 2, 3, 4]], [[1, 2, 3, 4]]),
        ("<think>(0,0),(9,9)</think><answer>none</answer>", [], [[0, 0, 9, 9]]),
        ("<think>(0,0),(9,9) or (5,5),(6,6)</think>", [], [[5, 5, 6, 6]]),
        ("<answer>(1,2),(3,4)", [], [[1, 2, 3, 4]]),  # truncated completion
        ("<answer>(1,2),(3,4) and [5,6,7,8]</answer>", [[1, 2, 3, 4], [5, 6, 7, 8]], [[1, 2, 3, 4], [5, 6, 7, 8]]),
        ("<answer>(1,2),(3,4)</answer><answer>(5,6),(7,8)</answer>", [[1, 2, 3, 4]], [[1, 2, 3, 4]]),
        ("nothing", [], []),
    ],
)
def test_answer_boxes_policies(text, strict, lenient):
    assert answer_boxes(text).tolist() == strict
    assert answer_boxes(text, AnswerPolicy.STRICT).tolist() == strict
    assert answer_boxes(text, "lenient").tolist() == lenient


TRICKY_ANSWERS = [
    "<answer>(1,2),(3,4)</answer>",
    "<answer>[1, 2, 3, 4]</answer>",
    "<answer>(1, 2), (3, 4)</answer>",
    "<answer>(,1),(2,3)</answer>",
    "<answer>(1,2),(3,4) and (5,6),(7,8)</answer>",
    "<answer>(1,2),(3,4)</answer><answer>(9,9),(9,9)</answer>",
    "<answer>(99999999999999999999,2),(3,4)</answer>",
    "<answer>(9223372036854775807,2),(3,4)</answer>",
    "<answer>(0000000000000000000001,2),(3,4)</answer>",
    "<answer>(1.5,2),(3,4)</answer>",
    "<answer>(-1,2),(3,4)</answer>",
    "<answer>(١,2),(3,4)</answer>",
    "<answer>a\x00b (1,2),(3,4)</answer>",
    "<answer></answer>",
    "<answer>(1,2),(3,4)",
    "<think>(5,6),(7,8)</think><answer>none</answer>",
    "<think>(5,6),(7,8)</think>",
    "",
    None,
    5,
]


def expected_first(texts, policy):
    rows = [answer_boxes(text, policy) for text in texts]
    return np.array([boxes[0] if len(boxes) else np.full(4, NAN) for boxes in rows]).reshape(-1, 4)


@pytest.mark.parametrize("policy", ["strict", "lenient"])
def test_first_answer_boxes_equals_answer_boxes(policy):
    # Alone, next to a well-formed answer (the batch's fast path), and all together.
    batches = [[text] for text in TRICKY_ANSWERS] + [[text, TRICKY_ANSWERS[0]] for text in TRICKY_ANSWERS]
    for batch in [*batches, TRICKY_ANSWERS]:
        np.testing.assert_array_equal(first_answer_boxes(batch, policy), expected_first(batch, policy), repr(batch))


def test_first_answer_boxes_mixed_batch_parses_fast_and_slow_rows():
    texts = [f"<answer>({i},{i + 1}),({i + 2},{i + 3})</answer>" for i in range(50)] + ["<answer>(,1),(2,3)</answer>"]
    batch = first_answer_boxes(texts)
    assert batch[:50, 0].tolist() == list(range(50))
    assert np.isnan(batch[50]).all()


# --------------------------------------------------------------------------- image index


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("image 2", 2),
        ("Image-2", 2),
        ("IMAGE_4", 4),
        ("image2", 2),
        ("picture #3", 3),
        ("Frame: 7", 7),
        ("the second image", 2),
        ("It's in the third image.", 3),
        ("in the third image", 3),
        ("the Fifth Image", 5),
        ("2th image", 2),
        ("the 2nd image", 2),
        ("1st picture", 1),
        ("image 0", None),
        ("image 1000x800", None),
        ("images 2 and 3", None),
        ("no image named", None),
        ("", None),
    ],
)
def test_parse_image_index(text, expected):
    assert parse_image_index(text) == expected


def test_parse_image_index_first_or_last():
    text = "Compare image 1 with the third image; it is in Image-2."
    assert parse_image_index(text) == 1
    assert parse_image_index(text, last=True) == 2
    assert parse_image_index(None) is None


# --------------------------------------------------------------------------- sizes


def test_smart_resize_matches_transformers():
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize as reference

    rng = random.Random(0)
    limits = [(56 * 56, 14 * 14 * 4 * 1280), (3136, 640000), (56 * 56, 112 * 112), (256 * 28 * 28, 1280 * 28 * 28)]
    factors = sorted({family.resize_factor for family in MODEL_FAMILIES.values()})  # Qwen3-VL's images: factor 32
    assert factors == [28, 32]
    heights, widths, expected = [], [], {(limit, factor): [] for limit in limits for factor in factors}
    while len(heights) < 3000:
        height, width = rng.randint(1, 6000), rng.randint(1, 6000)
        if max(height, width) / min(height, width) > 200:  # transformers refuses these
            continue
        heights.append(height)
        widths.append(width)
        for limit in limits:
            for factor in factors:
                expected[limit, factor].append(
                    reference(height, width, factor, min_pixels=limit[0], max_pixels=limit[1])
                )
    for ((min_pixels, max_pixels), factor), pairs in expected.items():
        got_h, got_w = smart_resize(heights, widths, factor, min_pixels=min_pixels, max_pixels=max_pixels)
        assert got_h.dtype == np.int64
        assert list(zip(got_h.tolist(), got_w.tolist())) == pairs


def test_smart_resize_scalar_and_grid():
    assert [int(v) for v in smart_resize(480, 640, max_pixels=640000)] == [476, 644]
    np.testing.assert_array_equal(input_size_from_grid([[1, 34, 46], [1, 2, 4]]), [[644, 476], [56, 28]])
    np.testing.assert_array_equal(input_size_from_grid(np.array([1, 34, 46])), [[644, 476]])


# --------------------------------------------------------------------------- conversion


def test_convert_between_normalized_spaces_needs_no_size():
    np.testing.assert_allclose(convert_boxes([[100, 200, 500, 1000]], "norm1000", "norm1"), [[0.1, 0.2, 0.5, 1.0]])
    np.testing.assert_allclose(convert_boxes([0.1, 0.2, 0.5, 1.0], "norm1", "norm1000"), [100, 200, 500, 1000])


@pytest.mark.parametrize(
    ("source", "target", "box", "expected"),
    [
        ("norm1000", "abs_image", [100, 200, 500, 1000], [64, 96, 320, 480]),
        ("norm1", "abs_image", [0.1, 0.2, 0.5, 1.0], [64, 96, 320, 480]),
        ("abs_image", "norm1000", [64, 96, 320, 480], [100, 200, 500, 1000]),
        ("abs_input", "abs_image", [0, 0, 644, 476], [0, 0, 640, 480]),
        ("abs_image", "abs_input", [0, 0, 640, 480], [0, 0, 644, 476]),
        ("abs_input", "norm1000", [322, 238, 644, 476], [500, 500, 1000, 1000]),
    ],
)
def test_convert_boxes_by_hand(source, target, box, expected):
    out = convert_boxes([box], source, target, image_size=(640, 480), input_size=(644, 476))
    np.testing.assert_allclose(out, [expected])


def test_convert_abs_input_computes_the_input_size_with_smart_resize():
    # 1600x1200 becomes 896x672 under max_pixels=640000, and 1148x840 under the default 1003520.
    out = convert_boxes([0, 0, 896, 672], "abs_input", "abs_image", image_size=(1600, 1200), max_pixels=640000)
    np.testing.assert_allclose(out, [0, 0, 1600, 1200])
    default = convert_boxes([0, 0, 1148, 840], "abs_input", "abs_image", image_size=(1600, 1200))
    np.testing.assert_allclose(default, [0, 0, 1600, 1200])


def test_convert_input_size_alone_suffices_for_abs_input_to_normalized():
    out = convert_boxes([[322, 238, 644, 476]], "abs_input", "norm1", input_size=(644, 476))
    np.testing.assert_allclose(out, [[0.5, 0.5, 1, 1]])


def test_convert_per_box_sizes_and_edge_values():
    boxes = [[500, 500, 1000, 1000], [1000, 0, 0, NAN]]
    out = convert_boxes(boxes, "norm1000", "abs_image", image_size=[[100, 200], [10, 20]])
    np.testing.assert_allclose(out, [[50, 100, 100, 200], [10, 0, 0, NAN]])
    assert convert_boxes([1, 2, 3, 4], "norm1", "norm1").tolist() == [1, 2, 3, 4]


def test_convert_missing_sizes_and_unknown_spaces_raise_clearly():
    with pytest.raises(ValueError, match="abs_image needs image_size"):
        convert_boxes([[0, 0, 1, 1]], "norm1000", "abs_image")
    with pytest.raises(ValueError, match="abs_input needs input_size"):
        convert_boxes([[0, 0, 1, 1]], "abs_input", "norm1")
    with pytest.raises(ValueError, match=r"unknown coordinate space 'pixels'.*norm1000, norm1, abs_input, abs_image"):
        convert_boxes([[0, 0, 1, 1]], "pixels", "norm1")


SPACES = list(CoordinateSpace)
finite = st.floats(-1e6, 1e6, allow_nan=False)
sizes = st.tuples(st.integers(1, 8000), st.integers(1, 8000))


@given(
    box=st.lists(finite, min_size=4, max_size=4),
    source=st.sampled_from(SPACES),
    target=st.sampled_from(SPACES),
    image_size=sizes,
    input_size=sizes,
)
def test_conversions_round_trip(box, source, target, image_size, input_size):
    there = convert_boxes([box], source, target, image_size=image_size, input_size=input_size)
    back = convert_boxes(there, target, source, image_size=image_size, input_size=input_size)
    np.testing.assert_allclose(back, [box], rtol=1e-9, atol=1e-6)


@given(box=st.lists(finite, min_size=4, max_size=4), image_size=sizes, pixels=st.integers(3136, 2_000_000))
def test_conversion_round_trips_through_abs_input_via_smart_resize(box, image_size, pixels):
    limits = {"min_pixels": 3136, "max_pixels": max(pixels, 3136)}
    there = convert_boxes(box, "norm1000", "abs_input", image_size=image_size, **limits)
    back = convert_boxes(there, "abs_input", "norm1000", image_size=image_size, **limits)
    np.testing.assert_allclose(back, box, rtol=1e-9, atol=1e-6)


# --------------------------------------------------------------------------- IoU, GIoU


def test_iou_by_hand():
    a = [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 4, 4]]
    b = [[0, 0, 10, 10], [5, 0, 15, 10], [10, 0, 20, 10], [20, 20, 30, 30], [1, 1, 3, 3]]
    np.testing.assert_allclose(iou(a, b), [1.0, 50 / 150, 0.0, 0.0, 4 / 16])


def test_iou_swapped_boxes_are_reordered():
    assert iou([10, 10, 0, 0], [0, 0, 10, 10]) == 1.0
    assert iou([[10, 0, 0, 10]], [[5, 0, 15, 10]]).tolist() == pytest.approx([50 / 150])


@pytest.mark.parametrize(
    "bad",
    [[5, 5, 5, 9], [0, 3, 9, 3], [NAN, 0, 1, 1], [0, 0, INF, 1], [-INF, 0, 1, 1], [0, 0, 1e200, 1e200]],
    ids=["zero-width", "zero-height", "nan", "inf", "-inf", "area-overflow"],
)
def test_invalid_boxes_score_zero_iou_and_minus_one_giou(bad):
    good = [0, 0, 10, 10]
    assert iou([bad], [good]).tolist() == [0.0]
    assert iou([good], [bad]).tolist() == [0.0]
    assert iou([bad], [bad]).tolist() == [0.0]
    assert giou([bad], [good]).tolist() == [-1.0]
    assert not is_valid_box(bad)


def test_negative_and_out_of_range_coordinates_are_not_clipped():
    assert iou([[-10, -10, 10, 10]], [[0, 0, 10, 10]]).tolist() == [0.25]
    assert iou([[900, 900, 1100, 1100]], [[900, 900, 1000, 1000]]).tolist() == [0.25]


def test_giou_by_hand():
    a = [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]]
    b = [[0, 0, 10, 10], [10, 0, 20, 10], [20, 0, 30, 10], [5, 0, 15, 10]]
    np.testing.assert_allclose(giou(a, b), [1.0, 0.0, -1 / 3, 50 / 150])


def test_iou_matrix_and_broadcasting():
    matrix = iou_matrix([[0, 0, 10, 10], [20, 20, 30, 30]], [[0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 5, 10]])
    np.testing.assert_allclose(matrix, [[1, 0, 0.5], [0, 1, 0]])
    np.testing.assert_allclose(iou([[0, 0, 10, 10]], [[0, 0, 10, 10], [0, 0, 10, 5]]), [1, 0.5])
    assert iou([0, 0, 1, 1], [0, 0, 1, 1]).shape == ()


def test_is_valid_box():
    assert is_valid_box([0, 0, 1, 1])
    assert is_valid_box([1, 1, 0, 0])
    assert not is_valid_box([0, 0, 0, 0])


coordinate = st.floats(allow_nan=True, allow_infinity=True, width=64)
any_box = st.lists(coordinate, min_size=4, max_size=4)
valid_box = st.tuples(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4), st.floats(1e-2, 1e4), st.floats(1e-2, 1e4)).map(
    lambda b: [b[0], b[1], b[0] + b[2], b[1] + b[3]]
)


@given(a=any_box, b=any_box)
def test_iou_and_giou_are_symmetric_and_bounded_for_any_floats(a, b):
    forward, backward = iou([a], [b]), iou([b], [a])
    assert forward.tolist() == backward.tolist()
    assert 0.0 <= forward[0] <= 1.0
    g = giou([a], [b])
    assert g.tolist() == giou([b], [a]).tolist()
    assert -1.0 <= g[0] <= 1.0
    assert g[0] <= forward[0] + 1e-12


@given(box=valid_box)
def test_iou_of_identical_valid_boxes_is_one(box):
    assume(is_valid_box(box))
    assert iou([box], [box])[0] == pytest.approx(1.0)
    assert giou([box], [box])[0] == pytest.approx(1.0)


@given(box=valid_box, gap=st.floats(0, 1e4), axis=st.sampled_from([0, 1]))
def test_iou_of_disjoint_boxes_is_zero(box, gap, axis):
    other = list(box)
    shift = box[axis + 2] - box[axis] + gap
    other[axis] += shift
    other[axis + 2] += shift
    assume(is_valid_box(other) and other[axis] >= box[axis + 2])
    assert iou([box], [other])[0] == 0.0
    assert giou([box], [other])[0] <= 0.0


# --------------------------------------------------------------------------- never raises

TAG_PAIRS = [("<answer>", "</answer>"), ("<think>", "</think>"), ("<|box_start|>", "<|box_end|>"), ("<box>", "</box>")]
nested = st.recursive(
    st.text(max_size=20) | st.sampled_from(["(1,2),(3,4)", "[1, 2, 3, 4]", "<box>1 2 3 4</box>", "image 2", "1e999"]),
    lambda inner: (
        st.tuples(st.sampled_from(TAG_PAIRS), inner).map(lambda t: t[0][0] + t[1] + t[0][1])
        | st.lists(inner, max_size=4).map("".join)
    ),
    max_leaves=20,
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(text=st.text() | nested)
def test_parsers_never_raise_on_any_text(text):
    for policy in AnswerPolicy:
        boxes = answer_boxes(text, policy)
        assert boxes.ndim == 2 and boxes.shape[1] == 4
        first = first_answer_boxes([text], policy)[0]
        np.testing.assert_array_equal(first, boxes[0] if len(boxes) else np.full(4, NAN))
    assert parse_boxes(text).shape[1] == 4
    index = parse_image_index(text)
    assert index is None or index >= 1


@pytest.mark.parametrize(
    "text",
    [
        "<answer>" * 100_000,
        "<think>" * 50_000 + "</answer>",
        "(" * 200_000,
        "(1" * 100_000,
        "[1," * 100_000,
        "<answer>" + "9" * 200_000 + "</answer>",
        "image " * 100_000,
        "<answer>" + "(1,2),(3,4)" * 10_000 + "</answer>",
    ],
    ids=["answers", "thinks", "parens", "unclosed-pairs", "unclosed-lists", "long-number", "image-words", "10k-boxes"],
)
def test_huge_adversarial_texts_are_parsed_quickly(text):
    import time

    start = time.perf_counter()
    first_answer_boxes([text], "lenient")
    answer_boxes(text, "lenient")
    parse_image_index(text, last=True)
    assert time.perf_counter() - start < 5.0


def test_nan_and_inf_are_handled_without_warnings():
    with np.errstate(all="raise"):
        iou([[NAN, 0, 1, 1], [0, 0, INF, 1]], [[0, 0, 1, 1], [0, 0, 1, 1]])
        giou([[NAN, 0, 1, 1], [0, 0, INF, 1]], [[0, 0, 1, 1], [0, 0, 1, 1]])
    assert math.isnan(convert_boxes([NAN, 0, 1, 1], "norm1", "norm1000")[0])

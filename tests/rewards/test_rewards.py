"""univg_plugin.rewards: golden tests against the paper's definitions, every reward, the registry, the CLI."""

from __future__ import annotations

import importlib.metadata
import inspect
import re
import sys
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from univg_plugin import rewards
from univg_plugin.boxes import iou_matrix
from univg_plugin.rewards import (
    PAPER_FORMAT_PATTERN,
    REWARDS,
    _truth,
    available,
    completion_texts,
    get,
    load,
)

BUILTIN = sorted(REWARDS.builtins)
ENTRY_POINT_GROUP = REWARDS.group

# --------------------------------------------------------------------------- the reference, as the paper defines it
# UniVG-R1 (src/open-r1-multimodal/src/open_r1/vlm_modules/qwen_module.py): format_reward_rec and iou_reward,
# restated here as test oracles (the single-image COCO branch and the debug logging left out).

REFERENCE_FORMAT = r"<think>.*?</think>\s*<answer>\((\d+),\s*(\d+)\),\s*\((\d+),\s*(\d+)\)</answer>$"


def reference_format(text: str) -> float:
    return 1.0 if re.search(REFERENCE_FORMAT, text, re.DOTALL) is not None else 0.0


def reference_box_iou(box, truth) -> float:
    """The reference's IoU: continuous, except that an overlap of one unit or less counts as none."""
    left, top = max(box[0], truth[0]), max(box[1], truth[1])
    right, bottom = min(box[2] - 1, truth[2] - 1), min(box[3] - 1, truth[3] - 1)
    overlap = (right - left + 1) * (bottom - top + 1) if left < right and top < bottom else 0
    union = (box[2] - box[0]) * (box[3] - box[1]) + (truth[2] - truth[0]) * (truth[3] - truth[1]) - overlap
    return float(overlap) / union


def reference_iou(text: str, truth) -> float:
    try:
        answer = re.search(r"<answer>(.*?)</answer>", text, re.DOTALL)
        if answer:
            box = re.search(r"\((\d+),\s*(\d+)\),\s*\((\d+),\s*(\d+)\)", answer.group(1).strip())
            if box:
                return reference_box_iou([int(value) for value in box.groups()], truth)
    except Exception:  # the reference scores any failure (a zero union) as 0
        pass
    return 0.0


def conversation(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


TRUTH = [100, 200, 300, 400]
ANSWER = "<answer>(100,200),(300,400)</answer>"

# (name, completion, format, iou) where our strict rewards and the reference agree.
GOLDEN = [
    ("canonical", "<think>The cat is on the left.</think>" + ANSWER, 1.0, 1.0),
    ("partial overlap", "<think>x</think><answer>(200,200),(400,400)</answer>", 1.0, 1 / 3),
    ("overlap 150x150", "<think>x</think><answer>(150,250),(350,450)</answer>", 1.0, 22500 / 57500),
    ("prediction contains truth", "<think>x</think><answer>(0,0),(1000,1000)</answer>", 1.0, 0.04),
    ("disjoint", "<think>x</think><answer>(0,0),(50,50)</answer>", 1.0, 0.0),
    ("box only inside think", "<think>It is (100,200),(300,400).</think>", 0.0, 0.0),
    ("box in think, none in answer", "<think>(100,200),(300,400)</think><answer>the cat</answer>", 0.0, 0.0),
    ("box in think, wrong box in answer", "<think>(100,200),(300,400)</think><answer>(0,0),(50,50)</answer>", 1.0, 0),
    ("two answers, the first is wrong", "<think>x</think><answer>(0,0),(50,50)</answer>" + ANSWER, 0.0, 0.0),
    ("two answers, the first is right", "<think>x</think>" + ANSWER + "<answer>(0,0),(50,50)</answer>", 0.0, 1.0),
    ("two boxes in the answer, the first counts", "<answer>(200,200),(400,400),(100,200),(300,400)</answer>", 0, 1 / 3),
    ("whitespace between think and answer", "<think>x</think>\n\n <answer>(100,200),(300,400)</answer>", 1.0, 1.0),
    ("spaces after commas", "<think>x</think><answer>(100, 200), (300, 400)</answer>", 1.0, 1.0),
    ("padded answer", "<think>x</think><answer> (100,200),(300,400) </answer>", 0.0, 1.0),
    ("final newline", "<think>x</think>" + ANSWER + "\n", 1.0, 1.0),
    ("two final newlines", "<think>x</think>" + ANSWER + "\n\n", 0.0, 1.0),
    ("text after the answer", "<think>x</think>" + ANSWER + " Done.", 0.0, 1.0),
    ("missing think", ANSWER, 0.0, 1.0),
    ("unclosed think", "<think>x" + ANSWER, 0.0, 1.0),
    ("text before think", "Sure. <think>x</think>" + ANSWER, 1.0, 1.0),
    ("two think blocks", "<think>a</think> b <think>c</think>" + ANSWER, 1.0, 1.0),
    ("multi-line reasoning", "<think>line 1\nline 2\n</think>\n" + ANSWER, 1.0, 1.0),
    ("box tokens in the answer", "<think>x</think><answer><|box_start|>(100,200),(300,400)<|box_end|></answer>", 0, 1),
    ("sentence around the box", "<answer>It is at (100,200),(300,400).</answer>", 0.0, 1.0),
    ("nested answer tags", "<answer><answer>(100,200),(300,400)</answer></answer>", 0.0, 1.0),
    ("unclosed answer", "<think>x</think><answer>(100,200),(300,400)", 0.0, 0.0),
    ("upper-case tags", "<THINK>x</THINK><ANSWER>(100,200),(300,400)</ANSWER>", 0.0, 0.0),
    ("degenerate prediction", "<think>x</think><answer>(150,250),(150,350)</answer>", 1.0, 0.0),
    ("a number beyond any float", "<answer>(99999999999999999999,200),(300,400)</answer>", 0.0, 0.0),
    ("empty completion", "", 0.0, 0.0),
]
GOLDEN_IDS = [case[0] for case in GOLDEN]


@pytest.mark.parametrize(("name", "text", "expected_format", "expected_iou"), GOLDEN, ids=GOLDEN_IDS)
def test_golden_format_is_the_papers(name, text, expected_format, expected_iou):
    assert reference_format(text) == expected_format
    assert get("format")([conversation(text)]) == [expected_format]


def test_golden_format_refuses_decimals():
    text = "<think>x</think><answer>(100.0,200),(300,400)</answer>"
    assert reference_format(text) == 0.0
    assert get("format")([text]) == [0.0]


@pytest.mark.parametrize(("name", "text", "expected_format", "expected_iou"), GOLDEN, ids=GOLDEN_IDS)
def test_golden_iou_is_the_papers(name, text, expected_format, expected_iou):
    assert reference_iou(text, TRUTH) == pytest.approx(expected_iou)
    assert get("iou")([conversation(text)], solution=[TRUTH]) == [pytest.approx(expected_iou)]


def test_golden_degenerate_truth_scores_zero_like_the_reference():
    text = "<think>x</think><answer>(5,5),(5,5)</answer>"
    assert reference_iou(text, [5, 5, 5, 5]) == 0.0  # the reference divides by zero and catches it
    assert get("iou")([text], solution=[[5, 5, 5, 5]]) == [0.0]


# Our deliberate departures from the reference's accuracy reward: (name, completion, reference, ours).
DEPARTURES = [
    ("decimal coordinates are read", "<answer>(100.0,200.5),(300,400)</answer>", 0.0, 39900 / 40000),
    ("list syntax [x1,y1,x2,y2] is read", "<answer>[100, 200, 300, 400]</answer>", 0.0, 1.0),
    ("Qwen2.5-VL JSON is read", '<answer>[{"bbox_2d": [100, 200, 300, 400], "label": "cat"}]</answer>', 0.0, 1.0),
    ("<box> syntax is read", "<answer><box>100 200 300 400</box></answer>", 0.0, 1.0),
    ("whitespace inside the parentheses is allowed", "<answer>( 100,200 ),(300,400)</answer>", 0.0, 1.0),
    ("pairs without a comma between them are read", "<answer>(100,200)(300,400)</answer>", 0.0, 1.0),
    ("signed numbers are read", "<answer>(-100,200),(300,400)</answer>", 0.0, 0.5),
    ("a swapped box is reordered", "<answer>(300,400),(100,200)</answer>", 0.0, 1.0),
    ("an overlap of one unit counts (continuous IoU)", "<answer>(299,200),(500,400)</answer>", 0.0, 200 / 80000),
]


@pytest.mark.parametrize(("name", "text", "reference", "ours"), DEPARTURES, ids=[case[0] for case in DEPARTURES])
def test_departures_from_the_reference_iou(name, text, reference, ours):
    assert reference_iou(text, TRUTH) == reference
    assert get("iou")([conversation(text)], solution=[TRUTH]) == [pytest.approx(ours)]
    assert get("format")([text]) == [reference_format(text)]  # the format reward has no departure


def test_departure_lenient_policy_is_opt_in():
    text = "<think>It is (100,200),(300,400).</think>"
    assert reference_iou(text, TRUTH) == 0.0
    assert get("iou")([text], solution=[TRUTH]) == [0.0]
    assert get("iou", policy="lenient")([text], solution=[TRUTH]) == [1.0]


FRAGMENTS = ["<think>", "</think>", "<answer>", "</answer>", "(", ")", ",", ", ", " ", "\n", "1", "300", "x", "é"]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join))
def test_format_equals_the_reference_on_any_mix_of_its_tokens(text):
    assert get("format")([text]) == [reference_format(text)]


box_numbers = st.integers(0, 1000)


@settings(max_examples=300)
@given(
    reasoning=st.text(alphabet="abc \n.", max_size=50),
    box=st.tuples(box_numbers, box_numbers, box_numbers, box_numbers),
    truth=st.tuples(box_numbers, box_numbers, box_numbers, box_numbers),
    spaces=st.sampled_from(["", " "]),
)
def test_iou_equals_the_reference_on_paper_completions(reasoning, box, truth, spaces):
    x1, y1, x2, y2 = box
    text = f"<think>{reasoning}</think><answer>({x1},{spaces}{y1}),{spaces}({x2},{y2})</answer>"
    truth = [min(truth[0], truth[2]), min(truth[1], truth[3]), max(truth[0], truth[2]), max(truth[1], truth[3])]
    ours = get("iou")([text], solution=[truth])[0]
    width = min(x2, truth[2]) - max(x1, truth[0])
    height = min(y2, truth[3]) - max(y1, truth[1])
    if x1 <= x2 and y1 <= y2 and not (0 < width <= 1 or 0 < height <= 1):  # outside the named departures
        assert ours == pytest.approx(reference_iou(text, truth), abs=1e-12)
    assert get("format")([text]) == [reference_format(text)] == [1.0]


# --------------------------------------------------------------------------- inputs


def test_completion_texts_reads_every_completion_shape():
    completions = [
        "plain",
        [{"role": "assistant", "content": "conversational"}],
        [{"role": "user", "content": "q"}, {"role": "assistant", "content": "last message"}],
        [{"role": "assistant", "content": [{"type": "text", "text": "multi"}, {"type": "text", "text": "modal"}]}],
        {"role": "assistant", "content": "one message"},
        [],
        [{"role": "assistant"}],
        None,
    ]
    assert completion_texts(completions) == [
        "plain",
        "conversational",
        "last message",
        "multimodal",
        "one message",
        "",
        "",
        "",
    ]
    assert completion_texts([conversation("a"), conversation("b")]) == ["a", "b"]


@pytest.mark.parametrize("name", BUILTIN)
def test_conversational_and_plain_completions_score_the_same(name):
    texts = [
        "<think>x</think><answer>image 2: (100,200),(300,400)</answer>",
        "<think>x</think><answer>(0,0),(50,50)</answer>",
        "garbage",
    ]
    columns = {"solution": [TRUTH] * 3, "target_image": [2, 1, None]}
    reward = get(name)
    assert reward(texts, **columns) == reward([conversation(t) for t in texts], **columns)


def test_trl_arguments_are_accepted_and_ignored():
    reward = get("iou")
    out = reward(
        prompts=[[{"role": "user", "content": "where?"}]],
        completions=[conversation("<answer>(100,200),(300,400)</answer>")],
        completion_ids=[[1, 2, 3]],
        solution=[TRUTH],
        trainer_state=object(),
        log_extra=lambda *a: None,
        log_metric=lambda *a: None,
        problem=["where?"],
    )
    assert out == [1.0]


@pytest.mark.parametrize(
    "solution",
    [
        [100, 200, 300, 400],
        (100, 200, 300, 400),
        [[100, 200, 300, 400]],
        ((100, 200, 300, 400),),
        np.array([100, 200, 300, 400]),
        "<answer> [100, 200, 300, 400] </answer>",
        "[100,200,300,400]",
        "(100,200),(300,400)",
        '{"bbox_2d": [100, 200, 300, 400]}',
    ],
    ids=["list", "tuple", "list-of-boxes", "tuple-of-boxes", "array", "vlm-r1-text", "list-text", "pair-text", "json"],
)
def test_solution_forms(solution):
    assert get("iou")([ANSWER, "<answer>(200,200),(400,400)</answer>"], solution=[solution] * 2) == [
        1.0,
        pytest.approx(1 / 3),
    ]


def test_rows_without_a_target_box_are_not_applicable():
    texts = [ANSWER] * 4
    solution = [TRUTH, None, [], "<answer>no box</answer>"]
    assert get("iou")(texts, solution=solution) == [1.0, None, None, None]
    assert get("giou")(texts, solution=solution) == [1.0, None, None, None]
    assert get("iou_threshold")(texts, solution=solution) == [1.0, None, None, None]
    assert get("grounding")(texts, solution=solution) == [1.0, None, None, None]
    assert get("multi_box")([*texts, ""], solution=[*solution, []]) == [1.0, 0.0, 0.0, 0.0, 1.0]


def test_dataset_problems_raise_value_errors_that_name_them():
    with pytest.raises(ValueError, match="needs a `solution` column"):
        get("iou")([ANSWER])
    with pytest.raises(ValueError, match="`solution` has 2 values for 1 completions"):
        get("iou")([ANSWER], solution=[TRUTH, TRUTH])
    with pytest.raises(ValueError, match="column 'target_image' has 2 values for 1 completions"):
        get("image_index")([ANSWER], target_image=[1, 2])
    for bad in ([1, 2, 3], [[1, 2, 3, 4], [5, 6]], {"box": 1}, object()):
        with pytest.raises(
            ValueError, match=r"column 'solution', row 0: expected text or boxes of 4 numbers \[x1, y1, x2, y2\]"
        ):
            get("iou")([ANSWER], solution=[bad])
    with pytest.raises(ValueError, match=r"needs each image's size.*image_sizes.*width.*image_path"):
        get("iou", solution_space="abs_image")([ANSWER], solution=[TRUTH])
    with pytest.raises(ValueError, match="row 1: its `image_sizes` is empty"):
        get("iou", solution_space="abs_image")([ANSWER] * 2, solution=[TRUTH] * 2, image_sizes=[[[640, 480]], None])
    with pytest.raises(ValueError, match="target_image 3 is out of range for 2 'image_sizes' entries"):
        get("iou", solution_space="abs_image")(
            [ANSWER], solution=[TRUTH], image_sizes=[[[640, 480], [800, 600]]], target_image=[3]
        )


# --------------------------------------------------------------------------- coordinate spaces


def test_norm1_truth_against_norm1000_answers_needs_no_image_size():
    reward = get("iou", solution_space="norm1")
    assert reward([ANSWER], solution=[[0.1, 0.2, 0.3, 0.4]]) == [pytest.approx(1.0)]


def test_solution_space_column_per_row():
    reward = get("iou")
    out = reward(
        [ANSWER] * 3,
        solution=[[0.1, 0.2, 0.3, 0.4], TRUTH, [64, 96, 192, 192]],
        solution_space=["norm1", None, "abs_image"],
        width=[640, 640, 640],
        height=[480, 480, 480],
    )
    assert out == [pytest.approx(1.0)] * 3


def test_abs_image_truth_with_image_sizes_and_target_image():
    reward = get("iou", solution_space="abs_image")
    # answer in norm1000 of the second image (800x600): (100,200),(300,400) is 80,120 .. 240,240 there.
    out = reward(
        [ANSWER, ANSWER],
        solution=[[80, 120, 240, 240]] * 2,
        image_sizes=[[[640, 480], [800, 600]]] * 2,
        target_image=[2, 1],
    )
    assert out[0] == pytest.approx(1.0)
    assert out[1] < 1.0


def test_grpo_rows_layout():
    """Columns as `univg data convert --to grpo` writes them: boxes in each sample's own space."""
    rows = [
        {"solution": [[0.1, 0.2, 0.3, 0.4]], "solution_space": "norm1", "target_image": 1, "image_sizes": None},
        {"solution": [[80, 120, 240, 240]], "solution_space": "abs_image", "target_image": 2,
         "image_sizes": [[640, 480], [800, 600]]},
    ]  # fmt: skip
    columns = {key: [row[key] for row in rows] for key in rows[0]}
    assert get("iou")([ANSWER, ANSWER], **columns) == [pytest.approx(1.0), pytest.approx(1.0)]


def test_image_sizes_from_pil_images_and_paths(tmp_path, make_images):
    from PIL import Image

    paths = make_images(tmp_path, 2, size=(800, 600))
    images = [Image.open(path) for path in paths]
    reward = get("iou", solution_space="abs_image")
    truth = [[80, 120, 240, 240]]
    assert reward([ANSWER], solution=truth, images=[images], target_image=[2]) == [pytest.approx(1.0)]
    assert reward([ANSWER], solution=truth, image=[images[0]]) == [pytest.approx(1.0)]
    assert reward([ANSWER], solution=truth, image_path=[[str(paths[1])]]) == [pytest.approx(1.0)]


def test_abs_input_answers_with_smart_resize_limits():
    # A 1600x1200 image is fed to the model as 896x672 under max_pixels=640000 (Qwen2.5-VL grounds there).
    reward = get("iou", space="abs_input", solution_space="norm1000", max_pixels=640000)
    answer = "<answer>[89.6, 134.4, 268.8, 268.8]</answer>"  # norm1000 (100,200),(300,400) in 896x672 pixels
    assert reward([answer], solution=[TRUTH], width=[1600], height=[1200]) == [pytest.approx(1.0)]
    wrong_limits = get("iou", space="abs_input", solution_space="norm1000")
    assert wrong_limits([answer], solution=[TRUTH], width=[1600], height=[1200]) != [pytest.approx(1.0)]


def test_image_files_are_read_once_per_distinct_path(tmp_path, make_images):
    paths = [str(path) for path in make_images(tmp_path, 3, size=(640, 480))]
    _truth._image_size_from_file.cache_clear()
    reward = get("iou", solution_space="abs_image")
    count = 48
    image_path = [[paths[i % 3]] for i in range(count)]
    for _ in range(3):
        reward([ANSWER] * count, solution=[[64, 96, 192, 192]] * count, image_path=image_path)
    assert _truth._image_size_from_file.cache_info().misses == 3


# --------------------------------------------------------------------------- each reward


def test_iou_threshold_is_inclusive_and_configurable():
    texts = [ANSWER, "<answer>(100,200),(300,300)</answer>", "<answer>(200,200),(400,400)</answer>"]  # 1, .5, 1/3
    assert get("iou_threshold")(texts, solution=[TRUTH] * 3) == [1.0, 1.0, 0.0]
    assert get("iou_threshold", threshold=0.3)(texts, solution=[TRUTH] * 3) == [1.0, 1.0, 1.0]
    assert get("iou_threshold", threshold=0.75)(texts, solution=[TRUTH] * 3) == [1.0, 0.0, 0.0]
    with pytest.raises(ValueError, match=r"threshold must be in \[0, 1\]"):
        get("iou_threshold", threshold=1.5)


def test_giou_shapes_near_misses():
    texts = [ANSWER, "<answer>(300,200),(500,400)</answer>", "<answer>(500,200),(700,400)</answer>", "no box"]
    assert get("giou")(texts, solution=[TRUTH] * 4) == [1.0, 0.0, pytest.approx(-1 / 3), -1.0]


def test_format_custom_pattern():
    reward = get("format", format_pattern=r"<answer>.*\[.*\].*</answer>")
    assert reward(["<answer>[1, 2, 3, 4]</answer>", ANSWER]) == [1.0, 0.0]
    assert reward.__name__ == "format"
    with pytest.raises(ValueError, match=r"reward 'format': format_pattern is not a valid regular expression"):
        get("format", format_pattern="(")


def test_paper_format_pattern_constant_is_the_reference():
    assert PAPER_FORMAT_PATTERN == REFERENCE_FORMAT


@pytest.mark.parametrize(
    ("answer", "target", "strict", "lenient"),
    [
        ("<answer>image 2: (1,2),(3,4)</answer>", 2, 1.0, 1.0),
        ("<answer>It is in the second image.</answer>", 2, 1.0, 1.0),
        ("<answer>Image-3 (1,2),(3,4)</answer>", 2, 0.0, 0.0),
        ("<think>the third image</think><answer>(1,2),(3,4)</answer>", 3, 0.0, 1.0),
        ("<think>image 1 ... so image 3</think>", 3, 0.0, 1.0),
        ("<answer>image 2</answer>", None, None, None),
        ("<answer>image 2</answer>", 0, None, None),
    ],
)
def test_image_index(answer, target, strict, lenient):
    assert get("image_index")([answer], target_image=[target]) == [strict]
    assert get("image_index", policy="lenient")([answer], target_image=[target]) == [lenient]


def test_image_index_without_target_column_is_not_applicable():
    assert get("image_index")(["<answer>image 2</answer>"]) == [None]


def test_grounding_gates_iou_by_the_named_image():
    texts = [
        "<answer>image 2: (100,200),(300,400)</answer>",
        "<answer>image 1: (100,200),(300,400)</answer>",
        "<answer>(100,200),(300,400)</answer>",
        "<answer>(100,200),(300,400)</answer>",
    ]
    out = get("grounding")(texts, solution=[TRUTH] * 4, target_image=[2, 2, 2, None])
    assert out == [1.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize(
    ("answer", "targets", "expected"),
    [
        ("(0,0),(10,10) (20,20),(30,30)", [[0, 0, 10, 10], [20, 20, 30, 30]], 1.0),
        ("(20,20),(30,30) (0,0),(10,10)", [[0, 0, 10, 10], [20, 20, 30, 30]], 1.0),  # order does not matter
        ("(0,0),(10,10)", [[0, 0, 10, 10], [20, 20, 30, 30]], 0.5),  # one missing
        ("(0,0),(10,10) (20,20),(30,30) (50,50),(60,60)", [[0, 0, 10, 10], [20, 20, 30, 30]], 2 / 3),  # one extra
        ("(0,0),(10,10) (0,0),(10,10)", [[0, 0, 10, 10]], 0.5),  # a duplicate matches once
        ("none", [[0, 0, 10, 10]], 0.0),
        ("none", [], 1.0),
        ("(0,0),(10,10)", [], 0.0),
        ("(0,0),(10,10) (50,50),(60,60)", [[0, 0, 10, 10], [20, 20, 30, 30]], 1 / 3),  # a miss and an extra
    ],
)
def test_multi_box(answer, targets, expected):
    assert get("multi_box")([f"<answer>{answer}</answer>"], solution=[targets]) == [pytest.approx(expected)]


def test_multi_box_is_optimal_not_greedy():
    # Along x (y is 0..10 everywhere): targets [10,20] and [18,28], answers [11,21] and [8,18].
    # Greedy takes the largest IoU first (answer 0 -> target 0, 9/11) and leaves answer 1 with target 1 (0.0);
    # the optimal pairing is answer 0 -> target 1 (3/17) and answer 1 -> target 0 (8/12).
    answer = "<answer>(11,0),(21,10) (8,0),(18,10)</answer>"
    targets = [[10, 0, 20, 10], [18, 0, 28, 10]]
    np.testing.assert_allclose(iou_matrix([[11, 0, 21, 10], [8, 0, 18, 10]], targets), [[9 / 11, 3 / 17], [8 / 12, 0]])
    assert 3 / 17 + 8 / 12 > 9 / 11
    assert get("multi_box")([answer], solution=[targets]) == [pytest.approx((3 / 17 + 8 / 12) / 2)]


def test_multi_box_penalties():
    answer = "<answer>(0,0),(10,10) (50,50),(60,60)</answer>"  # one match (IoU 1), one miss, one extra
    targets = [[[0, 0, 10, 10], [20, 20, 30, 30]]]
    assert get("multi_box")([answer], solution=targets) == [pytest.approx(1 / 3)]
    assert get("multi_box", missing_penalty=0, extra_penalty=0)([answer], solution=targets) == [1.0]
    assert get("multi_box", extra_penalty=0)([answer], solution=targets) == [0.5]
    assert get("multi_box", extra_penalty=2)([answer], solution=targets) == [0.25]
    assert get("multi_box", missing_penalty=0, extra_penalty=0)(
        ["<answer>(50,50),(60,60)</answer>"], solution=targets
    ) == [0.0]
    with pytest.raises(ValueError, match="must be >= 0"):
        get("multi_box", missing_penalty=-1)


# --------------------------------------------------------------------------- any string, never raises

COLUMNS = {"target_image": [2]}
RANGES = {name: (-1.0, 1.0) if name == "giou" else (0.0, 1.0) for name in BUILTIN}
weird_text = (
    st.text()
    | st.lists(st.sampled_from([*FRAGMENTS, "<|box_start|>", "[1,2,3,4]", "image 3", "1e999", "-5"]), max_size=60).map(
        "".join
    )
    | st.integers(0, 10_000).map(lambda n: "<answer>" + "(1,2),(3,4) " * n + "</answer>")
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None, max_examples=150)
@given(text=weird_text, policy=st.sampled_from(["strict", "lenient"]))
def test_any_completion_scores_in_range_and_never_raises(text, policy):
    for name in BUILTIN:
        options = {"policy": policy} if name != "format" else {}
        out = get(name, **options)(
            [conversation(text), text], solution=[TRUTH, [TRUTH, [0, 0, 5, 5]]], target_image=[2, 1]
        )
        low, high = RANGES[name]
        assert len(out) == 2
        assert all(value is not None and low <= value <= high for value in out), (name, out)


@pytest.mark.parametrize("name", BUILTIN)
def test_huge_and_nested_completions(name):
    texts = [
        "<answer>" * 20_000,
        "<think>" * 20_000 + "</answer>",
        "<answer>" + "(1,2),(3,4)" * 10_000 + "</answer>",
        "<think><answer><think>(1,2),(3,4)</think></answer></think>",
        "x" * 1_000_000,
    ]
    out = get(name)(texts, solution=[TRUTH] * len(texts), target_image=[1] * len(texts))
    low, high = RANGES[name]
    assert all(low <= value <= high for value in out)


def test_large_batches_score_like_single_completions():
    count = 20_000  # several chunks of first_answer_boxes, with fast and regex-parsed answers mixed
    texts = [f"<answer>({i % 900},{i % 500}),({i % 900 + 100},{i % 500 + 100})</answer>" for i in range(count)]
    for i in range(0, count, 7):
        texts[i] = f"<answer>In image 2: [{i % 900}, {i % 500}, {i % 900 + 100}, {i % 500 + 100}]</answer>"
    for i in range(0, count, 11):
        texts[i] = "<answer>(1,),(2,3)</answer>"
    solution = [[i % 900, i % 500, i % 900 + 100, i % 500 + 50] for i in range(count)]
    expected = [0.0 if i % 11 == 0 else 0.5 for i in range(count)]
    assert get("iou")(texts, solution=solution) == expected
    assert [get("iou")([texts[i]], solution=[solution[i]])[0] for i in range(0, count, 997)] == expected[::997]


# --------------------------------------------------------------------------- names, registry, CLI


@pytest.mark.parametrize("name", BUILTIN)
def test_made_rewards_are_named_and_documented_like_trl(name):
    reward = get(name)
    assert reward.__name__ == reward.__qualname__ == name
    assert reward.__module__.startswith("univg_plugin.rewards.")
    for section in ("Args:", "completions (`", "**kwargs:", "Returns:", "Example:", ">>> "):
        assert section in reward.__doc__
    function = getattr(rewards, f"{name}_reward")
    assert function.__name__ == name and reward.__doc__ == function.__doc__
    assert f"def {name}_reward(" in inspect.getsource(function)


def test_configured_rewards_keep_their_name_and_report_their_options():
    reward = get("iou", space="abs_input", solution_space="abs_image", policy="lenient")
    assert reward.__name__ == "iou"
    assert reward.options == {"space": "abs_input", "solution_space": "abs_image", "policy": "lenient"}


def test_unknown_names_and_options_fail_with_the_known_ones():
    with pytest.raises(KeyError, match=r"unknown reward 'ioo'; known rewards: .*format.*iou.*multi_box"):
        get("ioo")
    with pytest.raises(ValueError, match="reward 'format' has no option 'space'; its options are: format_pattern"):
        get("format", space="abs_input")
    with pytest.raises(ValueError, match="unknown coordinate space"):
        get("iou", space="pixels")


def test_load_with_per_name_and_shared_options():
    iou, fmt, threshold = load(
        ["iou", "format", "iou_threshold"], {"iou_threshold": {"threshold": 0.9}}, space="abs_input", policy="lenient"
    )
    assert [iou.__name__, fmt.__name__, threshold.__name__] == ["iou", "format", "iou_threshold"]
    assert iou.options == {"space": "abs_input", "policy": "lenient"}
    assert threshold.options == {"space": "abs_input", "policy": "lenient", "threshold": 0.9}
    assert fmt.options == {}
    with pytest.raises(ValueError, match="options given for rewards not loaded: giou"):
        load(["iou"], {"giou": {}})
    with pytest.raises(ValueError, match="no reward in \\['format'\\] takes the option\\(s\\) space"):
        load(["format"], space="abs_input")


def test_available_lists_every_builtin_with_its_summary():
    names = available()
    for name in BUILTIN:
        assert names[name] == inspect.getdoc(REWARDS.load(name)).splitlines()[0]
    assert list(names) == sorted(names)


def test_our_entry_points_are_installed():
    installed = {ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert set(BUILTIN) <= set(installed)
    for name in BUILTIN:
        assert importlib.metadata.EntryPoint(name, installed[name], ENTRY_POINT_GROUP).load().__name__ == name


@pytest.fixture
def other_package(tmp_path, monkeypatch):
    """A package installed on sys.path that registers two rewards of its own, and a broken one."""
    (tmp_path / "other_rewards.py").write_text(
        textwrap.dedent(
            '''
            def length_reward(completions, **kwargs):
                """Reward by length: one point per 10 characters."""
                return [len(c if isinstance(c, str) else c[-1]["content"]) / 10 for c in completions]


            def threshold_echo(completions, *, threshold=0.5, **kwargs):
                """Echoes its threshold."""
                return [float(threshold) for _ in completions]
            '''
        )
    )
    info = tmp_path / "other_rewards-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: other-rewards\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n"
        "length = other_rewards:length_reward\n"
        "threshold_echo = other_rewards:threshold_echo\n"
        "broken = other_rewards_missing:nothing\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    REWARDS.refresh()
    yield
    REWARDS.refresh()
    sys.modules.pop("other_rewards", None)


@pytest.mark.usefixtures("other_package")
def test_rewards_of_other_installed_packages_are_discovered():
    names = available()
    assert names["length"] == "Reward by length: one point per 10 characters."
    assert names["threshold_echo"] == "Echoes its threshold."
    assert names["broken"].startswith("(failed to load other_rewards_missing:nothing")
    assert "iou" in names
    length = get("length")
    assert length.__name__ == "length"
    assert length(["0123456789", conversation("01234")]) == [1.0, 0.5]
    echo = get("threshold_echo", threshold=0.25)
    assert echo.__name__ == "threshold_echo"
    assert echo(["a", "b"]) == [0.25, 0.25]
    assert [f.__name__ for f in load(["iou", "length", "threshold_echo"], space="norm1")] == [
        "iou",
        "length",
        "threshold_echo",
    ]
    with pytest.raises(ValueError, match=r"reward 'length' has no option 'threshold'; its options are: \(none\)"):
        get("length", threshold=0.5)
    with pytest.raises(KeyError, match=r"known rewards: .*length.*threshold_echo"):
        get("nope")


@pytest.mark.usefixtures("other_package")
def test_cli_lists_ours_and_other_packages_rewards():
    from univg_plugin.cli import main

    result = CliRunner().invoke(main, ["rewards", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name in BUILTIN:
        assert any(line.split()[0] == name and line.endswith(available()[name]) for line in lines), name
    assert any(line.startswith("length ") and "one point per 10 characters" in line for line in lines)
    assert any(line.startswith("threshold_echo ") for line in lines)


def test_cli_lists_builtins_without_other_packages():
    from univg_plugin.cli import main

    REWARDS.refresh()
    result = CliRunner().invoke(main, ["rewards", "list"])
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.output.splitlines()] == sorted(available())


def test_get_rejects_options_the_reward_does_not_take():
    with pytest.raises(ValueError, match="reward 'iou' has no option 'threshold'"):
        get("iou", threshold=0.3)

"""Every regex run on model output takes time linear in the text (issue: 20,000 newlines must not stall a step).

Covered: `boxes.parse._BOX_RE` (parse_boxes, answer_boxes, first_answer_boxes), `boxes.image_index._IMAGE_INDEX_RE`
(parse_image_index, answer_image_index), the paper's format pattern (`rewards.format._PAPER_FORMAT`), and every
built-in reward under every answer policy. A user's own `format_pattern` is the user's (docs/rewards.md).
"""

from __future__ import annotations

import pytest
from complexity import MAX_RATIO, growth_ratio

from univg_plugin.boxes import answer_boxes, answer_image_index, first_answer_boxes, parse_boxes, parse_image_index
from univg_plugin.rewards import REWARDS, get

#: Adversarial shapes: runs of whitespace, newlines, digits, commas, parentheses, nested and unclosed tags.
SHAPES = {
    "newlines after a pair": lambda n: "<answer>(1,2)" + "\n" * n + "</answer>",
    "spaces after a pair and a comma": lambda n: "<answer>(1,2)," + " " * n + "</answer>",
    "newlines after image": lambda n: "<answer>image" + "\n" * n + "</answer>",
    "spaces after an ordinal": lambda n: "<answer>the first" + " " * n + "</answer>",
    "spaces after a number": lambda n: "<answer>2" + " " * n + "nd</answer>",
    "a digit run": lambda n: "<answer>(" + "1" * n + "</answer>",
    "a digit run after image": lambda n: "<answer>image " + "1" * n + "</answer>",
    "commas": lambda n: "<answer>(1" + "," * n + "2)</answer>",
    "opening parentheses": lambda n: "<answer>" + "(" * n + "</answer>",
    "pairs without a second pair": lambda n: "<answer>" + "(1,2) " * (n // 6) + "</answer>",
    "box tags": lambda n: "<answer>" + "<box>1 " * (n // 7) + "</answer>",
    "nested think tags": lambda n: "<think>" * (n // 7) + "</think>" * (n // 8) + "<answer>(1,2),(3,4)</answer>",
    "unclosed answers": lambda n: "<answer>" * (n // 8),
    "think then whitespace runs": lambda n: "<think>x</think>" + (" " * 50 + "</think>") * (n // 58) + "</answer>",
}
PARSERS = {
    "parse_boxes": parse_boxes,
    "answer_boxes lenient": lambda text: answer_boxes(text, "lenient"),
    "first_answer_boxes first": lambda text: first_answer_boxes([text], "first"),
    "parse_image_index": parse_image_index,
    "answer_image_index lenient": lambda text: answer_image_index(text, "lenient"),
}


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_box_and_image_parsers_are_linear(parser, shape):
    ratio = growth_ratio(PARSERS[parser], SHAPES[shape])
    assert ratio < MAX_RATIO, f"{parser} on {shape}: time(8n) / time(n) = {ratio:.1f}"


def _reward_call(name: str, policy: str):
    options = {} if name == "format" else {"policy": policy}
    reward = get(name, **options)
    return lambda text: reward([text], solution=[[1, 2, 3, 4]], target_image=[1])


#: Every built-in reward under every answer policy (`format` has none).
REWARD_RUNS = [
    (name, policy)
    for name in sorted(REWARDS.builtins)
    for policy in (["strict"] if name == "format" else ["strict", "lenient", "first"])
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "policy"), REWARD_RUNS)
def test_rewards_are_linear_on_every_adversarial_shape(name, policy):
    call = _reward_call(name, policy)
    ratios = {shape: growth_ratio(call, make) for shape, make in SHAPES.items()}
    slow = {shape: round(ratio, 1) for shape, ratio in ratios.items() if ratio >= MAX_RATIO}
    assert not slow, f"{name} ({policy}): time(8n) / time(n) >= {MAX_RATIO}: {slow}"


#: The safe custom pattern docs/rewards.md shows (a user's own pattern is the user's; this one must stay safe).
DOCUMENTED_PATTERN = r"<answer>\[\d+(?:, ?\d+){3}\]</answer>\s*$"


@pytest.mark.slow
def test_the_documented_custom_format_pattern_is_linear():
    reward = get("format", format_pattern=DOCUMENTED_PATTERN)
    assert reward(["<think>x</think><answer>[1, 2, 3, 4]</answer>\n"]) == [1.0]
    ratios = {shape: growth_ratio(lambda text: reward([text]), make) for shape, make in SHAPES.items()}
    assert all(ratio < MAX_RATIO for ratio in ratios.values()), ratios

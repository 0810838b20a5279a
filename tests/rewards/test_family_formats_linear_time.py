"""The family table's format patterns take time linear in the text (VLM-R1's own regex does not).

Same method as tests/boxes/test_linear_time.py: one function on n and 8n characters, in one run.
"""

from __future__ import annotations

import pytest
from complexity import MAX_RATIO, growth_ratio

from univg_plugin.qwen_vl import MODEL_FAMILIES
from univg_plugin.rewards import get

#: Shapes that make a backtracking search of a `<think>..</think>..<answer>..` layout try each start and each split.
SHAPES = {
    "think blocks": lambda n: "<think>" * (n // 7),
    "think answer brace": lambda n: "<think>x</think><answer>{" * (n // 25),
    "closing think then whitespace": lambda n: ("</think>" + " " * 20) * (n // 28),
    "unclosed box lists": lambda n: "<think></think><answer>{" + "[1, 2, 3," * (n // 9),
    "a digit run": lambda n: "<think></think><answer>{[" + "1" * n,
    "answers followed by text": lambda n: "<think>" + "</think><answer>(1,2),(3,4)</answer>x" * (n // 40),
    "json answers without a closing tag": lambda n: "<think></think><answer>{[1,2,3,4]}" * (n // 33),
    "newlines": lambda n: "<think>x</think><answer>{[1, 2, 3, 4]" + "\n" * n,
}


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("family", sorted(MODEL_FAMILIES))
def test_family_format_patterns_are_linear(family, shape):
    reward = get("format", format_pattern=MODEL_FAMILIES[family].format_pattern)
    ratio = growth_ratio(lambda text: reward([text]), SHAPES[shape])
    assert ratio < MAX_RATIO, f"{family} on {shape}: time(8n) / time(n) = {ratio:.1f}"

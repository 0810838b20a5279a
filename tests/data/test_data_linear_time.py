"""Every regex the data code runs on data or model-written text takes time linear in the text.

Each entry of :data:`REGEXES` names a pattern (as it was, or as it is) and the public function that
runs it; each runs on adversarial texts (runs of whitespace, newlines and digits, repeated and
unclosed tags) of n = 50,000 and 8n characters: time(8n) / time(n) < 16 (linear is about 8,
quadratic about 64). The box and image-index parsers these functions call are covered by
``tests/boxes/test_linear_time.py``.
"""

from __future__ import annotations

import pytest
from complexity import MAX_RATIO, growth_ratio

from univg_plugin.data import get_format
from univg_plugin.data.formats._fields import read_question
from univg_plugin.data.render import read_paper_answer, split_target_sentence


def _migician_answer(answer: str) -> list:
    row = {
        "images": ["a.jpg", "b.jpg"],
        "conversations": [{"from": "human", "value": "Find the dog."}, {"from": "gpt", "value": answer}],
    }
    try:
        return get_format("migician").parse(row, "m-0")
    except ValueError as error:  # a FieldError or a ValidationError: the text still had to be read
        return [error]


#: pattern (where it is or was) -> (the public function that runs it, adversarial texts by name).
REGEXES = {
    r"data.render._TARGET_SENTENCE_RE  \s*So the target is in image (\d+)\.$  (now str methods)": (
        split_target_sentence,
        {
            "a whitespace run inside": lambda n: "x" + " " * n + "y",
            "newlines before an unfinished sentence": lambda n: "x" + "\n" * n + "So the target is in image 2",
            "a digit run": lambda n: "So the target is in image " + "1" * n + ".",
            "repeated sentences": lambda n: "So the target is in image 1 " * (n // 27) + ".",
        },
    ),
    r"data.render._THINK_RE  <think>(.*?)</think>, DOTALL  (now str methods)": (
        read_paper_answer,
        {
            "unclosed think tags": lambda n: "<think>" * (n // 7),
            "unclosed think tags then whitespace": lambda n: "<think>" * (n // 14) + " " * (n // 2),
            "newlines inside": lambda n: "<think>a" + "\n" * n + "b</think><answer>(1,2),(3,4)</answer>",
            "a whitespace run before the target sentence": lambda n: (
                "<think>a" + " " * n + "So the target is in image 2.</think>"
            ),
        },
    ),
    r"data.formats._fields._LOCATE_RE  ' Locate it in image-(\d+)\.$'  (now str methods)": (
        lambda text: read_question(text, 2),
        {
            "a digit run": lambda n: "Find it. Locate it in image-" + "1" * n,
            "repeated suffixes": lambda n: " Locate it in image-1" * (n // 21),
        },
    ),
    r"data.formats._fields leading placeholders  (?:\s*<image>){n}\s*  (now an anchored \s* per placeholder)": (
        lambda text: read_question(text, 3),
        {
            "whitespace between placeholders": lambda n: "<image>" + " " * n + "<image>" + "\n" * n + "x",
            "whitespace without a third placeholder": lambda n: "<image><image>" + " " * n + "x<image>",
            "many placeholders": lambda n: "<image> " * (n // 8),
        },
    ),
    r"data.formats.migician sentence split  (?<=[.;:])\s+": (
        _migician_answer,
        {
            "a whitespace run after a sentence": lambda n: "It's in the second image." + " " * n + "(1,2),(3,4)",
            "many short sentences": lambda n: ". " * (n // 2) + "(1,2),(3,4)",
            "newlines after colons": lambda n: ":\n" * (n // 2) + "image 2 (1,2),(3,4)",
        },
    ),
}
RUNS = [(pattern, shape) for pattern, (_, shapes) in REGEXES.items() for shape in shapes]


@pytest.mark.slow
@pytest.mark.parametrize(("pattern", "shape"), RUNS)
def test_every_regex_on_data_is_linear(pattern, shape):
    function, shapes = REGEXES[pattern]
    ratio = growth_ratio(function, shapes[shape])
    assert ratio < MAX_RATIO, f"{pattern} on {shape}: time(8n) / time(n) = {ratio:.1f}"


def test_the_rewritten_patterns_read_what_the_regexes_read():
    """Same results as the regexes they replace, at the edges: whitespace before the sentence, a final newline,
    Unicode digits, a sentence that does not end the text."""
    assert split_target_sentence("Red.\n \tSo the target is in image 12.") == ("Red.", 12)
    assert split_target_sentence("So the target is in image 3.\n") == (None, 3)
    assert split_target_sentence("So the target is in image \u0663.") == (None, 3)
    assert split_target_sentence("So the target is in image 3. More.") == ("So the target is in image 3. More.", None)
    assert split_target_sentence("So the target is in image 1234567890.")[1] is None  # no image has that number
    assert read_paper_answer("<think><think>a</think>b</think>")[0] == "<think>a"
    assert read_paper_answer("<think>a<answer>(1,2),(3,4)</answer>")[0] is None
    assert read_question(" <image>\n<image> Find it. Locate it in image-2.", 2) == ("Find it.", 2)
    assert read_question("<image> Find it <image>.", 2) == ("<image> Find it <image>.", None)
    assert read_question("Find it. Locate it in image-2.\n", 1) == ("Find it.", 2)


def test_the_measure_tells_linear_from_quadratic():
    """The ratio these tests bound: a quadratic function crosses it, and str.count on the text that once crossed
    it (many placeholders, when the small text fitted in the L1 cache and the large did not) stays under it."""
    assert growth_ratio(lambda text: text.count("<image>"), lambda n: "<image> " * (n // 8)) < MAX_RATIO
    quadratic = growth_ratio(lambda text: [text.count(char) for char in text], lambda n: "ab" * (n // 2), n=2_000)
    assert quadratic > MAX_RATIO

"""The fast path of the box parser: answers that are exactly one box of plain integers, parsed by numpy per batch.

Only used by :func:`univg_plugin.boxes.parse.first_answer_boxes`, where ``benchmarks/bench_rewards.py`` shows
it pays; every answer it does not recognise goes to the regex parser.
"""

from __future__ import annotations

import numpy as np

__all__ = ["integer_box_answers", "parse_integer_boxes"]

_FAST_SKELETONS = frozenset({"(,),(,)", "(,), (,)", "(, ), (, )", "[,,,]", "[, , , ]"})
_FAST_SKELETON_BYTES = frozenset(skeleton.encode() for skeleton in _FAST_SKELETONS)
_DIGITS = b"0123456789"
_DELETE_DIGITS = str.maketrans("", "", _DIGITS.decode())
_PUNCTUATION_TO_SPACE = str.maketrans("(),[]", "     ")
_INT64_MAX = np.iinfo(np.int64).max


def integer_box_answers(answers: list[str]) -> np.ndarray:
    """Which answers are one box of plain digit runs: their digits deleted, one of :data:`_FAST_SKELETONS`."""
    joined = "\x00".join(answers)
    if joined.isascii():  # the common case: bytes.translate deletes in C
        skeletons, known = joined.encode().translate(None, _DIGITS).split(b"\x00"), _FAST_SKELETON_BYTES
    else:
        skeletons, known = joined.translate(_DELETE_DIGITS).split("\x00"), _FAST_SKELETONS
    if len(skeletons) != len(answers):  # an answer contains the separator itself
        skeletons, known = [answer.translate(_DELETE_DIGITS) for answer in answers], _FAST_SKELETONS
    return np.fromiter(map(known.__contains__, skeletons), bool, len(answers))


def parse_integer_boxes(answers: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The four integers of answers known to be one box of digit runs (:data:`_FAST_SKELETONS`).

    One numpy call parses the whole batch, the answers separated by a ``-1`` that no answer can hold.

    Returns:
        ``(values, parsed)``: a ``(n, 4)`` float64 array, and which answers it holds; an answer with an
        empty slot (``"(,1),(2,3)"``) or a number beyond int64 is left to the regex parser.
    """
    joined = " -1 ".join([*answers, ""])  # "a -1 b -1 "
    numbers = np.fromstring(joined.translate(_PUNCTUATION_TO_SPACE), dtype=np.int64, sep=" ")
    ends = np.flatnonzero(numbers == -1)  # each answer's numbers are the four before its -1
    parsed = ends - np.concatenate(([-1], ends[:-1])) == 5
    if parsed.all():
        values = numbers.reshape(-1, 5)[:, :4].astype(np.float64)
    else:
        values = np.zeros((len(answers), 4))
        values[parsed] = numbers[ends[parsed, None] - np.arange(4, 0, -1)]
    if numbers.max(initial=0) == _INT64_MAX:  # fromstring saturates an overlong number
        parsed &= ~(values == _INT64_MAX).any(axis=1)
    return values, parsed

"""The fast path of the box parser: answers that are exactly one box of plain integers, parsed by numpy per batch.

Only used by :func:`univg_plugin.boxes.parse.first_answer_boxes`, where ``benchmarks/bench_rewards.py`` shows
it pays; every answer it does not recognise goes to the regex parser.
"""

from __future__ import annotations

import numpy as np

__all__ = ["integer_box_answers", "parse_integer_boxes"]

#: An answer's skeleton (every run of ASCII digits written as one ``0``) when it is one box of integers.
_FAST_SKELETONS = frozenset({"(0,0),(0,0)", "(0,0), (0,0)", "(0, 0), (0, 0)", "[0,0,0,0]", "[0, 0, 0, 0]"})
_FAST_SKELETON_BYTES = frozenset(skeleton.encode() for skeleton in _FAST_SKELETONS)
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_DIGITS_TO_ZERO_TEXT = str.maketrans("123456789", "000000000")
_PUNCTUATION_TO_SPACE = str.maketrans("(),[]", "     ")
_INT64_MAX = np.iinfo(np.int64).max


def _skeleton(text: str | bytes) -> str | bytes:
    """``text`` with every run of ASCII digits written as one ``0`` (C-speed passes, each halving the runs)."""
    zeros = text.translate(_DIGITS_TO_ZERO if isinstance(text, bytes) else _DIGITS_TO_ZERO_TEXT)
    double, single = (b"00", b"0") if isinstance(text, bytes) else ("00", "0")
    while double in zeros:
        zeros = zeros.replace(double, single)
    return zeros


def integer_box_answers(answers: list[str]) -> np.ndarray:
    """Which answers are one box of plain digit runs: their skeleton is one of :data:`_FAST_SKELETONS`.

    Example:
        >>> integer_box_answers(["(1,2),(30,40)", "(1,)2,(3,4)", "[1, 2, 3, 4]"]).tolist()
        [True, False, True]
    """
    joined = "\x00".join(answers)
    if joined.isascii():  # the common case: bytes methods run in C
        skeletons, known = _skeleton(joined.encode()).split(b"\x00"), _FAST_SKELETON_BYTES
    else:
        skeletons, known = _skeleton(joined).split("\x00"), _FAST_SKELETONS
    if len(skeletons) != len(answers):  # an answer contains the separator itself
        skeletons, known = [_skeleton(answer) for answer in answers], _FAST_SKELETONS
    return np.fromiter(map(known.__contains__, skeletons), bool, len(answers))


def parse_integer_boxes(answers: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The four integers of answers known to be one box of digit runs (see :func:`integer_box_answers`).

    One numpy call parses the whole batch, the answers separated by a ``-1`` that no answer can hold.

    Returns:
        ``(values, parsed)``: a ``(n, 4)`` float64 array, and which answers it holds; an answer with a
        number beyond int64 is left to the regex parser.
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

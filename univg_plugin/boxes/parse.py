"""The one box parser: every box syntax in a text, the answer block, and the first answer box of a batch."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import chain, compress

import numpy as np

from ..choices import Choice
from .fast_parse import integer_box_answers, parse_integer_boxes

__all__ = ["AnswerPolicy", "answer_block", "answer_boxes", "answer_text", "first_answer_boxes", "parse_boxes"]


class AnswerPolicy(Choice):
    """Where the answer's box is looked for.

    - ``strict``: only inside the first ``<answer>...</answer>`` block (the paper's behaviour);
    - ``lenient``: the answer block's boxes when it has any, else the last box anywhere in the text;
    - ``first``: every box of the text, answer tags ignored, so the first box is the first anywhere
      (what MIG-Bench's and the zero-shot sets' scoring scripts read).
    """

    STRICT = "strict"
    LENIENT = "lenient"
    FIRST = "first"


_NUM = r"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
# `\)\s*(?:,\s*)?\(`, not `\)\s*,?\s*\(`: two `\s*` around an optional comma backtrack quadratically on a run
# of whitespace. Every pattern here runs in time linear in the text (tests/boxes/test_linear_time.py).
_PAIR = rf"\(\s*{_NUM}\s*,\s*{_NUM}\s*\)\s*(?:,\s*)?\(\s*{_NUM}\s*,\s*{_NUM}\s*\)"
_LIST = rf"\[\s*{_NUM}\s*,\s*{_NUM}\s*,\s*{_NUM}\s*,\s*{_NUM}\s*\]"
_TAG = rf"<box>\s*{_NUM}[\s,]+{_NUM}[\s,]+{_NUM}[\s,]+{_NUM}\s*</box>"
_BOX_RE = re.compile(f"{_PAIR}|{_LIST}|{_TAG}")
_NUMBERS_OF = {4: (1, 2, 3, 4), 8: (5, 6, 7, 8), 12: (9, 10, 11, 12)}  # a match's lastindex -> its groups
_EMPTY = np.empty((0, 4), dtype=np.float64)


def _numbers(match: re.Match) -> tuple[str, ...]:
    """The four number strings of a :data:`_BOX_RE` match, whichever syntax it matched."""
    return match.group(*_NUMBERS_OF[match.lastindex])


def _to_boxes(numbers: list[str]) -> np.ndarray:
    """``(k, 4)`` float64 boxes from ``4k`` number strings (Python's ``float``: any ``\\d``, overflow to inf)."""
    return np.fromiter(map(float, numbers), np.float64, len(numbers)).reshape(-1, 4)


def parse_boxes(text: str) -> np.ndarray:
    """Every box in ``text``, in order of appearance.

    Args:
        text: Any string.

    Returns:
        A float64 array of shape ``(k, 4)``; ``(0, 4)`` when there is no box.

    Example:
        >>> parse_boxes("a <|box_start|>(1,2),(3,4)<|box_end|> and [5, 6.5, 7, 8]").tolist()
        [[1.0, 2.0, 3.0, 4.0], [5.0, 6.5, 7.0, 8.0]]
    """
    if not isinstance(text, str):
        return _EMPTY.copy()
    return _to_boxes(list(chain.from_iterable(map(_numbers, _BOX_RE.finditer(text)))))


def answer_text(text: str, policy: AnswerPolicy | str = AnswerPolicy.STRICT) -> str | None:
    """The content of the first ``<answer>...</answer>`` block.

    Same block as the reference's ``re.search(r"<answer>(.*?)</answer>", text, re.DOTALL)`` (the first
    opening tag, up to the first closing tag after it), found in linear time.

    Args:
        text: A completion.
        policy: ``strict`` returns None when there is no answer block; ``lenient`` returns the whole
            text then.

    Returns:
        The answer content, or None.

    Example:
        >>> answer_text("<think>x</think><answer>(1,2),(3,4)</answer>")
        '(1,2),(3,4)'
    """
    policy = AnswerPolicy(policy)
    answer = answer_block(text)
    if answer is not None or not isinstance(text, str):
        return answer
    return text if policy is AnswerPolicy.LENIENT else None


def answer_boxes(text: str, policy: AnswerPolicy | str = AnswerPolicy.STRICT) -> np.ndarray:
    """The boxes of a completion's answer, in order.

    Args:
        text: A completion.
        policy: see :class:`AnswerPolicy`.

    Returns:
        A ``(k, 4)`` array; under ``lenient``, the last box of the whole text when the answer block
        has none (or is missing); under ``first``, every box of the text.

    Example:
        >>> answer_boxes("<think>(0,0),(9,9)</think><answer>(1,2),(3,4)</answer>").tolist()
        [[1.0, 2.0, 3.0, 4.0]]
        >>> answer_boxes("(0,0),(9,9) then (1,1),(5,5)", "lenient").tolist()
        [[1.0, 1.0, 5.0, 5.0]]
        >>> answer_boxes("<think>(0,0),(9,9)</think><answer>(1,2),(3,4)</answer>", "first").tolist()[0]
        [0.0, 0.0, 9.0, 9.0]
    """
    policy = AnswerPolicy(policy)
    if policy is AnswerPolicy.FIRST:
        return parse_boxes(text)
    boxes = parse_boxes(answer_block(text))
    if len(boxes) or policy is AnswerPolicy.STRICT:
        return boxes
    every = parse_boxes(text)
    return every[-1:]


_CHUNK = 4096  # texts per pass of first_answer_boxes: a chunk's answers stay in the CPU cache between steps
_BOX_OPENERS = ("(", "[", "<box>")  # every syntax of _BOX_RE starts with one of these


def answer_block(text: object) -> str | None:
    """Content of the first ``<answer>...</answer>`` block, or None (str.find: linear, no regex)."""
    if not isinstance(text, str):
        return None
    start = text.find("<answer>")
    if start < 0:
        return None
    end = text.find("</answer>", start)
    return text[start + 8 : end] if end >= 0 else None


def _answers_of(texts: Sequence[object]) -> list[str]:
    """:func:`answer_block` of every text, ``""`` where there is none (inlined: the rewards' hot loop)."""
    try:
        return [
            (t[s + 8 : e] if (e := t.find("</answer>", s)) >= 0 else "") if (s := t.find("<answer>")) >= 0 else ""
            for t in texts
        ]
    except (AttributeError, TypeError):  # a non-string somewhere
        return [answer_block(text) or "" for text in texts]


def _from_first_opener(texts: Sequence[object]) -> list[str]:
    """Each text from where its first box could start (no box starts before): the ``first`` policy's "answer"."""
    tails = []
    for text in texts:
        starts = [p for p in map(text.find, _BOX_OPENERS) if p >= 0] if isinstance(text, str) else ()
        tails.append(text[min(starts) :] if starts else "")
    return tails


def _first_boxes_by_regex(answers: list[str]) -> tuple[list[int], np.ndarray]:
    """The first box of each answer that has one (``(positions, (k, 4) boxes)``), by the regex parser.

    Keeps no match object alive, so that a large batch does not trigger the garbage collector.
    """
    found, numbers = [], []
    for position, answer in enumerate(answers):
        match = _BOX_RE.search(answer) if answer else None
        if match is not None:
            found.append(position)
            numbers.extend(_numbers(match))
    return found, _to_boxes(numbers)


def first_answer_boxes(texts: Sequence[str], policy: AnswerPolicy | str = AnswerPolicy.STRICT) -> np.ndarray:
    """The first box of each text's answer, for a whole batch at once.

    Same result as ``answer_boxes(text, policy)[0]`` per text, but fast: answers that are exactly one
    box of non-negative integers (``(x1,y1),(x2,y2)`` or ``[x1, y1, x2, y2]``, the common case) are
    recognised by their digit-free skeleton and parsed by one numpy call per chunk of texts; every
    other answer goes through the regex parser.

    Args:
        texts: Completions (non-strings count as having no box).
        policy: see :class:`AnswerPolicy`.

    Returns:
        A float64 array ``(len(texts), 4)``; rows without a box are NaN.

    Example:
        >>> first_answer_boxes(["<answer>(1,2),(3,4)</answer>", "no box"]).tolist()[0]
        [1.0, 2.0, 3.0, 4.0]
    """
    policy = AnswerPolicy(policy)
    count = len(texts)
    if count > _CHUNK:
        return np.concatenate([first_answer_boxes(texts[i : i + _CHUNK], policy) for i in range(0, count, _CHUNK)])
    result = np.full((count, 4), np.nan)
    answers = _from_first_opener(texts) if policy is AnswerPolicy.FIRST else _answers_of(texts)
    is_fast = integer_box_answers(answers)
    fast = np.flatnonzero(is_fast)
    slow = np.ones(count, dtype=bool)
    if fast.size:
        values, parsed = parse_integer_boxes(list(compress(answers, is_fast.tolist())))
        result[fast[parsed]] = values[parsed]
        slow[fast[parsed]] = False
    slow = np.flatnonzero(slow)
    found, boxes = _first_boxes_by_regex([answers[i] for i in slow.tolist()])
    result[slow[found]] = boxes
    if policy is AnswerPolicy.LENIENT:
        for i in np.flatnonzero(np.isnan(result).any(axis=1)).tolist():
            boxes = answer_boxes(texts[i], policy)
            if len(boxes):
                result[i] = boxes[0]
    return result

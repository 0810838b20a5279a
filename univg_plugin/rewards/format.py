"""The format reward: is the completion laid out as the paper asks (reasoning, then one answer box)?"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._convention import as_rewards, completion_texts, logged_as

__all__ = ["PAPER_FORMAT_PATTERN", "format_reward"]

#: The paper's format: ``<think>...</think>`` then ``<answer>(x1,y1),(x2,y2)</answer>`` ending the text.
PAPER_FORMAT_PATTERN = r"<think>.*?</think>\s*<answer>\((\d+),\s*(\d+)\),\s*\((\d+),\s*(\d+)\)</answer>$"
_PAPER_FORMAT = re.compile(PAPER_FORMAT_PATTERN, re.DOTALL)


def _has_paper_format(text: str) -> bool:
    """``_PAPER_FORMAT.search(text)``, in linear time.

    A match must end the text (``$``: at the end or before a final newline) and may as well start at
    the first ``<think>``: the lazy ``.*?`` of a match from a later ``<think>`` can start at the first.
    """
    if not (text.endswith("</answer>") or text.endswith("</answer>\n")):
        return False
    start = text.find("<think>")
    return start >= 0 and _PAPER_FORMAT.match(text, start) is not None


@logged_as("format")
def format_reward(
    completions: Sequence[Any], *, format_pattern: str | None = None, none_value: float | None = None, **kwargs: Any
) -> list[float | None]:
    """1.0 when the completion has the expected layout, else 0.0 (needs no solution).

    The default layout is the paper's: ``<think>...</think>``, optional whitespace, then
    ``<answer>(x1,y1),(x2,y2)</answer>`` with integer coordinates ending the text (a final newline allowed).

    Args:
        completions (`list[list[dict[str, str]]]` or `list[str]`):
            Completions: conversational (the last message's `"content"` is read) or plain strings.
        format_pattern (`str`):
            A regex searched in each completion (`re.DOTALL`) instead of the paper's layout. It runs on model
            output: avoid patterns that backtrack (nested quantifiers, `\\s*` on both sides of an optional part).
            `univg_plugin.qwen_vl.MODEL_FAMILIES` holds linear-time patterns for each family's answers.
        none_value (`float` or `None`):
            Accepted so that one setting serves every reward: this reward applies to every row, never None.
        **kwargs:
            The dataset columns (ignored).

    Returns:
        `list[float]`: 1.0 or 0.0 per completion.

    Example:
        >>> format_reward(["<think>top left</think><answer>(0,0),(100,100)</answer>", "(0,0),(100,100)"])
        [1.0, 0.0]
    """
    texts = completion_texts(completions)
    if format_pattern is None:
        matches = map(_has_paper_format, texts)
    else:
        search = re.compile(format_pattern, re.DOTALL).search
        matches = (search(text) is not None for text in texts)
    return as_rewards(np.fromiter(matches, np.float64, len(texts)), none_value)

"""Which image a text names: "image 2", "Image-2", "the second image", "2th image", ..."""

from __future__ import annotations

import re

from .parse import AnswerPolicy, answer_block

__all__ = ["MAX_INDEX_DIGITS", "ORDINALS", "answer_image_index", "parse_image_index"]

#: Ordinal words and the 1-based image index they name, in order.
ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
_IMAGE_WORD = r"(?:image|picture|img|frame)"
#: Longer digit runs are no image index (and `int` refuses more than 4,300 digits).
MAX_INDEX_DIGITS = 9
# `\s*(?:[-_#:]\s*)?`, not `\s*[-_#:]?\s*`: two `\s*` around an optional character backtrack quadratically.
_IMAGE_INDEX_RE = re.compile(
    rf"\b{_IMAGE_WORD}\s*(?:[-_#:]\s*)?(\d+)\b"  # image 2, Image-2, image2, picture #3
    rf"|\b(\d+)\s*(?:st|nd|rd|th)\s+{_IMAGE_WORD}\b"  # 2nd image, 2th image
    rf"|\b({'|'.join(ORDINALS)})\s+{_IMAGE_WORD}\b",  # the second image
    re.IGNORECASE,
)


def parse_image_index(text: str, last: bool = False) -> int | None:
    """The 1-based image index a text names: "image 2", "Image-2", "the second image", "2th image", ...

    Args:
        text: Any string.
        last: Return the last mention instead of the first (reasoning often names several images
            before concluding).

    Returns:
        The index (>= 1), or None when no image is named.

    Example:
        >>> parse_image_index("It's in the third image.")
        3
        >>> parse_image_index("compare image 1 with Image-2", last=True)
        2
    """
    if not isinstance(text, str):
        return None
    hits = _IMAGE_INDEX_RE.findall(text)
    if not hits:
        return None
    for hit in reversed(hits) if last else hits:
        value = _index_of(*hit)
        if value is not None and value >= 1:
            return value
    return None


def _index_of(number: str, nth: str, word: str) -> int | None:
    """The index one match names; None for an ordinal in other letters (``firſt``) or an absurdly long number."""
    digits = number or nth
    if digits:
        return int(digits) if len(digits) <= MAX_INDEX_DIGITS else None
    return ORDINALS.get(word.lower())  # IGNORECASE also matches `firſt`, `fırst`: no ordinal of ours


def answer_image_index(text: str, policy: AnswerPolicy | str = AnswerPolicy.STRICT) -> int | None:
    """The image a completion names as the target's (1-based).

    Args:
        text: A completion.
        policy: ``strict``: the first image named inside the answer block; ``lenient`` and ``first``:
            that, else the last image named anywhere (reasoning ends with its conclusion).

    Returns:
        The index, or None.

    Example:
        >>> text = "<think>Not image 1. So it is in image 3.</think><answer>(1,2),(3,4)</answer>"
        >>> answer_image_index(text) is None, answer_image_index(text, "lenient")
        (True, 3)
    """
    policy = AnswerPolicy(policy)
    named = parse_image_index(answer_block(text))
    if named is not None or policy is AnswerPolicy.STRICT:
        return named
    return parse_image_index(text, last=True)

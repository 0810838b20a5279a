"""The base of the package's string choices (coordinate spaces, answer policies, ...)."""

from __future__ import annotations

import re
from enum import Enum

__all__ = ["Choice"]


class Choice(str, Enum):
    """A string enum whose unknown values are refused, naming the choice (from the class name) and its values.

    Example:
        >>> class AnswerColour(Choice):
        ...     RED = "red"
        >>> AnswerColour("blue")
        Traceback (most recent call last):
        ...
        ValueError: unknown answer colour 'blue'; expected one of: red
    """

    @classmethod
    def _missing_(cls, value: object) -> Choice:
        label = re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()
        raise ValueError(f"unknown {label} {value!r}; expected one of: {', '.join(choice.value for choice in cls)}")

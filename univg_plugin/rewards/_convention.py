"""TRL's reward convention, both ways: the text of each completion in, a list of rewards out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["RewardFunc", "as_rewards", "completion_texts", "logged_as", "where_targeted"]

#: A reward function in TRL's convention: ``f(completions, **columns) -> list[float | None]``.
RewardFunc = Callable[..., list]


def _message_text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if isinstance(completion, list) and completion:
        content = completion[-1].get("content", "") if isinstance(completion[-1], dict) else completion[-1]
        if isinstance(content, list):  # multimodal parts
            texts = (part.get("text") for part in content if isinstance(part, dict))
            return "".join(text for text in texts if isinstance(text, str))
        return content if isinstance(content, str) else ""
    return ""


def completion_texts(completions: Sequence[Any]) -> list[str]:
    """The text of each completion, conversational (last message's content) or plain.

    Example:
        >>> completion_texts(["a", [{"role": "assistant", "content": "b"}]])
        ['a', 'b']
    """
    try:  # the common case, inlined: conversational completions with string contents
        return [t if type(t := c[-1]["content"]) is str else _message_text(c) for c in completions]
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    return [_message_text(completion) for completion in completions]


def as_rewards(scores: np.ndarray, none_value: float | None = None) -> list[float | None]:
    """Scores as a trainer wants them: Python floats, ``none_value`` where a score is NaN ("does not apply").

    ``none_value`` None is TRL's convention (it leaves the row out); a trainer that does ``torch.tensor(rewards)``
    (VLM-R1) needs a number, e.g. 0.0.

    Example:
        >>> as_rewards(np.array([0.5, np.nan])), as_rewards(np.array([0.5, np.nan]), none_value=0.0)
        ([0.5, None], [0.5, 0.0])
    """
    if np.isnan(scores).any():
        none_value = None if none_value is None else float(none_value)
        return [none_value if value != value else value for value in scores.tolist()]
    return scores.tolist()


def where_targeted(scores: np.ndarray, target: np.ndarray) -> np.ndarray:
    """NaN (does not apply) for the rows whose first target box is missing (a row of NaN)."""
    return np.where(np.isnan(target).all(axis=1), np.nan, scores)


def logged_as(name: str) -> Callable[[RewardFunc], RewardFunc]:
    """Set the name TRL logs a reward under (``rewards/<name>/mean``, read from ``__name__``): its registry name."""

    def rename(reward: RewardFunc) -> RewardFunc:
        reward.__name__ = name
        return reward

    return rename

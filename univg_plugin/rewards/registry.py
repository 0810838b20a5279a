"""The reward registry: names -> reward functions, with options checked before training starts.

The built-ins are the table :data:`REWARDS` is made with; other packages add theirs through the entry-point
group ``univg_plugin.rewards`` (see :mod:`univg_plugin.plugins`). :func:`get` configures one reward,
:func:`load` several, :func:`reward_options` shares settings between them.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..boxes import AnswerPolicy, CoordinateSpace
from ..plugins import Registry
from ..qwen_vl import MODEL_FAMILIES
from ._convention import RewardFunc

__all__ = ["REWARDS", "available", "checked_reward", "get", "load", "reward_options"]

#: Every reward by name: the built-ins below and other installed packages' (group ``univg_plugin.rewards``).
REWARDS = Registry(
    "univg_plugin.rewards",
    "reward",
    {
        "iou": "univg_plugin.rewards.accuracy:iou_reward",
        "iou_threshold": "univg_plugin.rewards.accuracy:iou_threshold_reward",
        "giou": "univg_plugin.rewards.accuracy:giou_reward",
        "format": "univg_plugin.rewards.format:format_reward",
        "image_index": "univg_plugin.rewards.image_index:image_index_reward",
        "grounding": "univg_plugin.rewards.image_index:grounding_reward",
        "multi_box": "univg_plugin.rewards.multi_box:multi_box_reward",
    },
)


def _between_0_and_1(value: Any) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"must be in [0, 1], got {value}")


def _not_negative(value: Any) -> None:
    if not value >= 0.0:
        raise ValueError(f"must be >= 0, got {value}")


def _positive(value: Any) -> None:
    if not value > 0:
        raise ValueError(f"must be > 0, got {value}")


def _real_number(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"must be a number or None, got {value!r:.80}")


def _regex(value: Any) -> None:
    try:
        re.compile(value)
    except re.error as error:
        raise ValueError(f"is not a valid regular expression ({error})") from None


def _family(value: Any) -> None:
    if value not in MODEL_FAMILIES:
        raise ValueError(f"is not a model family; known: {', '.join(MODEL_FAMILIES)}")


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


#: The built-in rewards' options and how their values are checked (a third-party option is the reward's own affair).
OPTION_CHECKS: dict[str, Callable[[Any], Any]] = {
    "space": CoordinateSpace,
    "solution_space": _optional(CoordinateSpace),
    "policy": AnswerPolicy,
    "threshold": _between_0_and_1,
    "format_pattern": _optional(_regex),
    "missing_penalty": _not_negative,
    "extra_penalty": _not_negative,
    "min_pixels": _optional(_positive),
    "max_pixels": _optional(_positive),
    "model_family": _optional(_family),
    "none_value": _optional(_real_number),
}


def _options_of(reward: Callable[..., Any]) -> tuple[str, ...]:
    """The keyword-only parameters of a reward function: the options it takes."""
    try:
        parameters = inspect.signature(reward).parameters.values()
    except (TypeError, ValueError):  # a callable without a signature takes no options
        return ()
    return tuple(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)


def _summary(reward: Callable[..., Any]) -> str:
    lines = (inspect.getdoc(reward) or "").splitlines()
    return lines[0] if lines else ""


def available() -> dict[str, str]:
    """Every reward name known (ours and other installed packages'), with the first line of its docstring.

    Example:
        >>> available()["iou"]
        "Continuous IoU of the answer's first box with the first target box: the paper's accuracy reward."
    """
    summaries = {}
    for name, plugin in REWARDS.plugins().items():
        try:
            summaries[name] = _summary(plugin.load())
        except Exception as error:  # a broken third-party package must not break the listing
            summaries[name] = f"(failed to load {plugin.target}: {error})"
    return summaries


def get(name: str, **options: Any) -> RewardFunc:
    """The reward registered under ``name``, configured with ``options``.

    Args:
        name: A registry name (``univg rewards list``).
        **options: Keyword options of the reward (its keyword-only parameters), checked now.

    Returns:
        A function in TRL's convention whose ``__name__`` is ``name`` and whose ``options`` attribute holds
        the options; they win over dataset columns of the same name.

    Raises:
        KeyError: an unknown name (the message lists the known ones).
        ValueError: an option this reward does not take, or a bad value.

    Example:
        >>> get("iou_threshold", threshold=0.7).options
        {'threshold': 0.7}
    """
    return _configured(checked_reward(name, options), name, options)


def checked_reward(name: str, options: Mapping[str, Any]) -> RewardFunc:
    """The reward registered under ``name``, once ``options`` are known to be its options with valid values.

    Raises:
        KeyError: an unknown name.
        ValueError: an option the reward does not take, or a bad value (naming the reward and the option).
    """
    reward = REWARDS.load(name)
    accepted = _options_of(reward)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(
            f"reward {name!r} has no option {', '.join(map(repr, unknown))}; its options are: "
            f"{', '.join(accepted) or '(none)'}"
        )
    for option, value in options.items():
        try:
            OPTION_CHECKS.get(option, lambda _: None)(value)
        except (ValueError, TypeError) as error:
            raise ValueError(f"reward {name!r}: {option} {error}") from None
    return reward


def _configured(reward: RewardFunc, name: str, options: dict[str, Any]) -> RewardFunc:
    @functools.wraps(reward)
    def configured(*args: Any, **columns: Any) -> list:
        return reward(*args, **{**columns, **options})

    configured.__name__ = configured.__qualname__ = name
    configured.options = dict(options)  # type: ignore[attr-defined]
    return configured


def reward_options(
    names: Sequence[str], per_reward: Mapping[str, Mapping[str, Any]] | None = None, **shared: Any
) -> dict[str, dict[str, Any]]:
    """The options of each reward: the ``shared`` ones it takes, then its own from ``per_reward``.

    Args:
        names: Registry names.
        per_reward: Options by name, e.g. ``{"iou_threshold": {"threshold": 0.7}}``.
        **shared: Options for every reward that takes them (``space`` goes to ``iou``, not to ``format``).

    Raises:
        KeyError: an unknown name.
        ValueError: options for a name not listed.

    Example:
        >>> reward_options(["iou", "format"], {"format": {"format_pattern": "x"}}, space="abs_input")
        {'iou': {'space': 'abs_input'}, 'format': {'format_pattern': 'x'}}
    """
    per_reward = per_reward or {}
    stray = sorted(set(per_reward) - set(names))
    if stray:
        raise ValueError(f"options given for rewards not loaded: {', '.join(stray)}")
    takes = {name: set(_options_of(REWARDS.load(name))) for name in names}
    return {
        name: {**{k: v for k, v in shared.items() if k in takes[name]}, **per_reward.get(name, {})} for name in names
    }


def load(
    names: Sequence[str], options: Mapping[str, Mapping[str, Any]] | None = None, **shared: Any
) -> list[RewardFunc]:
    """Several configured rewards at once, e.g. ``load(["iou", "format"])``.

    Args:
        names: Registry names.
        options: Per-name options, e.g. ``{"iou": {"threshold": 0.7}}``.
        **shared: Options for every reward that takes them (see :func:`reward_options`); per-name options win.

    Returns:
        The reward functions, in the order of ``names``.

    Raises:
        KeyError: an unknown name.
        ValueError: options for a name not listed, a shared option no listed reward takes, or a bad option.

    Example:
        >>> [reward.__name__ for reward in load(["iou", "format"], space="abs_input")]
        ['iou', 'format']
    """
    taken = set().union(*(_options_of(REWARDS.load(name)) for name in names))
    unused = sorted(set(shared) - taken)
    if unused:
        raise ValueError(f"no reward in {list(names)} takes the option(s) {', '.join(unused)}")
    configured = reward_options(names, options, **shared)
    return [get(name, **configured[name]) for name in names]

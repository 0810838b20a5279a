"""`none_value`: what a reward returns for a row it does not apply to (None for TRL, a number for VLM-R1 & co.)."""

from __future__ import annotations

import pytest

from univg_plugin.rewards import REWARDS, get

ANSWER = "<think>x</think><answer>image 1: (0,0),(100,100)</answer>"
#: Row 0 has a target box and a target image; row 1 has neither.
COLUMNS = {"solution": [[0, 0, 100, 50], None], "target_image": [1, None]}
#: The rewards that have rows they do not apply to, and their value on row 0.
APPLICABLE = {"iou": 0.5, "iou_threshold": 1.0, "giou": 0.5, "image_index": 1.0, "grounding": 0.5}


@pytest.mark.parametrize("name", sorted(APPLICABLE))
def test_a_row_without_a_target_scores_none_value(name):
    reward = REWARDS.load(name)
    assert reward([ANSWER] * 2, **COLUMNS) == [APPLICABLE[name], None]  # TRL's "does not apply" by default
    assert get(name, none_value=0.0)([ANSWER] * 2, **COLUMNS) == [APPLICABLE[name], 0.0]
    scores = get(name, none_value=-1)([ANSWER] * 2, **COLUMNS)
    assert scores == [APPLICABLE[name], -1.0] and all(type(score) is float for score in scores)


@pytest.mark.parametrize("name", ["format", "multi_box"])
def test_rewards_that_always_apply_take_none_value_too(name):
    """One `none_value` setting serves every built-in reward (e.g. `load(names, none_value=0.0)`)."""
    assert get(name, none_value=0.0)([ANSWER] * 2, **COLUMNS) == REWARDS.load(name)([ANSWER] * 2, **COLUMNS)


def test_every_builtin_reward_takes_none_value():
    for name in REWARDS.builtins:
        assert get(name, none_value=0.0).options == {"none_value": 0.0}


@pytest.mark.parametrize("value", ["0", True, [0.0], {}])
def test_none_value_must_be_a_number_or_none(value):
    with pytest.raises(ValueError, match="reward 'iou': none_value must be a number or None"):
        get("iou", none_value=value)
    assert get("iou", none_value=None)([ANSWER], solution=[None]) == [None]

"""The keys of `stage: grpo`, checked at parse time (GRPOFinetuningArguments, without a training run)."""

from __future__ import annotations

import pytest
import torch

from univg_plugin import weighting
from univg_plugin.plugins import Registry
from univg_plugin.weighting import WeightingMethod

pytestmark = pytest.mark.llamafactory


@pytest.fixture(scope="module")
def hparams():
    from univg_plugin.integrations.llamafactory import hparams

    return hparams


def grpo(hparams, **keys):
    return hparams.GRPOFinetuningArguments(stage="grpo", **keys)


def test_defaults_are_the_papers_stage_2(hparams):
    arguments = grpo(hparams)
    assert arguments.grpo_trainer == "difficulty_aware"
    assert arguments.reward_funcs == ["iou", "format"]
    assert arguments.difficulty_weighting == "exp"


def test_an_unknown_trainer_is_refused_naming_the_key(hparams):
    with pytest.raises(ValueError, match=r"`grpo_trainer`: unknown GRPO trainer 'unknown'; .*difficulty_aware"):
        grpo(hparams, grpo_trainer="unknown")


def test_a_trainer_registered_by_another_package_is_accepted(hparams, monkeypatch):
    trainers = Registry(hparams.TRAINERS.group, hparams.TRAINERS.kind, hparams.TRAINERS.builtins)
    trainers.register("mine", object)
    monkeypatch.setattr(hparams, "TRAINERS", trainers)
    assert grpo(hparams, grpo_trainer="mine").grpo_trainer == "mine"


def test_grpo_keys_are_refused_with_another_stage(hparams):
    with pytest.raises(ValueError, match=r"`grpo_trainer` only applies to `stage: grpo` \(this run has `stage: sft`\)"):
        hparams.GRPOFinetuningArguments(stage="sft", grpo_trainer="difficulty_aware_v2")


def test_weighting_method_and_parameters_are_checked_naming_the_key(hparams):
    with pytest.raises(ValueError, match="`difficulty_weighting`: unknown difficulty weighting method 'cubic'"):
        grpo(hparams, difficulty_weighting="cubic")
    with pytest.raises(ValueError, match=r"`difficulty_params`: method 'power' takes no parameter slope"):
        grpo(hparams, difficulty_weighting="power", difficulty_params='{"slope": 1.0}')
    assert grpo(hparams, difficulty_weighting="power", difficulty_params={"power": 2.0}).difficulty_params == {
        "power": 2.0
    }


def test_a_registered_weighting_method_is_accepted(hparams, monkeypatch):
    methods = Registry(
        weighting.WEIGHTING_METHODS.group, "difficulty weighting method", weighting.WEIGHTING_METHODS.builtins
    )
    methods.register("flat", WeightingMethod(lambda m, *, level: torch.full_like(m, level), {"level": 2.0}))
    monkeypatch.setattr(weighting, "WEIGHTING_METHODS", methods)
    monkeypatch.setattr(hparams, "WEIGHTING_METHODS", methods)
    assert grpo(hparams, difficulty_weighting="flat", difficulty_params={"level": 3.0}).difficulty_weighting == "flat"


def test_reward_options_share_the_settings_each_reward_takes(hparams):
    arguments = grpo(hparams, reward_space="abs_input", reward_kwargs={"format": {"format_pattern": "x"}})
    options = arguments.reward_options(min_pixels=3136, max_pixels=12845056)
    assert options["iou"] == {"space": "abs_input", "policy": "strict", "min_pixels": 3136, "max_pixels": 12845056}
    assert options["format"] == {"format_pattern": "x"}


def test_rewards_that_take_none_of_the_shared_settings(hparams):
    arguments = grpo(hparams, reward_funcs="format", difficulty_weighting="none")
    assert arguments.reward_options(min_pixels=3136, max_pixels=12845056) == {"format": {}}

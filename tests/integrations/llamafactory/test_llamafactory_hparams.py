"""The keys of `stage: grpo`, checked at parse time (GRPOFinetuningArguments, without a training run)."""

from __future__ import annotations

import numpy as np
import pytest
from llamafactory_cli import grpo_yaml

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
    methods.register("flat", WeightingMethod(lambda m, *, level: np.full_like(m, level), {"level": 2.0}))
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


def parse_yaml_keys(hparams, **keys):
    """The GRPO keys as a YAML file gives them (values untyped), through HfArgumentParser."""
    from transformers import HfArgumentParser

    (arguments,) = HfArgumentParser([hparams.GRPOFinetuningArguments]).parse_dict({"stage": "grpo", **keys})
    return arguments


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"num_generations": "four"}, "`num_generations` must be a whole number, got 'four'"),
        ({"num_generations": 4.5}, "`num_generations` must be a whole number, got 4.5"),
        ({"num_generations": 1}, "`num_generations` must be at least 2"),
        ({"loss_type": "foo"}, "`loss_type`: expected one of grpo, bnpo, dr_grpo, dapo, got 'foo'"),
        ({"scale_rewards": "foo"}, "`scale_rewards`: expected one of group, batch, none, got 'foo'"),
        ({"max_completion_length": 0}, "`max_completion_length` must be at least 1, got 0"),
        ({"num_iterations": 0}, "`num_iterations` must be at least 1, got 0"),
        ({"beta": -1}, "`beta` must be at least 0, got -1"),
        ({"beta": "high"}, "`beta` must be a number, got 'high'"),
        ({"epsilon": -0.5}, "`epsilon` must be at least 0, got -0.5"),
        ({"epsilon_high": 0.1}, "`epsilon_high` must be at least `epsilon` (0.2), got 0.1"),
        ({"epsilon": float("nan")}, "`epsilon` must be a finite number, got nan"),
        ({"min_p": "low"}, "`min_p` must be a number, got 'low'"),
        ({"use_vllm": "false"}, "`use_vllm` must be true or false, got 'false'"),
        ({"reward_weights": "a,b"}, "`reward_weights`: 'a' is not a number"),
        ({"reward_weights": [1.0, float("inf")]}, "`reward_weights`: inf is not a finite number"),
        (
            {"difficulty_weighting": "power", "difficulty_params": {"power": "two"}},
            "`difficulty_params`: power must be a number, got 'two'",
        ),
        (
            {"difficulty_weighting": "log", "difficulty_params": {"eps": 0}},
            "`difficulty_params`: eps must be in (0, 1)",
        ),
        (
            {"reward_kwargs": {"format": {"format_pattern": "(unclosed"}}},
            "`reward_kwargs` for 'format': reward 'format': format_pattern is not a valid regular expression",
        ),
    ],
    ids=lambda value: (
        "-".join(f"{key}={value!s:.12}" for key, value in value.items()) if isinstance(value, dict) else ""
    ),
)
def test_every_grpo_key_is_checked_at_parse_time_naming_it(hparams, keys, message):
    with pytest.raises(ValueError) as raised:
        parse_yaml_keys(hparams, **keys)
    assert message in str(raised.value)


def test_grpo_keys_inside_their_ranges_are_accepted(hparams):
    arguments = parse_yaml_keys(
        hparams, num_generations=8.0, loss_type="dapo", scale_rewards="batch", beta=0, epsilon=0.2, epsilon_high=0.28
    )
    assert (arguments.num_generations, arguments.loss_type, arguments.scale_rewards) == (8, "dapo", "batch")
    assert type(arguments.num_generations) is int
    assert parse_yaml_keys(hparams, reward_weights="1, 0.5").reward_weights == [1.0, 0.5]


@pytest.mark.parametrize(("value", "scaling"), [(True, "group"), (False, "none"), ("none", "none")])
def test_scale_rewards_takes_trls_booleans(hparams, value, scaling):
    assert parse_yaml_keys(hparams, scale_rewards=value).scale_rewards == scaling


@pytest.mark.parametrize(
    ("batch", "accumulation", "processes", "groups"), [(4, 1, 1, 4), (4, 1, 1, 2), (2, 1, 2, 4), (3, 2, 2, 4)]
)
def test_num_generations_dividing_the_generation_batch_is_accepted(hparams, batch, accumulation, processes, groups):
    grpo(hparams, num_generations=groups).check_generation_batch(batch, accumulation, processes)


def test_num_generations_not_dividing_the_generation_batch_is_refused_naming_every_factor(hparams):
    with pytest.raises(
        ValueError,
        match=r"`num_generations` \(4\) must divide the generation batch: per_device_train_batch_size \(3\) x "
        r"gradient_accumulation_steps \(1\) x processes \(2\) = 6",
    ):
        grpo(hparams, num_generations=4).check_generation_batch(3, 1, 2)


def test_the_generation_batch_is_checked_before_the_dataset_or_model_loads(hparams, tmp_path):
    import llamafactory.train.tuner  # noqa: F401  (importing it patches the parser, as in llamafactory-cli)

    from univg_plugin.integrations.llamafactory.workflow import run_grpo_training

    args = {**grpo_yaml(tmp_path), "num_generations": 3}
    with pytest.raises(ValueError, match=r"`num_generations` \(3\) must divide the generation batch: .* = 4"):
        run_grpo_training({"args": args})

"""What reaches TRL from a `stage: grpo` YAML: `grpo_args`, the generating arguments, the rewards' options.

Every setting is parsed by LLaMA-Factory's own `get_train_args` and turned into the trainer's config by
`workflow.grpo_config`, as `llamafactory-cli train` does; a setting that would be ignored is refused.
"""

from __future__ import annotations

import json

import pytest
from llamafactory_cli import grpo_yaml

from univg_plugin.plugins import Registry
from univg_plugin.rewards import registry

pytestmark = pytest.mark.llamafactory


@pytest.fixture(scope="module")
def parse():
    """``parse(**keys)``: LLaMA-Factory's parsed arguments of a `stage: grpo` YAML with ``keys``."""
    import llamafactory.train.tuner  # noqa: F401  (importing it patches the parser, as in llamafactory-cli)
    from llamafactory.hparams import get_train_args

    def parse_keys(tmp_path, **keys):
        return get_train_args({**grpo_yaml(tmp_path), **keys})

    return parse_keys


def trainer_config(parsed):
    from univg_plugin.integrations.llamafactory.workflow import grpo_config

    model_args, _, training_args, finetuning_args, generating_args = parsed
    return grpo_config(training_args, finetuning_args, generating_args, model_args)


# ---------------------------------------------------------------- grpo_args


@pytest.mark.parametrize("as_json", [False, True], ids=["mapping", "json"])
def test_grpo_args_reach_the_trainer_config(tmp_path, parse, as_json):
    grpo_args = {"mask_truncated_completions": True, "vllm_gpu_memory_utilization": 0.5, "vllm_server_port": 8001}
    config = trainer_config(parse(tmp_path, grpo_args=json.dumps(grpo_args) if as_json else grpo_args))
    assert config.mask_truncated_completions is True
    assert config.vllm_gpu_memory_utilization == 0.5
    assert config.vllm_server_port == 8001


def test_grpo_args_reach_the_difficulty_settings_that_have_no_key_of_their_own(tmp_path, parse):
    config = trainer_config(parse(tmp_path, grpo_args={"difficulty_hard_threshold": 0.2}))
    assert config.difficulty_hard_threshold == 0.2


@pytest.mark.parametrize(
    ("grpo_args", "message"),
    [
        ({"nope": 1}, r"`grpo_args`: TRL 0\.24\.\d+'s GRPOConfig has no field `nope`"),
        ({"mask_truncated_completion": True}, r"no field `mask_truncated_completion`; did you mean `mask_truncated_"),
        ({"beta": 0.1}, r"`grpo_args`: set `beta` directly \(a `stage: grpo` key\)"),
        ({"vllm_mode": "server"}, r"`grpo_args`: set `vllm_mode` directly"),
        ({"learning_rate": 1e-5}, r"`grpo_args`: set `learning_rate` directly \(a LLaMA-Factory training argument\)"),
        ({"top_k": 5}, r"`grpo_args`: set `top_k` directly \(a LLaMA-Factory generating argument\)"),
        ({"max_prompt_length": 64}, r"`grpo_args`: `max_prompt_length` is set by the stage"),
        ({"mask_truncated_completions": "yes"}, r"`grpo_args`: `mask_truncated_completions` must be true or false"),
        ({"vllm_gpu_memory_utilization": "half"}, r"`vllm_gpu_memory_utilization` must be a number, got 'half'"),
        ({"steps_per_generation": 1.5}, r"`steps_per_generation` must be a whole number or null, got 1\.5"),
        ({"importance_sampling_level": "word"}, r"`importance_sampling_level`: expected one of token, sequence"),
        (
            {"generation_batch_size": 8, "steps_per_generation": 2},
            r"`grpo_args`: set `generation_batch_size` or `steps_per_generation`, not both",
        ),
        ({"steps_per_generation": 0}, r"`grpo_args`: `steps_per_generation` must be at least 1, got 0"),
        ("[1, 2]", r"`grpo_args` must be a mapping, got list"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_grpo_args_are_checked_at_parse_time_naming_the_field(tmp_path, parse, grpo_args, message):
    with pytest.raises(ValueError, match=message):
        parse(tmp_path, grpo_args=grpo_args)


def test_grpo_args_are_refused_with_another_stage(tmp_path, parse):
    with pytest.raises(ValueError, match=r"`grpo_args` only applies to `stage: grpo`"):
        parse(tmp_path, stage="sft", num_generations=8, grpo_args={"mask_truncated_completions": True})


@pytest.mark.parametrize(
    ("grpo_args", "batch", "accumulation"),
    [({"steps_per_generation": 2}, 4, 1), ({"generation_batch_size": 8}, 4, 1), ({}, 4, 2)],
    ids=["steps_per_generation", "generation_batch_size", "accumulation"],
)
def test_the_generation_batch_check_sees_grpo_args(tmp_path, parse, grpo_args, batch, accumulation):
    _, _, _, finetuning_args, _ = parse(tmp_path, num_generations=8, grpo_args=grpo_args)
    finetuning_args.check_generation_batch(batch, accumulation, 1)  # 8 completions per generation: accepted


@pytest.mark.parametrize(
    ("grpo_args", "message"),
    [
        (
            {"steps_per_generation": 3},
            r"`num_generations` \(8\) must divide the generation batch: per_device_train_batch_size \(4\) x "
            r"steps_per_generation \(3\) x processes \(1\) = 12",
        ),
        ({"generation_batch_size": 12}, r"`num_generations` \(8\) must divide the generation batch: "),
        (
            {"generation_batch_size": 6},
            r"`generation_batch_size` \(6\) must be a multiple of per_device_train_batch_size \(4\) x processes",
        ),
    ],
    ids=["steps_per_generation", "generation_batch_size", "not-whole-steps"],
)
def test_a_generation_batch_set_in_grpo_args_is_checked(tmp_path, parse, grpo_args, message):
    _, _, _, finetuning_args, _ = parse(tmp_path, num_generations=8, grpo_args=grpo_args)
    with pytest.raises(ValueError, match=message):
        finetuning_args.check_generation_batch(4, 1, 1)


# ---------------------------------------------------------------- generating arguments


def test_top_k_and_repetition_penalty_reach_trls_sampling(tmp_path, parse):
    config = trainer_config(parse(tmp_path, top_k=20, repetition_penalty=1.1, temperature=1.0, top_p=0.9))
    assert (config.top_k, config.repetition_penalty, config.temperature, config.top_p) == (20, 1.1, 1.0, 0.9)


def test_top_k_keeps_llamafactorys_default_and_0_turns_it_off(tmp_path, parse):
    assert trainer_config(parse(tmp_path)).top_k == 50  # as in LLaMA-Factory's own generation
    assert trainer_config(parse(tmp_path, top_k=0)).top_k is None  # TRL's spelling of "no top-k"


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"max_new_tokens": 64}, "`max_new_tokens` (64) is not used by `stage: grpo`: set `max_completion_length`"),
        ({"max_length": 64}, "`max_length` (64) is not used by `stage: grpo`: set `max_completion_length`"),
        ({"do_sample": False}, "`do_sample` (False) is not used by `stage: grpo`: GRPO always samples"),
        ({"num_beams": 4}, "`num_beams` (4) is not used by `stage: grpo`: GRPO samples, it does not search"),
        ({"length_penalty": 2.0}, "`length_penalty` (2.0) is not used by `stage: grpo`: remove it"),
        ({"skip_special_tokens": False}, "`skip_special_tokens` (False) is not used by `stage: grpo`"),
        ({"top_k": -1}, "`top_k` must be >= 0 (0: off), got -1"),
        ({"top_k": 2.5}, "`top_k` must be a whole number, got 2.5"),
        ({"top_p": 0}, "`top_p` must be in (0, 1], got 0"),
        ({"temperature": 0}, "`temperature` must be > 0, got 0"),
        ({"repetition_penalty": "high"}, "`repetition_penalty` must be a number, got 'high'"),
    ],
    ids=lambda value: "-".join(map(str, value)) if isinstance(value, dict) else "",
)
def test_generating_arguments_grpo_would_ignore_are_refused_before_anything_loads(tmp_path, keys, message):
    import llamafactory.train.tuner  # noqa: F401

    from univg_plugin.integrations.llamafactory.workflow import run_grpo_training

    with pytest.raises(ValueError) as raised:
        run_grpo_training({"args": {**grpo_yaml(tmp_path), **keys}})
    assert message in str(raised.value)


# ---------------------------------------------------------------- rewards of other packages


def judge(completions, *, space: str = "norm1000", policy: str = "strict", min_pixels: int = 1, max_pixels: int = 2):
    """A reward from another package that takes the shared options."""
    return [0.0] * len(completions)


@pytest.fixture
def judge_registered(monkeypatch):
    """`judge` registered at run time in a copy of the reward registry."""
    rewards = Registry(registry.REWARDS.group, registry.REWARDS.kind, registry.REWARDS.builtins)
    rewards.register("judge", judge)
    monkeypatch.setattr(registry, "REWARDS", rewards)


def test_a_reward_registered_at_run_time_gets_the_stages_shared_options(tmp_path, parse, judge_registered):
    _, _, _, finetuning_args, _ = parse(
        tmp_path, reward_funcs="iou,judge", reward_space="abs_input", reward_answer_policy="lenient"
    )
    options = finetuning_args.reward_options(min_pixels=3136, max_pixels=12845056)
    expected = {"space": "abs_input", "policy": "lenient", "min_pixels": 3136, "max_pixels": 12845056}
    assert options["judge"] == options["iou"] == expected


@pytest.mark.slow
def test_the_stages_trainer_calls_every_reward_with_the_processors_pixel_limits(
    tmp_path, monkeypatch, tiny_qwen2_vl, judge_registered
):
    import llamafactory.train.tuner  # noqa: F401

    from univg_plugin import trainer as trainer_module
    from univg_plugin.data.synth import generate
    from univg_plugin.integrations.llamafactory import hparams
    from univg_plugin.integrations.llamafactory.workflow import run_grpo_training

    built = []

    class Kept(trainer_module.DifficultyAwareGRPOTrainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self)

    trainers = Registry(trainer_module.TRAINERS.group, trainer_module.TRAINERS.kind, trainer_module.TRAINERS.builtins)
    trainers.register("kept", Kept)
    monkeypatch.setattr(trainer_module, "TRAINERS", trainers)
    monkeypatch.setattr(hparams, "TRAINERS", trainers)
    data = tmp_path / "data"
    jsonl = generate(data, 4, seed=0, image_size=112)
    (data / "dataset_info.json").write_text(json.dumps({"synth": {"file_name": jsonl.name, "formatting": "univg"}}))
    keys = {"dataset": "synth", "dataset_dir": str(data), "media_dir": str(data), "do_train": False}
    keys.update(model_name_or_path=str(tiny_qwen2_vl), grpo_trainer="kept", reward_funcs="iou,judge")
    keys.update(reward_space="abs_input", image_min_pixels=3136, image_max_pixels=12544)
    run_grpo_training({"args": {**grpo_yaml(tmp_path), **keys}})
    (trainer,) = built
    limits = (3136, 12544)
    assert trainer.processing_class.image_processor.size == {"shortest_edge": 3136, "longest_edge": 12544}
    for reward in trainer.reward_funcs:
        assert (reward.options["min_pixels"], reward.options["max_pixels"]) == limits, reward.__name__

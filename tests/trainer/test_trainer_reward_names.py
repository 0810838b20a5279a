"""`DifficultyAwareGRPOTrainer(reward_funcs=["iou", "format"])`: names of our reward registry are our rewards.

TRL's `GRPOTrainer` loads every string in `reward_funcs` as a reward model (`AutoModelForSequenceClassification.
from_pretrained(name)`), so `"iou"` used to fail looking for a model named `iou`.
"""

from __future__ import annotations

import pytest
from grpo_data import config_kwargs, multi_image_dataset

from univg_plugin.rewards import REWARDS
from univg_plugin.trainer import DifficultyAwareGRPOConfig, DifficultyAwareGRPOTrainer, registry_rewards


def test_registry_names_become_our_rewards_and_other_strings_stay_for_trl():
    def mine(completions, **kwargs):
        return [0.0] * len(completions)

    resolved = registry_rewards(["iou", "format", "org/some-reward-model", mine])
    assert [getattr(f, "__name__", f) for f in resolved] == ["iou", "format", "org/some-reward-model", "mine"]
    assert resolved[0](["<answer>(0,0),(10,10)</answer>"], solution=[[0, 0, 10, 10]]) == [1.0]
    assert registry_rewards("giou").__name__ == "giou"
    assert registry_rewards("./reward_model_dir") == "./reward_model_dir"
    assert set(REWARDS.builtins) <= {f.__name__ for f in registry_rewards(list(REWARDS.builtins))}


@pytest.mark.slow
@pytest.mark.parametrize("positional", [False, True])
def test_the_trainer_trains_on_rewards_given_by_name(tmp_path, tiny_qwen2_vl, positional):
    dataset = multi_image_dataset(tmp_path / "images", rows=4, images_per_row=2)
    args = DifficultyAwareGRPOConfig(**config_kwargs(tmp_path / "out"))
    names = ["iou", "format", "image_index"]
    if positional:
        trainer = DifficultyAwareGRPOTrainer(str(tiny_qwen2_vl), names, args, train_dataset=dataset)
    else:
        trainer = DifficultyAwareGRPOTrainer(
            model=str(tiny_qwen2_vl), reward_funcs=names, args=args, train_dataset=dataset
        )
    assert trainer.reward_func_names == names
    trainer.train()
    logged = [entry for entry in trainer.state.log_history if "rewards/iou/mean" in entry]
    assert logged and "difficulty/phi_mean" in logged[0] and "rewards/image_index/mean" in logged[0]

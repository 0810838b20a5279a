"""`resume_from_checkpoint` with DifficultyAwareGRPOTrainer (real TRL, tiny Qwen2-VL, CPU): the checkpoint's
weights are loaded (transformers 4.57's Trainer matches none of a Qwen-VL checkpoint's legacy keys) and the
resumed run ends with the uninterrupted run's weights."""

from __future__ import annotations

import pytest
from grpo_data import config_kwargs, multi_image_dataset, varied_accuracy

from univg_plugin.trainer import DifficultyAwareGRPOConfig, DifficultyAwareGRPOTrainer

pytestmark = pytest.mark.slow


def trainer(model, dataset, output) -> DifficultyAwareGRPOTrainer:
    settings = config_kwargs(output, max_steps=2, save_strategy="steps", save_steps=1, learning_rate=1e-4)
    return DifficultyAwareGRPOTrainer(
        model=str(model),
        reward_funcs=[varied_accuracy],
        args=DifficultyAwareGRPOConfig(**settings, difficulty_accuracy_reward="varied_accuracy"),
        train_dataset=dataset,
    )


def test_a_resumed_run_loads_the_checkpoint_and_ends_as_the_uninterrupted_one(tmp_path, tiny_qwen2_vl):
    dataset = multi_image_dataset(tmp_path / "images", rows=4, images_per_row=2)
    whole = trainer(tiny_qwen2_vl, dataset, tmp_path / "whole")
    whole.train()
    resumed = trainer(tiny_qwen2_vl, dataset, tmp_path / "resumed")
    resumed._load_from_checkpoint(str(tmp_path / "whole" / "checkpoint-1"))
    at_checkpoint = {name: tensor.clone() for name, tensor in resumed.model.state_dict().items()}
    resumed.train(resume_from_checkpoint=str(tmp_path / "whole" / "checkpoint-1"))
    initial = trainer(tiny_qwen2_vl, dataset, tmp_path / "initial").model.state_dict()
    trained, final = whole.model.state_dict(), resumed.model.state_dict()
    assert max((at_checkpoint[name] - initial[name]).abs().max().item() for name in initial) > 1e-5  # loaded
    assert max((final[name] - trained[name]).abs().max().item() for name in trained) <= 1e-7

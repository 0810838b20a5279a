"""DifficultyAwareGRPOTrainer (TRL) on each family's tiny checkpoint, with the family's presets as rewards."""

from __future__ import annotations

import warnings

import pytest
from grpo_data import config_kwargs, multi_image_dataset, varied_accuracy

from univg_plugin.qwen_vl import MODEL_FAMILIES
from univg_plugin.rewards import _truth
from univg_plugin.rewards.presets import preset
from univg_plugin.tiny_models import FAMILIES
from univg_plugin.trainer import DifficultyAwareGRPOConfig, DifficultyAwareGRPOTrainer

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("family", FAMILIES)
def test_two_steps_with_the_familys_presets(request, tmp_path, family):
    checkpoint = request.getfixturevalue(f"tiny_{family}")
    dataset = multi_image_dataset(tmp_path / "images", rows=2, images_per_row=2)
    rewards = [
        preset(family, "iou", solution_space="norm1000", none_value=0.0),  # the dataset's boxes are 0-1000
        preset(family, "format"),
        varied_accuracy,  # a random model's boxes score 0: this one varies within the groups
    ]
    args = DifficultyAwareGRPOConfig(
        **config_kwargs(tmp_path / "out", max_steps=2, per_device_train_batch_size=4, num_generations=2),
        difficulty_accuracy_reward="varied_accuracy",
    )
    trainer = DifficultyAwareGRPOTrainer(model=str(checkpoint), reward_funcs=rewards, args=args, train_dataset=dataset)
    assert type(trainer.model).__name__ == MODEL_FAMILIES[family].model_class
    _truth._warned.discard("pixel-limits")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.train()
    # the trainer gave the abs_input preset (Qwen2.5-VL) its processor's pixel limits: nothing was assumed
    assert not [warning for warning in caught if "pixel limits" in str(warning.message)]
    assert trainer.state.global_step == 2
    logged = [entry for entry in trainer.state.log_history if "difficulty/phi_mean" in entry]
    assert len(logged) == 2
    for entry in logged:
        assert 1.0 <= entry["difficulty/phi_min"] <= entry["difficulty/phi_max"]
        assert f"rewards/{family}_iou/mean" in entry and f"rewards/{family}_format/mean" in entry

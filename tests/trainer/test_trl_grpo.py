"""The environment works end to end: TRL's own GRPOTrainer on a tiny checkpoint, several images per prompt."""

from __future__ import annotations

import pytest
from grpo_data import config_kwargs, multi_image_dataset, varied_accuracy
from trl import GRPOConfig, GRPOTrainer

pytestmark = pytest.mark.slow


def test_plain_grpo_trainer_runs_two_steps(tmp_path, tiny_checkpoint):
    dataset = multi_image_dataset(tmp_path / "images", rows=4, images_per_row=3)
    args = GRPOConfig(**config_kwargs(tmp_path / "out", max_steps=2))
    trainer = GRPOTrainer(model=str(tiny_checkpoint), reward_funcs=varied_accuracy, args=args, train_dataset=dataset)
    trainer.generation_config.suppress_tokens = [
        trainer.processing_class.tokenizer.convert_tokens_to_ids(token)
        for token in ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>")
    ]
    result = trainer.train()
    assert trainer.state.global_step == 2
    assert result.training_loss == result.training_loss  # not NaN
    logged = [entry for entry in trainer.state.log_history if "rewards/varied_accuracy/mean" in entry]
    assert len(logged) == 2

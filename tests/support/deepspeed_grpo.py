"""Two GRPO steps of DifficultyAwareGRPOTrainer in two CPU processes, as a TRL user's script.

Run under ``accelerate launch --config_file recipes/deepspeed/accelerate_zero3.yaml`` (DeepSpeed ZeRO-3) or
``torchrun`` (plain DDP, gloo): ``python deepspeed_grpo.py MODEL OUTPUT``. Rank 0 writes the logged metrics to
``OUTPUT/log_history.json``; the trained model is saved to ``OUTPUT/model`` (ZeRO-3 gathers it first).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch.distributed

sys.path.insert(0, str(Path(__file__).parent))

from grpo_data import config_kwargs, multi_image_dataset, varied_accuracy

from univg_plugin.trainer import DifficultyAwareGRPOConfig, DifficultyAwareGRPOTrainer


def main(model: str, output: str) -> None:
    output_dir = Path(output)
    dataset = multi_image_dataset(output_dir / "images", rows=4, images_per_row=2)
    settings = config_kwargs(
        output_dir / "run",
        per_device_train_batch_size=2,
        max_steps=2,
        learning_rate=1e-4,  # as the tiny recipes: Adam's first steps move every weight by about this much
        beta=0.04,  # the reference model is sharded and gathered too
        max_grad_norm=1.0,
        use_cpu=False,  # true would skip DeepSpeed's set-up
        bf16=False,  # TRL's default; only GPUs have it with use_cpu=False
        ddp_backend="gloo",
        difficulty_accuracy_reward="varied_accuracy",
    )
    trainer = DifficultyAwareGRPOTrainer(
        model=model, reward_funcs=[varied_accuracy], args=DifficultyAwareGRPOConfig(**settings), train_dataset=dataset
    )
    trainer.train()
    trainer.save_model(str(output_dir / "model"))
    if trainer.is_world_process_zero():
        (output_dir / "log_history.json").write_text(json.dumps(trainer.state.log_history))
    trainer.accelerator.wait_for_everyone()  # no rank leaves (and tears gloo down) while the other one still talks
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
    # Leave without interpreter finalization: DeepSpeed keeps references to its process groups, so their gloo
    # worker threads are destroyed there, which aborts a rank now and then ("terminate called without an active
    # exception", seen once in CI after every output was written; pytorch/pytorch#179291). An error above still
    # exits non-zero.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)

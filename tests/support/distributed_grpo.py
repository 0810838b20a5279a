"""Run under ``torchrun --nproc_per_node 2``: one GRPO step where every prompt group spans both ranks.

The accuracy reward is 1.0 for the completions scored on rank 0 and 0.0 on rank 1, so a group split
over the two ranks has mIoU 0.5. Each rank writes the difficulty weights it trained with to
``OUTPUT_DIR/rank{N}.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).parent))

from grpo_data import config_kwargs, multi_image_dataset

from univg_plugin.trainer import DifficultyAwareGRPOConfig, DifficultyAwareGRPOTrainer


def rank_accuracy(completions, **kwargs) -> list[float]:
    return [1.0 if dist.get_rank() == 0 else 0.0] * len(completions)


class Recorder(DifficultyAwareGRPOTrainer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.weights: list[float] = []

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        self.weights.extend(output["difficulty_weights"].tolist())
        return output


def main(model: str, output: str) -> None:
    output_dir = Path(output)
    dataset = multi_image_dataset(output_dir / f"images_{Path(model).name}", rows=2, images_per_row=2)
    args = DifficultyAwareGRPOConfig(
        **config_kwargs(
            output_dir / "run",
            per_device_train_batch_size=2,
            num_generations=4,
            difficulty_accuracy_reward="rank_accuracy",
            ddp_backend="gloo",
        )
    )
    trainer = Recorder(model=model, reward_funcs=[rank_accuracy], args=args, train_dataset=dataset)
    trainer.train()
    rank = dist.get_rank()
    (output_dir / f"rank{rank}.json").write_text(
        json.dumps({"rank": rank, "world_size": dist.get_world_size(), "weights": trainer.weights})
    )
    dist.barrier()  # no rank leaves (and tears gloo down) while the other one still talks to it
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""A GRPO trainer registered by another package: the difficulty-aware one, marking that it ran."""

from __future__ import annotations

from pathlib import Path

from univg_plugin.trainer import DifficultyAwareGRPOTrainer

MARKER = "marking_trainer_ran.txt"


class MarkingGRPOTrainer(DifficultyAwareGRPOTrainer):
    """Writes ``MARKER`` into the output directory when training starts."""

    def train(self, *args, **kwargs):
        if self.is_world_process_zero():
            Path(self.args.output_dir).mkdir(parents=True, exist_ok=True)
            (Path(self.args.output_dir) / MARKER).write_text(type(self).__name__)
        return super().train(*args, **kwargs)

"""The GRPO trainers LLaMA-Factory's `grpo_trainer` key can name."""

from __future__ import annotations

from univg_plugin.plugins import BUILTIN_PROVIDER
from univg_plugin.trainer import TRAINERS, DifficultyAwareGRPOTrainer


def test_the_registry_lists_the_difficulty_aware_trainer():
    assert "difficulty_aware" in TRAINERS.names()
    assert TRAINERS.load("difficulty_aware") is DifficultyAwareGRPOTrainer
    assert TRAINERS.provider("difficulty_aware") == BUILTIN_PROVIDER
    assert TRAINERS.group == "univg_plugin.trainers"

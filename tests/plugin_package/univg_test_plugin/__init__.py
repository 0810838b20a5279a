"""Test-only plugins registered through univg-plugin's entry-point groups (see ../pyproject.toml)."""

from __future__ import annotations

import os
import time
from typing import Any

from univg_plugin.data import Format, GroundingSample
from univg_plugin.rewards import completion_texts
from univg_plugin.weighting import WeightingMethod


def answer_length_reward(completions: list, *, modulus: int = 7, **kwargs: Any) -> list[float]:
    """Length of each completion modulo ``modulus``, scaled to [0, 1]: a reward that varies between samples.

    Each call first waits ``UNIVG_TEST_REWARD_PAUSE_S`` seconds (0 when unset): a run slowed down, same results,
    so that a test can act between two of its steps.
    """
    time.sleep(float(os.environ.get("UNIVG_TEST_REWARD_PAUSE_S", "0")))
    return [(len(text) % modulus) / (modulus - 1) for text in completion_texts(completions)]


class FlatBoxesFormat(Format):
    """One row per sample with flat fields: ``{"id", "image", "question", "x1", "y1", "x2", "y2"}`` (0-1000)."""

    def parse(self, raw: Any, default_id: str) -> list[GroundingSample]:
        box = [raw["x1"], raw["y1"], raw["x2"], raw["y2"]]
        question = raw["question"] if "<image>" in raw["question"] else "<image>" + raw["question"]
        return [GroundingSample(id=raw.get("id", default_id), images=[raw["image"]], question=question, boxes=[box])]


def step_weight(m, *, threshold: float, high: float):
    """``high`` for groups whose mean accuracy is below ``threshold``, else 1."""
    return (m < threshold) * (high - 1.0) + 1.0


STEP = WeightingMethod(step_weight, {"threshold": 0.5, "high": 2.0})

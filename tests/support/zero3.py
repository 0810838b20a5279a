"""Shared by the DeepSpeed ZeRO-3 tests: the settings, the CI rule for a missing DeepSpeed, the comparisons.

DeepSpeed is installed only in the LLaMA-Factory environment (``.venv``, the ``deepspeed`` extra). There a
missing DeepSpeed fails the tests when ``CI`` is set (no silent skip in CI), and skips them elsewhere.
The first ZeRO-3 launch on a machine builds DeepSpeed's ``shm_comm_op`` C++ extension (~110 s on 2 cores,
needs g++), cached in ``~/.cache/torch_extensions``; every launch must find the same ``ninja`` (this
environment's, first on ``PATH``), or the cached build is redone.
"""

from __future__ import annotations

import importlib.util
import math
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: The ZeRO-3 config of the paper's recipes (recipes/sft.yaml, recipes/grpo.yaml).
DS_ZERO3_CONFIG = REPO / "recipes" / "deepspeed" / "ds_z3_config.json"
#: What a LLaMA-Factory YAML adds for ZeRO-3 on CPUs (``use_cpu: true`` would be refused with DeepSpeed).
ZERO3 = {"deepspeed": str(DS_ZERO3_CONFIG), "use_cpu": False}
#: `llamafactory-cli train` with two CPU processes (DeepSpeed's CPU accelerator uses gloo).
TWO_PROCESSES = {"FORCE_TORCHRUN": "1", "NPROC_PER_NODE": "2", "OMP_NUM_THREADS": "1", "DS_ACCELERATOR": "cpu"}
#: Metrics GRPO logs every step that a ZeRO-3 run must reproduce.
GRPO_METRICS = ("loss", "grad_norm", "kl", "entropy", "reward", "reward_std", "difficulty/phi_mean")


def require_deepspeed() -> None:
    """Fail (under ``CI``) or skip (elsewhere) when DeepSpeed is not installed."""
    if importlib.util.find_spec("deepspeed") is not None:
        return
    reason = "DeepSpeed is not installed: pip install -e '.[deepspeed]' (scripts/test.sh installs it in .venv)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason}; CI runs the ZeRO-3 tests", pytrace=False)
    pytest.skip(reason)


def largest_relative_difference(first: list[float], second: list[float]) -> float:
    """The largest ``|a - b| / max(|a|, |b|)`` over paired values (0 where both are 0)."""
    assert len(first) == len(second) > 0, (first, second)
    return max((abs(a - b) / max(abs(a), abs(b)) if a != b else 0.0) for a, b in zip(first, second))


def read_weights(path: Path) -> dict:
    """The tensors of a ``.safetensors`` file, or of every shard in a folder."""
    from safetensors.torch import load_file

    files = [path] if path.is_file() else sorted(path.glob("*.safetensors"))
    assert files, f"no .safetensors in {path}"
    return {name: tensor for file in files for name, tensor in load_file(file).items()}


def largest_weight_difference(first: dict, second: dict) -> float:
    """The largest absolute difference between same-named tensors (both must hold the same names and shapes)."""
    assert first.keys() == second.keys(), sorted(set(first) ^ set(second))[:10]
    largest = 0.0
    for name, tensor in first.items():
        assert tensor.shape == second[name].shape, name
        largest = max(largest, (tensor.float() - second[name].float()).abs().max().item())
    assert math.isfinite(largest)
    return largest

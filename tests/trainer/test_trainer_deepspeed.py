"""A TRL user's path: DifficultyAwareGRPOTrainer under `accelerate launch` with DeepSpeed ZeRO-3, 2 CPU processes,
equal to the same script under plain DDP (torchrun, gloo)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from paths import DEEPSPEED_GRPO_SCRIPT
from test_distributed import free_port
from zero3 import (
    GRPO_METRICS,
    REPO,
    largest_relative_difference,
    largest_weight_difference,
    read_weights,
    require_deepspeed,
)

pytestmark = [pytest.mark.slow, pytest.mark.distributed]
ACCELERATE_ZERO3 = REPO / "recipes" / "deepspeed" / "accelerate_zero3.yaml"
#: Tightened from the issue's 1e-4 relative (measured on 2 CPU processes: grad_norm 1.1e-6, the other metrics equal).
#: Weights: the issue's 1e-6 (measured 2e-7 after moving 1.5e-4; 1.9e-6 at learning rate 1e-3, so the script
#: trains at 1e-4).
METRIC_TOLERANCE = 1e-5
WEIGHT_TOLERANCE = 1e-6


def launch(launcher: list[str], model: Path, output: Path) -> dict[str, list[float]]:
    """Run the script under ``launcher``; returns each metric's logged values."""
    command = [*launcher, str(DEEPSPEED_GRPO_SCRIPT), str(model), str(output)]
    # transformers' TrainingArguments of the in-process tests leave ACCELERATE_* variables behind (e.g.
    # ACCELERATE_MIXED_PRECISION): a launched run must not inherit them (measured: grad_norm 8.8e-4 apart with them)
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("ACCELERATE_")}
    env = {**inherited, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "DS_ACCELERATOR": "cpu"}
    env["PYTHONFAULTHANDLER"] = "1"  # a rank that crashes prints every thread's Python stack
    # this environment's ninja first, as for llamafactory-cli: another ninja version would rebuild DeepSpeed's
    # cached shm_comm_op extension (~110 s)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    history = json.loads((output / "log_history.json").read_text())
    return {key: [entry[key] for entry in history if key in entry] for key in GRPO_METRICS}


def test_zero3_under_accelerate_equals_plain_ddp(tmp_path, tiny_qwen2_vl):
    require_deepspeed()
    port = str(free_port())
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", port]
    accelerate = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(ACCELERATE_ZERO3)]
    accelerate += ["--num_processes", "2", "--main_process_port", str(free_port())]
    plain = launch(torchrun, tiny_qwen2_vl, tmp_path / "ddp")
    zero3 = launch(accelerate, tiny_qwen2_vl, tmp_path / "zero3")
    assert min(plain["reward_std"]) > 0  # the rewards vary: advantages and gradients are not 0
    for key in GRPO_METRICS:
        assert len(zero3[key]) == 2, key
        assert largest_relative_difference(plain[key], zero3[key]) <= METRIC_TOLERANCE, key
    trained = {run: read_weights(tmp_path / run / "model") for run in ("ddp", "zero3")}
    assert largest_weight_difference(trained["ddp"], trained["zero3"]) <= WEIGHT_TOLERANCE
    assert largest_weight_difference(trained["ddp"], read_weights(tiny_qwen2_vl)) > 50 * WEIGHT_TOLERANCE  # trained

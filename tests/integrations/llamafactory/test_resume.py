"""`resume_from_checkpoint` for `stage: grpo`: a run killed after a checkpoint and resumed from it ends with the
weights and metrics of an uninterrupted run (the same seed; the checkpoint holds the optimizer, scheduler, data
position and random states)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from llamafactory_cli import BIN, REPO, logged, output_of, run_cli
from plugin_site import install_test_plugin
from test_llamafactory_grpo import synth_data, tiny  # noqa: F401  (synth_data: a module fixture)
from zero3 import largest_relative_difference, largest_weight_difference, read_weights

pytestmark = [pytest.mark.slow, pytest.mark.llamafactory]


def kill_after_checkpoint(config: dict, workdir: Path, checkpoint: Path, env: dict, timeout: float = 900) -> None:
    """Start `llamafactory-cli train` on ``config`` and kill it once ``checkpoint`` is complete."""
    path = workdir / "interrupted.yaml"
    path.write_text(yaml.safe_dump(config))
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": "", **env}
    command = [str(BIN / "llamafactory-cli"), "train", str(path)]
    process = subprocess.Popen(command, env=environment, cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL)
    state, deadline = checkpoint / "trainer_state.json", time.monotonic() + timeout
    try:
        while not _complete_json(state):  # the checkpoint's last file
            assert process.poll() is None, f"the run ended (exit {process.returncode}) before {checkpoint.name}"
            assert time.monotonic() < deadline, f"no {checkpoint.name} after {timeout} s"
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _complete_json(path: Path) -> bool:
    try:
        json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return True


def test_a_killed_grpo_run_resumed_ends_as_the_uninterrupted_run(tmp_path, tiny_qwen2_vl, synth_data):  # noqa: F811
    env = {"PYTHONPATH": str(install_test_plugin(tmp_path / "site")), "OMP_NUM_THREADS": "1"}
    rewards = {"reward_funcs": "answer_length", "difficulty_accuracy_reward": "answer_length"}  # varying rewards
    settings = {"save_strategy": "steps", "save_steps": 2, "max_steps": 4, **rewards}
    whole, interrupted = tmp_path / "whole", tmp_path / "interrupted"
    result = run_cli(tiny("grpo", tiny_qwen2_vl, synth_data, whole, **settings), tmp_path, env=env)
    assert result.returncode == 0, output_of(result)[-4000:]
    config = tiny("grpo", tiny_qwen2_vl, synth_data, interrupted, **settings)
    # steps 3-4 take 2 s more each, so the kill comes before the run ends (it once finished first)
    kill_after_checkpoint(config, tmp_path, interrupted / "checkpoint-2", {**env, "UNIVG_TEST_REWARD_PAUSE_S": "2"})
    assert not (interrupted / "model.safetensors").exists()  # killed before the end
    resumed = {**config, "resume_from_checkpoint": str(interrupted / "checkpoint-2")}
    result = run_cli(resumed, tmp_path, env=env)
    assert result.returncode == 0, output_of(result)[-4000:]
    assert "Continuing training from checkpoint" in output_of(result)
    assert "missing keys in the checkpoint" not in output_of(result)  # the weights were loaded, not left initial
    assert len(logged(interrupted, "loss")) == 4  # steps 1-2 from the checkpoint, 3-4 trained after the resume
    for key in ("grad_norm", "reward", "entropy", "difficulty/phi_mean"):  # measured: equal, as the weights
        assert largest_relative_difference(logged(whole, key), logged(interrupted, key)) <= 1e-6, key
    weights = {run: read_weights(run / "model.safetensors") for run in (whole, interrupted)}
    assert largest_weight_difference(weights[whole], weights[interrupted]) <= 1e-7
    assert largest_weight_difference(weights[whole], read_weights(whole / "checkpoint-2")) > 1e-5  # 3-4 trained

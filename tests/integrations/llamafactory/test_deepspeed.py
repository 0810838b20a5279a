"""DeepSpeed ZeRO-3 through the real `llamafactory-cli` with two CPU processes, as the paper's recipes run on GPUs.

Stage 1 trains and saves full weights; stage 2 (GRPO, full and LoRA) logs the same metrics and saves the same
weights as the same two-process run without DeepSpeed. The reward is tests/plugin_package's `answer_length`,
which varies within every group of a random model (with `iou` every reward, advantage and gradient would be 0).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from llamafactory_cli import MODEL_LOADED, logged, logged_losses, output_of, run_cli
from plugin_site import install_test_plugin
from test_llamafactory_grpo import synth_data, tiny  # noqa: F401  (synth_data: a module fixture)
from zero3 import (
    GRPO_METRICS,
    TWO_PROCESSES,
    ZERO3,
    largest_relative_difference,
    largest_weight_difference,
    read_weights,
    require_deepspeed,
)

pytestmark = [pytest.mark.slow, pytest.mark.llamafactory, pytest.mark.distributed]
#: Tightened from the issue's 1e-4 relative and 1e-6 absolute to ~10x the differences measured on 2 CPU processes
#: (full: grad_norm 8e-7 relative, the other metrics equal, weights 6e-8 apart after moving 1.5e-4; LoRA: grad_norm
#: and entropy 8e-8, adapter weights 7e-9 apart after moving 1.5e-4).
METRIC_TOLERANCE = 1e-5
WEIGHT_TOLERANCE = 5e-7
#: The saved weights of each finetuning type.
WEIGHTS_FILE = {"full": "model.safetensors", "lora": "adapter_model.safetensors"}


@pytest.fixture(scope="module", autouse=True)
def deepspeed_installed() -> None:
    require_deepspeed()


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    return install_test_plugin(tmp_path_factory.mktemp("site") / "site-packages")


def test_stage1_sft_under_zero3_trains_and_saves_full_weights(tmp_path, tiny_qwen2_vl, synth_data):  # noqa: F811
    from transformers import AutoModelForImageTextToText

    output = tmp_path / "sft"
    config = tiny("sft", tiny_qwen2_vl, synth_data, output, max_steps=6, per_device_train_batch_size=4, **ZERO3)
    result = run_cli(config, tmp_path, env=TWO_PROCESSES)
    assert result.returncode == 0, output_of(result)[-4000:]
    assert "Detected DeepSpeed ZeRO-3" in output_of(result)
    losses = logged_losses(output)
    assert len(losses) == 6 and losses[-1] < losses[0], losses
    _, info = AutoModelForImageTextToText.from_pretrained(output, output_loading_info=True)
    assert not info["missing_keys"] and not info["mismatched_keys"], info
    trained, initial = read_weights(output / "model.safetensors"), read_weights(tiny_qwen2_vl)
    assert largest_weight_difference(trained, initial) > 1e-3  # gathered, trained weights: not the initial ones


def grpo_run(tmp_path: Path, label: str, model: Path, data: Path, plugin_site: Path, **overrides) -> Path:
    """Two GRPO steps in two processes with the varying `answer_length` reward; returns the output folder."""
    output = tmp_path / label
    rewards = {"reward_funcs": "answer_length", "difficulty_accuracy_reward": "answer_length"}
    config = tiny("grpo", model, data, output, max_steps=2, per_device_train_batch_size=2, **rewards, **overrides)
    result = run_cli(config, tmp_path, env={**TWO_PROCESSES, "PYTHONPATH": str(plugin_site)})
    assert result.returncode == 0, output_of(result)[-4000:]
    assert ("Detected DeepSpeed ZeRO-3" in output_of(result)) == ("deepspeed" in overrides)
    return output


@pytest.mark.parametrize("finetuning_type", ["full", "lora"])
def test_grpo_under_zero3_equals_plain_ddp(tmp_path, tiny_qwen2_vl, synth_data, plugin_site, finetuning_type):  # noqa: F811
    plain = grpo_run(tmp_path, "ddp", tiny_qwen2_vl, synth_data, plugin_site, finetuning_type=finetuning_type)
    zero3 = grpo_run(
        tmp_path, "zero3", tiny_qwen2_vl, synth_data, plugin_site, finetuning_type=finetuning_type, **ZERO3
    )
    assert min(logged(plain, "reward_std")) > 0  # the rewards vary: advantages and gradients are not 0
    for key in (*GRPO_METRICS, "rewards/answer_length/mean", "difficulty/hard_share"):
        assert len(logged(zero3, key)) == 2, key
        assert largest_relative_difference(logged(plain, key), logged(zero3, key)) <= METRIC_TOLERANCE, key
    weights = {run: read_weights(run / WEIGHTS_FILE[finetuning_type]) for run in (plain, zero3)}
    assert largest_weight_difference(weights[plain], weights[zero3]) <= WEIGHT_TOLERANCE
    if finetuning_type == "full":  # training moved the weights far more than the runs differ
        assert largest_weight_difference(weights[plain], read_weights(tiny_qwen2_vl)) > 100 * WEIGHT_TOLERANCE


@pytest.mark.parametrize("stage", ["sft", "grpo"])
def test_use_cpu_with_deepspeed_is_refused_with_what_to_set(tmp_path, tiny_qwen2_vl, synth_data, stage):  # noqa: F811
    config = tiny(stage, tiny_qwen2_vl, synth_data, tmp_path / "out", **{**ZERO3, "use_cpu": True})
    result = run_cli(config, tmp_path)
    assert result.returncode != 0
    assert "`use_cpu: true` cannot be combined with `deepspeed: " in output_of(result)
    assert "set `use_cpu: false` and the environment variable DS_ACCELERATOR=cpu" in output_of(result)
    assert MODEL_LOADED not in output_of(result)

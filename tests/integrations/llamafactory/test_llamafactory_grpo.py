"""`stage: grpo` through the real `llamafactory-cli` (subprocess), with the tiny recipes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from llamafactory_cli import MODEL_LOADED, logged, logged_losses, output_of, recipe, run_cli
from test_llamafactory_sft import sft_config, write_multi_image_sharegpt

from univg_plugin.data.synth import generate

pytestmark = [pytest.mark.slow, pytest.mark.llamafactory]


@pytest.fixture(scope="module")
def synth_data(tmp_path_factory) -> Path:
    """Synthetic univg data plus a dataset_info.json naming it `tiny_synth` (formatting univg)."""
    directory = tmp_path_factory.mktemp("synth")
    jsonl = generate(directory, 16, seed=0, image_size=112)
    info = {"tiny_synth": {"file_name": jsonl.name, "formatting": "univg"}}
    (directory / "dataset_info.json").write_text(json.dumps(info))
    return directory


def tiny(name: str, model: Path, data: Path, output: Path, **overrides) -> dict:
    """A tiny recipe pointed at this test's model, data and output directory."""
    return recipe(
        f"tiny/{name}.yaml",
        model_name_or_path=str(model),
        dataset_dir=str(data),
        media_dir=str(data),
        output_dir=str(output),
        **overrides,
    )


@pytest.fixture(scope="module")
def stage1(tmp_path_factory, tiny_qwen2_vl, synth_data) -> Path:
    """The tiny stage-1 (CoT-SFT) recipe run once; its output starts every GRPO run."""
    workdir = tmp_path_factory.mktemp("stage1")
    result = run_cli(tiny("sft", tiny_qwen2_vl, synth_data, workdir / "out", max_steps=3), workdir)
    assert result.returncode == 0, output_of(result)[-4000:]
    return workdir / "out"


def test_tiny_recipes_sft_then_grpo(tmp_path, stage1, synth_data):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    assert len(logged_losses(stage1)) == 3
    output = tmp_path / "grpo"
    result = run_cli(tiny("grpo", stage1, synth_data, output, max_steps=2), tmp_path)
    assert result.returncode == 0, output_of(result)[-4000:]
    for key in ("rewards/iou/mean", "rewards/format/mean", "difficulty/phi_mean", "difficulty/hard_share"):
        assert len(logged(output, key)) == 2, key
    assert all(1.0 <= phi <= 2.7183 for phi in logged(output, "difficulty/phi_mean"))
    assert (output / "training_difficulty_phi_mean.png").is_file()  # plot_loss, as in LLaMA-Factory
    model = AutoModelForImageTextToText.from_pretrained(output)
    assert type(model).__name__ == "Qwen2VLForConditionalGeneration"
    assert AutoProcessor.from_pretrained(output).tokenizer is not None


def test_grpo_runs_under_torchrun_with_two_cpu_processes(tmp_path, stage1, synth_data):
    output = tmp_path / "grpo"
    config = tiny("grpo", stage1, synth_data, output, max_steps=2, per_device_train_batch_size=2)
    result = run_cli(config, tmp_path, env={"FORCE_TORCHRUN": "1", "NPROC_PER_NODE": "2", "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, output_of(result)[-4000:]
    assert "torchrun" in output_of(result) or "distributed tasks" in output_of(result)
    assert len(logged(output, "difficulty/phi_mean")) == 2  # the hook ran inside the torchrun workers


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"num_generation": 4}, "num_generation"),
        ({"reward_funcs": "iou,fromat"}, "`reward_funcs`: unknown reward 'fromat'; known rewards: "),
        ({"difficulty_weighting": "cubic"}, "`difficulty_weighting`: unknown difficulty weighting method 'cubic'"),
        ({"grpo_trainer": "unknown"}, "`grpo_trainer`: unknown GRPO trainer 'unknown'"),
        ({"reward_weights": "1.0"}, "`reward_weights` has 1 values for 2 `reward_funcs`"),
        ({"min_p": 1.5}, "`min_p` must be between 0 and 1, got 1.5"),
        ({"num_generations": 3}, "`num_generations` (3) must divide the generation batch"),
        (
            {"grpo_args": {"vllm_gpu_memory": 0.5}},
            "`grpo_args`: TRL 0.24.0's GRPOConfig has no field `vllm_gpu_memory`",
        ),
        ({"max_new_tokens": 64}, "`max_new_tokens` (64) is not used by `stage: grpo`: set `max_completion_length`"),
    ],
    ids=[
        "typo-in-a-key",
        "unknown-reward",
        "unknown-method",
        "unknown-trainer",
        "weights-count",
        "min-p-range",
        "generation-batch",
        "unknown-grpo-arg",
        "ignored-generating-argument",
    ],
)
def test_bad_grpo_settings_fail_before_the_model_loads(tmp_path, stage1, synth_data, overrides, message):
    result = run_cli(tiny("grpo", stage1, synth_data, tmp_path / "out", **overrides), tmp_path)
    assert result.returncode != 0
    assert message in output_of(result)
    assert MODEL_LOADED not in output_of(result)


def test_dataset_without_solutions_fails_before_the_model_loads(tmp_path, stage1, make_images):
    data = tmp_path / "data"
    write_multi_image_sharegpt(data, make_images, rows=2)
    info = json.loads((data / "dataset_info.json").read_text())
    rows = json.loads((data / "train.json").read_text())
    for row in rows:
        row["messages"][1]["content"] = "<think>no idea</think><answer>somewhere</answer>"
    (data / "train.json").write_text(json.dumps(rows))
    config = tiny("grpo", stage1, data, tmp_path / "out", dataset=next(iter(info)))
    result = run_cli(config, tmp_path)
    assert result.returncode != 0
    assert "dataset tiny_multi_image row 0: the assistant turn has no box to use as the GRPO solution" in output_of(
        result
    )
    assert MODEL_LOADED not in output_of(result)


def test_other_stages_are_untouched_by_the_hook(tmp_path, tiny_qwen2_vl, make_images):
    data = tmp_path / "data"
    write_multi_image_sharegpt(data, make_images)
    curves = {}
    for label, env in (("on", {}), ("off", {"UNIVG_PLUGIN_DISABLE": "1"})):
        output = tmp_path / label
        result = run_cli(sft_config(tiny_qwen2_vl, data, output, max_steps=4), tmp_path, env=env)
        assert result.returncode == 0, output_of(result)[-4000:]
        curves[label] = logged_losses(output)
    assert len(curves["on"]) == 4
    assert curves["on"] == curves["off"]


def test_opting_out_restores_llamafactorys_own_behaviour(tmp_path, stage1, synth_data):
    config = tiny("grpo", stage1, synth_data, tmp_path / "out")
    grpo_keys = (
        "reward_funcs",
        "difficulty_weighting",
        "difficulty_accuracy_reward",
        "num_generations",
        "beta",
        "max_completion_length",
    )
    config = {key: value for key, value in config.items() if key not in grpo_keys}
    disabled = run_cli(config, tmp_path, env={"UNIVG_PLUGIN_DISABLE": "1"})
    assert disabled.returncode != 0
    assert "Unknown task: grpo." in output_of(disabled)
    with_grpo_keys = run_cli(
        tiny("grpo", stage1, synth_data, tmp_path / "out"), tmp_path, env={"UNIVG_PLUGIN_DISABLE": "1"}
    )
    assert "Some keys are not used by the HfArgumentParser" in output_of(with_grpo_keys)


@pytest.mark.distributed
def test_no_rank_tears_the_process_group_down_before_the_others_reach_it(tmp_path):
    """A rank leaving while rank 0 still saved aborted in gloo's teardown (SIGABRT) in CI: under the patch,
    rank 1 returns from ``destroy_process_group`` only once the late rank 0 has called it."""
    from paths import TEARDOWN_SCRIPT
    from ports import free_port

    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        str(free_port()),
    ]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([*command, str(TEARDOWN_SCRIPT), str(tmp_path)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    late, early = (json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1))
    assert early["returned"] >= late["called"]
    assert late["restored"] and early["restored"]

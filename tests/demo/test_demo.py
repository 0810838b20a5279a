"""`univg demo --quick` end to end: every phase runs and the report is complete (numbers not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from univg_plugin.demo.runner import preparation

ROWS = (
    "untrained model",
    "mean training box (trivial baseline)",
    "stage 1: CoT-SFT",
    "stage 2: GRPO, difficulty-weighted",
    "stage 2: GRPO, unweighted (ablation)",
)


@pytest.mark.slow
@pytest.mark.llamafactory
@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl", "qwen3_vl"])
def test_quick_demo_writes_the_whole_report(tmp_path, family):
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "univg_plugin.cli", "demo", "--quick", "--family", family, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    report = (out / "report.md").read_text()
    for row in ROWS:
        assert f"| {row} |" in report, row
    for picture in ("results.png", "grpo_rewards.png", "difficulty_bias.png"):
        with Image.open(out / picture) as image:
            image.verify()
            assert image.format == "PNG"
        assert f"({picture})" in report
    summary = json.loads((out / "table.json").read_text())
    table = summary["table"]
    assert list(table) == list(ROWS)
    assert list(summary["paired"]) == list(ROWS[3:])
    assert set(summary["candidates"]) == set(ROWS)
    assert "## Stage 2 against stage 1, sample by sample" in report
    assert "| chance (1 / candidates) |" in report
    for groups in table.values():
        assert set(groups) == {"easy", "medium", "hard", "all"}
        assert all(0.0 <= groups[level]["miou"] <= 100.0 for level in groups)
    for run in ("stage1", "stage2_weighted", "stage2_unweighted"):
        assert (out / run / "model.safetensors").is_file(), run
    weighted = json.loads((out / "stage2_weighted" / "trainer_state.json").read_text())["log_history"]
    assert any("difficulty/phi_mean" in entry for entry in weighted)
    assert "total" in result.stdout and "report:" in result.stdout
    # every phase says what it does, and nothing warns about what a user cannot change
    assert "evaluation: 4 checkpoints answer 24 held-out samples" in result.stdout
    assert "max_length" not in result.stderr and "fast processor" not in result.stderr
    assert "unable to detect it" not in result.stdout + result.stderr  # DeepSpeed's import-time "no GPU" warning
    log = (out / "logs" / "stage1.log").read_text()
    (tmp_path / "preprocessing.log").write_text(log.split("***** Running training *****")[0])
    assert preparation(tmp_path / "preprocessing.log") == "preprocessing: tokenizing 200/200 samples"
    assert (out / "configs" / "stage1.yaml").is_file() and (out / "configs" / "stage2_weighted.yaml").is_file()
    assert json.loads((out / "stage2_weighted" / "config.json").read_text())["model_type"] == family
    assert f"Model family {family}." in report and summary["plan"]["family"] == family


def test_steps_option_is_validated():
    from click.testing import CliRunner

    from univg_plugin.cli import main

    result = CliRunner().invoke(main, ["demo", "--steps", "ten,5"])
    assert result.exit_code != 0
    assert "expected SFT,GRPO step counts" in result.output


def test_quick_and_long_are_refused_together():
    from click.testing import CliRunner

    from univg_plugin.cli import main

    result = CliRunner().invoke(main, ["demo", "--quick", "--long"])
    assert result.exit_code != 0
    assert "--quick and --long are different plans" in result.output


@pytest.mark.llamafactory
@pytest.mark.parametrize(
    ("plan", "min_p", "loss_type", "steps"), [("default", None, "grpo", 10), ("long", 0.1, "dapo", 400)]
)
def test_plan_reaches_trl_through_llamafactorys_parser(tmp_path, plan, min_p, loss_type, steps):
    import llamafactory.train.tuner  # noqa: F401  (importing it installs the plugin's `stage: grpo` arguments)
    from llamafactory.hparams import get_train_args

    from univg_plugin.demo import PLANS, stage2_config
    from univg_plugin.integrations.llamafactory.workflow import grpo_config

    config = stage2_config(PLANS[plan], tmp_path, seed=0, weighting="exp")
    model_args, _, training_args, finetuning_args, generating_args = get_train_args(config)
    args = grpo_config(training_args, finetuning_args, generating_args, model_args)
    assert (args.min_p, args.loss_type, args.max_steps) == (min_p, loss_type, steps)
    assert args.per_device_train_batch_size == PLANS[plan].grpo_prompts * args.num_generations
    assert config["max_samples"] <= PLANS[plan].train_samples  # every GRPO prompt is a distinct sample


@pytest.mark.slow
@pytest.mark.llamafactory
def test_a_failing_run_stops_its_sibling_and_is_named(tmp_path):
    """Runs go side by side: when one fails, the other is stopped rather than left training, and the
    error names the run that failed."""
    import time
    from dataclasses import replace
    from pathlib import Path

    from univg_plugin.demo import PLANS, llamafactory_train, stage1_config, write_data
    from univg_plugin.tiny_models import build_tiny_qwen_vl

    plan = replace(PLANS["quick"], sft_steps=100_000)
    build_tiny_qwen_vl(tmp_path / "model", family="qwen2_vl", seed=0, spec=plan.model)
    write_data(plan, tmp_path, "train", 16, seed=0)
    endless = stage1_config(plan, tmp_path, seed=0)
    broken = {**endless, "output_dir": str(tmp_path / "broken"), "learning_rate": "fast"}

    begun = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"broken\.yaml failed") as error:
        llamafactory_train([(endless, "endless", plan.sft_steps), (broken, "broken", plan.sft_steps)], tmp_path, print)
    assert "endless.yaml" not in str(error.value)
    assert time.perf_counter() - begun < 300
    still_running = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if "endless.yaml" in cmdline.read_bytes().decode(errors="replace"):
                still_running.append(cmdline.parent.name)
        except OSError:  # the process ended while we looked
            continue
    assert not still_running, f"the sibling run is still training: pid {still_running}"


def test_cpu_cores_without_affinity_falls_back_to_the_core_count(monkeypatch):
    """macOS has no os.sched_getaffinity: the demo's thread split must still work there."""
    import os

    from univg_plugin.demo import cpu_cores

    if hasattr(os, "sched_getaffinity"):
        assert cpu_cores() == len(os.sched_getaffinity(0))
        monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert cpu_cores() == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert cpu_cores() == 1


@pytest.mark.slow
@pytest.mark.llamafactory
@pytest.mark.distributed
def test_stage_1_of_two_processes_trains_the_whole_batch(tmp_path):
    """The default plan's stage 1 (two processes under LLaMA-Factory's torchrun launch), on the quick sizes."""
    from univg_plugin.demo import cpu_cores

    if cpu_cores() < 2:
        pytest.skip("the demo runs stage 1 in two processes only with two cores")
    out = tmp_path / "demo"
    script = tmp_path / "two_processes.py"
    script.write_text(
        "from dataclasses import replace\n"
        "from univg_plugin.demo import PLANS, run_demo\n"
        'if __name__ == "__main__":\n'
        f'    run_demo({str(out)!r}, replace(PLANS["quick"], sft_processes=2), ablation=False)\n'
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    log = (out / "logs" / "stage1.log").read_text()
    assert "world size: 2" in log
    assert "per_device_train_batch_size: 4" in (out / "configs" / "stage1.yaml").read_text()
    assert json.loads((out / "stage1" / "trainer_state.json").read_text())["global_step"] == 20
    assert (out / "stage1" / "model.safetensors").is_file() and (out / "report.md").is_file()

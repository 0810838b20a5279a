"""Helpers for the tests that run the real `llamafactory-cli` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: Printed by LLaMA-Factory once the model is loaded.
MODEL_LOADED = "trainable params:"


def recipe(name: str, **overrides) -> dict:
    """A YAML recipe of the repository, with some keys replaced."""
    config = yaml.safe_load((REPO / "recipes" / name).read_text())
    config.update(overrides)
    return config


def run_cli(config: dict, workdir: Path, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """`llamafactory-cli train` on ``config`` (written as YAML: LLaMA-Factory 0.9.5 cannot read .json)."""
    path = workdir / f"config-{len(list(workdir.glob('config-*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(config))
    environment = {
        **os.environ,
        "CUDA_VISIBLE_DEVICES": "",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # torchrun, for FORCE_TORCHRUN
        **(env or {}),
    }
    return subprocess.run(
        [str(BIN / "llamafactory-cli"), "train", str(path)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        cwd=REPO,
    )


def output_of(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def logged(output: Path, key: str) -> list[float]:
    """Every logged value of ``key`` in ``output/trainer_state.json``."""
    history = json.loads((output / "trainer_state.json").read_text())["log_history"]
    return [entry[key] for entry in history if key in entry]


def logged_losses(output: Path) -> list[float]:
    """The training losses LLaMA-Factory's LogCallback wrote to ``trainer_log.jsonl``."""
    records = [json.loads(line) for line in (output / "trainer_log.jsonl").read_text().splitlines()]
    return [record["loss"] for record in records if "loss" in record]


def grpo_yaml(tmp_path: Path) -> dict:
    """The keys of a `stage: grpo` YAML that parses without a model or dataset on disk."""
    return {
        "stage": "grpo",
        "model_name_or_path": str(tmp_path / "no-model"),
        "dataset": "no_dataset",
        "dataset_dir": str(tmp_path),
        "template": "qwen2_vl",
        "output_dir": str(tmp_path / "out"),
        "do_train": True,
        "use_cpu": True,
        "report_to": "none",
        "num_generations": 4,
        "per_device_train_batch_size": 4,
    }

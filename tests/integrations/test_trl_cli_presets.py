"""TRL's own CLI loads our family presets by import path: `trl grpo --reward_funcs univg_plugin.rewards.presets.X`.

`trl/scripts/grpo.py` (TRL 0.24 and 1.x alike) resolves each `--reward_funcs` string that is not one of its own
names with `module_path, func_name = func_name.rsplit(".", 1)`, `importlib.import_module(module_path)` and
`getattr(module, func_name)`; the test runs that script through the real `trl` command for one step.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("trl")
yaml = pytest.importorskip("yaml")

pytestmark = pytest.mark.slow

VISION_TOKENS = ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>")


def test_trl_grpo_command_trains_on_the_qwen2_5_vl_presets(tmp_path: Path, tiny_qwen2_5_vl: Path):
    from grpo_data import TRL_024, multi_image_dataset
    from transformers import AutoTokenizer

    dataset = multi_image_dataset(tmp_path / "images", rows=4, images_per_row=1).remove_columns(["target_image"])
    (tmp_path / "data").mkdir()
    dataset.to_parquet(str(tmp_path / "data" / "train.parquet"))  # truth in image pixels: the preset's default
    tokenizer = AutoTokenizer.from_pretrained(tiny_qwen2_5_vl)
    config = {
        "model_name_or_path": str(tiny_qwen2_5_vl),
        "dataset_name": str(tmp_path / "data"),
        "output_dir": str(tmp_path / "out"),
        "per_device_train_batch_size": 4,
        "num_generations": 4,
        "max_completion_length": 8,
        "max_steps": 1,
        "logging_steps": 1,
        "beta": 0.0,
        "report_to": "none",
        "use_cpu": True,
        "save_strategy": "no",
        # a sampled vision placeholder breaks the next forward pass of a random tiny model
        "generation_kwargs": {"suppress_tokens": tokenizer.convert_tokens_to_ids(list(VISION_TOKENS))},
    }
    if TRL_024:
        config["max_prompt_length"] = None  # keep every image token
    (tmp_path / "grpo.yaml").write_text(yaml.safe_dump(config))
    presets = [f"univg_plugin.rewards.presets.qwen2_5_vl_{name}" for name in ("iou", "format")]
    trl_command = Path(sys.executable).with_name("trl")
    result = subprocess.run(
        [str(trl_command), "grpo", "--config", str(tmp_path / "grpo.yaml"), "--reward_funcs", *presets],
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    for name in ("qwen2_5_vl_iou", "qwen2_5_vl_format"):  # TRL logs each reward under its __name__
        assert re.search(rf"rewards/{name}/mean", output), output[-3000:]

"""The environment works end to end: `llamafactory-cli train` runs a stage-1 SFT on a tiny checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from llamafactory_cli import logged_losses, output_of, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.llamafactory]


def write_multi_image_sharegpt(directory: Path, make_images, rows: int = 8) -> None:
    """A sharegpt dataset of 2-3 real images per sample, plus its dataset_info.json."""
    samples = []
    for index in range(rows):
        count = 2 + index % 2
        images = make_images(directory / "images", count, seed=index)
        question = "<image>" * count + f"Where is the square in image {count}?"
        answer = f"<think>The square is near the top left of image {count}.</think><answer>(100,120),(430,470)</answer>"
        samples.append(
            {
                "messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}],
                "images": [str(path.relative_to(directory)) for path in images],
            }
        )
    (directory / "train.json").write_text(json.dumps(samples))
    info = {
        "tiny_multi_image": {
            "file_name": "train.json",
            "formatting": "sharegpt",
            "columns": {"messages": "messages", "images": "images"},
            "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"},
        }
    }
    (directory / "dataset_info.json").write_text(json.dumps(info))


def sft_config(model: Path, data: Path, output: Path, **overrides) -> dict:
    config = {
        "model_name_or_path": str(model),
        "stage": "sft",
        "do_train": True,
        "finetuning_type": "full",
        "template": "qwen2_vl",
        "dataset": "tiny_multi_image",
        "dataset_dir": str(data),
        "media_dir": str(data),
        "cutoff_len": 1024,
        "output_dir": str(output),
        "overwrite_output_dir": True,
        "per_device_train_batch_size": 4,
        "gradient_accumulation_steps": 1,
        "learning_rate": 3e-3,
        "lr_scheduler_type": "constant",
        "max_steps": 10,
        "logging_steps": 1,
        "save_strategy": "no",
        "report_to": "none",
        "use_cpu": True,
        "seed": 0,
        "preprocessing_num_workers": 1,
        "dataloader_num_workers": 0,
        "disable_gradient_checkpointing": True,
    }
    config.update(overrides)
    return config


def test_sft_trains_saves_and_the_loss_falls(tmp_path, tiny_qwen2_vl, make_images):
    data, output = tmp_path / "data", tmp_path / "out"
    write_multi_image_sharegpt(data, make_images)
    result = run_cli(sft_config(tiny_qwen2_vl, data, output), tmp_path)
    assert result.returncode == 0, output_of(result)[-4000:]
    assert (output / "model.safetensors").is_file()
    assert (output / "preprocessor_config.json").is_file()
    losses = logged_losses(output)
    assert len(losses) == 10
    assert sum(losses[-3:]) / 3 < 0.7 * sum(losses[:3]) / 3, losses

"""Helpers shared by the GRPO tests (also imported by the torchrun script)."""

from __future__ import annotations

import zlib
from pathlib import Path

import trl
from datasets import Dataset, Image, Sequence
from PIL import Image as PILImage
from PIL import ImageDraw

TRL_024 = trl.__version__.startswith("0.")


def multi_image_dataset(directory: Path, rows: int = 4, images_per_row: int = 2) -> Dataset:
    """Rows in TRL's conversational VLM layout, 2+ real images each, unique prompts."""
    directory.mkdir(parents=True, exist_ok=True)
    records = []
    for row in range(rows):
        paths = []
        for index in range(images_per_row):
            image = PILImage.new("RGB", (72 + 8 * index, 64), (30 * row % 256, 90, 40 * index % 256))
            ImageDraw.Draw(image).rectangle([8, 8, 30, 30], fill=(250, 250, 0))
            path = directory / f"row{row}_image{index}.png"
            image.save(path)
            paths.append(str(path))
        parts = [{"type": "image", "text": None}] * images_per_row
        question = {"type": "text", "text": f"Question {row}: where is the yellow square in image {images_per_row}?"}
        records.append(
            {
                "prompt": [{"role": "user", "content": [*parts, question]}],
                "images": paths,
                "solution": [[100.0, 100.0, 400.0, 400.0]],
                "target_image": images_per_row,
            }
        )
    return Dataset.from_list(records).cast_column("images", Sequence(Image()))


def config_kwargs(output_dir: Path, **overrides) -> dict:
    """GRPO arguments for a few fast CPU steps, valid for TRL 0.24 and 1.x."""
    kwargs = {
        "output_dir": str(output_dir),
        "per_device_train_batch_size": 4,
        "num_generations": 4,
        "max_completion_length": 8,
        "max_steps": 1,
        "logging_steps": 1,
        "learning_rate": 1e-3,
        "beta": 0.0,
        "report_to": [],
        "use_cpu": True,
        "save_strategy": "no",
        "seed": 7,
        "data_seed": 7,
        "max_grad_norm": 0.0,
        "loss_type": "grpo",
        "disable_tqdm": True,
    }
    if TRL_024:
        kwargs["max_prompt_length"] = None
    kwargs.update(overrides)
    return kwargs


def unweighted_trainer(rewards, checkpoint, dataset, output):
    """A DifficultyAwareGRPOTrainer with the weighting off, on ``checkpoint`` and ``dataset``, for reward checks."""
    from univg_plugin.trainer import DifficultyAwareGRPOConfig, DifficultyAwareGRPOTrainer

    args = DifficultyAwareGRPOConfig(**config_kwargs(output, difficulty_weighting="none"))
    return DifficultyAwareGRPOTrainer(model=str(checkpoint), reward_funcs=rewards, args=args, train_dataset=dataset)


def varied_accuracy(completions, **kwargs) -> list[float]:
    """A deterministic stand-in accuracy reward in [0, 1] that differs between completions."""
    texts = [c[0]["content"] if isinstance(c, list) else c for c in completions]
    return [(zlib.crc32(text.encode()) % 1000) / 1000 for text in texts]

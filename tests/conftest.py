"""Shared fixtures: tiny checkpoints (built once per session) and real images on disk."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from browser import chromium  # noqa: F401 (the headless-browser fixture, for every test)

HAS_LLAMAFACTORY = importlib.util.find_spec("llamafactory") is not None


def pytest_collection_modifyitems(config, items):
    if HAS_LLAMAFACTORY:
        return
    skip = pytest.mark.skip(reason="LLaMA-Factory is not installed in this environment")
    for item in items:
        if "llamafactory" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_qwen2_vl(tmp_path_factory) -> Path:
    """A tiny random Qwen2-VL checkpoint directory."""
    from univg_plugin.tiny_models import build_tiny_qwen_vl

    return build_tiny_qwen_vl(tmp_path_factory.mktemp("tiny") / "qwen2_vl", family="qwen2_vl", seed=0)


@pytest.fixture(scope="session")
def tiny_qwen2_5_vl(tmp_path_factory) -> Path:
    """A tiny random Qwen2.5-VL checkpoint directory."""
    from univg_plugin.tiny_models import build_tiny_qwen_vl

    return build_tiny_qwen_vl(tmp_path_factory.mktemp("tiny") / "qwen2_5_vl", family="qwen2_5_vl", seed=0)


@pytest.fixture(scope="session")
def tiny_qwen3_vl(tmp_path_factory) -> Path:
    """A tiny random Qwen3-VL checkpoint directory."""
    from univg_plugin.tiny_models import build_tiny_qwen_vl

    return build_tiny_qwen_vl(tmp_path_factory.mktemp("tiny") / "qwen3_vl", family="qwen3_vl", seed=0)


@pytest.fixture(params=["qwen2_vl", "qwen2_5_vl", "qwen3_vl"])
def tiny_checkpoint(request) -> Path:
    """Every family, one after the other."""
    return request.getfixturevalue(f"tiny_{request.param}")


@pytest.fixture
def make_images():
    """``make_images(directory, count, size=(96, 72), seed=0)`` writes real PNG files and returns their paths."""
    return _write_images


def _write_images(directory: Path, count: int, size: tuple[int, int] = (96, 72), seed: int = 0) -> list[Path]:
    """``count`` real PNG images with a coloured rectangle each, written to ``directory``."""
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
        draw = ImageDraw.Draw(image)
        x, y = rng.randrange(size[0] // 2), rng.randrange(size[1] // 2)
        draw.rectangle([x, y, x + size[0] // 3, y + size[1] // 3], fill=tuple(rng.randrange(256) for _ in range(3)))
        path = directory / f"image_{seed}_{index}.png"
        image.save(path)
        paths.append(path)
    return paths

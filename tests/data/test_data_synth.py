"""The synthetic generator: deterministic, valid, correct boxes, controllable mix and graded difficulty."""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from univg_plugin.cli import main
from univg_plugin.data import read, validate_file
from univg_plugin.data.schema import DIFFICULTIES
from univg_plugin.data.synth import COLORS, TASKS, generate

PALETTE = np.array(list(COLORS.values()), dtype=np.int64)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    path = generate(out, n=120, seed=7, image_size=112)
    return out, path, list(read(path))


def digest(directory) -> str:
    files = sorted(directory.rglob("*.*"))
    return hashlib.sha256(b"".join(f.name.encode() + f.read_bytes() for f in files)).hexdigest()


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate(tmp_path / name, n=12, seed=seed, image_size=96)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert (tmp_path / "a" / "data.jsonl").read_text() != (tmp_path / "c" / "data.jsonl").read_text()


def test_every_sample_is_valid_and_its_files_exist(dataset):
    _, path, samples = dataset
    report = validate_file(path, check_files=True)
    assert report.ok and report.samples == 120 and not report.warnings
    assert {s.task for s in samples} == set(TASKS)
    assert {s.meta["difficulty"] for s in samples} == set(DIFFICULTIES)
    assert all(1 <= len(s.images) <= 4 and s.reasoning and s.space.value == "norm1000" for s in samples)
    assert all(s.image_sizes == [(112, 112)] * len(s.images) for s in samples)
    assert all(set(s.meta) == {"difficulty", "distractors", "seed"} for s in samples)


def test_the_reasoning_names_the_target_image_of_multi_image_samples(dataset):
    for sample in dataset[2]:
        if len(sample.images) > 1:
            assert f"image {sample.target_image}" in sample.reasoning.lower(), sample


def object_mask(pixels: np.ndarray) -> np.ndarray:
    """Pixels within a small distance of a palette colour (backgrounds are muted, never that close)."""
    distance = np.abs(pixels[:, :, None, :].astype(np.int64) - PALETTE[None, None]).sum(-1)
    return distance.min(-1) < 40


def test_boxes_are_tight_around_the_target_object(dataset):
    out, _, samples = dataset
    checked = 0
    for sample in samples:
        if sample.task == "region":
            continue
        pixels = np.asarray(Image.open(out / sample.images[sample.target_image - 1]).convert("RGB"))
        height, width = pixels.shape[:2]
        x1, y1, x2, y2 = (round(v * size / 1000) for v, size in zip(sample.boxes[0], (width, height, width, height)))
        mask = object_mask(pixels)
        inside = mask[y1:y2, x1:x2]
        assert inside.any(), sample.id
        rows, columns = np.flatnonzero(inside.any(1)), np.flatnonzero(inside.any(0))
        assert rows[0] <= 1 and rows[-1] >= inside.shape[0] - 2, sample.id  # touches top and bottom
        assert columns[0] <= 1 and columns[-1] >= inside.shape[1] - 2, sample.id  # touches left and right
        ring = mask[max(0, y1 - 2) : y2 + 2, max(0, x1 - 2) : x2 + 2].sum() - mask[y1:y2, x1:x2].sum()
        assert ring <= 2, sample.id  # nothing drawn just outside the box (neighbours are 3 px away)
        checked += 1
    assert checked > 80


def test_region_boxes_frame_the_crop_shown_in_image_two(dataset):
    out, _, samples = dataset
    for sample in (s for s in samples if s.task == "region"):
        source = Image.open(out / sample.images[0]).convert("RGB")
        x1, y1, x2, y2 = (round(v * 112 / 1000) for v in sample.boxes[0])
        expected = np.asarray(source.crop((x1, y1, x2, y2)).resize((112, 112), Image.Resampling.BILINEAR), dtype=float)
        zoomed = np.asarray(Image.open(out / sample.images[1]).convert("RGB"), dtype=float)
        assert np.abs(expected - zoomed).mean() < 3.0, sample.id


def test_difficulty_grades_object_size_and_distractors(dataset):
    areas, distractors = {d: [] for d in DIFFICULTIES}, {d: [] for d in DIFFICULTIES}
    for sample in dataset[2]:
        if sample.task != "region":
            x1, y1, x2, y2 = sample.boxes[0]
            areas[sample.meta["difficulty"]].append((x2 - x1) * (y2 - y1))
        distractors[sample.meta["difficulty"]].append(sample.meta["distractors"] / len(sample.images))
    mean_area = {d: np.mean(v) for d, v in areas.items()}
    mean_distractors = {d: np.mean(v) for d, v in distractors.items()}
    assert mean_area["easy"] > 2 * mean_area["medium"] > 2 * mean_area["hard"] > 0
    assert mean_distractors["easy"] < mean_distractors["medium"] < mean_distractors["hard"]


def test_mix_of_tasks_and_difficulties_follows_the_weights(tmp_path):
    path = generate(tmp_path, n=60, seed=1, image_size=64, tasks={"diff": 2, "counting": 1}, difficulties=["hard"])
    samples = list(read(path))
    tasks = Counter(s.task for s in samples)
    assert abs(tasks["diff"] - 40) <= 1 and abs(tasks["counting"] - 20) <= 1 and len(tasks) == 2
    assert {s.meta["difficulty"] for s in samples} == {"hard"}
    first_six = Counter(s.task for s in samples[:6])
    assert set(first_six) == {"diff", "counting"}  # any prefix is mixed too


def test_image_size_is_a_parameter(tmp_path):
    path = generate(tmp_path, n=4, seed=0, image_size=(160, 120))
    sample = next(read(path))
    assert sample.image_sizes[0] == (160, 120)
    assert Image.open(tmp_path / sample.images[0]).size == (160, 120)


def test_bad_parameters_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown task\\(s\\) spot_the_dog; known: common_object, diff"):
        generate(tmp_path, n=1, tasks=["spot_the_dog"])
    with pytest.raises(ValueError, match="image_size must be at least 64"):
        generate(tmp_path, n=1, image_size=32)


def test_cli_synth(tmp_path):
    result = CliRunner().invoke(
        main, ["data", "synth", str(tmp_path), "--n", "5", "--seed", "2", "--image-size", "96x80", "--tasks", "region"]
    )
    assert result.exit_code == 0, result.output
    samples = list(read(tmp_path / "data.jsonl"))
    assert len(samples) == 5 and {s.task for s in samples} == {"region"} and samples[0].image_sizes[0] == (96, 80)
    bad = CliRunner().invoke(main, ["data", "synth", str(tmp_path), "--tasks", "nope"])
    assert bad.exit_code == 2 and "unknown task(s) nope" in bad.output

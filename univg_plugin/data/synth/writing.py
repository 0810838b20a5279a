"""Turning task builders' output into samples and files: :func:`make_sample` and :func:`generate`."""

from __future__ import annotations

import multiprocessing
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from tqdm.auto import tqdm

from ..io import JsonWriter
from ..schema import DIFFICULTIES, GroundingSample
from .drawing import draw
from .scene import Sampler
from .tasks import TASK_BUILDERS, TASKS, TaskBuilder

# Steps of the low-discrepancy sequences that assign tasks and difficulties (1 / golden ratio and
# 1 / plastic number: two steps that never fall into step with each other).
_TASK_STEP = 0.6180339887498949
_DIFFICULTY_STEP = 0.7548776662466927
#: Samples per job of a worker process of :func:`generate`.
_CHUNK = 200


def _weights(choice: Mapping[str, float] | Sequence[str] | None, known: tuple[str, ...], what: str) -> list:
    if choice is None:
        choice = {name: 1.0 for name in known}
    elif not isinstance(choice, Mapping):
        choice = {name: 1.0 for name in choice}
    unknown = sorted(set(choice) - set(known))
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(unknown)}; known: {', '.join(known)}")
    if not choice or any(weight < 0 for weight in choice.values()) or sum(choice.values()) <= 0:
        raise ValueError(f"{what} weights must be non-negative with a positive sum")
    total = sum(choice.values())
    return [(name, choice[name] / total) for name in known if choice.get(name, 0) > 0]


def _pick(weights: list, u: float) -> str:
    """The category at position ``u`` in [0, 1) of the cumulative weights."""
    for name, weight in weights:
        if u < weight:
            return name
        u -= weight
    return weights[-1][0]


def make_sample(
    index: int,
    seed: int,
    task: str,
    difficulty: str,
    image_size: tuple[int, int],
    image_dir: str = "images",
    grid: int | None = None,
    builders: Mapping[str, TaskBuilder] = TASK_BUILDERS,
) -> tuple[GroundingSample, list[Image.Image]]:
    """One synthetic sample and its images (not saved), deterministic for ``(seed, index, task, difficulty)``.

    Args:
        index: Sample index (part of the id and of the random seed).
        seed: Global seed.
        task: A name in ``builders``.
        difficulty: One of :data:`~univg_plugin.data.schema.DIFFICULTIES`.
        image_size: ``(width, height)`` of every image.
        image_dir: Directory of the images, relative to the dataset file.
        grid: Place objects in the cells of a ``grid x grid`` lattice, on the coordinate background
            (see :func:`generate`).
        builders: Task name -> builder (default: the built-in :data:`~.tasks.TASK_BUILDERS`).

    Returns:
        The sample (boxes in ``norm1000``) and its images.
    """
    width, height = image_size
    sampler = Sampler(seed, index, width, height, difficulty, grid)
    made = builders[task](sampler)
    images = [item if isinstance(item, Image.Image) else draw(item, sampler.rng) for item in made.images]
    sample_id = f"synth-{seed}-{index:06d}"
    x1, y1, x2, y2 = made.box
    box = [round(1000 * x1 / width), round(1000 * y1 / height), round(1000 * x2 / width), round(1000 * y2 / height)]
    sample = GroundingSample(
        id=sample_id,
        task=task,
        images=[f"{image_dir}/{sample_id}_{k}.png" for k in range(1, len(images) + 1)],
        question=made.question,
        reasoning=made.reasoning,
        boxes=[box],
        space="norm1000",
        target_image=made.target,
        image_sizes=[[width, height]] * len(images),
        meta={"difficulty": difficulty, "distractors": made.distractors, "seed": seed},
    )
    return sample, images


def _checked_size(image_size: int | tuple[int, int], grid: int | None) -> tuple[int, int]:
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if min(size) < 64:
        raise ValueError(f"image_size must be at least 64 pixels per side, got {size}")
    if grid is not None and not 2 <= grid <= min(size) // 8:
        raise ValueError(f"grid must be between 2 and {min(size) // 8} for {size} images, got {grid}")
    return size


def _all_builders(extra: Mapping[str, TaskBuilder] | None) -> dict[str, TaskBuilder]:
    clashes = sorted(set(extra or ()) & set(TASK_BUILDERS))
    if clashes:
        raise ValueError(f"task builder(s) {', '.join(clashes)} would replace built-in tasks; rename them")
    return {**TASK_BUILDERS, **(extra or {})}


@dataclass(frozen=True)
class _Synthesis:
    """Samples by index: writes their images and returns their jsonl lines (one worker's share of :func:`generate`)."""

    out_dir: Path
    seed: int
    size: tuple[int, int]
    grid: int | None
    builders: Mapping[str, TaskBuilder]
    task_weights: list
    level_weights: list
    offset: float

    def __call__(self, indices: range) -> list[str]:
        lines = []
        for index in indices:
            task = _pick(self.task_weights, (self.offset + index * _TASK_STEP) % 1.0)
            level = _pick(self.level_weights, (self.offset + index * _DIFFICULTY_STEP) % 1.0)
            sample, images = make_sample(
                index, self.seed, task, level, self.size, grid=self.grid, builders=self.builders
            )
            for relative, image in zip(sample.images, images):
                image.save(self.out_dir / relative, compress_level=1)
            lines.append(sample.model_dump_json())
        return lines


@contextmanager
def _mapper(workers: int) -> Iterator[Callable]:
    """``map`` in this process (one worker), else over ``workers`` fresh processes, results in order."""
    if workers <= 1:
        yield map
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool.map


def generate(
    out_dir: str | Path,
    n: int,
    seed: int = 0,
    *,
    image_size: int | tuple[int, int] = 224,
    tasks: Mapping[str, float] | Sequence[str] | None = None,
    difficulties: Mapping[str, float] | Sequence[str] | None = None,
    file_name: str = "data.jsonl",
    progress: bool | None = False,
    grid: int | None = None,
    builders: Mapping[str, TaskBuilder] | None = None,
    workers: int = 1,
) -> Path:
    """Write ``n`` synthetic samples: PNG images under ``out_dir/images`` and a univg jsonl.

    The mix of tasks and difficulties follows the weights exactly up to rounding (samples are
    assigned along a low-discrepancy sequence, so any prefix is mixed too); everything is
    deterministic for a seed.

    Args:
        out_dir: Output directory (the jsonl's image paths are relative to it).
        n: Number of samples.
        seed: Random seed.
        image_size: Side of square images, or ``(width, height)`` (at least 64 pixels per side).
        tasks: Task names (equal weights) or ``{task: weight}``; default all of :data:`~.tasks.TASKS`
            (the tasks of ``builders`` only when named).
        difficulties: Difficulty names or ``{difficulty: weight}``; default all three equally.
        file_name: Name of the jsonl file.
        progress: Show a progress bar (None: only on a terminal).
        grid: Put every object in a cell of a ``grid x grid`` lattice, on a background whose colour
            encodes the position (red left to right, green top to bottom). Meant for tiny models trained
            from scratch: with cells of 28 pixels one cell is one Qwen-VL vision token, and the colour
            gives that token's position, which a Qwen-VL vision tower (rotary positions only) cannot
            otherwise tell a freshly initialised language model. The ``region`` task is not grid-aligned.
        builders: More tasks, name -> :data:`~.tasks.TaskBuilder`, beside the built-in ones (their names
            must differ from the built-ins'; module-level functions when ``workers > 1``).
        workers: Processes that draw and save the samples (the files are the same for any number). More than
            one are fresh processes (``multiprocessing``'s spawn): a script calling this with ``workers > 1``
            calls it under ``if __name__ == "__main__":``.

    Returns:
        The path of the jsonl file.
    """
    size = _checked_size(image_size, grid)
    known = _all_builders(builders)
    task_weights = _weights(tasks if tasks is not None else TASKS, tuple(known), "task(s)")
    level_weights = _weights(difficulties, DIFFICULTIES, "difficulty(ies)")
    out_dir = Path(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    offset = random.Random(f"univg-synth:{seed}").random()
    synthesis = _Synthesis(out_dir, seed, size, grid, known, task_weights, level_weights, offset)
    chunks = [range(start, min(n, start + _CHUNK)) for start in range(0, n, _CHUNK)]
    path = out_dir / file_name
    disable = None if progress is None else not progress
    with (
        JsonWriter(path) as writer,
        tqdm(total=n, desc="synth", unit=" samples", disable=disable) as bar,
        _mapper(min(workers, len(chunks))) as mapper,
    ):
        for lines in mapper(synthesis, chunks):
            for line in lines:
                writer.write(line)
            bar.update(len(lines))
    return path

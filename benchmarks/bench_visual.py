"""Drawing speed: `univg data preview` and the eval gallery on a MIG-Bench-sized benchmark (4,295 samples).

    .venv/bin/python benchmarks/bench_visual.py                     # 4,295 samples, the usable CPUs
    .venv/bin/python benchmarks/bench_visual.py --workers 2 --samples 1000

The benchmark: MIG-Bench's size and shape (4,295 samples of ten tasks, 2-4 images each, 0-1 boxes) on
``--pool`` distinct JPEG photos-like images of 640x480 to 1280x960 (MIG-Bench's images are photos of
about that size). Preview: every sample (``count`` = all), so every image of every sample is decoded,
shrunk, drawn and written as a PNG. Gallery: ``score`` + ``write_gallery`` (4 worst, 4 best, 4 random per
task) as `univg eval score` does. Wall and CPU time (all processes; on a busy machine CPU / 2 is what 2 idle
cores take), the image files already in the page cache. Target: each under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from pathlib import Path

from bench_eval import TASKS


def make_images(folder: Path, count: int, seed: int) -> list[tuple[str, tuple[int, int]]]:
    """``count`` JPEG images with shapes on a gradient; returns their names and sizes."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    (folder / "img").mkdir(parents=True, exist_ok=True)
    made = []
    for index in range(count):
        width, height = int(rng.integers(640, 1281)), int(rng.integers(480, 961))
        ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None] * rng.random(3)
        pixels = np.broadcast_to(ramp, (height, width, 3)) + rng.normal(0, 12, (height, width, 3))
        image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
        canvas = ImageDraw.Draw(image)
        for _ in range(6):
            x, y = int(rng.integers(0, width - 60)), int(rng.integers(0, height - 60))
            size = int(rng.integers(30, 200))
            canvas.ellipse((x, y, x + size, y + size), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        name = f"img/{index}.jpg"
        image.save(folder / name, quality=88)
        made.append((name, (width, height)))
    return made


def make_benchmark(folder: Path, count: int, images: list[tuple[str, tuple[int, int]]], seed: int) -> Path:
    """A univg jsonl of ``count`` MIG-Bench-like samples over ``images``, and a predictions file beside it."""
    rng = random.Random(seed)
    rows, predictions = [], []
    for index in range(count):
        chosen = rng.sample(images, rng.randint(2, 4))
        target = rng.randint(1, len(chosen))
        x1, y1 = rng.uniform(0, 0.6), rng.uniform(0, 0.6)
        box = [round(v, 3) for v in (x1, y1, x1 + rng.uniform(0.05, 0.39), y1 + rng.uniform(0.05, 0.39))]
        rows.append(
            {
                "id": f"s{index}",
                "task": TASKS[index % len(TASKS)],
                "images": [name for name, _ in chosen],
                "question": f"Locate the object in image-{target}.",
                "boxes": [box],
                "space": "norm1",
                "target_image": target,
                "image_sizes": [list(size) for _, size in chosen],
            }
        )
        guess = [round(1000 * min(1.0, max(0.0, v + rng.gauss(0, 0.05)))) for v in box]
        output = f"<think>Image {target}.</think><answer>({guess[0]},{guess[1]}),({guess[2]},{guess[3]})</answer>"
        predictions.append({"id": f"s{index}", "output": output if rng.random() > 0.1 else "no box"})
    path = folder / "bench.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    (folder / "predictions.jsonl").write_text("".join(json.dumps(row) + "\n" for row in predictions))
    return path


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the drawing workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, call) -> float:
    """Run ``call``; print its wall time and CPU time (on a shared machine, CPU / 2 is the time on 2 idle cores)."""
    start, cpu = time.perf_counter(), _cpu_seconds()
    result = call()
    seconds, used = time.perf_counter() - start, _cpu_seconds() - cpu
    print(f"{label}: {seconds:.1f} s wall, {used:.1f} s CPU (2 idle cores: about {used / 2:.1f} s) ({result})")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=4295)
    parser.add_argument("--pool", type=int, default=600, help="Distinct image files.")
    parser.add_argument("--workers", type=int, help="Drawing processes [default: the usable CPUs].")
    args = parser.parse_args()

    from univg_plugin.data.preview import preview
    from univg_plugin.eval import load_benchmark, read_predictions, score
    from univg_plugin.eval.gallery import write_gallery

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        bench = make_benchmark(folder, args.samples, make_images(folder, args.pool, 0), 0)
        print(f"made {args.samples} samples on {args.pool} images in {time.perf_counter() - start:.0f} s")
        for file in (folder / "img").iterdir():  # into the page cache
            file.read_bytes()

        def run_preview():
            result = preview(bench, folder / "preview", count=args.samples, workers=args.workers, progress=False)
            return f"{result.samples} samples, {len(list((folder / 'preview' / 'images').iterdir()))} pictures"

        def run_gallery():
            samples, _ = load_benchmark(bench)
            predictions = read_predictions(folder / "predictions.jsonl")
            report = score(predictions, samples, media_root=folder)
            page = write_gallery(report, samples, predictions, folder / "eval", workers=args.workers)
            cards = page.read_text().count('class="card')
            return f"{cards} cards"

        timed("preview (every sample)", run_preview)
        timed("gallery (score + 4 worst/best/random per task)", run_gallery)


if __name__ == "__main__":
    main()

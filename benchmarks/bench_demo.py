"""Where `univg demo` spends its time, before and after a change: a phase-by-phase profile of both, in one sitting.

Usage: ``python benchmarks/bench_demo.py [--before ae9a7a2] [--quick | --steps SFT,GRPO] [--only after]``

Runs ``univg demo`` twice on the same machine, one run after the other: the code of git ref ``--before``
(checked out in a temporary ``git worktree``, removed at the end, and imported through ``PYTHONPATH``
with the same environment) and this checkout. For each run it prints the seconds of every phase (from
``report.md``), and inside stage 1 LLaMA-Factory's preprocessing (its tokenizer bar) and its steps
(``train_runtime``), then the ratio before / after and whether the held-out tables are the same.

Then the floors, measured in the same sitting on the new run's stage-1 model and training data, torch's
default threads: the images of a stage-1 batch processed once (the Qwen2-VL image processor, nothing else) and
the model's forward and backward pass and optimizer step on prepared batches in a bare PyTorch loop, in
one process. A stage-1 step of LLaMA-Factory (collation, image processing, forward, backward; in two
processes of one core each where the plan says so) is compared with their sum.

The default plan takes about 25-30 minutes on an idle 2-core machine (both runs; other work on the machine
changes both and their ratio); ``--steps 120,4`` about 12 minutes; ``--quick`` about 3 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: ``report.md``'s phase rows: ``| name | 12 s |``.
_PHASE_ROW = re.compile(r"^\| (.+?) \| (\d+) s \|$", re.MULTILINE)
#: LLaMA-Factory's finished tokenizer bar: ``Running tokenizer on dataset ...: 100%|...| 24000/24000 [04:09<...``.
_TOKENIZER_DONE = re.compile(r"Running tokenizer on dataset[^:\n]*: 100%\|[^|\n]*\|\s*\d+/\d+ \[(?:(\d+):)?(\d+):(\d+)")


def run_demo(tree: Path, out: Path, demo_args: list[str]) -> dict[str, Any]:
    """``univg demo`` with the package of ``tree``; its phases, stage-1 split, table and wall time."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("OMP_NUM_THREADS", None)  # as a user runs it: each side picks its own threads
    command = [sys.executable, "-m", "univg_plugin.cli", "demo", "--out", str(out), *demo_args]
    begun = time.perf_counter()
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - begun
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} (in {tree}) failed:\n{(done.stdout + done.stderr)[-3000:]}")
    phases = {name: float(seconds) for name, seconds in _PHASE_ROW.findall((out / "report.md").read_text())}
    train = json.loads((out / "stage1" / "train_results.json").read_text())["train_runtime"]
    tokenizer = _TOKENIZER_DONE.findall((out / "logs" / "stage1.log").read_text())
    hours, minutes, seconds = tokenizer[-1] if tokenizer else ("", "0", "0")
    return {
        "phases": phases,
        "preprocessing": int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds),
        "steps": train,
        "table": json.loads((out / "table.json").read_text())["table"],
        "wall": wall,
    }


def _stage1_batches(out: Path, count: int, size: int) -> tuple[Any, list[Any], list[list[Any]]]:
    """The new run's stage-1 processor, ``count`` tokenized training batches of ``size`` and their images."""
    from PIL import Image
    from transformers import AutoProcessor

    from univg_plugin.data import paper_answer, prompt_messages, read

    processor = AutoProcessor.from_pretrained(out / "stage1", use_fast=True)
    samples = list(read(out / "data" / "train" / "data.jsonl"))[: count * size]
    batches, images = [], []
    for first in range(0, len(samples), size):
        chunk = samples[first : first + size]
        texts = [
            processor.apply_chat_template(
                [*prompt_messages(s), {"role": "assistant", "content": [{"type": "text", "text": paper_answer(s)}]}],
                tokenize=False,
            )
            for s in chunk
        ]
        pictures = [Image.open(out / "data" / "train" / path).convert("RGB") for s in chunk for path in s.images]
        batches.append(processor(text=texts, images=pictures, padding=True, max_length=None, return_tensors="pt"))
        images.append(pictures)
    return processor, batches, images


def floors(out: Path, batch_size: int, count: int = 20) -> dict[str, float]:
    """Seconds per stage-1 step of the bare work, on torch's default threads (as stage 1): the batch's
    images processed once, and forward + backward + optimizer step of the stage-1 model on prepared batches."""
    import torch
    from transformers import AutoModelForImageTextToText

    processor, batches, images = _stage1_batches(out, count, batch_size)
    begun = time.perf_counter()
    for pictures in images:
        processor.image_processor(pictures, return_tensors="pt")
    image_processing = (time.perf_counter() - begun) / len(images)
    model = AutoModelForImageTextToText.from_pretrained(out / "stage1").train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)

    def step(batch: dict[str, Any]) -> None:
        model(**batch, labels=batch["input_ids"]).loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    for batch in batches[:2]:  # warm-up: the first steps allocate and pick kernels
        step(batch)
    begun = time.perf_counter()
    for batch in batches[2:]:
        step(batch)
    forward_backward = (time.perf_counter() - begun) / (len(batches) - 2)
    return {"image processing": image_processing, "forward + backward": forward_backward}


def _row(name: str, before: float | None, after: float, unit: str = "s", digits: int = 0) -> str:
    ratio = f"{before / after:.2f}x" if before and after else ""
    shown = "" if before is None else f"{before:.{digits}f} {unit}"
    return f"| {name} | {shown} | {after:.{digits}f} {unit} | {ratio} |"


def _phase(phases: dict[str, float], name: str) -> float | None:
    """Seconds of phase ``name``; a phase that runs earlier ones side by side (``"model and data"``) is
    compared with the sum of their times.

    Example:
        >>> _phase({"model": 5.0, "data": 46.0}, "model and data")
        51.0
    """
    parts = [phases.get(part) for part in name.split(" and ")]
    return phases.get(name, sum(parts) if None not in parts else None)


def print_profile(before: dict[str, Any] | None, after: dict[str, Any], floor: dict[str, float], sft_steps: int):
    """The table: phases, the stage-1 split, a step against its floors, and the totals."""
    print("\n| phase | before | after | before / after |\n|---|---:|---:|---:|")
    for name, seconds in after["phases"].items():
        print(_row(name, None if before is None else _phase(before["phases"], name), seconds))
    for key, name in (("preprocessing", "  stage 1: preprocessing (tokenizer)"), ("steps", "  stage 1: steps")):
        print(_row(name, None if before is None else before[key], after[key]))
    step = after["steps"] / sft_steps
    print(_row("  stage 1: one step", None if before is None else before["steps"] / sft_steps * 1e3, step * 1e3, "ms"))
    for name, seconds in floor.items():
        print(f"|   floor: {name} (bare, per step) | | {seconds * 1e3:.0f} ms | |")
    print(f"|   one step / sum of floors | | {step / sum(floor.values()):.1f} | |")
    print(_row("**total (wall)**", None if before is None else before["wall"], after["wall"]))
    if before is not None:
        same = "the same" if before["table"] == after["table"] else "different"
        print(f"\nheld-out table before and after: {same}; before / after: {before['wall'] / after['wall']:.2f}")
    print_table(before, after)


def print_table(before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    """Each row's all-samples mIoU and hard-sample mIoU, before and after (percent)."""
    print("\n| row | before: all / hard mIoU | after: all / hard mIoU |\n|---|---:|---:|")
    for row, scores in after["table"].items():
        old = (before or {}).get("table", {}).get(row)
        shown = f"{old['all']['miou']:.1f} / {old['hard']['miou']:.1f}" if old else ""
        print(f"| {row} | {shown} | {scores['all']['miou']:.1f} / {scores['hard']['miou']:.1f} |")


def _before_tree(ref: str, where: Path) -> Path:
    tree = where / "before"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), ref], check=True)
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="ae9a7a2", help="git ref of the code to compare with")
    parser.add_argument("--quick", action="store_true", help="the --quick plan (a few minutes)")
    parser.add_argument("--steps", default=None, help="SFT,GRPO step counts (univg demo --steps)")
    parser.add_argument("--only", choices=("both", "after"), default="both", help="skip the run of --before")
    args = parser.parse_args()
    demo_args = ["--quick"] * args.quick + (["--steps", args.steps] if args.steps else [])
    from univg_plugin.demo import PLANS

    plan = PLANS["quick" if args.quick else "default"]
    sft_steps = int(args.steps.split(",")[0]) if args.steps and args.steps.split(",")[0] else plan.sft_steps
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        after = run_demo(ROOT, where / "after", demo_args)
        before = None
        if args.only == "both":
            tree = _before_tree(args.before, where)
            try:
                before = run_demo(tree, where / "before_out", demo_args)
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)
        floor = floors(where / "after", plan.sft_batch)
    sides = f"{args.before} (before) and this checkout (after)" if before else "this checkout"
    print(f"\n`univg demo {' '.join(demo_args)}`: {sides}, {os.cpu_count()} cores")
    print_profile(before, after, floor, sft_steps)


if __name__ == "__main__":
    main()

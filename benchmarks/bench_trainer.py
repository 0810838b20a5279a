"""Step time and peak memory of DifficultyAwareGRPOTrainer against TRL's GRPOTrainer.

Usage: ``python benchmarks/bench_trainer.py [--pairs 6] [--steps 12]``

Each run is a fresh subprocess (so peak RSS is its own) training the same tiny Qwen2-VL on the same
multi-image data with the same seed; plain and difficulty-aware runs alternate. Per run, the median
time of the steps after the first two (warm-up) is kept; the table reports the median over runs and
the median of the per-pair ratios. Target: ratio <= 1.02 and no measurable extra peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "support"))


def run_one(kind: str, model: str, workdir: str, steps: int) -> None:
    """Child process: train ``steps`` steps, print per-step times and peak RSS as JSON."""
    from grpo_data import config_kwargs, multi_image_dataset, varied_accuracy
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from univg_plugin.trainer import DifficultyAwareGRPOConfig, DifficultyAwareGRPOTrainer

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.times: list[float] = []
            self._start = 0.0

        def on_step_begin(self, args, state, control, **kwargs):
            self._start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.times.append(time.perf_counter() - self._start)

    dataset = multi_image_dataset(Path(workdir) / "images", rows=8, images_per_row=2)
    common = config_kwargs(Path(workdir) / kind, max_steps=steps, logging_steps=steps, max_completion_length=16)
    if kind == "plain":
        trainer = GRPOTrainer(
            model=model, reward_funcs=[varied_accuracy], args=GRPOConfig(**common), train_dataset=dataset
        )
        tokenizer = trainer.processing_class.tokenizer
        trainer.generation_config.suppress_tokens = [
            tokenizer.convert_tokens_to_ids(t)
            for t in ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>")
        ]
    else:
        args = DifficultyAwareGRPOConfig(**common, difficulty_accuracy_reward="varied_accuracy")
        trainer = DifficultyAwareGRPOTrainer(
            model=model, reward_funcs=[varied_accuracy], args=args, train_dataset=dataset
        )
    timer = StepTimer()
    trainer.add_callback(timer)
    trainer.train()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"kind": kind, "times": timer.times, "peak_kib": peak_kib}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=6, help="plain/ours run pairs (interleaved)")
    parser.add_argument("--steps", type=int, default=12, help="training steps per run (first 2 are warm-up)")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "MODEL", "WORKDIR"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        kind, model, workdir = options.child
        run_one(kind, model, workdir, options.steps)
        return

    from univg_plugin.tiny_models import build_tiny_qwen_vl

    with tempfile.TemporaryDirectory() as workdir:
        model = str(build_tiny_qwen_vl(Path(workdir) / "model", family="qwen2_vl", seed=0))
        results: dict[str, list[dict]] = {"plain": [], "ours": []}
        for pair in range(options.pairs):
            order = ("plain", "ours") if pair % 2 == 0 else ("ours", "plain")
            for kind in order:
                command = [sys.executable, __file__, "--steps", str(options.steps), "--child", kind, model, workdir]
                output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                record = json.loads(output.strip().splitlines()[-1])
                record["median_step"] = statistics.median(record["times"][2:])
                results[kind].append(record)
                print(
                    f"pair {pair + 1}/{options.pairs} {kind:5s} step {record['median_step'] * 1e3:7.1f} ms",
                    file=sys.stderr,
                )

    ratios = [ours["median_step"] / plain["median_step"] for plain, ours in zip(results["plain"], results["ours"])]
    rows = [
        ("GRPOTrainer (TRL)", results["plain"]),
        ("DifficultyAwareGRPOTrainer", results["ours"]),
    ]
    print(f"\n{'trainer':<28} {'median step (ms)':>17} {'peak RSS (MiB)':>15}")
    for name, records in rows:
        step = statistics.median(r["median_step"] for r in records) * 1e3
        peak = statistics.median(r["peak_kib"] for r in records) / 1024
        print(f"{name:<28} {step:>17.1f} {peak:>15.1f}")
    peak_delta = statistics.median(o["peak_kib"] - p["peak_kib"] for p, o in zip(results["plain"], results["ours"]))
    print(f"\nmedian per-pair step ratio (ours / plain): {statistics.median(ratios):.3f}  (target <= 1.02)")
    print(f"per-pair ratios: {', '.join(f'{r:.3f}' for r in ratios)}")
    print(f"median peak-RSS difference (ours - plain): {peak_delta / 1024:+.1f} MiB")


if __name__ == "__main__":
    main()

"""Wall time of the demo's two stage-2 runs: one after the other, or side by side on shared cores.

Usage: ``python benchmarks/bench_demo.py [--steps 12] [--sft-steps 150]``

Builds the demo's model and data and gives it a short stage 1 (so that completions end in an answer
instead of running to the length limit). Then runs the weighted and the unweighted GRPO run of
``univg demo`` for ``--steps`` steps each, twice: one after the other, each with every core (what the
demo did before), and side by side, each with its share of the cores (what ``univg demo`` does now).
Both include the processes' start-up. Prints a table with the wall times and their ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from univg_plugin.demo import PLANS, cpu_cores, llamafactory_train, stage1_config, stage2_config, write_data
from univg_plugin.tiny_models import build_tiny_qwen_vl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12, help="GRPO steps of each run")
    parser.add_argument("--sft-steps", type=int, default=150, help="stage-1 steps before timing")
    args = parser.parse_args()
    plan = replace(PLANS["default"], sft_steps=args.sft_steps, grpo_steps=args.steps)
    cores = cpu_cores()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        build_tiny_qwen_vl(out / "model", family="qwen2_vl", seed=0, spec=plan.model)
        write_data(plan, out, "train", max(plan.sft_steps * plan.sft_batch, plan.grpo_steps * plan.grpo_prompts), 0)
        llamafactory_train([(stage1_config(plan, out, 0), "stage1", plan.sft_steps)], out, print)

        runs = [(stage2_config(plan, out, 0, w), f"stage2_{w}", plan.grpo_steps) for w in ("exp", "none")]
        begun = time.perf_counter()
        for run in runs:
            llamafactory_train([run], out, print)
        sequential = time.perf_counter() - begun
        begun = time.perf_counter()
        llamafactory_train(runs, out, print)
        concurrent = time.perf_counter() - begun

    print(f"\nTwo GRPO runs of {plan.grpo_steps} steps x {plan.grpo_prompts} prompts x {plan.num_generations}")
    print(f"completions, demo model, {cores} cores (start-up included)\n")
    print("| schedule | threads per run | wall time | per step and run |")
    print("|---|---:|---:|---:|")
    print(f"| one after the other | {cores} | {sequential:.1f} s | {sequential / 2 / plan.grpo_steps:.2f} s |")
    print(f"| side by side | {max(1, cores // 2)} | {concurrent:.1f} s | {concurrent / 2 / plan.grpo_steps:.2f} s |")
    print(f"\nside by side / one after the other: {concurrent / sequential:.2f}")


if __name__ == "__main__":
    main()

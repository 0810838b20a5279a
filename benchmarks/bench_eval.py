"""Evaluation throughput: scoring predictions, and `univg eval run` generation on a tiny checkpoint.

    .venv/bin/python benchmarks/bench_eval.py                                  # 100k predictions; batch 1/8/32
    .venv/bin/python benchmarks/bench_eval.py --predictions 20000 --skip-generation   # quick

Scoring: ``score()`` on a MIG-Bench-like mix (ten tasks, 0-1 ground truth; 70% UniVG-R1 outputs
``<think>...</think><answer>(x1,y1),(x2,y2)</answer>``, 10% Migician's ``It's in the third image.
<|box_start|>...``, 10% Qwen2.5-VL JSON, 10% no box), predictions already in memory and from a jsonl
file; "all need the image" makes every sample a group-grounding one (its target image must be read
from the output). Best of ``--repeat`` runs. Target: >= 100k predictions/s.

Generation: ``generate_predictions`` (what `univg eval run` calls) with a tiny random Qwen2-VL on
synthetic samples, greedy, ``--max-new-tokens`` tokens each (a random model never stops early, so
every sample costs the same), model loading excluded, ``--threads`` torch threads (default 1: more threads
on a busy machine mostly measure contention).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

TASKS = (
    "diff",
    "view_diff",
    "common_object",
    "object_tracking",
    "multi_view",
    "region",
    "refer_grounding",
    "group_grounding",
    "reasoning",
    "correspondence",
)


def make_benchmark(count: int, all_unnamed: bool = False, seed: int = 0):
    """``count`` MIG-Bench-like samples and an output for each."""
    from univg_plugin.data import GroundingSample

    rng = random.Random(seed)
    samples, outputs = [], {}
    for index in range(count):
        task = "group_grounding" if all_unnamed else TASKS[index % len(TASKS)]
        images = rng.randint(2, 4)
        target = rng.randint(1, images)
        named = task != "group_grounding"
        question = f"Find the object and locate it in image-{target}." if named else "Find the brown dog."
        x1, y1 = rng.randint(0, 600), rng.randint(0, 600)
        truth = [x1, y1, x1 + rng.randint(20, 399), y1 + rng.randint(20, 399)]
        samples.append(
            GroundingSample(
                id=f"s{index}",
                task=task,
                images=[f"img/{index}_{k}.jpg" for k in range(images)],
                question=question,
                boxes=[[value / 1000 for value in truth]],
                space="norm1",
                target_image=target,
            )
        )
        box = [value + rng.randint(-40, 40) for value in truth]
        kind = index % 10
        if kind < 7:
            output = (
                f"<think>The object in image {rng.randint(1, images)} is at the top left and larger than the one "
                f"in the other images. So the target is in image {target}.</think>"
                f"<answer>({box[0]},{box[1]}),({box[2]},{box[3]})</answer>"
            )
        elif kind == 7:
            output = f"It's in the second image. <|box_start|>({box[0]},{box[1]}),({box[2]},{box[3]})<|box_end|>"
        elif kind == 8:
            output = json.dumps([{"bbox_2d": box, "label": "dog"}])
        else:
            output = "I cannot find it in these images."
        outputs[f"s{index}"] = output
    return samples, outputs


def time_scoring(count: int, repeat: int) -> list[tuple[str, float]]:
    from univg_plugin.eval import score

    rows = []
    samples, outputs = make_benchmark(count)
    worst_samples, worst_outputs = make_benchmark(count, all_unnamed=True)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "predictions.jsonl"
        path.write_text("".join(json.dumps({"id": k, "output": v}) + "\n" for k, v in outputs.items()))
        cases = [
            ("mig_bench protocol (first box), in memory", lambda: score(outputs, samples, benchmark="mig_bench")),
            ("mig_bench protocol, from a jsonl file", lambda: score(path, samples, benchmark="mig_bench")),
            ("default protocol (strict answer), in memory", lambda: score(outputs, samples, benchmark="univg")),
            (
                "mig_bench, all need the image found",
                lambda: score(worst_outputs, worst_samples, benchmark="mig_bench"),
            ),
        ]
        for name, run in cases:
            best = float("inf")
            for _ in range(repeat):
                start = time.perf_counter()
                report = run()
                best = min(best, time.perf_counter() - start)
            assert report.overall.count == count
            rows.append((name, count / best))
    return rows


def time_generation(
    samples: int, max_new_tokens: int, batch_sizes: list[int], threads: int
) -> list[tuple[int, float, float]]:
    import torch

    from univg_plugin.data import read
    from univg_plugin.data.synth import generate
    from univg_plugin.eval import generate_predictions
    from univg_plugin.tiny_models import build_tiny_qwen_vl

    torch.set_num_threads(threads)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        checkpoint = build_tiny_qwen_vl(root / "tiny", family="qwen2_vl", seed=0)
        data = generate(root / "synth", n=samples, seed=0, image_size=112)
        benchmark = list(read(data))
        generate_predictions(checkpoint, benchmark[:2], root / "warmup.jsonl", max_new_tokens=4, media_root=data.parent)
        print(
            f"generation: {len(benchmark)} samples, {max_new_tokens} new tokens each, torch threads "
            f"{torch.get_num_threads()}, device cpu"
        )
        for run, batch_size in enumerate(batch_sizes):
            result = generate_predictions(
                checkpoint,
                benchmark,
                root / f"predictions_{run}.jsonl",
                batch_size=batch_size,
                max_new_tokens=max_new_tokens,
                media_root=data.parent,
                device="cpu",
                progress=False,
            )
            rows.append((batch_size, result.samples_per_second, result.tokens / result.seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--predictions", type=int, default=100_000, help="Predictions to score.")
    parser.add_argument("--repeat", type=int, default=3, help="Scoring runs per case (the best counts).")
    parser.add_argument("--samples", type=int, default=32, help="Samples to generate per batch size.")
    parser.add_argument("--max-new-tokens", type=int, default=32, help="Tokens generated per sample.")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32], help="Generation batch sizes.")
    parser.add_argument(
        "--threads", type=int, default=1, help="Torch threads for generation (1: stable numbers on a shared machine)."
    )
    parser.add_argument("--skip-generation", action="store_true", help="Only measure scoring.")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    print(f"scoring {args.predictions:,} predictions (best of {args.repeat})")
    print(f"{'case':<48} {'predictions/s':>14}")
    for name, rate in time_scoring(args.predictions, args.repeat):
        print(f"{name:<48} {rate:>14,.0f}")
    if args.skip_generation:
        return
    rows = time_generation(args.samples, args.max_new_tokens, args.batch_sizes, args.threads)
    print(f"{'batch size':>10} {'samples/s':>10} {'tokens/s':>10}")
    for batch_size, samples_per_second, tokens_per_second in rows:
        print(f"{batch_size:>10} {samples_per_second:>10.2f} {tokens_per_second:>10.1f}")


if __name__ == "__main__":
    main()

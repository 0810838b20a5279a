"""Throughput of the grounding rewards against the reference's per-completion loop.

    python benchmarks/bench_rewards.py            # 100k completions, 5 repeats (about a minute)
    python benchmarks/bench_rewards.py --n 20000 --repeats 3

The corpus imitates a GRPO batch of a Qwen2-VL policy: groups of 8 completions per prompt, reasoning of
50-400 characters, 70% well-formed (what the paper's format reward accepts), 20% near misses (the image
named in the answer, truncated, box only in the reasoning, decimals, other box syntaxes, swapped corners,
two boxes or answers, text after the answer, an empty slot, ...) and 10% garbage (random ASCII or
Unicode, repeated tags, empty), as conversational completions with a norm1000 ground-truth box and a
target image per row.

The baseline is the reference implementation's accuracy reward (UniVG-R1's ``qwen_module.iou_reward``
without its debug logging): a Python loop with ``re.search`` on pattern strings, ``int()`` of the groups
and a scalar IoU. Every reward runs once per repeat, interleaved with the baseline, on one core;
the table shows the best and median completions/s and the ratio to the baseline's.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import string
import time
from collections.abc import Callable

import numpy as np

from univg_plugin.boxes import parse
from univg_plugin.rewards import REWARDS, get

GROUP = 8
SINGLE_BOX = ("iou", "iou_threshold", "giou", "format", "image_index", "grounding")
WORDS = [
    "the",
    "a",
    "cup",
    "on",
    "left",
    "right",
    "table",
    "image",
    "person",
    "red",
    "blue",
    "near",
    "behind",
    "first",
    "second",
    "object",
    "region",
    "appears",
    "compare",
    "both",
    "which",
    "is",
    "in",
    "of",
    "and",
    "so",
    "answer",
    "located",
    "top",
    "bottom",
    "corner",
    "second",
    "third",
    "there",
    "two",
]
ORDINALS = ["first", "second", "third", "fourth"]

# --------------------------------------------------------------------------- the reference


def reference_box_iou(box1, box2):
    inter_x1 = max(box1[0], box2[0])
    inter_y1 = max(box1[1], box2[1])
    inter_x2 = min(box1[2] - 1, box2[2] - 1)
    inter_y2 = min(box1[3] - 1, box2[3] - 1)
    if inter_x1 < inter_x2 and inter_y1 < inter_y2:
        inter = (inter_x2 - inter_x1 + 1) * (inter_y2 - inter_y1 + 1)
    else:
        inter = 0
    union = (box1[2] - box1[0]) * (box1[3] - box1[1]) + (box2[2] - box2[0]) * (box2[3] - box2[1]) - inter
    return float(inter) / union


def baseline_iou_reward(completions, solution, **kwargs):
    """The reference's accuracy reward, as written there (minus the debug logging)."""
    contents = [completion[0]["content"] for completion in completions]
    rewards = []
    answer_tag_pattern = r"<answer>(.*?)</answer>"
    bbox_pattern = r"\((\d+),\s*(\d+)\),\s*\((\d+),\s*(\d+)\)"
    for content, sol in zip(contents, solution):
        reward = 0.0
        try:
            content_answer_match = re.search(answer_tag_pattern, content, re.DOTALL)
            if content_answer_match:
                content_answer = content_answer_match.group(1).strip()
                bbox_match = re.search(bbox_pattern, content_answer)
                if bbox_match:
                    bbox = [
                        int(bbox_match.group(1)),
                        int(bbox_match.group(2)),
                        int(bbox_match.group(3)),
                        int(bbox_match.group(4)),
                    ]
                    reward = reference_box_iou(bbox, sol)
        except Exception:
            pass
        rewards.append(reward)
    return rewards


# --------------------------------------------------------------------------- the corpus


def reasoning(rng: random.Random) -> str:
    target = rng.randint(50, 400)
    words = []
    while sum(map(len, words)) + len(words) < target:
        roll = rng.random()
        if roll < 0.03:
            words.append(f"({rng.randint(0, 999)},{rng.randint(0, 999)})")
        elif roll < 0.06:
            words.append(f"image {rng.randint(1, 4)}")
        else:
            words.append(rng.choice(WORDS))
    return " ".join(words)[:target]


def guess(rng: random.Random, truth: list[int]) -> list[int]:
    """A noisy prediction of the ground truth, as a reasonable policy makes."""
    width, height = truth[2] - truth[0], truth[3] - truth[1]
    noise = [rng.gauss(0, 0.15) * side for side in (width, height, width, height)]
    box = [min(1000, max(0, round(value + delta))) for value, delta in zip(truth, noise)]
    if rng.random() < 0.1:  # a wrong object altogether
        x, y = rng.randint(0, 800), rng.randint(0, 800)
        box = [x, y, x + rng.randint(10, 200), y + rng.randint(10, 200)]
    return box


def pair(box: list[int], space: str = "") -> str:
    return f"({box[0]},{space}{box[1]}),{space}({box[2]},{space}{box[3]})"


def well_formed(rng: random.Random, box: list[int]) -> str:
    """What the paper's format reward accepts (whitespace between the tags and after commas allowed)."""
    if rng.random() < 0.85:
        return f"<think>{reasoning(rng)}</think><answer>{pair(box)}</answer>"
    return f"<think>{reasoning(rng)}</think>\n<answer>{pair(box, ' ')}</answer>"


def near_miss(rng: random.Random, box: list[int], target: int) -> str:
    think = reasoning(rng)
    x1, y1, x2, y2 = box
    named = rng.choice([f"image {target}", f"Image-{target}", f"the {ORDINALS[target - 1]} image"])
    variants: list[Callable[[], str]] = [
        lambda: f"<think>{think}</think><answer>In {named}: {pair(box)}</answer>",
        lambda: f"<think>{think}</think><answer>It is in {named}. {pair(box)}</answer>",
        lambda: f"<think>{think}</think><answer>{pair(box)}</answer>"[: rng.randint(len(think) // 2, len(think) + 20)],
        lambda: f"<think>{think} so {pair(box)}</think><answer>the object</answer>",
        lambda: f"<think>{think}</think><answer>({x1}.5,{y1}),({x2},{y2}.0)</answer>",
        lambda: f"<think>{think}</think><answer>[{x1}, {y1}, {x2}, {y2}]</answer>",
        lambda: f"<think>{think}</think><answer>" + json.dumps([{"bbox_2d": box, "label": "cup"}]) + "</answer>",
        lambda: f"<think>{think}</think><answer>{pair([x2, y2, x1, y1])}</answer>",
        lambda: f"<think>{think}</think><answer>{pair(box)} {pair(guess(rng, box))}</answer>",
        lambda: f"<think>{think}</think><answer>{pair(box)}</answer> I hope this helps.",
        lambda: f"{think} <answer>{pair(box)}</answer>",
        lambda: f"<think>{think}</think><answer>({x1},),({x2},{y2})</answer>",
        lambda: f"<think>{think}</think><answer><|box_start|>{pair(box)}<|box_end|></answer>",
        lambda: f"<think>{think}</think><answer>{pair(guess(rng, box))}</answer><answer>{pair(box)}</answer>",
    ]
    return rng.choice(variants)()


def garbage(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4:
        return "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 400)))
    if roll < 0.6:
        return "".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(0, 200)))
    if roll < 0.8:
        return rng.choice(["<answer>", "<think>", "</think>", "(", "1", ",", " "]) * rng.randint(1, 100)
    return ""


def corpus(count: int, seed: int) -> tuple[list, dict]:
    """Conversational completions and the dataset columns TRL would pass with them."""
    rng = random.Random(seed)
    completions, solution, target_image = [], [], []
    while len(completions) < count:
        x, y = rng.randint(0, 800), rng.randint(0, 800)
        truth = [x, y, min(1000, x + rng.randint(20, 400)), min(1000, y + rng.randint(20, 400))]
        target = rng.randint(1, 4)
        for _ in range(GROUP):
            roll = rng.random()
            box = guess(rng, truth)
            if roll < 0.7:
                text = well_formed(rng, box)
            elif roll < 0.9:
                text = near_miss(rng, box, target)
            else:
                text = garbage(rng)
            completions.append([{"role": "assistant", "content": text}])
            solution.append(truth)
            target_image.append(target)
    return completions[:count], {"solution": solution[:count], "target_image": target_image[:count]}


def multi_box_corpus(count: int, seed: int) -> tuple[list, dict, int]:
    """Answers of 1-4 boxes against 1-3 targets; also returns the number of boxes (answers + targets)."""
    rng = random.Random(seed)
    completions, solution, boxes = [], [], 0
    for _ in range(count):
        targets = []
        for _ in range(rng.randint(1, 3)):
            x, y = rng.randint(0, 800), rng.randint(0, 800)
            targets.append([x, y, x + rng.randint(20, 200), y + rng.randint(20, 200)])
        answer = [guess(rng, rng.choice(targets)) for _ in range(rng.randint(1, 4))]
        text = f"<think>{reasoning(rng)}</think><answer>{' '.join(pair(box) for box in answer)}</answer>"
        completions.append([{"role": "assistant", "content": text}])
        solution.append(targets)
        boxes += len(answer) + len(targets)
    return completions, {"solution": solution}, boxes


# --------------------------------------------------------------------------- timing


def without_fast_path(reward: Callable) -> Callable:
    """``reward`` with the box parser's fast path off: every answer goes through the regex parser."""

    def run(**kwargs):
        fast = parse.integer_box_answers
        parse.integer_box_answers = lambda answers: np.zeros(len(answers), dtype=bool)
        try:
            return reward(**kwargs)
        finally:
            parse.integer_box_answers = fast

    return run


def timed(function: Callable, completions: list, columns: dict, batch_size: int) -> float:
    start = time.perf_counter()
    for begin in range(0, len(completions), batch_size):
        end = begin + batch_size
        function(completions=completions[begin:end], **{name: value[begin:end] for name, value in columns.items()})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="completions in the corpus")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=0, help="completions per reward call (0: all at once)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    batch_size = args.batch_size or args.n

    completions, columns = corpus(args.n, args.seed)
    multi_count = max(1, args.n // 5)
    multi_completions, multi_columns, multi_boxes = multi_box_corpus(multi_count, args.seed + 1)
    runs = {"baseline (reference loop)": (baseline_iou_reward, completions, columns)}
    runs.update({name: (get(name), completions, columns) for name in REWARDS.builtins})
    runs["multi_box (1-4 boxes)"] = (get("multi_box"), multi_completions, multi_columns)
    runs["iou, regex parser only"] = (without_fast_path(get("iou")), completions, columns)

    ours = get("iou")(completions, **columns)
    reference = baseline_iou_reward(completions, **columns)
    agree = sum(abs(a - b) < 1e-9 for a, b in zip(ours, reference)) / len(ours)

    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):  # interleaved, so that load from other processes hits every row alike
        for name, (function, data, cols) in runs.items():
            times[name].append(timed(function, data, cols, min(batch_size, len(data))))

    base_best = len(completions) / min(times["baseline (reference loop)"])
    base_median = len(completions) / statistics.median(times["baseline (reference loop)"])
    print(
        f"{args.n:,} completions ({len(multi_completions):,} for multi_box, {multi_boxes / multi_count:.1f} boxes "
        f"each), batch size {batch_size:,}, {args.repeats} repeats, one process and thread\n"
    )
    header = f"{'reward':<26} {'best /s':>12} {'median /s':>12} {'x baseline':>11}"
    print(header)
    print("-" * len(header))
    for name, durations in times.items():
        count = len(runs[name][1])
        best, median = count / min(durations), count / statistics.median(durations)
        ratio = f"{best / base_best:.2f}" if name != "multi_box (1-4 boxes)" else "-"
        print(f"{name:<26} {best:>12,.0f} {median:>12,.0f} {ratio:>11}")
    per_box = min(times["multi_box (1-4 boxes)"]) / multi_boxes * 1e6
    iou_best = len(completions) / min(times["iou"]) / base_best
    iou_median = len(completions) / statistics.median(times["iou"]) / base_median
    slowest = min(len(completions) / min(times[name]) for name in SINGLE_BOX)
    print(f"\nmulti_box: {per_box:.2f} us per box (answer boxes + targets)")
    print(f"iou / baseline: {iou_best:.2f}x best, {iou_median:.2f}x median (target >= 2x)")
    print(f"slowest single-box reward: {slowest:,.0f} completions/s (target >= 100,000)")
    print(f"iou equals the baseline on {agree:.1%} of the completions (the rest: documented departures)")
    fast_path = min(times["iou, regex parser only"]) / min(times["iou"])
    print(f"the box parser's fast path makes iou {fast_path:.2f}x faster than the regex parser alone")


if __name__ == "__main__":
    main()

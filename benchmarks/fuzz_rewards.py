"""Fuzz every reward under every answer policy with generated completions: no exception, no value out of range.

    python benchmarks/fuzz_rewards.py               # 1,000,000 completions (a few minutes)
    python benchmarks/fuzz_rewards.py --n 100000

The generator mixes well-formed answers with every failure shape met so far: runs of whitespace and
newlines around and inside boxes, long digit runs (beyond `int`'s 4,300 digits), ordinals in other
letters (`firſt`, `fırst`), malformed boxes (`(1,)2,(3,4)`), thousands of boxes in one answer, nested and
unclosed tags, multimodal parts that are not text, random Unicode, and a few completions of 100 KB to
1 MB. Columns are well formed (dataset problems are errors by design). The table gives, per reward and
policy: completions scored, exceptions, values out of range or not a float/None, the slowest completion
in microseconds per KB (timed alone, among the 30 longest and the slowest batch's), and the time; then
the peak memory of the process.
"""

from __future__ import annotations

import argparse
import random
import resource
import string
import time

from univg_plugin.rewards import REWARDS, get

RANGES = {"giou": (-1.0, 1.0)}
BATCH = 2000
BOX = "({},{}),({},{})"


def _box(rng: random.Random) -> str:
    x, y = rng.randrange(900), rng.randrange(900)
    return BOX.format(x, y, x + rng.randrange(1, 100), y + rng.randrange(1, 100))


def _shapes(rng: random.Random) -> list[str]:
    """One answer body of each failure shape (sizes drawn small; `_huge` makes the large ones)."""
    n = rng.randrange(1, 30_000) if rng.random() < 0.01 else rng.randrange(1, 300)
    return [
        _box(rng),
        f"image {rng.randrange(1, 5)}: {_box(rng)}",
        "(1,2)" + rng.choice([" ", "\n", "\t", ", "]) * n + "(3,4)",
        "image" + "\n" * n + str(rng.randrange(5)),
        "the " + rng.choice(["firſt", "fırst", "ſecond", "First", "third"]) + " image " + _box(rng),
        "image " + "9" * rng.choice([5, 4400, 5000]),
        rng.choice(["(1,)2,(3,4)", "(,1),(2,3)", "[1,,2,3]4", "(1,2),(3,4", "[1, 2, 3, 4, 5]", "(1.5e999,2),(3,4)"]),
        " ".join(_box(rng) for _ in range(rng.randrange(1, 400))),
        "<answer>" * rng.randrange(1, 50) + _box(rng),
        "".join(rng.choice(string.printable + "٢ſı😀") for _ in range(rng.randrange(200))),
        "(" * n + "," * n + ")" * n,
        "1" * n + "st image",
    ]


def _completion(rng: random.Random) -> object:
    body = rng.choice(_shapes(rng))
    think = "".join(rng.choice(string.ascii_letters + " ") for _ in range(rng.randrange(300)))
    text = rng.choice(
        [f"<think>{think}</think><answer>{body}</answer>", f"<think>{think}</think>{body}", body, f"<answer>{body}"]
    )
    form = rng.random()
    if form < 0.4:
        return [{"role": "assistant", "content": text}]
    if form < 0.5:
        return [{"role": "assistant", "content": [{"type": "text", "text": rng.choice([5, None, text])}]}]
    return text


def _huge(rng: random.Random) -> str:
    size = rng.choice([100_000, 1_000_000])
    unit = rng.choice(["\n", " ", "1", "(1,2) ", _box(rng) + " ", "<think>", "image "])
    return "<answer>" + unit * (size // len(unit)) + "</answer>"


def completions(count: int, seed: int) -> list[object]:
    rng = random.Random(seed)
    out = [_completion(rng) for _ in range(count)]
    for index in rng.sample(range(count), min(count, 20)):
        out[index] = _huge(rng)
    return out


def _in_range(value: object, low: float, high: float) -> bool:
    return value is None or (isinstance(value, float) and low <= value <= high)


def _text_length(completion: object) -> int:
    return len(completion) if isinstance(completion, str) else len(str(completion))


def fuzz(name: str, policy: str | None, data: list[object]) -> dict[str, float]:
    """Score ``data`` in batches; count exceptions and bad values; time the slowest completions alone."""
    reward = get(name, **({} if policy is None else {"policy": policy}))
    low, high = RANGES.get(name, (0.0, 1.0))
    errors = bad = 0
    slowest_batch, slowest_start, started = -1.0, 0, time.perf_counter()
    for start in range(0, len(data), BATCH):
        batch = data[start : start + BATCH]
        columns = {"solution": [[[10, 10, 200, 200]]] * len(batch), "target_image": [1] * len(batch)}
        began = time.perf_counter()
        try:
            values = reward(batch, **columns)
        except Exception:
            errors += 1
            continue
        took = time.perf_counter() - began
        if took > slowest_batch:
            slowest_batch, slowest_start = took, start
        bad += sum(not _in_range(value, low, high) for value in values)
    total = time.perf_counter() - started
    suspects = sorted(range(len(data)), key=lambda i: _text_length(data[i]))[-30:]
    suspects += list(range(slowest_start, min(slowest_start + BATCH, len(data))))
    us_per_kb, slowest = _slowest_per_kb(reward, data, suspects)
    return {"errors": errors, "bad": bad, "us_per_kb": us_per_kb, "slowest": slowest, "seconds": total}


def _slowest_per_kb(reward, data: list[object], indices: list[int]) -> tuple[float, str]:
    """The most microseconds per KB (1 KB at least) of one completion scored alone, best of 3, and its start."""
    worst, which = 0.0, ""
    for index in indices:
        columns = {"solution": [[[10, 10, 200, 200]]], "target_image": [1]}
        took = float("inf")
        for _ in range(3):
            began = time.perf_counter()
            reward([data[index]], **columns)
            took = min(took, time.perf_counter() - began)
        per_kb = took * 1e6 / max(_text_length(data[index]) / 1024, 1.0)
        if per_kb > worst:
            worst, which = per_kb, repr(data[index])[:40]
    return worst, which


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="generated completions")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = completions(args.n, args.seed)
    print(f"{len(data):,} completions, {sum(map(_text_length, data)) / 1e6:.0f} MB of text, batches of {BATCH}\n")
    header = f"{'reward':<14} {'policy':<8} {'scored':>10} {'exceptions':>10} {'out of range':>12} {'max us/KB':>10}"
    header += f" {'s':>6}  slowest completion per KB"
    print(header)
    print("-" * len(header))
    for name in sorted(REWARDS.builtins):
        for policy in [None] if name == "format" else ["strict", "lenient", "first"]:
            result = fuzz(name, policy, data)
            print(
                f"{name:<14} {policy or '-':<8} {len(data):>10,} {result['errors']:>10} {result['bad']:>12} "
                f"{result['us_per_kb']:>10.1f} {result['seconds']:>6.1f}  {result['slowest']}"
            )
    print(f"\npeak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()

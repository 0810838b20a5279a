"""Throughput and peak memory of the data tools: validate and convert on synthetic rows.

    .venv/bin/python benchmarks/bench_data.py                 # 20k and 100k rows
    .venv/bin/python benchmarks/bench_data.py --sizes 5000    # quick

Every measurement runs in a fresh single-threaded subprocess, so its peak resident memory (ru_maxrss)
is its own; "baseline" is a process that only imports the package. Streaming means the peak does
not grow with the file: compare the columns of the two sizes (the last row, which keeps every sample,
shows what growth looks like). Target: >= 20k rows/s validation.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OPERATIONS = {
    "validate univg jsonl": ("validate", "rows.jsonl", None),
    "convert univg -> sharegpt (stage 1)": ("convert", "rows.jsonl", ("univg", "sharegpt", "out.jsonl")),
    "convert univg -> grpo jsonl": ("convert", "rows.jsonl", ("univg", "grpo", "out_grpo.jsonl")),
    "convert stage-2 JSON list -> univg": ("convert", "rows.json", ("univg_stage2", "univg", "out2.jsonl")),
    "contrast: list(read(jsonl)), not streamed": ("load", "rows.jsonl", None),
}


def make_rows(directory: Path, count: int) -> None:
    """``count`` synthetic rows (64 rendered samples, repeated with new ids) as univg jsonl and stage-2 JSON."""
    from univg_plugin.data import read, write
    from univg_plugin.data.synth import generate

    templates = [
        json.loads(s.model_dump_json()) for s in read(generate(directory / "synth", n=64, seed=0, image_size=64))
    ]
    with open(directory / "rows.jsonl", "w") as output:
        for index in range(count):
            row = dict(templates[index % len(templates)], id=f"bench-{index:07d}")
            output.write(json.dumps(row) + "\n")
    write(read(directory / "rows.jsonl"), directory / "rows.json", "univg_stage2")


def child(operation: str, directory: Path, extra: list[str]) -> None:
    """Run one measurement and print ``seconds rows peak_rss_kib`` (in a fresh process)."""
    from univg_plugin.data import convert, read, validate_file

    start = time.perf_counter()
    if operation == "baseline":
        rows = 0
    elif operation == "load":
        rows = len(list(read(directory / extra[0])))
    elif operation == "validate":
        report = validate_file(directory / extra[0])
        assert report.ok, report.summary()
        rows = report.samples
    else:
        source, (fmt_in, fmt_out, target) = extra[0], extra[1:]
        rows = convert(directory / source, directory / target, fmt_in, fmt_out)
    elapsed = time.perf_counter() - start
    print(elapsed, rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def measure(operation: str, directory: Path, extra: list[str]) -> tuple[float, int, float]:
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    command = [sys.executable, __file__, "--child", operation, str(directory), *extra]
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=environment).stdout.split()
    seconds, rows, peak_kib = float(output[-3]), int(output[-2]), int(output[-1])
    return seconds, rows, peak_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000], help="Row counts to measure.")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        operation, directory, *extra = args.child
        child(operation, Path(directory), extra)
        return

    results: dict[str, dict[int, tuple[float, int, float]]] = {}
    with tempfile.TemporaryDirectory() as temporary:
        for size in args.sizes:
            directory = Path(temporary) / str(size)
            directory.mkdir()
            make_rows(directory, size)
            results.setdefault("baseline (imports only)", {})[size] = measure("baseline", directory, [])
            for name, (operation, source, formats) in OPERATIONS.items():
                results.setdefault(name, {})[size] = measure(operation, directory, [source, *(formats or ())])

    header = f"{'operation':<44}" + "".join(f"{f'{size:,} rows: rows/s':>22}{'peak MiB':>10}" for size in args.sizes)
    print(header)
    print("-" * len(header))
    for name, by_size in results.items():
        cells = ""
        for size in args.sizes:
            seconds, rows, peak = by_size[size]
            rate = f"{rows / seconds:,.0f}" if rows else "-"
            cells += f"{rate:>22}{peak:>10.1f}"
        print(f"{name:<44}{cells}")
    print(f"\npython {sys.version.split()[0]}, one process per cell, single-threaded; peak = ru_maxrss of that process")


if __name__ == "__main__":
    main()

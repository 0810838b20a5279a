"""The demo's phases, from an empty directory to ``report.md`` (:func:`run_demo`)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..data import GroundingSample, read
from ..data.synth import generate
from ..tiny_models import build_tiny_qwen_vl
from .compare import compare_runs
from .configs import sft_ranks, stage1_config, stage2_config, weighting_name
from .evaluation import STAGE1_ROW, Table, evaluate_runs
from .plan import PLANS, DemoPlan
from .report import write_report
from .runner import cpu_cores, llamafactory_train
from .tasks import COMPACT_BUILDERS, DEMO_TASKS


def write_data(plan: DemoPlan, out: Path, split: str, n: int, seed: int) -> Path:
    """Synthesize ``n`` samples of the plan's task into ``out/data/<split>``; the ``train`` split is
    also registered as LLaMA-Factory dataset ``demo_train`` in ``out/data/dataset_info.json``."""
    data = out / "data"
    file = generate(
        data / split,
        n,
        seed=seed,
        image_size=plan.image_size,
        grid=plan.grid,
        tasks=DEMO_TASKS,
        builders=COMPACT_BUILDERS,
        progress=True,
        workers=cpu_cores(),
    )
    if split == "train":
        info = {"demo_train": {"file_name": str(file.relative_to(data)), "formatting": "univg"}}
        (data / "dataset_info.json").write_text(json.dumps(info, indent=2))
    return file


@dataclass
class DemoResult:
    """Where the demo wrote its report, and its table."""

    out: Path
    report: Path
    table: Table
    seconds: float


class _Clock:
    """Announces the demo's phases and times them."""

    def __init__(self, say: Callable[[str], None]):
        self.say = say
        self.start = time.perf_counter()
        self.timings: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Announce phase ``name``; its time is recorded when it ends without an error."""
        begun = time.perf_counter()
        self.say(f"== {name}")
        yield
        self.timings[name] = time.perf_counter() - begun

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def _train_stage2(plan: DemoPlan, out: Path, seed: int, ablation: bool, clock: _Clock) -> None:
    """The weighted GRPO run and, with ``ablation``, the unweighted one beside it."""
    weightings = ["exp", "none"] if ablation else ["exp"]
    names = [f"stage2_{weighting_name(weighting)}" for weighting in weightings]
    with clock.phase(f"stage 2: GRPO, {' + '.join(map(weighting_name, weightings))} (llamafactory-cli)"):
        configs = [stage2_config(plan, out, seed, weighting) for weighting in weightings]
        runs = [(config, name, plan.grpo_steps) for config, name in zip(configs, names)]
        llamafactory_train(runs, out, clock.say)


def _compare(
    out: Path, plan: DemoPlan, table: Table, ious: dict[str, list[float]], test_samples: Sequence[GroundingSample]
) -> dict[str, dict[str, Any]]:
    """Each stage-2 run against stage 1 and accuracy by candidate count, saved with the table to
    ``out/table.json``."""
    candidates = [sample.meta["distractors"] + 1 for sample in test_samples]
    analysis = compare_runs(ious, candidates, base=STAGE1_ROW)
    summary = {"plan": asdict(plan), "table": table, **analysis}
    (out / "table.json").write_text(json.dumps(summary, indent=2, default=str))
    return analysis


def run_demo(
    out: str | Path = "demo_out",
    plan: DemoPlan | None = None,
    seed: int = 0,
    ablation: bool = True,
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Run every phase and write the report (see :mod:`univg_plugin.demo`).

    The data is drawn, and the checkpoints answer the held-out set, in fresh processes (``multiprocessing``'s
    spawn, one per core), so a script that calls this runs it under ``if __name__ == "__main__":``. It sets
    ``DS_ACCELERATOR=cpu`` in ``os.environ`` unless set: every process of the demo runs on the CPU.

    Args:
        out: Output directory (created; reused files are overwritten).
        plan: Sizes and settings (default: ``PLANS["default"]``).
        seed: Seed of the data, the model and both training stages.
        ablation: Also run stage 2 with the weighting off.
        say: Where progress lines go.

    Returns:
        A :class:`DemoResult`.
    """
    plan = plan or PLANS["default"]
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    # Every process of the demo runs on the CPU: DeepSpeed, where installed, is told so instead of warning
    # on import that it found no GPU.
    os.environ.setdefault("DS_ACCELERATOR", "cpu")
    clock = _Clock(say)
    with clock.phase("model and data"), ThreadPoolExecutor(1) as beside:
        # the model is built (mostly imports) while worker processes draw the data
        model = beside.submit(build_tiny_qwen_vl, out / "model", family=plan.family, seed=seed, spec=plan.model)
        train_file = write_data(plan, out, "train", plan.train_samples, seed)
        test_file = write_data(plan, out, "test", plan.test_samples, seed + 10_000)
        model.result()
    with clock.phase("stage 1: CoT-SFT (llamafactory-cli)"):
        llamafactory_train([(stage1_config(plan, out, seed), "stage1", plan.sft_steps)], out, say, sft_ranks(plan))
    _train_stage2(plan, out, seed, ablation, clock)
    with clock.phase("evaluation"):
        test_samples = list(read(test_file))
        table, ious = evaluate_runs(plan, out, test_samples, read(train_file), ablation, say)
    with clock.phase("report"):
        analysis = _compare(out, plan, table, ious, test_samples)
        seconds = clock.elapsed()
        report = write_report(out, table, analysis, plan, seed, clock.timings, seconds, ablation)
    say(f"report: {report}  (total {seconds / 60:.1f} min)")
    return DemoResult(out, report, table, seconds)

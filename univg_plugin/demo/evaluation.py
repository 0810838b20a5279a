"""The demo's evaluation: every report row scored on the held-out set, per difficulty and overall."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..data import GroundingSample
from ..data.schema import DIFFICULTIES
from ..eval import EvalReport, generate_predictions, score
from ..qwen_vl import model_family
from .plan import DemoPlan, input_pixels, one_token_pixels
from .runner import cpu_cores

#: The report row every stage-2 run is compared with, sample by sample.
STAGE1_ROW = "stage 1: CoT-SFT"
#: Report rows: label, the run directory whose predictions are scored (None: the baseline).
REPORT_ROWS: tuple[tuple[str, str | None], ...] = (
    ("untrained model", "model"),
    ("mean training box (trivial baseline)", None),
    (STAGE1_ROW, "stage1"),
    ("stage 2: GRPO, difficulty-weighted", "stage2_weighted"),
    ("stage 2: GRPO, unweighted (ablation)", "stage2_unweighted"),
)

#: The groups of each report row: the difficulties and all samples.
GROUPS: tuple[str, ...] = (*DIFFICULTIES, "all")
#: Report row -> group (:data:`GROUPS`) -> ``acc50`` and ``miou`` (percent).
Table = dict[str, dict[str, dict[str, float]]]


def mean_box_output(train_samples: Iterable[GroundingSample]) -> str:
    """The trivial baseline's answer: the mean training box, in the paper's layout.

    Example:
        >>> sample = GroundingSample(id="a", images=["x.png"], question="Find it.", boxes=[[100, 100, 500, 500]])
        >>> mean_box_output([sample])
        '<think>The mean training box.</think><answer>(100,100),(500,500)</answer>'
    """
    boxes = np.array([sample.boxes_in("norm1000")[0] for sample in train_samples])
    x1, y1, x2, y2 = np.rint(boxes.mean(axis=0)).astype(int).tolist()
    return f"<think>The mean training box.</think><answer>({x1},{y1}),({x2},{y2})</answer>"


def _score_row(
    plan: DemoPlan, out: Path, run: str | None, test_samples: Sequence[GroundingSample], baseline: str
) -> EvalReport:
    """Score the run's predictions (:func:`predict_all`) or the baseline's answer and write the results
    to ``out/eval/<run>``."""
    eval_dir = out / "eval" / (run or "mean_box")
    eval_dir.mkdir(parents=True, exist_ok=True)
    predictions: Any = {sample.id: baseline for sample in test_samples} if run is None else _predictions(out, run)
    space = "norm1000" if run is None else model_family(plan.family).box_space  # the baseline writes 0-1000
    pixels = {"min_pixels": one_token_pixels(plan.family), "max_pixels": input_pixels(plan)}
    report = score(
        predictions, test_samples, group_by="difficulty", media_root=out / "data" / "test", space=space, **pixels
    )
    report.write(eval_dir, plot=False)
    return report


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """torch on one thread inside the block: one of the evaluation's processes, beside the others on the
    other cores (more threads than cores only wait for each other; measured in docs/demo.md)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _predictions(out: Path, run: str) -> Path:
    return out / "eval" / run / "predictions.jsonl"


def _predict(model: Path, samples: Sequence[GroundingSample], predictions: Path, options: dict[str, Any]) -> None:
    """One checkpoint's predictions on one torch thread (a worker process of :func:`predict_all`)."""
    with one_torch_thread():
        generate_predictions(model, samples, predictions, progress=False, **options)


def _rows(path: Path) -> int:
    return sum(1 for _ in path.open()) if path.is_file() else 0


def predict_all(plan: DemoPlan, out: Path, runs: Sequence[str], test_samples: Sequence[GroundingSample]) -> None:
    """The predictions of every checkpoint ``out/<run>`` of ``runs`` on the held-out set, in
    ``out/eval/<run>/predictions.jsonl``: as many checkpoints at once as there are cores, each in a fresh
    process on one torch thread, with a bar per checkpoint fed by its predictions file."""
    from tqdm.auto import tqdm

    options = {"batch_size": plan.eval_batch, "max_new_tokens": plan.max_completion_length}
    options["media_root"] = out / "data" / "test"
    for run in runs:
        _predictions(out, run).parent.mkdir(parents=True, exist_ok=True)
        _predictions(out, run).unlink(missing_ok=True)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(cpu_cores(), len(runs)), mp_context=context) as pool:
        jobs = [pool.submit(_predict, out / run, list(test_samples), _predictions(out, run), options) for run in runs]
        bars = [tqdm(total=len(test_samples), desc=run, unit=" samples", position=k) for k, run in enumerate(runs)]
        try:
            while not all(job.done() for job in jobs):
                time.sleep(1.0)
                for bar, run in zip(bars, runs):
                    bar.update(_rows(_predictions(out, run)) - bar.n)
        finally:
            for bar in bars:
                bar.close()
        for job in jobs:
            job.result()  # a failed checkpoint's error, with its traceback


def evaluate_runs(
    plan: DemoPlan,
    out: Path,
    test_samples: Sequence[GroundingSample],
    train_samples: Iterable[GroundingSample],
    ablation: bool,
    say: Callable[[str], None] = print,
) -> tuple[Table, dict[str, list[float]]]:
    """Acc@0.5 and mIoU (percent) per difficulty and overall for every row of the report, and each row's
    per-sample IoUs (in the order of ``test_samples``); ``say`` gets a line, each checkpoint a bar."""
    table: Table = {}
    ious: dict[str, list[float]] = {}
    baseline = mean_box_output(train_samples)
    evaluated = [(label, run) for label, run in REPORT_ROWS if ablation or run != "stage2_unweighted"]
    runs = [run for _, run in evaluated if run is not None]
    at_once = min(cpu_cores(), len(runs))
    say(f"evaluation: {len(runs)} checkpoints answer {len(test_samples)} held-out samples, {at_once} at a time")
    predict_all(plan, out, runs, test_samples)
    for label, run in evaluated:
        report = _score_row(plan, out, run, test_samples, baseline)
        rows = {name: group for name, group in report.groups.items()}
        rows["all"] = report.overall
        table[label] = {name: {"acc50": group.acc50, "miou": group.miou} for name, group in rows.items()}
        by_id = dict(zip(report.results.ids, report.results.iou.tolist()))
        ious[label] = [by_id[sample.id] for sample in test_samples]
    return table, ious

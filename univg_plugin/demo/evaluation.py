"""The demo's evaluation: every report row scored on the held-out set, per difficulty and overall."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data import GroundingSample
from ..data.schema import DIFFICULTIES
from ..eval import EvalReport, generate_predictions, score
from .plan import DemoPlan

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
    """Generate the run's predictions (or take the baseline's answer), score them and write the results
    to ``out/eval/<run>``."""
    eval_dir = out / "eval" / (run or "mean_box")
    eval_dir.mkdir(parents=True, exist_ok=True)
    if run is None:
        predictions: Any = {sample.id: baseline for sample in test_samples}
    else:
        predictions = eval_dir / "predictions.jsonl"
        predictions.unlink(missing_ok=True)
        generate_predictions(
            out / run,
            test_samples,
            predictions,
            batch_size=plan.eval_batch,
            max_new_tokens=plan.max_completion_length,
            media_root=out / "data" / "test",
            progress=None,
        )
    report = score(predictions, test_samples, group_by="difficulty", media_root=out / "data" / "test")
    report.write(eval_dir, plot=False)
    return report


def evaluate_runs(
    plan: DemoPlan,
    out: Path,
    test_samples: Sequence[GroundingSample],
    train_samples: Iterable[GroundingSample],
    ablation: bool,
) -> tuple[Table, dict[str, list[float]]]:
    """Acc@0.5 and mIoU (percent) per difficulty and overall for every row of the report, and each row's
    per-sample IoUs (in the order of ``test_samples``)."""
    table: Table = {}
    ious: dict[str, list[float]] = {}
    baseline = mean_box_output(train_samples)
    for label, run in REPORT_ROWS:
        if run == "stage2_unweighted" and not ablation:
            continue
        report = _score_row(plan, out, run, test_samples, baseline)
        rows = {name: group for name, group in report.groups.items()}
        rows["all"] = report.overall
        table[label] = {name: {"acc50": group.acc50, "miou": group.miou} for name, group in rows.items()}
        by_id = dict(zip(report.results.ids, report.results.iou.tolist()))
        ious[label] = [by_id[sample.id] for sample in test_samples]
    return table, ious

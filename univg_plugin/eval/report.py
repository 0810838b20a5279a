"""The result of an evaluation: per-sample results, metrics per group, and their tables and files.

Every rate is in percent, like the paper. Rows: one per group (tasks in the paper's column order
for MIG-Bench and the zero-shot sets, difficulties easy/medium/hard, otherwise in order of first
appearance), then ``all`` (pooled over samples) and, with several groups, ``average`` (the unweighted
mean over the groups: the paper's "Avg").
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.io import JsonWriter
from ..data.schema import DIFFICULTIES
from .metrics import REASONS, THRESHOLDS, GroupMetrics, summarize
from .paper import PAPER_MODEL, PaperTable, paper_table
from .plot import bar_chart

_NONE = "(none)"


@dataclass
class SampleResults:
    """Per-sample results, as parallel columns (row ``i`` is the benchmark's sample ``i``).

    Attributes:
        ids: Sample ids.
        tasks: Sample tasks.
        metas: Sample ``meta`` dicts (for grouping by a meta key).
        iou: IoU of each sample (0 for a failure).
        reasons: Failure reason codes (see :data:`~.metrics.REASONS`).
        boxes: The box read from each output ``(N, 4)``, in the model's space (NaN: none).
        truth: The ground-truth box each was scored against ``(N, 4)``, in the sample's own space.
        predicted_image: The 1-based image each output names (0: none, or not a multi-image sample).
        target_image: The sample's target image (0: none).
        target_hit: 1.0 / 0.0 whether the output names the target image; NaN where not scored.
        truth_notes: What is odd about each ground-truth box (swapped, zero-area, past the image), scored
            as written; None for a normal one (see :func:`~.metrics.truth_notes`).
    """

    ids: list[str]
    tasks: list[str]
    metas: list[dict[str, Any]]
    iou: np.ndarray
    reasons: np.ndarray
    boxes: np.ndarray
    truth: np.ndarray
    predicted_image: np.ndarray
    target_image: np.ndarray
    target_hit: np.ndarray = field(repr=False)
    truth_notes: list[str | None] = field(repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    def labels(self, key: str) -> list[str]:
        """Each sample's group under ``key``: ``task`` or a ``meta`` key (``(none)`` where a sample lacks it).

        Raises:
            ValueError: when no sample has that meta key.
        """
        if key == "task":
            return list(self.tasks)
        if not any(key in meta for meta in self.metas):
            known = sorted({name for meta in self.metas for name in meta})
            raise ValueError(f"cannot group by {key!r}: no sample has it; use 'task' or a meta key: {', '.join(known)}")
        return [str(meta[key]) if key in meta else _NONE for meta in self.metas]

    def records(self, labels: Sequence[str]) -> Iterator[dict[str, Any]]:
        """One JSON-ready dict per sample: id, task, group, iou, hits, parsed box, truth (and its note), reason,
        images."""
        boxes, truth = self.boxes.tolist(), self.truth.tolist()
        hits = {t: (self.iou >= t).tolist() for t in THRESHOLDS}
        found = ~np.isnan(self.boxes).any(axis=1)
        for i, (identity, overlap) in enumerate(zip(self.ids, self.iou.tolist())):
            yield {
                "id": identity,
                "task": self.tasks[i],
                "group": labels[i],
                "iou": overlap,
                **{f"hit@{t}": hits[t][i] for t in THRESHOLDS},
                "box": boxes[i] if found[i] else None,
                "truth": truth[i],
                "truth_note": self.truth_notes[i],
                "reason": REASONS[self.reasons[i]],
                "predicted_image": int(self.predicted_image[i]) or None,
                "target_image": int(self.target_image[i]) or None,
            }


def _ordered(labels: Sequence[str], key: str, table: PaperTable | None) -> list[str]:
    hint: Sequence[str] = ()
    if key == "task" and table is not None:
        hint = table.order()
    elif key == "difficulty":
        hint = DIFFICULTIES
    present = dict.fromkeys(labels)
    return [name for name in hint if name in present] + [name for name in present if name not in hint]


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


class EvalReport:
    """Metrics of one evaluation, grouped, with the per-sample results behind them.

    Attributes:
        results: The :class:`SampleResults`.
        benchmark: The benchmark layout (a dataset format name).
        settings: How it was scored (space, policy, protocol, pixel limits, counts, ...).
        group_by: ``task`` or the ``meta`` key the groups come from.
        groups: Group name -> :class:`~.metrics.GroupMetrics`, in display order.
        overall: Metrics pooled over every sample (the ``all`` row).
        average: Unweighted mean over the groups (the ``average`` row, the paper's "Avg").
    """

    def __init__(self, results: SampleResults, *, benchmark: str, settings: dict[str, Any], group_by: str = "task"):
        self.results = results
        self.benchmark = benchmark
        self.settings = dict(settings)
        self.group_by = group_by
        self.groups = self.by(group_by)
        zeros = np.zeros(len(results), dtype=np.int64)
        self.overall = summarize(results.iou, results.reasons, results.target_hit, zeros)[0]
        self.average = GroupMetrics.average(list(self.groups.values()))

    @property
    def truth_notes(self) -> list[tuple[str, str]]:
        """``(sample id, note)`` of every ground-truth box that is odd (swapped, zero-area, past the image),
        scored as written as the official scripts do; empty when there is none."""
        return [(identity, note) for identity, note in zip(self.results.ids, self.results.truth_notes) if note]

    @property
    def paper(self) -> PaperTable | None:
        """The paper's table for this benchmark, if it has one."""
        return paper_table(self.benchmark)

    def by(self, key: str) -> dict[str, GroupMetrics]:
        """Metrics per group of ``key`` (``task`` or a meta key such as ``difficulty``), in display order.

        Example:
            >>> from univg_plugin.data import GroundingSample
            >>> from univg_plugin.eval import score
            >>> samples = [GroundingSample(id=str(i), images=["x.png"], question="Find it.", boxes=[[0, 0, 500, 500]],
            ...                            meta={"difficulty": level}) for i, level in enumerate(["hard", "easy"])]
            >>> report = score({"0": "<answer>(0,0),(500,500)</answer>", "1": ""}, samples)
            >>> {name: group.acc50 for name, group in report.by("difficulty").items()}
            {'easy': 0.0, 'hard': 100.0}
        """
        labels = self.results.labels(key)
        order = _ordered(labels, key, self.paper)
        position = {name: index for index, name in enumerate(order)}
        codes = np.fromiter((position[label] for label in labels), dtype=np.int64, count=len(labels))
        metrics = summarize(self.results.iou, self.results.reasons, self.results.target_hit, codes)
        return dict(zip(order, metrics))

    def regroup(self, key: str) -> EvalReport:
        """The same results grouped by another key."""
        return EvalReport(self.results, benchmark=self.benchmark, settings=self.settings, group_by=key)

    def rows(self) -> list[tuple[str, GroupMetrics]]:
        """``(name, metrics)`` of each group, then ``all``, then ``average`` (with several groups)."""
        rows = [*self.groups.items(), ("all", self.overall)]
        return [*rows, ("average", self.average)] if len(self.groups) > 1 else rows

    def paper_values(self) -> dict[str, float]:
        """The paper's Acc@0.5 for this report's rows (its method, tasks and ``average``); empty when it
        reports none for this benchmark or the report is not grouped by task."""
        if self.paper is None or self.group_by != "task":
            return {}
        return dict(self.paper.rows[PAPER_MODEL])

    def table(self, compare: bool = False) -> str:
        """A plain-text table for the terminal; ``compare`` adds the paper's Acc@0.5 and the difference."""
        paper = self.paper_values() if compare else {}
        header = ["group", "n", "Acc@0.3", "Acc@0.5", "Acc@0.7", "mIoU", "target", "no-box%", "missing"]
        if paper:
            header += [f"paper@0.5 ({PAPER_MODEL})", "delta"]
        lines = []
        for name, metrics in self.rows():
            cells = [
                name,
                str(metrics.count),
                *(_percent(value) for value in (metrics.acc30, metrics.acc50, metrics.acc70, metrics.miou)),
                _percent(metrics.target_acc),
                _percent(metrics.parse_fail),
                str(metrics.missing),
            ]
            if paper:
                reference = paper.get(name)
                cells += [_percent(reference), "-" if reference is None else f"{metrics.acc50 - reference:+.2f}"]
            lines.append(cells)
        widths = [max(len(row[k]) for row in [header, *lines]) for k in range(len(header))]

        def render(cells: list[str]) -> str:
            return "  ".join(
                cell.ljust(w) if k == 0 else cell.rjust(w) for k, (cell, w) in enumerate(zip(cells, widths))
            )

        rule = "-" * len(render(header))
        body = [render(cells) for cells in lines]
        split = len(self.groups)
        text = [render(header), rule, *body[:split], rule, *body[split:]]
        if compare and self.paper is not None:
            others = ", ".join(
                f"{model} {values['average']:.2f}" for model, values in self.paper.rows.items() if "average" in values
            )
            text.append(f"paper averages (Acc@0.5): {others}")
        return "\n".join(text)

    def to_dict(self, compare: bool = False) -> dict[str, Any]:
        """The report as JSON-ready data (rates in percent); ``compare`` adds the paper's table."""
        data: dict[str, Any] = {
            "benchmark": self.benchmark,
            "group_by": self.group_by,
            "settings": self.settings,
            "groups": {name: metrics.as_dict() for name, metrics in self.groups.items()},
            "all": self.overall.as_dict(),
            "average": self.average.as_dict(),
            "truth_notes": [{"id": identity, "note": note} for identity, note in self.truth_notes],
        }
        if compare and self.paper is not None:
            data["paper"] = {
                "title": self.paper.title,
                "metric": "Acc@0.5 (%)",
                "columns": dict(self.paper.columns),
                "rows": self.paper.rows,
            }
        return data

    def to_markdown(self, compare: bool = False) -> str:
        """A Markdown report: the metrics table, and with ``compare`` the paper's table with this run added."""
        paper = self.paper_values() if compare else {}
        header = ["group", "n", "Acc@0.3", "Acc@0.5", "Acc@0.7", "mIoU", "target acc", "no box %", "missing"]
        if paper:
            header += [f"paper Acc@0.5 ({PAPER_MODEL})"]
        lines = [
            f"# Evaluation: {self.benchmark}",
            "",
            f"Grouped by `{self.group_by}`; rates in percent. Scored with the `{self.settings['protocol']}` protocol "
            f"({self.settings['protocol_source']}): predictions in `{self.settings['space']}`, box read by the "
            f"`{self.settings['policy']}` policy, IoU in the {self.settings['iou_space']} space.",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
        ]
        for name, metrics in self.rows():
            cells = [
                f"**{name}**" if name in ("all", "average") else name,
                str(metrics.count),
                *(_percent(v) for v in (metrics.acc30, metrics.acc50, metrics.acc70, metrics.miou)),
                _percent(metrics.target_acc),
                _percent(metrics.parse_fail),
                str(metrics.missing),
            ]
            if paper:
                cells.append(_percent(paper.get(name)))
            lines.append("| " + " | ".join(cells) + " |")
        if self.truth_notes:
            lines += ["", "## Odd ground-truth boxes, scored as written (as the official scripts do)", ""]
            lines += [f"- `{identity}`: {note}" for identity, note in self.truth_notes]
        if compare and self.paper is not None:
            lines += ["", f"## Next to the paper: {self.paper.title}, Acc@0.5 (%)", ""]
            columns = self.paper.columns
            lines.append("| model | " + " | ".join(label for _, label in columns) + " | Avg |")
            lines.append("|---|" + "---:|" * (len(columns) + 1))
            for model, values in self.paper.rows.items():
                cells = [_percent(values.get(key)) for key, _ in columns] + [_percent(values.get("average"))]
                lines.append(f"| {model} (paper) | " + " | ".join(cells) + " |")
            ours = self.by("task")
            cells = [_percent(ours[key].acc50) if key in ours else "-" for key, _ in columns]
            present = [ours[key] for key, _ in columns if key in ours]
            cells.append(_percent(GroupMetrics.average(present).acc50) if present else "-")
            lines.append("| **this run** | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def write(self, out_dir: str | os.PathLike, *, compare: bool = False, plot: bool = True) -> dict[str, Path]:
        """Write ``report.json``, ``report.md``, ``results.jsonl`` (per sample) and ``report.png`` (bar chart).

        Returns:
            The written files by kind: ``json``, ``markdown``, ``results``, ``plot``.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = {"json": out / "report.json", "markdown": out / "report.md", "results": out / "results.jsonl"}
        files["json"].write_text(json.dumps(self.to_dict(compare), indent=2, ensure_ascii=False) + "\n")
        files["markdown"].write_text(self.to_markdown(compare))
        labels = self.results.labels(self.group_by)
        with JsonWriter(files["results"]) as writer:
            for record in self.results.records(labels):
                writer.write(record)
        if plot:
            title = f"{self.benchmark}: accuracy by {self.group_by} (n={self.overall.count})"
            paper = self.paper_values() if compare else None
            files["plot"] = bar_chart(self.rows(), out / "report.png", title=title, paper=paper)
        return files

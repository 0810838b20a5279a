"""The answers of an evaluation, looked at: ``gallery.html`` with truth and prediction drawn on their images.

For each group of a report (task, difficulty, ...) the gallery shows the worst, the best and a seeded
random choice of samples: the target image with the truth box (solid) and, on the image the answer names
(the target when it names none), the predicted box (dashed), read in the model's coordinate space and
drawn through the package's one conversion; with the model's output, the IoU and the failure reason
(``missing``, ``no_box``, ``invalid_box``, the wrong image). :func:`write_comparison` shows several runs
(e.g. stage 1 and stage 2) side by side on the same samples.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..boxes import CoordinateSpace
from ..data import GroundingSample
from ..data.media import resolve
from ..qwen_vl import model_family
from ..visual import PREDICTION, TRUTH, Figure, Layer, Panel, card, draw_panels, escape, grid, legend, write_page
from .metrics import REASONS
from .predictions import PredictionSet
from .report import EvalReport

#: Samples of each kind (worst, best, random) shown per group.
GALLERY_COUNT = 4
#: The kinds of choice, in page order.
KINDS = ("worst", "best", "random")


def choose(report: EvalReport, count: int = GALLERY_COUNT, seed: int = 0) -> dict[str, dict[str, list[int]]]:
    """The rows shown per group: ``{group: {"worst": rows, "best": rows, "random": rows}}``.

    Worst: lowest IoU first (failures before misses); best: highest IoU first, among the others; random:
    a seeded choice among the rest. Each row appears once; ties keep the benchmark's order.

    Example:
        >>> from univg_plugin.data import GroundingSample
        >>> from univg_plugin.eval import score
        >>> samples = [GroundingSample(id=str(i), images=["x.png"], question="q", boxes=[[0, 0, 500, 500]])
        ...            for i in range(4)]
        >>> outputs = {"0": "", "1": "(0,0),(500,500)", "2": "(0,0),(250,500)", "3": "(0,0),(100,100)"}
        >>> choose(score(outputs, samples, policy="lenient"), count=1, seed=0)
        {'grounding': {'worst': [0], 'best': [1], 'random': [2]}}
    """
    labels = np.array(report.results.labels(report.group_by), dtype=object)
    rng = random.Random(seed)
    chosen = {}
    for group in report.groups:
        rows = np.flatnonzero(labels == group)
        ranked = rows[np.argsort(report.results.iou[rows], kind="stable")].tolist()
        worst = ranked[:count]
        best = [row for row in reversed(ranked) if row not in worst][:count]
        rest = [row for row in ranked if row not in worst and row not in best]
        chosen[group] = {"worst": worst, "best": best, "random": _seeded(rest, count, rng)}
    return chosen


def _seeded(rows: list[int], count: int, rng: random.Random) -> list[int]:
    """A random ``count`` of ``rows`` (all of them when fewer), in order."""
    return sorted(rng.sample(rows, min(count, len(rows))))


class _Run:
    """One scored run, for drawing its samples: the report, the samples, the outputs, where images are."""

    def __init__(
        self,
        report: EvalReport,
        samples: Sequence[GroundingSample],
        predictions: PredictionSet,
        media_root: str | os.PathLike | None,
    ):
        if [sample.id for sample in samples] != report.results.ids:
            raise ValueError("the samples are not the report's: pass the samples it was scored on, in order")
        self.report, self.samples, self.predictions = report, samples, predictions
        self.media_root = media_root or report.settings.get("media_root")
        self.space = CoordinateSpace(report.settings["space"])

    def images(self, row: int) -> tuple[int | None, int | None]:
        """The target image (None: not specified) and the image the prediction is drawn on (1-based; None when
        the answer names an image the sample does not have)."""
        target = self.samples[row].target_image
        predicted = int(self.report.results.predicted_image[row]) or target or 1
        return target, predicted if predicted <= len(self.samples[row].images) else None

    def panels(self, row: int, folder: Path, prefix: str) -> list[Panel]:
        """The target image with the truth, and the image the answer names with the prediction (one panel when the
        same image)."""
        sample, box = self.samples[row], self.report.results.boxes[row]
        target, predicted = self.images(row)
        drawn_on = [predicted] if predicted else []
        shown = sorted({*drawn_on, *([target] if target else range(1, len(sample.images) + 1))})
        recorded = self.predictions.input_sizes.get(sample.id, ())
        panels = []
        for index in shown:
            layers = [Layer(sample.boxes, sample.space, TRUTH)] if target in (None, index) else []
            if index == predicted and not np.isnan(box).any():
                size = tuple(recorded[index - 1]) if len(recorded) >= index else None
                layers.append(Layer([box], self.space, PREDICTION, input_size=size))
            name = f"{row:05d}-{index}.png"
            caption = f"image {index}" + (" (target)" if index == target else "")
            caption += " (answer)" if index == predicted and index != target else ""
            source = resolve(sample.images[index - 1], self.media_root)
            panels.append(Panel(source, folder / name, layers, caption, f"{prefix}{name}", index == target))
        return panels

    def card(self, row: int, drawn: list[tuple[Figure, list[str]]], title: str) -> str:
        """The sample's card: its images, IoU, failure reason, named image, question and output."""
        results, sample = self.report.results, self.samples[row]
        reason = REASONS[results.reasons[row]]
        target = sample.target_image
        notes = [note for _, figure_notes in drawn for note in figure_notes]
        if reason:
            notes.insert(0, f"failure: {reason}" + (" (no prediction for this sample)" if reason == "missing" else ""))
        if results.target_hit[row] == 0:
            named = int(results.predicted_image[row])
            said = f"names image {named}" if named else "names no image"
            said += f" (the sample has {len(sample.images)})" if named > len(sample.images) else ""
            notes.insert(0, f"wrong image: the answer {said}, the target is image {target}")
        facts = [f"IoU {results.iou[row]:.3f}", f"task {sample.task}", f"{len(sample.images)} image(s)"]
        facts += [f"truth {sample.space.value}", f"prediction {self.space.value}"]
        output = self.predictions.outputs.get(sample.id)
        texts = [("question", sample.question), ("output", output)]
        failed = bool(reason) or results.target_hit[row] == 0 or results.iou[row] < 0.5
        return card(title, [figure for figure, _ in drawn], facts=facts, notes=notes, texts=texts, failed=failed)


def _drawn_cards(entries: Sequence[tuple[_Run, int, Path, str, str]], settings: dict) -> list[str]:
    """The card of each ``(run, row, folder, src prefix, title)``, its images drawn in worker processes."""
    panels = [run.panels(row, folder, prefix) for run, row, folder, prefix, _ in entries]
    drawn = iter(draw_panels([panel for group in panels for panel in group], **settings))
    return [run.card(row, [next(drawn) for _ in group], title) for (run, row, *_, title), group in zip(entries, panels)]


def _settings(report: EvalReport, workers: int | None, progress: bool | None) -> dict:
    limits = {key: report.settings.get(key) for key in ("min_pixels", "max_pixels")}
    family = report.settings.get("family")
    factor = model_family(family).resize_factor if family else None
    return {"workers": workers, "progress": progress, "factor": factor, **limits}


def _intro(report: EvalReport, count: int, seed: int) -> str:
    metrics = report.overall
    return (
        f"<p>{escape(report.benchmark)}: {metrics.count} sample(s), Acc@0.5 {metrics.acc50:.2f}%, mIoU "
        f"{metrics.miou:.2f}. Per {escape(report.group_by)}: the {count} worst, the {count} best and {count} at "
        f"random (seed {seed}). Predictions read in <code>{escape(report.settings['space'])}</code> with the "
        f"<code>{escape(report.settings['policy'])}</code> policy.</p>"
    )


def write_gallery(
    report: EvalReport,
    samples: Sequence[GroundingSample],
    predictions: PredictionSet,
    out_dir: str | os.PathLike,
    *,
    count: int = GALLERY_COUNT,
    seed: int = 0,
    media_root: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool | None = False,
) -> Path:
    """Write ``out_dir/gallery.html`` and its PNGs (``out_dir/gallery/``) for a scored run.

    Args:
        report: The report of :func:`~.score.score`.
        samples: The samples it was scored on, in the same order.
        predictions: The predictions it scored (their outputs are shown).
        out_dir: Where the page goes.
        count: Samples of each kind (worst, best, random) per group.
        seed: The random choice's seed.
        media_root: Directory the image paths are relative to (default: the report's).
        workers: Drawing processes (default: the usable CPUs).
        progress: Show a progress bar (None: only on a terminal).

    Raises:
        ValueError: ``samples`` are not the report's.

    Returns:
        The page. Images that cannot be read, a run without predictions and answers without a box are
        written on the cards; nothing about them raises.
    """
    run = _Run(report, samples, predictions, media_root)
    out = Path(out_dir)
    chosen = choose(report, count, seed)
    entries = [
        (run, row, out / "gallery", "gallery/", f"{kind} {rank}: {samples[row].id}")
        for kinds in chosen.values()
        for kind in KINDS
        for rank, row in enumerate(kinds[kind], start=1)
    ]
    cards = iter(_drawn_cards(entries, _settings(report, workers, progress)))
    body = [_intro(report, count, seed), legend()]
    for group, kinds in chosen.items():
        metrics = report.groups[group]
        body.append(f"<h2>{escape(group)} (n={metrics.count}, Acc@0.5 {metrics.acc50:.2f}%)</h2>")
        for kind in KINDS:
            if kinds[kind]:
                body += [f"<h3>{kind}</h3>", grid(next(cards) for _ in kinds[kind])]
    return write_page(out / "gallery.html", f"Gallery: {report.benchmark}", body)


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-") or "run"


def write_comparison(
    runs: Mapping[str, tuple[EvalReport, PredictionSet]],
    samples: Sequence[GroundingSample],
    path: str | os.PathLike,
    *,
    count: int = GALLERY_COUNT,
    seed: int = 0,
    media_root: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool | None = False,
) -> Path:
    """Write an HTML page showing several runs on the same samples, side by side (e.g. stage 1 and stage 2).

    The samples: a seeded random ``count`` per group of the first run, plus up to ``count`` per group whose
    hit at IoU 0.5 differs between the runs (gained or lost).

    Args:
        runs: Label -> (report, predictions), all scored on ``samples``.
        samples: The samples, in the reports' order.
        path: The HTML file (its PNGs go in a folder named after it).
    """
    labelled = {label: _Run(report, samples, found, media_root) for label, (report, found) in runs.items()}
    first = next(iter(labelled.values())).report
    hits = np.array([run.report.results.iou >= 0.5 for run in labelled.values()])
    changed = np.flatnonzero(hits.any(axis=0) & ~hits.all(axis=0))
    labels, rng, picked = np.array(first.results.labels(first.group_by), dtype=object), random.Random(seed), set()
    for group in first.groups:
        picked.update(_seeded(np.flatnonzero(labels == group).tolist(), count, rng))
        picked.update([row for row in changed.tolist() if labels[row] == group][:count])
    page = Path(path)
    folder = page.with_suffix("")
    entries = [
        (run, row, folder / _slug(label), f"{folder.name}/{_slug(label)}/", f"{label}: {samples[row].id}")
        for row in sorted(picked)
        for label, run in labelled.items()
    ]
    cards = _drawn_cards(entries, _settings(first, workers, progress))
    names = " | ".join(escape(label) for label in labelled)
    intro = f"<p>The same samples under each run ({names}): a row per sample, runs left to right.</p>"
    rows = [
        f'<div class="grid" style="grid-template-columns: repeat({len(labelled)}, 1fr)">{"".join(group)}</div>'
        for group in zip(*[iter(cards)] * len(labelled))
    ]
    return write_page(page, f"Side by side: {' vs '.join(labelled)}", [intro, legend(), *rows])

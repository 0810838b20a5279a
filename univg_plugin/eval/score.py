"""Scoring a set of predictions against a benchmark's samples.

The predicted box is read in the model's coordinate space (``norm1000`` for Qwen2-VL, ``abs_input``
for Qwen2.5-VL, ``norm1`` ...), converted to the space the benchmark's IoU is computed in (see
:class:`~.metrics.Protocol`; the ground truth's own space unless the protocol says otherwise) with the
sample's image sizes, and compared with the sample's first ground-truth box. Sizes missing from a
sample are read from its image files once (cached); only samples whose conversion needs them are read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..boxes import AnswerPolicy, CoordinateSpace, convert_boxes, parse_image_index, smart_resize
from ..data import DataError, GroundingSample, Issue
from ..data.io import progress_disabled
from ..data.media import image_size, resolve
from ..qwen_vl import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, model_family
from .metrics import (
    Protocol,
    benchmark_iou,
    extract_boxes,
    failure_reasons,
    predicted_images,
    protocol_for,
    truth_notes,
)
from .predictions import PredictionSet, PredictionsLike, as_predictions
from .report import EvalReport, SampleResults

logger = logging.getLogger("univg_plugin")


class _Sizes:
    """Original and model-input sizes of each sample's target image, read only where needed.

    Without recorded input sizes, ``abs_input`` boxes assume ``min_pixels`` / ``max_pixels``: the processor's,
    by default Qwen2-VL's (:data:`~univg_plugin.qwen_vl.DEFAULT_MIN_PIXELS`, ``DEFAULT_MAX_PIXELS``), and the
    ``family``'s resize factor (Qwen2-VL's when None).
    """

    def __init__(
        self,
        samples: Sequence[GroundingSample],
        input_sizes: dict[str, tuple[tuple[int, int], ...]],
        media_root: str | os.PathLike | None,
        min_pixels: int | None,
        max_pixels: int | None,
        progress: bool | None,
        family: str | None = None,
    ):
        self.samples, self.input_sizes, self.media_root, self.progress = samples, input_sizes, media_root, progress
        self.family = family
        self.factor = model_family(family or "qwen2_vl").resize_factor
        self.min_pixels = DEFAULT_MIN_PIXELS if min_pixels is None else min_pixels
        self.max_pixels = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels

    def target(self, sample: GroundingSample) -> int:
        if sample.target_image is not None:
            return sample.target_image
        if len(sample.images) == 1:
            return 1
        if sample.image_sizes is not None and len(set(map(tuple, sample.image_sizes))) == 1:
            return 1
        raise DataError(
            sample.where,
            [Issue("target_image", "is unknown and the images may differ in size: pixel boxes cannot be converted")],
        )

    def image(self, rows: np.ndarray, why: str) -> np.ndarray:
        """``(len(rows), 2)`` original ``(width, height)`` of the target images."""
        out = np.empty((len(rows), 2))
        bar = tqdm(rows.tolist(), desc="image sizes", unit=" samples", disable=progress_disabled(self.progress))
        for k, row in enumerate(bar):
            sample = self.samples[row]
            index = self.target(sample)
            if sample.image_sizes is not None:
                out[k] = sample.image_sizes[index - 1]
                continue
            file = resolve(sample.images[index - 1], self.media_root)
            try:
                out[k] = image_size(file)
            except (OSError, ValueError) as error:
                missing = isinstance(error, FileNotFoundError)
                detail = f"file not found: {file}" if missing else f"cannot read the image: {error}"
                raise DataError(
                    sample.where,
                    [Issue(f"images[{index - 1}]", f"{detail} (its size is needed to {why}; set the media root)")],
                ) from None
        return out

    def model_input(self, rows: np.ndarray, why: str) -> np.ndarray:
        """``(len(rows), 2)`` model-input ``(width, height)``: from the predictions, else ``smart_resize``."""
        out = np.full((len(rows), 2), np.nan)
        for k, row in enumerate(rows.tolist()):
            sample = self.samples[row]
            index, recorded = self.target(sample), self.input_sizes.get(sample.id, ())
            if len(recorded) >= index:
                out[k] = recorded[index - 1]
        unknown = np.isnan(out[:, 0])
        if unknown.any():
            size = self.image(rows[unknown], why)
            height, width = smart_resize(size[:, 1], size[:, 0], self.factor, self.min_pixels, self.max_pixels)
            out[unknown] = np.stack([width, height], axis=1)
        return out

    def convert(self, boxes: np.ndarray, rows: np.ndarray, sources: np.ndarray, targets: np.ndarray, what: str):
        """``boxes`` (of the samples ``rows``) converted from ``sources[i]`` to ``targets[i]`` (space values)."""
        out = boxes.copy()
        for source, target in {(s, t) for s, t in zip(sources.tolist(), targets.tolist()) if s != t}:
            mine = np.flatnonzero((sources == source) & (targets == target))
            source_space, target_space = CoordinateSpace(source), CoordinateSpace(target)
            involved = {source_space, target_space}
            why = f"convert {what} from {source} to {target}"
            inputs = self.model_input(rows[mine], why) if CoordinateSpace.ABS_INPUT in involved else None
            sizes = self.image(rows[mine], why) if CoordinateSpace.ABS_IMAGE in involved else None
            out[mine] = convert_boxes(boxes[mine], source_space, target_space, image_size=sizes, input_size=inputs)
        return out


def _check_ids(samples: Sequence[GroundingSample], ids: list[str], found: PredictionSet, unknown_ids: str) -> None:
    """Sample ids must be unique; prediction ids must be sample ids (unless ``unknown_ids="ignore"``)."""
    index = dict(zip(ids, range(len(ids))))
    if len(index) != len(ids):
        seen: dict[str, GroundingSample] = {}
        for sample in samples:
            if sample.id in seen:
                raise ValueError(
                    f"{sample.where}: sample id {sample.id!r} is used twice (first at {seen[sample.id].where})"
                )
            seen[sample.id] = sample
    unknown = [identity for identity in found.outputs if identity not in index]
    if unknown and unknown_ids == "raise":
        shown = ", ".join(f"{identity!r} ({found.where.get(identity, 'given')})" for identity in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise ValueError(
            f"{len(unknown)} prediction id(s) are not in the benchmark: {shown}{more}; is it the right benchmark "
            "file? (unknown_ids='ignore' / --ignore-unknown-ids skips them)"
        )
    if unknown:
        logger.warning("ignored %d prediction(s) whose id is not in the benchmark", len(unknown))


def _target_images(
    samples: Sequence[GroundingSample], outputs: Sequence[str | None]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(target image, image the output names, 1/0 hit or NaN)`` per sample.

    Scored on the multi-image samples whose question does not name the target image: a target the
    question names needs no finding.
    """
    targets = np.array([sample.target_image or 0 for sample in samples])
    scored = (targets > 0) & np.array([len(sample.images) > 1 for sample in samples])
    named_in_question: dict[str, int | None] = {}  # questions repeat (templates)
    for i in np.flatnonzero(scored).tolist():
        question = samples[i].question
        if question not in named_in_question:
            named_in_question[question] = parse_image_index(question, last=True)
        scored[i] = named_in_question[question] != targets[i]
    named = np.zeros(len(samples), dtype=np.int64)
    named[scored] = predicted_images([outputs[i] for i in np.flatnonzero(scored).tolist()])
    return targets, named, np.where(scored, (named == targets).astype(np.float64), np.nan)


def score(
    predictions: PredictionsLike,
    samples: Iterable[GroundingSample],
    *,
    benchmark: str = "univg",
    space: CoordinateSpace | str | None = None,
    family: str | None = None,
    policy: AnswerPolicy | str | None = None,
    group_by: str = "task",
    media_root: str | os.PathLike | None = None,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    unknown_ids: str = "raise",
    progress: bool | None = False,
) -> EvalReport:
    """Score predictions against samples with the benchmark's metric.

    Args:
        predictions: A predictions jsonl path, a mapping ``id -> output text`` (or ``id -> row``), an
            iterable of ``{"id", "output"}`` rows, or a :class:`~.predictions.PredictionSet`.
        samples: The benchmark (:class:`~univg_plugin.data.GroundingSample`), e.g. from :func:`load_benchmark`.
        benchmark: Its layout (a dataset format name): picks the protocol (:data:`~.metrics.PROTOCOLS`) and
            the paper's table; ``mig_bench``, ``zero_shot``, or any other (``univg`` ...) for the default.
        space: Coordinate space of the boxes the model writes; default: the ``family``'s, else ``norm1000``.
        family: The model's family (a key of :data:`~univg_plugin.qwen_vl.MODEL_FAMILIES`): its box space and the
            resize factor of ``abs_input`` boxes without recorded input sizes (None: Qwen2-VL's factor).
        policy: Where the box is read (``strict``, ``lenient``, ``first``); default: the protocol's.
        group_by: ``task`` or a ``meta`` key (e.g. ``difficulty``) to group the metrics by.
        media_root: Directory relative image paths are resolved against (images are read only for missing sizes).
        min_pixels: The processor's ``min_pixels`` for ``abs_input`` without recorded input sizes (default: Qwen's).
        max_pixels: The processor's ``max_pixels`` (likewise).
        unknown_ids: ``raise`` (default) on predictions whose id is not in the benchmark, or ``ignore`` them.
        progress: Show a progress bar while reading image sizes (None: only on a terminal).

    Returns:
        An :class:`~.report.EvalReport`; samples without a prediction count as ``missing`` (IoU 0).

    Raises:
        ValueError: no samples, no predictions, unknown prediction ids (``unknown_ids="raise"``), a
            duplicate sample id, an unknown group key, space or policy.
        KeyError: an unknown family.
        DataError: a size a conversion needs is unavailable (names the sample and the image).

    Example:
        >>> from univg_plugin.data import GroundingSample
        >>> sample = GroundingSample(id="a", task="diff", images=["1.png", "2.png"], question="Find it.",
        ...                          boxes=[[0.1, 0.1, 0.5, 0.5]], space="norm1", target_image=2)
        >>> report = score({"a": "It's in the second image. (100,100),(500,500)"}, [sample], benchmark="mig_bench")
        >>> report.overall.acc50, report.overall.target_acc
        (100.0, 100.0)
    """
    protocol = protocol_for(benchmark)
    policy = AnswerPolicy(policy or protocol.policy)
    model_space = CoordinateSpace(space or model_family(family or "qwen2_vl").box_space)
    samples, found, outputs = _matched(samples, predictions, unknown_ids)
    sizes = _Sizes(samples, found.input_sizes, media_root, min_pixels, max_pixels, progress, family)
    results = _results(samples, outputs, policy, model_space, protocol, sizes)
    settings = _settings(benchmark, protocol, policy, model_space, sizes, found, outputs, media_root)
    return EvalReport(results, benchmark=benchmark, settings=settings, group_by=group_by)


def _matched(
    samples: Iterable[GroundingSample], predictions: PredictionsLike, unknown_ids: str
) -> tuple[list[GroundingSample], PredictionSet, list[str | None]]:
    """The samples, the predictions and each sample's output (None: no prediction, logged), checked."""
    if unknown_ids not in ("raise", "ignore"):
        raise ValueError(f"unknown_ids must be 'raise' or 'ignore', got {unknown_ids!r}")
    samples = list(samples)
    if not samples:
        raise ValueError("the benchmark holds no samples")
    found = as_predictions(predictions)
    if not found:
        raise ValueError("there are no predictions to score")
    ids = [sample.id for sample in samples]
    _check_ids(samples, ids, found, unknown_ids)
    outputs = list(map(found.outputs.get, ids))
    missing = sum(output is None for output in outputs)
    if missing:
        logger.warning("%d of %d sample(s) have no prediction: scored as failures", missing, len(samples))
    return samples, found, outputs


def _overlap(
    samples: Sequence[GroundingSample],
    boxes: np.ndarray,
    truth: np.ndarray,
    model_space: CoordinateSpace,
    protocol: Protocol,
    sizes: _Sizes,
) -> tuple[np.ndarray, list[str | None]]:
    """The benchmark IoU of each sample, predicted ``boxes`` (model space) against ``truth`` (the samples'
    spaces, as written) both converted to the protocol's IoU space, and each ground truth's note."""
    truth_spaces = np.array([sample.space.value for sample in samples])
    iou_spaces = truth_spaces if protocol.iou_space is None else np.full(len(samples), protocol.iou_space.value)
    rows = np.flatnonzero(~np.isnan(boxes).any(axis=1))
    model_spaces = np.full(len(rows), model_space.value)
    predicted = boxes.copy()
    predicted[rows] = sizes.convert(boxes[rows], rows, model_spaces, iou_spaces[rows], "predictions")
    converted = sizes.convert(truth, np.arange(len(samples)), truth_spaces, iou_spaces, "the ground truth")
    notes = truth_notes(truth, converted, _extents(samples, iou_spaces), iou_spaces.tolist())
    return benchmark_iou(converted, predicted, protocol.epsilon), notes


def _extents(samples: Sequence[GroundingSample], spaces: np.ndarray) -> np.ndarray:
    """``(N, 2)`` largest x and y of each sample's IoU space: 1, 1000, the target image's size in pixels
    when the sample knows it, else NaN."""
    extents = np.full((len(samples), 2), np.nan)
    extents[spaces == CoordinateSpace.NORM1.value] = 1.0
    extents[spaces == CoordinateSpace.NORM1000.value] = 1000.0
    for i in np.flatnonzero(spaces == CoordinateSpace.ABS_IMAGE.value).tolist():
        extents[i] = samples[i].target_size() or np.nan
    return extents


def _results(
    samples: Sequence[GroundingSample],
    outputs: Sequence[str | None],
    policy: AnswerPolicy,
    model_space: CoordinateSpace,
    protocol: Protocol,
    sizes: _Sizes,
) -> SampleResults:
    """The per-sample results: the box read from each output, its IoU, failure reason and named image."""
    boxes = extract_boxes(outputs, policy)
    truth = np.array([sample.boxes[0] for sample in samples], dtype=np.float64)
    overlap, notes = _overlap(samples, boxes, truth, model_space, protocol, sizes)
    targets, named, target_hit = _target_images(samples, outputs)
    present = np.array([output is not None for output in outputs])
    return SampleResults(
        ids=[sample.id for sample in samples],
        tasks=[sample.task for sample in samples],
        metas=[sample.meta for sample in samples],
        iou=overlap,
        reasons=failure_reasons(boxes, present, overlap),
        boxes=boxes,
        truth=truth,
        predicted_image=named,
        target_image=targets,
        target_hit=target_hit,
        truth_notes=notes,
    )


def _settings(
    benchmark: str,
    protocol: Protocol,
    policy: AnswerPolicy,
    model_space: CoordinateSpace,
    sizes: _Sizes,
    found: PredictionSet,
    outputs: Sequence[str | None],
    media_root: str | os.PathLike | None,
) -> dict[str, Any]:
    """How a report was scored (:attr:`~.report.EvalReport.settings`)."""
    present = sum(output is not None for output in outputs)
    return {
        "benchmark": benchmark,
        "protocol": protocol.name,
        "protocol_source": protocol.source,
        "space": model_space.value,
        "family": sizes.family,
        "policy": policy.value,
        "iou_space": protocol.iou_space.value if protocol.iou_space else "ground truth's own",
        "epsilon": protocol.epsilon,
        "min_pixels": sizes.min_pixels,
        "max_pixels": sizes.max_pixels,
        "samples": len(outputs),
        "predictions": len(found),
        "missing": len(outputs) - present,
        "ignored_unknown_ids": len(found) - present,
        "media_root": None if media_root is None else str(Path(media_root)),
    }

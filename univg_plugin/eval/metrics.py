"""The benchmarks' metric definitions: which box is read, how IoU is computed, and how it is summarized.

A :class:`Protocol` says, per benchmark layout, what the official scoring scripts do; everything else
is shared: one prediction per sample, scored against the sample's first ground-truth box; accuracy
at IoU >= 0.3 / 0.5 / 0.7 (inclusive); mean IoU over every sample (a failure counts as IoU 0). All
parsing and IoU come from :mod:`univg_plugin.boxes`.

Failure reasons of one sample (:data:`REASONS`): ``missing`` (no prediction for it), ``no_box``
(the output holds no box where the policy looks: a parse failure, including an empty output) and
``invalid_box`` (a box was read but is swapped, degenerate or not finite: IoU 0, as in the official
scripts, which never reorder corners).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..boxes import AnswerPolicy, CoordinateSpace, answer_image_index, first_answer_boxes, iou
from ..data.schema import format_box

#: IoU thresholds of the accuracies (a prediction hits at ``t`` when ``IoU >= t``).
THRESHOLDS: tuple[float, ...] = (0.3, 0.5, 0.7)
#: Where a prediction's box is read: the :class:`~univg_plugin.boxes.AnswerPolicy` values (``first``
#: is what MIG-Bench's and the zero-shot sets' scripts read).
POLICIES: tuple[str, ...] = tuple(policy.value for policy in AnswerPolicy)
#: Failure reason of a sample by code (0: scored normally).
REASONS: tuple[str | None, ...] = (None, "missing", "no_box", "invalid_box")
OK, MISSING, NO_BOX, INVALID = range(4)


@dataclass(frozen=True)
class Protocol:
    """How one benchmark layout is scored.

    Attributes:
        name: The layout (a dataset format name).
        policy: Default of where the box is read (see :data:`POLICIES`).
        iou_space: Space the IoU is computed in; None: the ground truth's own space.
        epsilon: Added to the union (the zero-shot scripts add ``1e-6`` in 0-1 coordinates).
        source: The script that defines it.
    """

    name: str
    policy: str
    iou_space: CoordinateSpace | None
    epsilon: float
    source: str


#: The official protocols by layout; any other layout is scored with ``default``.
PROTOCOLS: dict[str, Protocol] = {
    "mig_bench": Protocol(
        "mig_bench",
        "first",
        None,
        0.0,
        "Migician eval/utils.py (extract_bbox, calculate_iou) and AMAP-ML/UniVG-R1 eval/MIG_bench/",
    ),
    "zero_shot": Protocol(
        "zero_shot",
        "first",
        CoordinateSpace.NORM1,
        1e-6,
        "AMAP-ML/UniVG-R1 eval/zero_shot/*/eval.py (compute_iou) and merge.py",
    ),
    "default": Protocol("default", "strict", None, 0.0, "univg-plugin: the training reward's strict answer policy"),
}


def protocol_for(fmt: str) -> Protocol:
    """The protocol of a dataset format (``default`` for our own and every other layout).

    Example:
        >>> protocol_for("mig_bench").policy, protocol_for("univg").policy
        ('first', 'strict')
    """
    return PROTOCOLS.get(fmt, PROTOCOLS["default"])


def extract_boxes(texts: Sequence[str], policy: AnswerPolicy | str) -> np.ndarray:
    """The box each output is scored with.

    Args:
        texts: Raw model outputs (a non-string has no box).
        policy: ``strict`` / ``lenient`` (:func:`~univg_plugin.boxes.first_answer_boxes`), or ``first``:
            the first box anywhere in the text, in any syntax the project parser reads.

    Returns:
        ``(len(texts), 4)`` float64, NaN rows where there is no box.

    Raises:
        ValueError: for an unknown policy, naming the known ones.

    Example:
        >>> extract_boxes(["<think>(1,2),(3,4)</think><answer>(5,6),(7,8)</answer>"], "first").tolist()
        [[1.0, 2.0, 3.0, 4.0]]
        >>> extract_boxes(["<think>(1,2),(3,4)</think><answer>(5,6),(7,8)</answer>"], "strict").tolist()
        [[5.0, 6.0, 7.0, 8.0]]
    """
    return first_answer_boxes(texts, policy)


def _swapped(boxes: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])


def benchmark_iou(truth: np.ndarray, predicted: np.ndarray, epsilon: float = 0.0) -> np.ndarray:
    """IoU as the benchmarks' scripts compute it on the boxes as written: ``I / (U + epsilon)``, 0 when
    either box is swapped (their intersection test fails: corners are never reordered) or has no area.

    Args:
        truth: Ground-truth boxes ``(N, 4)``, as written (swapped or past the image ones included).
        predicted: Predictions ``(N, 4)`` in the same space (NaN rows score 0).
        epsilon: Added to the union.

    Returns:
        ``(N,)`` IoU in [0, 1].

    Example:
        >>> benchmark_iou(np.array([[0, 0, 0.5, 1]]), np.array([[0, 0, 1, 1]])).tolist()
        [0.5]
        >>> benchmark_iou(np.array([[0, 0, 1, 1], [1, 1, 0, 0]]), np.array([[1, 1, 0, 0], [0, 0, 1, 1]])).tolist()
        [0.0, 0.0]
    """
    truth = np.asarray(truth, dtype=np.float64).reshape(-1, 4)
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1, 4)
    overlap = iou(truth, predicted)
    overlap[_swapped(predicted) | _swapped(truth)] = 0.0
    if epsilon:
        # U = (A + B) / (1 + IoU) since I = IoU * U and U = A + B - I; then I / (U + eps) = IoU * U / (U + eps).
        areas = _area(truth) + _area(predicted)
        with np.errstate(invalid="ignore", divide="ignore"):
            union = areas / (1.0 + overlap)
            overlap = np.where(overlap > 0, overlap * union / (union + epsilon), 0.0)
    return overlap


def _area(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def truth_notes(written: np.ndarray, truth: np.ndarray, upper: np.ndarray, spaces: Sequence[str]) -> list[str | None]:
    """What is odd about each ground-truth box, and what the official formula makes of it (None: nothing).

    A swapped or zero-area box can never be hit (IoU 0); a box past the image (beyond the space's extent,
    or negative) is compared as written. Training data refuses both; a benchmark keeps them.

    Args:
        written: The boxes as written ``(N, 4)`` (shown in the notes).
        truth: The same boxes in the IoU space ``(N, 4)``.
        upper: The largest x and y of the IoU space for each sample ``(N, 2)`` (NaN: unknown).
        spaces: The IoU space of each sample (named in the notes).

    Example:
        >>> boxes = np.array([[0.5, 0.1, 0.2, 0.4], [0.3, 0.2, 1.048, 0.5], [0.1, 0.1, 0.2, 0.2]])
        >>> truth_notes(boxes, boxes, np.ones((3, 2)), ["norm1"] * 3)  # doctest: +NORMALIZE_WHITESPACE
        ['[0.5, 0.1, 0.2, 0.4] swapped (x1 > x2): no prediction can hit it (IoU 0)',
         '[0.3, 0.2, 1.048, 0.5] beyond the image (x2 = 1.048 > 1 in norm1): scored as written', None]
    """
    with np.errstate(invalid="ignore"):
        odd = (truth[:, 2] <= truth[:, 0]) | (truth[:, 3] <= truth[:, 1]) | (truth < 0).any(axis=1)
        odd |= (truth > upper[:, [0, 1, 0, 1]]).any(axis=1)
    notes: list[str | None] = [None] * len(truth)
    for i in np.flatnonzero(odd).tolist():
        notes[i] = _truth_note(written[i], truth[i], upper[i], spaces[i])
    return notes


def _truth_note(written: np.ndarray, box: np.ndarray, upper: np.ndarray, space: str) -> str:
    """One box's note (see :func:`truth_notes`)."""
    x1, y1, x2, y2 = box.tolist()
    swapped = [text for text, odd in (("x1 > x2", x1 > x2), ("y1 > y2", y1 > y2)) if odd]
    flat = [text for text, odd in (("zero width (x1 = x2)", x1 == x2), ("zero height (y1 = y2)", y1 == y2)) if odd]
    never = ([f"swapped ({', '.join(swapped)})"] if swapped else []) + flat
    bounds = upper[[0, 1, 0, 1]].tolist()
    outside = [
        f"{name} = {value:.6g} {'< 0' if value < 0 else f'> {bound:.6g}'}"
        for name, value, bound in zip(("x1", "y1", "x2", "y2"), box.tolist(), bounds)
        if value < 0 or value > bound
    ]
    parts = [f"{', '.join(never)}: no prediction can hit it (IoU 0)"] if never else []
    if outside:
        parts.append(f"beyond the image ({', '.join(outside)} in {space}): scored as written")
    return f"{format_box(written)} {'; '.join(parts)}"


def failure_reasons(predicted: np.ndarray, present: np.ndarray, overlap: np.ndarray) -> np.ndarray:
    """The reason code (:data:`REASONS`) of each sample.

    Args:
        predicted: The extracted boxes ``(N, 4)`` (NaN: none).
        present: Whether each sample has a prediction at all.
        overlap: Its IoU.
    """
    reasons = np.zeros(len(present), dtype=np.int8)
    no_box = np.isnan(predicted).any(axis=1)
    with np.errstate(invalid="ignore", over="ignore"):
        x1, y1, x2, y2 = predicted.T
        invalid = ~np.isfinite((x2 - x1) * (y2 - y1)) | (x2 <= x1) | (y2 <= y1)
    reasons[invalid & (overlap == 0)] = INVALID
    reasons[no_box] = NO_BOX
    reasons[~present] = MISSING
    return reasons


def predicted_images(texts: Sequence[str]) -> np.ndarray:
    """The 1-based image each output names (0: none): the first one named in its answer block, else
    the one it names last (reasoning ends with its conclusion).

    Example:
        >>> predicted_images(["image 1 and image 2 differ, so the target is in image 2", "<answer>image 3</answer>"])
        array([2, 3])
    """
    named = [answer_image_index(text, AnswerPolicy.LENIENT) for text in texts]
    return np.asarray([index or 0 for index in named], dtype=np.int64)


@dataclass(frozen=True)
class GroupMetrics:
    """The metrics of one group of samples, in percent (like the paper).

    Attributes:
        count: Samples in the group (a sample without a prediction counts, with IoU 0).
        acc30: Accuracy at IoU >= 0.3.
        acc50: Accuracy at IoU >= 0.5 (the paper's headline metric).
        acc70: Accuracy at IoU >= 0.7.
        miou: Mean IoU.
        target_acc: Accuracy of the image the output names, over the multi-image samples whose question
            does not name the target image (the model has to find it); None when there are none.
        target_count: Those samples.
        parse_fail: Share of samples whose output holds no box (``no_box``).
        missing: Samples without a prediction.
        invalid: Samples whose box is swapped, degenerate or not finite.
    """

    count: int
    acc30: float
    acc50: float
    acc70: float
    miou: float
    target_acc: float | None
    target_count: int
    parse_fail: float
    missing: int
    invalid: int

    def as_dict(self) -> dict[str, float | int | None]:
        """The fields as a dict (JSON-ready)."""
        return asdict(self)

    @classmethod
    def average(cls, groups: Sequence[GroupMetrics]) -> GroupMetrics:
        """The unweighted mean of the groups' rates (the paper's "Avg"); counts are summed."""
        targets = [group.target_acc for group in groups if group.target_acc is not None]
        return cls(
            count=sum(group.count for group in groups),
            acc30=float(np.mean([group.acc30 for group in groups])),
            acc50=float(np.mean([group.acc50 for group in groups])),
            acc70=float(np.mean([group.acc70 for group in groups])),
            miou=float(np.mean([group.miou for group in groups])),
            target_acc=float(np.mean(targets)) if targets else None,
            target_count=sum(group.target_count for group in groups),
            parse_fail=float(np.mean([group.parse_fail for group in groups])),
            missing=sum(group.missing for group in groups),
            invalid=sum(group.invalid for group in groups),
        )


def summarize(overlap: np.ndarray, reasons: np.ndarray, target_hit: np.ndarray, labels: np.ndarray) -> list:
    """:class:`GroupMetrics` of each group, vectorized.

    Args:
        overlap: IoU of each sample.
        reasons: Reason code of each sample.
        target_hit: 1.0 / 0.0 where the sample has a target image to name, NaN elsewhere.
        labels: Group index of each sample, ``0..G-1`` (every group non-empty).

    Returns:
        ``G`` :class:`GroupMetrics`, in group-index order.
    """
    size = int(labels.max()) + 1 if len(labels) else 0

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(labels, weights=weights.astype(np.float64), minlength=size)

    count = np.bincount(labels, minlength=size)
    hits = {t: total(overlap >= t) for t in THRESHOLDS}
    scored = ~np.isnan(target_hit)
    target_count = np.bincount(labels[scored], minlength=size)
    target_hits = np.bincount(labels[scored], weights=target_hit[scored], minlength=size)
    per_reason = {code: total(reasons == code) for code in (MISSING, NO_BOX, INVALID)}
    sums = total(overlap)
    return [
        GroupMetrics(
            count=int(count[g]),
            acc30=float(100.0 * hits[0.3][g] / count[g]),
            acc50=float(100.0 * hits[0.5][g] / count[g]),
            acc70=float(100.0 * hits[0.7][g] / count[g]),
            miou=float(100.0 * sums[g] / count[g]),
            target_acc=float(100.0 * target_hits[g] / target_count[g]) if target_count[g] else None,
            target_count=int(target_count[g]),
            parse_fail=float(100.0 * per_reason[NO_BOX][g] / count[g]),
            missing=int(per_reason[MISSING][g]),
            invalid=int(per_reason[INVALID][g]),
        )
        for g in range(size)
    ]

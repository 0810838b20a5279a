"""Dataset statistics in one streaming pass: tasks, images per sample, box sizes, reasoning, difficulty."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..boxes import CoordinateSpace
from .errors import FieldError
from .schema import GroundingSample

#: Box-size bins: upper bound of the box area as a share of the image area, and the bin's label.
AREA_BINS: tuple[tuple[float, str], ...] = (
    (0.01, "< 1%"),
    (0.05, "1-5%"),
    (0.20, "5-20%"),
    (0.50, "20-50%"),
    (float("inf"), ">= 50%"),
)
UNKNOWN_SIZE = "unknown (pixel box, no image size)"


@dataclass
class DatasetStats:
    """Counts over samples; feed with :meth:`add` or :meth:`update`, show with :meth:`render`.

    Example:
        >>> s = GroundingSample(id="a", images=["x.png"], question="q", boxes=[[0, 0, 500, 500]],
        ...                     reasoning="r", meta={"difficulty": "easy"})
        >>> stats = DatasetStats().update([s])
        >>> stats.samples, dict(stats.box_areas), stats.with_reasoning
        (1, {'20-50%': 1}, 1)
    """

    samples: int = 0
    boxes: int = 0
    with_reasoning: int = 0
    without_target: int = 0
    tasks: Counter = field(default_factory=Counter)
    images_per_sample: Counter = field(default_factory=Counter)
    spaces: Counter = field(default_factory=Counter)
    difficulties: Counter = field(default_factory=Counter)
    box_areas: Counter = field(default_factory=Counter)
    area_sum: float = 0.0
    area_count: int = 0

    def add(self, sample: GroundingSample) -> None:
        """Count one sample."""
        self.samples += 1
        self.boxes += len(sample.boxes)
        self.with_reasoning += sample.reasoning is not None
        self.without_target += sample.target_image is None
        self.tasks[sample.task] += 1
        self.images_per_sample[len(sample.images)] += 1
        self.spaces[sample.space.value] += 1
        difficulty = sample.meta.get("difficulty")
        if difficulty is not None:
            self.difficulties[str(difficulty)] += 1
        try:
            boxes = sample.boxes_in(CoordinateSpace.NORM1).tolist()
        except FieldError:
            self.box_areas[UNKNOWN_SIZE] += len(sample.boxes)
            return
        for x1, y1, x2, y2 in boxes:
            area = (x2 - x1) * (y2 - y1)
            self.area_sum += area
            self.area_count += 1
            self.box_areas[next(label for bound, label in AREA_BINS if area < bound)] += 1

    def update(self, samples: Iterable[GroundingSample]) -> DatasetStats:
        """Count every sample; returns ``self``."""
        for sample in samples:
            self.add(sample)
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for ``--json``)."""
        return {
            "samples": self.samples,
            "boxes": self.boxes,
            "with_reasoning": self.with_reasoning,
            "multi_image_without_target": self.without_target,
            "tasks": dict(self.tasks.most_common()),
            "images_per_sample": {str(k): v for k, v in sorted(self.images_per_sample.items())},
            "spaces": dict(self.spaces.most_common()),
            "difficulties": dict(self.difficulties.most_common()),
            "box_area_share": {label: self.box_areas[label] for _, label in AREA_BINS if self.box_areas[label]}
            | ({UNKNOWN_SIZE: self.box_areas[UNKNOWN_SIZE]} if self.box_areas[UNKNOWN_SIZE] else {}),
            "mean_box_area_share": self.area_sum / self.area_count if self.area_count else None,
        }

    def render(self) -> str:
        """Human-readable tables."""

        def table(title: str, counts: dict[Any, int], total: int) -> list[str]:
            lines = [title]
            width = max((len(str(key)) for key in counts), default=0)
            for key, count in counts.items():
                share = 100.0 * count / total if total else 0.0
                lines.append(f"  {key!s:<{width}}  {count:>9}  {share:5.1f}%")
            return lines

        data = self.to_dict()
        share = 100.0 * self.with_reasoning / self.samples if self.samples else 0.0
        lines = [
            f"samples: {self.samples}   boxes: {self.boxes}   with reasoning: {self.with_reasoning} ({share:.1f}%)"
            f"   multi-image without target: {self.without_target}",
        ]
        lines += table("samples per task:", data["tasks"], self.samples)
        lines += table("images per sample:", data["images_per_sample"], self.samples)
        lines += table("coordinate spaces:", data["spaces"], self.samples)
        if self.difficulties:
            lines += table("difficulty (meta.difficulty):", data["difficulties"], self.samples)
        lines += table("box area / image area:", data["box_area_share"], self.boxes)
        if data["mean_box_area_share"] is not None:
            lines.append(f"  mean box area: {100.0 * data['mean_box_area_share']:.1f}% of the image")
        return "\n".join(lines)

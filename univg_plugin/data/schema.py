"""One grounding sample, validated: the spine of both training stages and of evaluation."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..boxes import CoordinateSpace

#: MIG-Bench's task names (a sample's ``task`` may be any string; these are the known ones).
KNOWN_TASKS: tuple[str, ...] = (
    "common_object",
    "diff",
    "view_diff",
    "region",
    "refer_grounding",
    "group_grounding",
    "object_tracking",
    "multi_view",
    "correspondence",
    "reasoning",
)


class GroundingSample(BaseModel):
    """A (chain-of-thought) grounding sample: images, a question, and the target box(es).

    Attributes:
        id: Unique id within its file.
        task: Task name (see :data:`KNOWN_TASKS`).
        images: 1..n image paths, relative to a media root (or absolute).
        question: The instruction, with or without ``<image>`` placeholders (when present, one per image).
        reasoning: Optional reasoning chain (the ``<think>`` content of stage 1).
        boxes: One or more target boxes ``[x1, y1, x2, y2]``.
        space: Coordinate space of ``boxes``.
        target_image: 1-based index of the image the boxes are in (needed when there are several).
        image_sizes: Optional ``[width, height]`` of each image (needed to convert pixel boxes).
        meta: Anything else (source fields, difficulty, ...), kept through round trips.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    task: str = "grounding"
    images: list[str] = Field(min_length=1)
    question: str
    reasoning: str | None = None
    boxes: list[tuple[float, float, float, float]] = Field(min_length=1)
    space: CoordinateSpace = CoordinateSpace.NORM1000
    target_image: int | None = None
    image_sizes: list[tuple[int, int]] | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

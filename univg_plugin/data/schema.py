"""One grounding sample, validated: the spine of both training stages and of evaluation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from ..boxes import CoordinateSpace, convert_boxes, smart_resize
from .errors import FieldError

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

#: Difficulty levels a sample's ``meta["difficulty"]`` may name (the synthetic data and the reports use them).
DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")

#: The longest image side ``image_sizes`` may give, in pixels (PIL's and most formats' limit: a 32-bit integer).
MAX_IMAGE_SIDE = 2**31 - 1

#: The image placeholder of questions (LLaMA-Factory's and UniVG-R1's convention).
IMAGE_PLACEHOLDER = "<image>"

_TAGS = ("<think>", "</think>", "<answer>", "</answer>")
_UPPER = {CoordinateSpace.NORM1: 1.0, CoordinateSpace.NORM1000: 1000.0}


def _number(value: float) -> str:
    return str(int(value)) if math.isfinite(value) and value == int(value) else repr(value)


def format_box(box) -> str:
    """A box as ``[x1, y1, x2, y2]`` with integral values written without a decimal point.

    Example:
        >>> format_box((10.0, 20.5, 30.0, 40.0))
        '[10, 20.5, 30, 40]'
    """
    return "[" + ", ".join(_number(float(value)) for value in box) + "]"


class GroundingSample(BaseModel):
    """A (chain-of-thought) grounding sample: images, a question, and the target box(es).

    Constructing one validates it; every problem is reported at once, each under its own field
    (``boxes[1]``, ``target_image``, ...): placeholder/image count mismatch, empty question or path,
    reasoning that contains ``<think>``/``<answer>`` tags, image sizes that do not match the images,
    a target index out of range, degenerate or swapped boxes, boxes outside the image (``norm1`` in
    [0, 1], ``norm1000`` in [0, 1000], ``abs_image`` inside the target image when its size is known,
    pixels never negative) and unknown coordinate spaces.

    Attributes:
        id: Unique id within its file.
        task: Task name (see :data:`KNOWN_TASKS`; any non-empty string is accepted).
        images: 1..n image paths, relative to a media root (or absolute).
        question: The instruction, with or without ``<image>`` placeholders (when present, one per image).
        reasoning: Optional reasoning chain (the ``<think>`` content of stage 1); ``""`` becomes None.
        boxes: One or more target boxes ``[x1, y1, x2, y2]`` with ``x1 < x2`` and ``y1 < y2``.
        space: Coordinate space of ``boxes`` (see :class:`~univg_plugin.boxes.CoordinateSpace`).
        target_image: 1-based index of the image the boxes are in. Set to 1 for single-image samples;
            None on a multi-image sample means "not specified" (e.g. a difference present in all images).
        image_sizes: Optional ``[width, height]`` of each image (needed to convert pixel boxes).
        meta: Anything else (source fields, difficulty, ...), kept through round trips.

    Example:
        >>> sample = GroundingSample(id="a", images=["1.png", "2.png"], question="Where is the cat?",
        ...                          boxes=[[100, 200, 300, 400]], target_image=2)
        >>> sample.space.value, sample.target_image
        ('norm1000', 2)
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

    _source: str | None = PrivateAttr(default=None)

    @field_validator("reasoning")
    @classmethod
    def _empty_reasoning_is_none(cls, value: str | None) -> str | None:
        return value if value else None

    @model_validator(mode="after")
    def _consistent(self) -> GroundingSample:
        issues = self._issues()
        if issues:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(type=PydanticCustomError("grounding", message), loc=loc, input=value)
                    for loc, message, value in issues
                ],
            )
        if self.target_image is None and len(self.images) == 1:
            self.target_image = 1
        return self

    def _issues(self) -> list[tuple[tuple, str, Any]]:
        """Cross-field problems as ``(location, message, offending value)``."""
        issues: list[tuple[tuple, str, Any]] = []
        count = len(self.images)
        if not self.id:
            issues.append((("id",), "is empty", self.id))
        if not self.task:
            issues.append((("task",), "is empty", self.task))
        for index, path in enumerate(self.images):
            if not path.strip():
                issues.append((("images", index), "is an empty path", path))
        placeholders = self.question.count(IMAGE_PLACEHOLDER)
        if placeholders and placeholders != count:
            issues.append(
                (
                    ("question",),
                    f"has {placeholders} {IMAGE_PLACEHOLDER} placeholder(s) but the sample has {count} image(s);"
                    " use one per image, or none",
                    self.question,
                )
            )
        if not self.question.replace(IMAGE_PLACEHOLDER, "").strip():
            issues.append((("question",), "is empty", self.question))
        if self.reasoning and any(tag in self.reasoning for tag in _TAGS):
            issues.append((("reasoning",), "must not contain <think>/<answer> tags", self.reasoning))
        if self.target_image is not None and not 1 <= self.target_image <= count:
            issues.append(
                (
                    ("target_image",),
                    f"{self.target_image} is out of range for {count} image(s) (indices are 1-based)",
                    self.target_image,
                )
            )
        size_issues = self._size_issues()
        issues.extend(size_issues)
        sizes = None if size_issues else self.image_sizes
        issues.extend(self._box_issues(sizes))
        return issues

    def _size_issues(self) -> list[tuple[tuple, str, Any]]:
        """Problems of ``image_sizes``: one entry per image, each side positive and at most :data:`MAX_IMAGE_SIDE`."""
        sizes, count = self.image_sizes, len(self.images)
        if sizes is None:
            return []
        if len(sizes) != count:
            return [(("image_sizes",), f"has {len(sizes)} entries but the sample has {count} image(s)", sizes)]
        issues = []
        for index, (width, height) in enumerate(sizes):
            if width <= 0 or height <= 0:
                issues.append((("image_sizes", index), f"must be positive, got [{width}, {height}]", [width, height]))
            elif max(width, height) > MAX_IMAGE_SIDE:
                message = f"has a side longer than {MAX_IMAGE_SIDE} pixels (no image library holds one)"
                issues.append((("image_sizes", index), message, [width, height]))
        return issues

    def _box_issues(self, sizes: list[tuple[int, int]] | None) -> list[tuple[tuple, str, Any]]:
        issues = []
        upper = _UPPER.get(self.space)
        bounds = None
        if upper is not None:
            bounds = (upper, upper, f"within [0, {_number(upper)}] ({self.space.value})")
        elif self.space is CoordinateSpace.ABS_IMAGE and sizes is not None:
            target = self.target_image or (1 if len(sizes) == 1 else None)
            if target is not None and 1 <= target <= len(sizes):
                width, height = sizes[target - 1]
                bounds = (width, height, f"inside image {target} of size {width}x{height} (abs_image)")
        for index, box in enumerate(self.boxes):
            x1, y1, x2, y2 = box
            if not all(math.isfinite(value) for value in box):
                issues.append((("boxes", index), f"has a non-finite coordinate: {format_box(box)}", box))
                continue
            if x2 <= x1 or y2 <= y1:
                axis = "x1 < x2" if x2 <= x1 else "y1 < y2"
                issues.append((("boxes", index), f"is degenerate or swapped (needs {axis}): {format_box(box)}", box))
                continue
            if min(box) < 0:
                issues.append((("boxes", index), f"has a negative coordinate: {format_box(box)}", box))
            elif bounds is not None and (x2 > bounds[0] or y2 > bounds[1]):
                issues.append((("boxes", index), f"lies outside the image: {format_box(box)} is not {bounds[2]}", box))
        return issues

    def __eq__(self, other: object) -> bool:
        """Samples are equal when their fields are (where they were read from does not count)."""
        return type(other) is type(self) and self.__dict__ == other.__dict__

    def with_source(self, where: str) -> GroundingSample:
        """Remember where this sample was read from (used in error messages); returns ``self``."""
        self._source = where
        return self

    @property
    def where(self) -> str:
        """``path:LINE`` / ``path[INDEX]`` when read from a file, else ``id '...'``."""
        return self._source or f"id {self.id!r}"

    def target_size(self) -> tuple[int, int] | None:
        """``(width, height)`` of the target image (of the only image, or of all images when equal)."""
        if self.image_sizes is None:
            return None
        if self.target_image is not None:
            return tuple(self.image_sizes[self.target_image - 1])
        distinct = set(map(tuple, self.image_sizes))
        return distinct.pop() if len(distinct) == 1 else None

    def boxes_in(
        self,
        space: CoordinateSpace | str,
        *,
        min_pixels: int | None = None,
        max_pixels: int | None = None,
        factor: int | None = None,
    ) -> np.ndarray:
        """The boxes converted to another coordinate space (no rounding, no clipping).

        Args:
            space: The target space.
            min_pixels: The processor's ``min_pixels`` (only for ``abs_input``; default Qwen2-VL's).
            max_pixels: The processor's ``max_pixels`` (only for ``abs_input``; default Qwen2-VL's).
            factor: The family's resize factor (only for ``abs_input``; default Qwen2-VL's 28; Qwen3-VL: 32).

        Returns:
            A float64 ``(k, 4)`` array.

        Raises:
            FieldError: on ``image_sizes`` when the conversion needs the target image's size and it is
                unknown.

        Example:
            >>> s = GroundingSample(id="a", images=["x.png"], question="q", boxes=[[0.1, 0.2, 0.5, 1.0]],
            ...                     space="norm1", image_sizes=[[640, 480]])
            >>> s.boxes_in("abs_image").tolist()
            [[64.0, 96.0, 320.0, 480.0]]
        """
        target = CoordinateSpace(space)
        if target is self.space:
            return np.asarray(self.boxes, dtype=np.float64)
        normalized = (CoordinateSpace.NORM1, CoordinateSpace.NORM1000)
        size = (1, 1) if self.space in normalized and target in normalized else self.target_size()
        if size is None:
            which = "the target image's size" if self.image_sizes else "image_sizes"
            raise FieldError(
                "image_sizes",
                f"converting {self.space.value} boxes to {target.value} needs {which}"
                " (fill it with: univg data convert --fill-sizes --media-root DIR)",
            )
        input_size = None
        if CoordinateSpace.ABS_INPUT in (self.space, target):
            limits = {"min_pixels": min_pixels, "max_pixels": max_pixels, "factor": factor}
            height, width = smart_resize(size[1], size[0], **{k: v for k, v in limits.items() if v is not None})
            input_size = (int(width), int(height))
        return convert_boxes(self.boxes, self.space, target, image_size=size, input_size=input_size)

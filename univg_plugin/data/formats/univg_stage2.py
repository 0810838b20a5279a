"""``univg_stage2``: UniVG-R1's stage-2 RL data, a JSON list of questions with one 0-1000 box each."""

from __future__ import annotations

from typing import Any

from ...boxes import CoordinateSpace
from ..render import norm1000_ints
from ..schema import GroundingSample
from ._fields import (
    check_one_box,
    extra_fields,
    image_paths,
    json_object,
    read_boxes,
    read_question,
    row_identity,
    target_from_text,
    text_field,
    with_extras,
    write_question,
)
from .base import Format


class Stage2Format(Format):
    """UniVG-R1 stage-2 RL data: a JSON list of ``{"question", "answer": [x1, y1, x2, y2], "images"}``,
    boxes in 0-1000, ``<image>`` placeholders in the question, the target image named in the question.

    Cannot hold: reasoning; several boxes; image_sizes; the coordinate space (written as 0-1000
    integers).

    Args:
        space: Coordinate space of the ``answer`` boxes when reading (default ``norm1000``).
    """

    _native = ("question", "answer", "images")

    def __init__(self, space: str = "norm1000"):
        self.space = CoordinateSpace(space)

    def parse(self, raw: Any, default_id: str) -> list[GroundingSample]:
        raw = json_object(raw)
        images = image_paths(raw, "images")
        question, named = read_question(text_field(raw, "question"), len(images))
        return [
            GroundingSample(
                **row_identity(raw, default_id),
                images=images,
                question=question,
                boxes=read_boxes(raw.get("answer"), "answer"),
                space=self.space,
                target_image=target_from_text(question, len(images), named),
                meta=extra_fields(raw, self._native),
            )
        ]

    def dump(self, sample: GroundingSample) -> dict[str, Any]:
        check_one_box(sample, self.name)
        row = {
            "id": sample.id,
            "task": sample.task,
            "question": write_question(sample),
            "answer": norm1000_ints(sample)[0].tolist(),
            "images": sample.images,
        }
        return with_extras(row, sample, self.name)

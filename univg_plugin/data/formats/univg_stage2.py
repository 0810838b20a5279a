"""``univg_stage2``: UniVG-R1's stage-2 RL data, a JSON list of questions with one 0-1000 box each."""

from __future__ import annotations

from typing import Any

from ...boxes import CoordinateSpace
from ...qwen_vl import model_family
from ..render import family_boxes
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
    integers, or Qwen2.5-VL's model-input pixels).

    Args:
        space: Coordinate space of the ``answer`` boxes when reading (default: the family's, ``norm1000``).
        family: The model family whose boxes ``answer`` holds (``qwen2_vl``, ``qwen2_5_vl``, ``qwen3_vl``): written
            as :func:`~univg_plugin.data.render.family_boxes` gives them.
        min_pixels: The processor's ``min_pixels``; needed (with ``max_pixels``) to write ``qwen2_5_vl`` boxes.
        max_pixels: The processor's ``max_pixels``, likewise.
    """

    _native = ("question", "answer", "images")

    def __init__(
        self,
        space: str | None = None,
        family: str = "qwen2_vl",
        min_pixels: int | None = None,
        max_pixels: int | None = None,
    ):
        try:
            self.family = model_family(family)
        except KeyError as error:
            raise ValueError(error.args[0]) from None
        self.space = CoordinateSpace(space or self.family.box_space)
        self.min_pixels = None if min_pixels is None else int(min_pixels)
        self.max_pixels = None if max_pixels is None else int(max_pixels)

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
        boxes = family_boxes(sample, self.family.name, min_pixels=self.min_pixels, max_pixels=self.max_pixels)
        row = {
            "id": sample.id,
            "task": sample.task,
            "question": write_question(sample),
            "answer": boxes[0].tolist(),
            "images": sample.images,
        }
        return with_extras(row, sample, self.name)

"""``mig_bench``: MIG-Bench, in its original 0-1 release and UniVG-R1's revised 0-1000 copy."""

from __future__ import annotations

from typing import Any

from ...boxes import ORDINALS, CoordinateSpace, parse_image_index
from ..errors import DataError, FieldError
from ..render import norm1000_ints
from ..schema import GroundingSample
from ._fields import (
    check_one_box,
    extra_fields,
    image_paths,
    json_number,
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


class MigBenchFormat(Format):
    """MIG-Bench (and UniVG-R1's revised copy): a JSON list of ``{"task", "images", "question",
    "answer": [x1, y1, x2, y2], "additional_info", "need_format"}``.

    Boxes are 0-1 floats in the original release and 0-1000 integers in UniVG-R1's
    ``revised_MIG_bench.json``: the space is detected per row (any value above 2 means 0-1000, so a
    0-1 box slightly outside the image is still reported as such) unless given. The target image:
    for ``group_grounding`` the one ``additional_info`` names ("It is in the first image. ..."),
    otherwise the one the question names last, else for ``region`` the source image 1 (None for the
    original ``diff`` rows, whose box holds in both images).

    Cannot hold: reasoning; several boxes; image_sizes; pixel spaces (written as 0-1 floats).

    Args:
        space: Force the coordinate space of ``answer`` when reading (``norm1`` or ``norm1000``).
    """

    _native = ("images", "question", "answer")

    def __init__(self, space: str | None = None):
        self.space = None if space is None else CoordinateSpace(space)

    def parse(self, raw: Any, default_id: str) -> list[GroundingSample]:
        raw = json_object(raw)
        images = image_paths(raw, "images")
        task = text_field(raw, "task")
        boxes = read_boxes(raw.get("answer"), "answer")
        space = self.space or (
            CoordinateSpace.NORM1000 if max(max(box) for box in boxes) > 2 else CoordinateSpace.NORM1
        )
        question, named = read_question(text_field(raw, "question"), len(images))
        if task == "group_grounding" and named is None:
            named = parse_image_index(text_field(raw, "additional_info"))
            if named is None:
                raise FieldError("additional_info", "names no target image (group_grounding needs it)")
        target = target_from_text(question, len(images), named)
        sample = GroundingSample(
            **row_identity(raw, default_id),
            images=images,
            question=question,
            boxes=boxes,
            space=space,
            target_image=1 if target is None and task == "region" else target,
        )
        defaults = _defaults(sample)
        extras = extra_fields(raw, self._native)
        sample.meta.update({k: v for k, v in extras.items() if k not in defaults or defaults[k] != v})
        return [sample]

    def dump(self, sample: GroundingSample) -> dict[str, Any]:
        check_one_box(sample, self.name)
        space = sample.space if sample.space in (CoordinateSpace.NORM1, CoordinateSpace.NORM1000) else "norm1"
        grouped = sample.task == "group_grounding"
        defaults = _defaults(sample)
        if grouped and "additional_info" not in defaults and "additional_info" not in sample.meta:
            if sample.target_image is None or sample.target_image > len(ORDINALS):
                raise FieldError(
                    "target_image", "group_grounding needs a target image of 1 to 10 (additional_info names it)"
                )
            norm1000_ints(sample)  # raises: the box is too thin for additional_info's 0-1000 integers
        row = {
            "id": sample.id,
            "task": sample.task,
            "images": sample.images,
            "question": sample.question if grouped else write_question(sample, placeholders=False),
            "answer": [json_number(value, space) for value in sample.boxes_in(space)[0].tolist()],
        }
        row.update({k: v for k, v in defaults.items() if k not in sample.meta})
        return with_extras(row, sample, self.name)


def _defaults(sample: GroundingSample) -> dict[str, Any]:
    """The ``additional_info`` and ``need_format`` a sample implies (kept in meta only when different)."""
    defaults: dict[str, Any] = {"additional_info": "", "need_format": True}
    if sample.task == "group_grounding":
        try:
            x1, y1, x2, y2 = norm1000_ints(sample)[0].tolist()
            ordinal = tuple(ORDINALS)[sample.target_image - 1]
        except (DataError, IndexError, TypeError):  # no target, or a box too thin for 0-1000 integers
            del defaults["additional_info"]
        else:
            defaults["additional_info"] = (
                f"It is in the {ordinal} image. <|box_start|>({x1},{y1}),({x2},{y2})<|box_end|>. "
            )
    return defaults

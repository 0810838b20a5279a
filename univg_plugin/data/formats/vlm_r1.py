"""``vlm_r1``: VLM-R1's REC jsonl, boxes in pixels of the original image."""

from __future__ import annotations

from typing import Any

from ...boxes import CoordinateSpace
from ..errors import FieldError
from ..schema import GroundingSample, format_box
from ._fields import (
    exchanges,
    extra_fields,
    image_paths,
    json_object,
    read_boxes,
    read_question,
    row_identity,
    target_from_text,
    with_extras,
    write_question,
)
from .base import Format

_INT64_MAX = 2**63 - 1


def _json_id(identity: str) -> int | str:
    """An id of ASCII digits (no leading zero) that fits Arrow's int64 is written as a number, as VLM-R1's are.

    Example:
        >>> _json_id("12"), _json_id("012"), _json_id("9" * 20)
        (12, '012', '99999999999999999999')
    """
    if identity.isascii() and identity.isdigit() and len(identity) <= len(str(_INT64_MAX)):
        number = int(identity)
        if str(number) == identity and number <= _INT64_MAX:
            return number
    return identity


class VlmR1Format(Format):
    """VLM-R1 REC jsonl: ``{"id", "image": path or [paths], "conversations": [{"from": "human",
    "value": "<image>..."}, {"from": "gpt", "value": answer}]}`` with boxes in absolute pixels of the
    original image (``"[x1, y1, x2, y2]"`` strings or lists, optionally inside ``<answer>``).

    Cannot hold: reasoning; image_sizes; the coordinate space (written as abs_image pixels, so
    normalized boxes need image_sizes); whether an id of digits was a number or a string (written as
    a number when it fits a 64-bit integer).

    Args:
        space: Coordinate space of the answer boxes when reading (default ``abs_image``).
    """

    def __init__(self, space: str = "abs_image"):
        self.space = CoordinateSpace(space)

    def parse(self, raw: Any, default_id: str) -> list[GroundingSample]:
        raw = json_object(raw)
        images = image_paths(raw, "image")
        column, pairs, system = exchanges(raw)
        if len(pairs) != 1:
            raise FieldError(column, f"expected one human turn and one gpt turn, got {2 * len(pairs)} turns")
        question, answer, answer_field = pairs[0]
        question, named = read_question(question, len(images))
        return [
            GroundingSample(
                **row_identity(raw, default_id),
                images=images,
                question=question,
                boxes=read_boxes(answer, answer_field),
                space=self.space,
                target_image=target_from_text(question, len(images), named),
                meta={**extra_fields(raw, ("image", column)), **system},
            )
        ]

    def dump(self, sample: GroundingSample) -> dict[str, Any]:
        boxes = sample.boxes_in(CoordinateSpace.ABS_IMAGE).tolist()
        answer = ", ".join(format_box(box) for box in boxes)
        row = {
            "id": _json_id(sample.id),
            "task": sample.task,
            "image": sample.images[0] if len(sample.images) == 1 else sample.images,
            "conversations": [
                {"from": "human", "value": write_question(sample)},
                {"from": "gpt", "value": answer},
            ],
        }
        return with_extras(row, sample, self.name)

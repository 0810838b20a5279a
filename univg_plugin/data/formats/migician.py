"""``migician``: MGrounding-630k / Migician training conversations (read only)."""

from __future__ import annotations

import re
from typing import Any

from ...boxes import parse_boxes, parse_image_index
from ..errors import FieldError
from ..schema import GroundingSample
from ._fields import Exchange, conversation_samples, json_object, row_identity, target_from_text
from .base import Format

#: ``type`` prefixes of MGrounding-630k and the MIG-Bench task each names.
_TASKS = (
    ("common", "common_object"),
    ("diff", "diff"),
    ("gg", "group_grounding"),
    ("group", "group_grounding"),
    ("ot", "object_tracking"),
    ("track", "object_tracking"),
    ("refer", "refer_grounding"),
    ("region", "region"),
    ("free", "free_form"),
)


class MigicianFormat(Format):
    """MGrounding-630k / Migician training conversations: sharegpt rows with ``images``, a ``type``
    and answers like ``It's in the third image. <|box_start|>(316,58),(764,999)<|box_end|>`` (0-1000).

    Each exchange of a multi-turn conversation becomes one sample (ids suffixed ``-1``, ``-2``, ...);
    the target image is the one the answer names, else the one the question names last. An answer
    with boxes in several images is an error (a sample's boxes lie in one image). Read only.

    Cannot hold: (read only) nothing is lost in reading; ``type`` becomes the task (MIG-Bench's
    names where they match) and stays in meta.
    """

    def parse(self, raw: Any, default_id: str) -> list[GroundingSample]:
        raw = json_object(raw)
        identity = row_identity(raw, default_id)
        kind = raw.get("type")
        if "task" not in identity and isinstance(kind, str) and kind:
            identity["task"] = next((task for prefix, task in _TASKS if kind.startswith(prefix)), kind)
        return conversation_samples(raw, identity, _read_answer)


def _read_answer(exchange: Exchange) -> dict[str, Any]:
    """Boxes and target of ``It's in the third image. <|box_start|>(x1,y1),(x2,y2)<|box_end|>``."""
    answer, field = exchange.answer, exchange.answer_field
    boxes = parse_boxes(answer).tolist()
    if not boxes:
        raise FieldError(field, f"holds no box: {answer!r}")
    mentioned = {parse_image_index(part) for part in re.split(r"(?<=[.;:])\s+", answer)} - {None}
    if len(boxes) > 1 and len(mentioned) > 1:
        raise FieldError(field, f"grounds boxes in several images {sorted(mentioned)}: {answer!r}")
    if mentioned:
        target = parse_image_index(answer, last=True)
    else:
        target = target_from_text(exchange.question, exchange.image_count, exchange.named_target)
    return {"boxes": boxes, "target_image": target}

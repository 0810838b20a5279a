"""``grpo``: stage-2 GRPO rows as jsonl (write only)."""

from __future__ import annotations

from typing import Any

from ..render import grpo_row
from ..schema import GroundingSample
from .base import Format


class GrpoFormat(Format):
    """Stage-2 GRPO rows (:func:`~univg_plugin.data.render.grpo_row`) as jsonl: conversational prompt
    with image slots, images, solution boxes, their space, target image, image sizes. Write only.

    Cannot hold: (write only) reasoning and meta.

    Args:
        media_root: Directory joined to relative image paths.
    """

    def __init__(self, media_root: str | None = None):
        self.media_root = media_root

    def dump(self, sample: GroundingSample) -> dict[str, Any]:
        return grpo_row(sample, self.media_root)

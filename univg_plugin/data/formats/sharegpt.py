"""``sharegpt``: the ``univg_stage1`` layout plus its LLaMA-Factory ``dataset_info.json`` entry."""

from __future__ import annotations

from pathlib import Path

from ._fields import add_dataset_info_entry
from .univg_stage1 import Stage1Format


class SharegptFormat(Stage1Format):
    """LLaMA-Factory sharegpt for stage 1 (the ``univg_stage1`` layout), plus its ``dataset_info.json`` entry.

    Writing ``out/train.jsonl`` also adds ``{"train": {"file_name": "train.jsonl", "formatting":
    "sharegpt", "columns": {"messages": "conversations", "images": "images"}}}`` to
    ``out/dataset_info.json`` (other entries are kept).

    Cannot hold: the same as univg_stage1.

    Args:
        dataset_name: Name of the ``dataset_info.json`` entry (default: the file's stem).
        family, min_pixels, max_pixels: The model family whose answers are written, as for ``univg_stage1``.
    """

    def __init__(
        self,
        dataset_name: str | None = None,
        family: str = "qwen2_vl",
        min_pixels: int | None = None,
        max_pixels: int | None = None,
    ):
        super().__init__(family, min_pixels, max_pixels)
        self.dataset_name = dataset_name

    def finish(self, path: Path) -> None:
        entry = {"formatting": "sharegpt", "columns": {"messages": "conversations", "images": "images"}}
        add_dataset_info_entry(path, self.dataset_name, entry)

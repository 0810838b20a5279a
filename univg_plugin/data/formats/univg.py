"""``univg``: our jsonl, one validated :class:`~univg_plugin.data.schema.GroundingSample` per line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..io import is_json_list, iter_lines, iter_list
from ..schema import GroundingSample
from ._fields import add_dataset_info_entry, json_object
from .base import Format


class UnivgFormat(Format):
    """Our jsonl: one ``GroundingSample.model_dump(mode="json")`` per line (validated as it is read).

    Cannot hold: nothing is lost.

    Args:
        dataset_info: When writing, also add an entry ``{"file_name": ..., "formatting": "univg"}`` to
            the ``dataset_info.json`` next to the output, for LLaMA-Factory.
        dataset_name: Name of that entry (default: the file's stem).
    """

    def __init__(self, dataset_info: bool = False, dataset_name: str | None = None):
        self.dataset_info, self.dataset_name = dataset_info, dataset_name

    def rows(self, stream: IO[bytes], path: str | Path) -> Iterator[tuple[str, Any]]:
        if is_json_list(stream):
            return iter_list(stream, path)
        return iter_lines(stream, path)

    def parse(self, raw: bytes | dict[str, Any], default_id: str) -> list[GroundingSample]:
        if isinstance(raw, bytes | str):
            return [GroundingSample.model_validate_json(raw)]
        return [GroundingSample.model_validate(json_object(raw))]

    def dump(self, sample: GroundingSample) -> str:
        return sample.model_dump_json()

    def finish(self, path: Path) -> None:
        if self.dataset_info:
            add_dataset_info_entry(path, self.dataset_name, {"formatting": "univg"})

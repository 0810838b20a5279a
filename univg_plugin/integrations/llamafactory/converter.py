"""LLaMA-Factory's ``"formatting": "univg"``: our jsonl straight into LLaMA-Factory's loader.

A ``dataset_info.json`` entry ``{"my_data": {"file_name": "train.jsonl", "formatting": "univg"}}``
makes LLaMA-Factory load the file with ``datasets`` and hand every row to
:class:`UnivgDatasetConverter` (registered by :mod:`.hook` when LLaMA-Factory is imported), which
validates it and returns LLaMA-Factory's aligned columns: the stage-1 prompt and the paper's
answer, the images (joined to ``media_dir``), plus ``_univg``, the whole sample as JSON, for the
GRPO stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llamafactory.data import converter as llamafactory_converter
from pydantic import ValidationError

from ...data import DataError, GroundingSample, paper_answer, prompt_text
from ...data.errors import issues_of


def _without_nulls(value: Any) -> Any:
    """Arrow fills the keys a row lacks (columns, ``meta`` entries) with None: drop them, so defaults apply."""
    if isinstance(value, Mapping):  # datasets hands over a LazyRow, a Mapping but not a dict
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    return value


@dataclass
class UnivgDatasetConverter(llamafactory_converter.DatasetConverter):
    """Converts one row of our jsonl into LLaMA-Factory's aligned format (stage 1 and the GRPO stage).

    Returns ``_prompt`` (one user turn: the question with one ``<image>`` per image and the paper's
    instruction), ``_response`` (the paper's ``<think>...</think><answer>...</answer>``), empty
    ``_system``/``_tools``, ``_images`` resolved against ``media_dir``, no videos or audios, and
    ``_univg`` (``GroundingSample.model_dump_json()``).

    Raises:
        ValueError: for an invalid row, naming the dataset (its file), the row id and every bad field;
            rows are never skipped silently.
    """

    def __call__(self, example: dict[str, Any]) -> dict[str, Any]:
        row = _without_nulls(example)
        where = f"dataset {self.dataset_attr} (formatting univg), row id {example.get('id')!r}"
        try:
            sample = GroundingSample.model_validate(row).with_source(where)
        except ValidationError as error:
            raise DataError(where, issues_of(error)) from None
        return {
            "_prompt": [{"role": "user", "content": prompt_text(sample)}],
            "_response": [{"role": "assistant", "content": paper_answer(sample)}],
            "_system": "",
            "_tools": "",
            "_images": self._find_medias(list(sample.images)),
            "_videos": None,
            "_audios": None,
            "_univg": sample.model_dump_json(),
        }

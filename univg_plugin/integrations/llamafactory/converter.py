"""LLaMA-Factory's ``"formatting": "univg"`` (and ``"univg:<format>"``): our formats straight into its loader.

A ``dataset_info.json`` entry ``{"my_data": {"file_name": "train.jsonl", "formatting": "univg"}}``
makes LLaMA-Factory load the file with ``datasets`` and hand every row to
:class:`UnivgDatasetConverter` (registered by :mod:`.patches` when LLaMA-Factory is imported), which
validates it and returns LLaMA-Factory's aligned columns: the stage-1 prompt and the paper's
answer, the images (joined to ``media_dir``), plus ``_univg``, the whole sample as JSON, for the
GRPO stage. ``"formatting": "univg:<format>"`` reads the rows with any registered dataset format
(``univg plugins``), e.g. ``univg:vlm_r1`` or one another package registers, one sample per row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llamafactory.data import converter as llamafactory_converter
from pydantic import ValidationError

from ...data import DataError, FieldError, GroundingSample, get_format, paper_answer, prompt_text
from ...data.errors import Issue, issues_of


def _content_id(row: dict[str, Any]) -> str:
    """An id for a row that has none: LLaMA-Factory's map gives no row index, so the digest of its content."""
    digest = hashlib.sha1(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()
    return f"row-{digest[:12]}"


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

    Attributes:
        format_name: The dataset format the rows are in (``univg`` unless ``formatting`` says ``univg:<name>``).

    Raises:
        ValueError: for an invalid row, naming the dataset (its file), the row id and every bad field;
            rows are never skipped silently.
    """

    format_name: str = "univg"

    def __call__(self, example: dict[str, Any]) -> dict[str, Any]:
        row = _without_nulls(example)
        where = f"dataset {self.dataset_attr} (formatting {self.dataset_attr.formatting}), row id {row.get('id')!r}"
        sample = self._sample(row, where)
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

    def _sample(self, row: dict[str, Any], where: str) -> GroundingSample:
        """The one sample of ``row``, read by the dataset format."""
        reader = get_format(self.format_name)
        try:
            samples = reader.parse(row, _content_id(row))
        except (ValidationError, FieldError) as error:
            raise DataError(where, issues_of(error)) from None
        except DataError as error:
            raise DataError(where, error.issues) from None
        if len(samples) != 1:
            problem = f"format {self.format_name!r} reads {len(samples)} samples from this row; LLaMA-Factory takes one"
            hint = "convert the file first: univg data convert --from FORMAT --to univg IN OUT"
            raise DataError(where, [Issue("row", f"{problem} ({hint})")])
        return samples[0].with_source(where)

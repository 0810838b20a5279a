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
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llamafactory.data import converter as llamafactory_converter
from pydantic import ValidationError

from ...boxes import CoordinateSpace
from ...data import DataError, FieldError, GroundingSample, family_answer, get_format, prompt_text
from ...data.errors import Issue, issues_of
from ...qwen_vl import family_of_model_type, model_family

#: LLaMA-Factory's Qwen2-VL plugin enlarges an image with a side below this many pixels (``Qwen2VLPlugin``).
_SMALLEST_SIDE = 28


def model_type_of(model_args: Any) -> str | None:
    """The model's ``model_type`` (its config.json), None when its config cannot be read (LLaMA-Factory then
    reports the model it cannot load, when it loads it)."""
    from llamafactory.model.loader import load_config

    try:
        return load_config(model_args).model_type
    except (OSError, ValueError):
        return None


def llamafactory_image_size(width: int, height: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """The size of an image once LLaMA-Factory 0.9.5's multimodal plugin has pre-resized it for the processor
    (``MMPluginMixin._preprocess_image`` with ``image_min_pixels`` / ``image_max_pixels``, then ``Qwen2VLPlugin``'s
    smallest side).

    Example:
        >>> llamafactory_image_size(1000, 800, 3136, 401408)
        (708, 566)
    """
    for limit, outside in ((max_pixels, width * height > max_pixels), (min_pixels, width * height < min_pixels)):
        if outside:
            factor = math.sqrt(limit / (width * height))
            width, height = int(width * factor), int(height * factor)
    return max(width, _SMALLEST_SIDE), max(height, _SMALLEST_SIDE)


@dataclass(frozen=True)
class AnswerConvention:
    """How the model that reads a dataset writes its boxes (the stage-1 answers are written that way).

    Attributes:
        family: A key of :data:`univg_plugin.qwen_vl.MODEL_FAMILIES`.
        image_min_pixels: LLaMA-Factory's ``image_min_pixels`` (its pre-resize).
        image_max_pixels: LLaMA-Factory's ``image_max_pixels``.
        processor_pixels: The image processor's own ``(min_pixels, max_pixels)``: it resizes the pre-resized image.
    """

    family: str = "qwen2_vl"
    image_min_pixels: int = 0
    image_max_pixels: int = 0
    processor_pixels: tuple[int, int] = (0, 0)

    def answer(self, sample: GroundingSample) -> str:
        """The stage-1 answer, with pixel boxes in the model input LLaMA-Factory's pipeline makes."""
        if model_family(self.family).box_space != CoordinateSpace.ABS_INPUT.value:
            return family_answer(sample, self.family)
        if sample.image_sizes is not None:
            sizes = [
                llamafactory_image_size(w, h, self.image_min_pixels, self.image_max_pixels)
                for w, h in sample.image_sizes
            ]
            relative = [tuple(box) for box in sample.boxes_in(CoordinateSpace.NORM1).tolist()]
            sample = sample.model_copy(update={"boxes": relative, "space": CoordinateSpace.NORM1, "image_sizes": sizes})
        low, high = self.processor_pixels
        return family_answer(sample, self.family, min_pixels=low, max_pixels=high)


def answer_convention(model_args: Any) -> AnswerConvention:
    """The :class:`AnswerConvention` of the model in LLaMA-Factory's ``model_args`` (its config.json's
    ``model_type``; a model of no known family gets the paper's Qwen2-VL answers)."""
    family = family_of_model_type(model_type_of(model_args)) or "qwen2_vl"
    pixels = (0, 0)
    if model_family(family).box_space == CoordinateSpace.ABS_INPUT.value:
        from transformers import AutoImageProcessor

        size = AutoImageProcessor.from_pretrained(model_args.model_name_or_path).size
        pixels = (size["shortest_edge"], size["longest_edge"])
    return AnswerConvention(family, model_args.image_min_pixels, model_args.image_max_pixels, pixels)


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
    instruction), ``_response`` (the answer in the reading model's family's convention, :class:`AnswerConvention`;
    for Qwen2-VL the paper's ``<think>...</think><answer>(x1,y1),(x2,y2)</answer>``), empty
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
            "_response": [{"role": "assistant", "content": self._answer(sample, where)}],
            "_system": "",
            "_tools": "",
            "_images": self._find_medias(list(sample.images)),
            "_videos": None,
            "_audios": None,
            "_univg": sample.model_dump_json(),
        }

    def _answer(self, sample: GroundingSample, where: str) -> str:
        """The stage-1 answer as the model reading the dataset writes it (the paper's without a known model)."""
        convention = getattr(self.dataset_attr, "univg_answers", None) or AnswerConvention()
        try:
            return convention.answer(sample)
        except FieldError as error:
            raise DataError(where, [error.issue]) from None

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

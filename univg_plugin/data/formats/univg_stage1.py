"""``univg_stage1``: UniVG-R1's stage-1 CoT-SFT data, LLaMA-Factory sharegpt rows with the paper's answers."""

from __future__ import annotations

from typing import Any

from ...boxes import parse_image_index
from ...qwen_vl import model_family
from ..errors import FieldError
from ..render import family_answer, prompt_text, read_paper_answer
from ..schema import GroundingSample
from ._fields import Exchange, conversation_samples, json_object, row_identity, target_from_text, with_extras
from .base import Format


class Stage1Format(Format):
    """UniVG-R1 stage-1 CoT-SFT data: LLaMA-Factory sharegpt rows whose assistant turn is
    ``<think>reasoning</think><answer>(x1,y1),(x2,y2)</answer>`` (0-1000 boxes), or another family's answer.

    Reads ``conversations`` (from/value) or ``messages`` (role/content); a multi-turn conversation
    gives one sample per exchange (ids suffixed ``-1``, ``-2``, ...). Writes ``conversations`` with the
    prompt of :func:`~univg_plugin.data.render.prompt_text` and the answer of
    :func:`~univg_plugin.data.render.family_answer` (Qwen2-VL's: the paper's).

    Cannot hold: the coordinate space (boxes become 0-1000 integers, or Qwen2.5-VL's model-input pixels, so
    pixel boxes need image_sizes, precision below one unit is lost and a box thinner than one unit is
    refused); image_sizes; a multi-image sample without target_image comes back with the image its question
    or reasoning names last, if any.

    Args:
        family: The model family whose answers are written and read (``qwen2_vl``, ``qwen2_5_vl``, ``qwen3_vl``):
            its box syntax, space and reasoning tags (``univg_plugin.qwen_vl.MODEL_FAMILIES``).
        min_pixels: The processor's ``min_pixels``; needed (with ``max_pixels``) to write ``qwen2_5_vl``
            answers, in pixels of the resized input.
        max_pixels: The processor's ``max_pixels``, likewise.
    """

    def __init__(self, family: str = "qwen2_vl", min_pixels: int | None = None, max_pixels: int | None = None):
        try:
            self.family = model_family(family).name
        except KeyError as error:
            raise ValueError(error.args[0]) from None
        self.min_pixels = None if min_pixels is None else int(min_pixels)
        self.max_pixels = None if max_pixels is None else int(max_pixels)

    def parse(self, raw: Any, default_id: str) -> list[GroundingSample]:
        raw = json_object(raw)
        space = model_family(self.family).box_space
        return conversation_samples(raw, row_identity(raw, default_id), lambda turn: _read_answer(turn, space))

    def dump(self, sample: GroundingSample) -> dict[str, Any]:
        row = {
            "id": sample.id,
            "task": sample.task,
            "images": sample.images,
            "conversations": [
                {"from": "human", "value": prompt_text(sample)},
                {"from": "gpt", "value": self.answer(sample)},
            ],
        }
        return with_extras(row, sample, self.name)

    def answer(self, sample: GroundingSample) -> str:
        """The assistant turn of ``sample`` in this format's family."""
        return family_answer(sample, self.family, min_pixels=self.min_pixels, max_pixels=self.max_pixels)


def _read_answer(exchange: Exchange, space: str) -> dict[str, Any]:
    """Reasoning, boxes (in ``space``) and target of ``<think>...</think><answer>...</answer>``.

    The target is the one our sentence "So the target is in image N." says, else the one the
    question names, else (with several images) the one the reasoning names last.
    """
    reasoning, boxes, said = read_paper_answer(exchange.answer)
    boxes = boxes.tolist()
    if not boxes:
        raise FieldError(exchange.answer_field, "has no box inside <answer>...</answer>")
    if said is not None:
        target = said
    else:
        target = target_from_text(exchange.question, exchange.image_count, exchange.named_target)
    if target is None and reasoning and exchange.image_count > 1:
        target = parse_image_index(reasoning, last=True)
    return {"boxes": boxes, "space": space, "reasoning": reasoning, "target_image": target}

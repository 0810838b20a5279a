"""``univg_stage1``: UniVG-R1's stage-1 CoT-SFT data, LLaMA-Factory sharegpt rows with the paper's answers."""

from __future__ import annotations

from typing import Any

from ...boxes import parse_image_index
from ..errors import FieldError
from ..render import paper_answer, prompt_text, read_paper_answer
from ..schema import GroundingSample
from ._fields import Exchange, conversation_samples, json_object, row_identity, target_from_text, with_extras
from .base import Format


class Stage1Format(Format):
    """UniVG-R1 stage-1 CoT-SFT data: LLaMA-Factory sharegpt rows whose assistant turn is
    ``<think>reasoning</think><answer>(x1,y1),(x2,y2)</answer>`` (0-1000 boxes).

    Reads ``conversations`` (from/value) or ``messages`` (role/content); a multi-turn conversation
    gives one sample per exchange (ids suffixed ``-1``, ``-2``, ...). Writes ``conversations`` with the
    prompt of :func:`~univg_plugin.data.render.prompt_text` and the answer of
    :func:`~univg_plugin.data.render.paper_answer`.

    Cannot hold: the coordinate space (boxes become 0-1000 integers, so pixel boxes need image_sizes,
    precision below one unit is lost and a box thinner than one unit is refused); image_sizes; a
    multi-image sample without target_image comes back with the image its question or reasoning
    names last, if any.
    """

    def parse(self, raw: Any, default_id: str) -> list[GroundingSample]:
        raw = json_object(raw)
        return conversation_samples(raw, row_identity(raw, default_id), _read_answer)

    def dump(self, sample: GroundingSample) -> dict[str, Any]:
        row = {
            "id": sample.id,
            "task": sample.task,
            "images": sample.images,
            "conversations": [
                {"from": "human", "value": prompt_text(sample)},
                {"from": "gpt", "value": paper_answer(sample)},
            ],
        }
        return with_extras(row, sample, self.name)


def _read_answer(exchange: Exchange) -> dict[str, Any]:
    """Reasoning, boxes and target of ``<think>...</think><answer>...</answer>``.

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
    return {"boxes": boxes, "reasoning": reasoning, "target_image": target}

"""Reading and writing the pieces that several formats share: fields, questions, conversations.

The conventions they implement are those of :mod:`univg_plugin.data.formats`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from ...boxes import CoordinateSpace, parse_boxes, parse_image_index
from ..errors import FieldError
from ..render import PAPER_INSTRUCTION, names_target, numbered_suffix
from ..schema import IMAGE_PLACEHOLDER, GroundingSample

_LOCATE = " Locate it in image-{index}."
_LOCATE_PREFIX = _LOCATE.partition("{")[0]
_SPACES = re.compile(r"\s*")  # matched at a position only: linear
_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}


# ---------------------------------------------------------------- fields of a row


def json_object(raw: Any) -> dict[str, Any]:
    """``raw`` when it is a JSON object (a dict).

    Raises:
        FieldError: for anything else.
    """
    if not isinstance(raw, dict):
        raise FieldError("row", f"expected a JSON object, got {type(raw).__name__}")
    return raw


def text_field(raw: dict[str, Any], key: str) -> str:
    """The string ``raw[key]`` (FieldError when missing or not a string)."""
    value = raw.get(key)
    if not isinstance(value, str):
        raise FieldError(key, "is missing" if value is None else f"must be a string, got {value!r}")
    return value


def image_paths(raw: dict[str, Any], key: str) -> list[str]:
    """``raw[key]`` as a list of image paths (one path or a non-empty list of them)."""
    value = raw.get(key)
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value or not all(isinstance(path, str) for path in value):
        raise FieldError(key, "is missing" if value is None else "must be an image path or a list of image paths")
    return value


def read_boxes(value: Any, field: str) -> list[list[float]]:
    """``[x1, y1, x2, y2]``, a list of those, or a string holding box(es).

    Raises:
        FieldError: when there is no box, or a box holds something other than numbers (naming it).

    Example:
        >>> read_boxes("[1, 2, 3, 4]", "answer"), read_boxes([1, 2, 3, 4], "answer")
        ([[1.0, 2.0, 3.0, 4.0]], [[1, 2, 3, 4]])
    """
    if isinstance(value, str):
        boxes = parse_boxes(value).tolist()
    elif isinstance(value, list) and len(value) == 4 and all(isinstance(v, int | float) for v in value):
        boxes = [value]
    elif isinstance(value, list) and value and all(isinstance(box, list) and len(box) == 4 for box in value):
        for index, box in enumerate(value):
            for position, number in enumerate(box):
                if not isinstance(number, int | float):
                    raise FieldError(f"{field}[{index}][{position}]", f"must be a number, got {number!r}")
        boxes = value
    else:
        boxes = []
    if not boxes:
        raise FieldError(field, f"holds no box [x1, y1, x2, y2]: {value!r}")
    return boxes


def row_identity(raw: dict[str, Any], default_id: str) -> dict[str, Any]:
    """``{"id": ...}`` (``default_id`` when the row has none) plus ``"task"`` when the row names one."""
    identity = {"id": str(raw["id"]) if raw.get("id") not in (None, "") else default_id}
    if isinstance(raw.get("task"), str) and raw["task"]:
        identity["task"] = raw["task"]
    return identity


def extra_fields(raw: dict[str, Any], native: tuple[str, ...]) -> dict[str, Any]:
    """The keys of a row that are neither the format's own (``native``) nor ``id`` / ``task``: its meta."""
    return {key: value for key, value in raw.items() if key not in native and key not in ("id", "task")}


def with_extras(row: dict[str, Any], sample: GroundingSample, format_name: str) -> dict[str, Any]:
    """``row`` with the sample's ``meta`` entries as top-level keys (FieldError when one collides)."""
    for key, value in sample.meta.items():
        if key in row:
            raise FieldError(f"meta.{key}", f"collides with the {format_name} field {key!r}; rename it")
        row[key] = value
    return row


def check_one_box(sample: GroundingSample, format_name: str) -> None:
    """Refuse a sample with several boxes, for a format that holds one."""
    if len(sample.boxes) != 1:
        raise FieldError("boxes", f"{format_name} holds one box per sample, this one has {len(sample.boxes)}")


def json_number(value: float, space: CoordinateSpace | str) -> float | int:
    """0-1000 values that are whole numbers are written as integers (UniVG-R1's revised MIG-Bench)."""
    return int(value) if space == CoordinateSpace.NORM1000 and value.is_integer() else value


# ---------------------------------------------------------------- questions


def read_question(question: str, image_count: int) -> tuple[str, int | None]:
    """Undo the writers' additions: the paper's instruction, the target suffix, leading placeholders.

    Returns:
        The question, and the target image the suffix named (None without one).

    Example:
        >>> read_question("<image><image>Find it. Locate it in image-2.", 2)
        ('Find it.', 2)
    """
    if question.endswith(" " + PAPER_INSTRUCTION):
        question = question[: -len(PAPER_INSTRUCTION) - 1]
    elif question.endswith(PAPER_INSTRUCTION):
        question = question[: -len(PAPER_INSTRUCTION)]
    target = None
    located = numbered_suffix(question, _LOCATE_PREFIX)
    if located is not None:
        question, target = question[: located[0]], located[1]
    return _without_leading_placeholders(question, image_count), target


def _without_leading_placeholders(question: str, count: int) -> str:
    """``question`` without its placeholders when they are exactly ``count`` and all come first (with the
    whitespace around them)."""
    if question.count(IMAGE_PLACEHOLDER) != count:
        return question
    position = 0
    for _ in range(count):
        position = _SPACES.match(question, position).end()
        if not question.startswith(IMAGE_PLACEHOLDER, position):
            return question
        position += len(IMAGE_PLACEHOLDER)
    return question[_SPACES.match(question, position).end() :]


def target_from_text(question: str, image_count: int, explicit: int | None = None) -> int | None:
    """``explicit`` if given, else (with several images) the image the question names last."""
    if explicit is not None or image_count <= 1:
        return explicit
    return parse_image_index(question, last=True)


def write_question(sample: GroundingSample, placeholders: bool = True) -> str:
    """The question, naming the target image when it does not already, with leading placeholders."""
    question = sample.question
    if not names_target(question, sample.target_image, len(sample.images)):
        question += _LOCATE.format(index=sample.target_image)
    if placeholders and IMAGE_PLACEHOLDER not in question:
        question = IMAGE_PLACEHOLDER * len(sample.images) + question
    return question


# ---------------------------------------------------------------- conversations


def _messages(raw: dict[str, Any]) -> tuple[str, list[tuple[str, str, str]]]:
    """``(column, [(role, content, field), ...])`` of a sharegpt (from/value) or openai (role/content) row."""
    column = "conversations" if "conversations" in raw else "messages"
    messages = raw.get(column)
    if not isinstance(messages, list) or not messages:
        raise FieldError(column, "is missing" if messages is None else "must be a non-empty list of turns")
    turns = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise FieldError(f"{column}[{index}]", "must be an object with from/value or role/content")
        role_key, content_key = ("from", "value") if "from" in message else ("role", "content")
        name = message.get(role_key)
        role = _ROLES.get(name) if isinstance(name, str) else None
        if role is None:
            raise FieldError(f"{column}[{index}].{role_key}", f"unknown role {name!r}")
        turns.append((role, message.get(content_key), f"{column}[{index}].{content_key}"))
    return column, turns


def exchanges(raw: dict[str, Any]) -> tuple[str, list[tuple[str, Any, str]], dict[str, Any]]:
    """The conversation of a row as ``(column, [(question, answer, answer field), ...], {"system": ...})``.

    The last dict is empty when the conversation has no system prompt.

    Raises:
        FieldError: when the turns are not user/assistant pairs (after an optional system turn).
    """
    column, turns = _messages(raw)
    system = {}
    if turns[0][0] == "system":
        system = {"system": turns[0][1]}
        turns = turns[1:]
    if len(turns) < 2 or len(turns) % 2:
        raise FieldError(column, f"expected user/assistant turn pairs, got {len(turns)} turn(s)")
    pairs = []
    for index in range(0, len(turns), 2):
        (user, question, question_field), (assistant, answer, answer_field) = turns[index], turns[index + 1]
        if user != "user" or assistant != "assistant":
            raise FieldError(question_field, "turns must alternate user, assistant")
        if not isinstance(question, str):
            raise FieldError(question_field, "must be a string")
        pairs.append((question, answer, answer_field))
    return column, pairs, system


class Exchange(NamedTuple):
    """One question/answer pair of a conversation, as :func:`conversation_samples` hands it to a format.

    Attributes:
        question: The question, without the writers' additions (see :func:`read_question`).
        named_target: The target image the question's ``Locate it in image-N.`` suffix named, if any.
        answer: The assistant's answer.
        answer_field: Where the answer is in the row, for errors (``conversations[1].value``).
        image_count: The number of images of the row.
    """

    question: str
    named_target: int | None
    answer: str
    answer_field: str
    image_count: int


def conversation_samples(
    raw: dict[str, Any], identity: dict[str, Any], read_answer: Callable[[Exchange], dict[str, Any]]
) -> list[GroundingSample]:
    """One sample per exchange of a multi-turn row with ``images`` and ``conversations`` or ``messages``.

    Args:
        raw: The row.
        identity: Its ``id`` (suffixed ``-1``, ``-2``, ... when there are several exchanges) and ``task``.
        read_answer: The sample fields an exchange's answer gives (``boxes``, ``target_image``, ...).

    Returns:
        The samples; keys other than ``images`` and the conversation (and a system prompt) go to meta.
    """
    images = image_paths(raw, "images")
    column, pairs, system = exchanges(raw)
    meta = {**extra_fields(raw, ("images", column)), **system}
    samples = []
    for number, (question, answer, answer_field) in enumerate(pairs, start=1):
        if not isinstance(answer, str):
            raise FieldError(answer_field, "must be a string")
        question, named = read_question(question, len(images))
        fields = read_answer(Exchange(question, named, answer, answer_field, len(images)))
        turn = {**identity, "id": f"{identity['id']}-{number}"} if len(pairs) > 1 else identity
        samples.append(GroundingSample(**turn, images=images, question=question, meta=meta, **fields))
    return samples


# ---------------------------------------------------------------- LLaMA-Factory's dataset_info.json


def add_dataset_info_entry(path: Path, name: str | None, entry: dict[str, Any]) -> None:
    """Add (or replace) one entry in the ``dataset_info.json`` next to ``path`` (named ``name`` or its stem)."""
    info_path = path.parent / "dataset_info.json"
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    info[name or path.stem] = {"file_name": path.name, **entry}
    info_path.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")

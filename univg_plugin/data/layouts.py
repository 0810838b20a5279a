"""The dataset formats met in the wild, each registered by name (see :mod:`.registry`).

Conventions shared by every format other than ``univg``:

- ``id`` and ``task`` are read when present and written as extra keys; other source keys go to
  ``meta`` on reading, and ``meta`` entries come back as top-level keys on writing, so a round trip
  keeps them (a ``meta`` key that collides with a field of the format is an error);
- a question whose placeholders all come before its text (one per image, with or without whitespace
  between them) is read without them: it means the same as a question with none (all images first),
  which writers render as ``<image>`` * n + question; a trailing :data:`~.render.PAPER_INSTRUCTION`
  is removed too (renderers add it back);
- formats with no target-image field name it in the question: writers append
  ``" Locate it in image-N."`` when the question does not already name the target last, readers take
  it back, and otherwise use the image the question names last.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..boxes import CoordinateSpace, parse_boxes, parse_image_index
from .errors import DataError, FieldError
from .jsonio import is_json_list, iter_lines, iter_list
from .registry import Format, register_format
from .render import (
    PAPER_INSTRUCTION,
    grpo_row,
    names_target,
    norm1000_ints,
    paper_answer,
    prompt_text,
    read_paper_answer,
)
from .schema import IMAGE_PLACEHOLDER, GroundingSample, format_box

_LOCATE = " Locate it in image-{index}."
_LOCATE_RE = re.compile(r" Locate it in image-(\d+)\.$")
_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


# ---------------------------------------------------------------- shared pieces of the layouts


def _object(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise FieldError("row", f"expected a JSON object, got {type(raw).__name__}")
    return raw


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        raise FieldError(key, "is missing" if value is None else f"must be a string, got {value!r}")
    return value


def _paths(raw: dict[str, Any], key: str) -> list[str]:
    value = raw.get(key)
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value or not all(isinstance(path, str) for path in value):
        raise FieldError(key, "is missing" if value is None else "must be an image path or a list of image paths")
    return value


def _boxes(value: Any, field: str) -> list[list[float]]:
    """``[x1, y1, x2, y2]``, a list of those, or a string holding box(es)."""
    if isinstance(value, str):
        boxes = parse_boxes(value).tolist()
    elif isinstance(value, list) and len(value) == 4 and all(isinstance(v, int | float) for v in value):
        boxes = [value]
    elif isinstance(value, list) and value and all(isinstance(box, list) and len(box) == 4 for box in value):
        boxes = value
    else:
        boxes = []
    if not boxes:
        raise FieldError(field, f"holds no box [x1, y1, x2, y2]: {value!r}")
    return boxes


def _identity(raw: dict[str, Any], default_id: str) -> dict[str, Any]:
    identity = {"id": str(raw["id"]) if raw.get("id") not in (None, "") else default_id}
    if isinstance(raw.get("task"), str) and raw["task"]:
        identity["task"] = raw["task"]
    return identity


def _extras(raw: dict[str, Any], native: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in raw.items() if key not in native and key not in ("id", "task")}


def _with_extras(row: dict[str, Any], sample: GroundingSample, name: str) -> dict[str, Any]:
    for key, value in sample.meta.items():
        if key in row:
            raise FieldError(f"meta.{key}", f"collides with the {name} field {key!r}; rename it")
        row[key] = value
    return row


def _json_number(value: float, space: CoordinateSpace | str) -> float | int:
    """0-1000 values that are whole numbers are written as integers (UniVG-R1's revised MIG-Bench)."""
    return int(value) if space == CoordinateSpace.NORM1000 and value.is_integer() else value


def _read_question(question: str, image_count: int) -> tuple[str, int | None]:
    """Undo the writers' additions: the paper's instruction, the target suffix, leading placeholders."""
    if question.endswith(" " + PAPER_INSTRUCTION):
        question = question[: -len(PAPER_INSTRUCTION) - 1]
    elif question.endswith(PAPER_INSTRUCTION):
        question = question[: -len(PAPER_INSTRUCTION)]
    target = None
    match = _LOCATE_RE.search(question)
    if match:
        question, target = question[: match.start()], int(match.group(1))
    leading = re.match(rf"(?:\s*{re.escape(IMAGE_PLACEHOLDER)}){{{image_count}}}\s*", question)
    if leading and question.count(IMAGE_PLACEHOLDER) == image_count:
        question = question[leading.end() :]
    return question, target


def _target_from_text(question: str, image_count: int, explicit: int | None = None) -> int | None:
    if explicit is not None or image_count <= 1:
        return explicit
    return parse_image_index(question, last=True)


def _write_question(sample: GroundingSample, placeholders: bool = True) -> str:
    question = sample.question
    if not names_target(question, sample.target_image, len(sample.images)):
        question += _LOCATE.format(index=sample.target_image)
    if placeholders and IMAGE_PLACEHOLDER not in question:
        question = IMAGE_PLACEHOLDER * len(sample.images) + question
    return question


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
        role = _ROLES.get(message.get(role_key))
        if role is None:
            raise FieldError(f"{column}[{index}].{role_key}", f"unknown role {message.get(role_key)!r}")
        turns.append((role, message.get(content_key), f"{column}[{index}].{content_key}"))
    return column, turns


def _exchanges(raw: dict[str, Any]) -> tuple[str, list[tuple[str, Any, str]], dict[str, Any]]:
    """The (question, answer) turn pairs of a conversation, plus its system prompt (in a dict, if any)."""
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


def _dataset_info_entry(path: Path, name: str | None, entry: dict[str, Any]) -> None:
    """Add (or replace) one entry in the ``dataset_info.json`` next to ``path``."""
    info_path = path.parent / "dataset_info.json"
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    info[name or path.stem] = {"file_name": path.name, **entry}
    info_path.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- the formats


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
        return [GroundingSample.model_validate(_object(raw))]

    def dump(self, sample: GroundingSample) -> str:
        return sample.model_dump_json()

    def finish(self, path: Path) -> None:
        if self.dataset_info:
            _dataset_info_entry(path, self.dataset_name, {"formatting": "univg"})


class Stage1Format(Format):
    """UniVG-R1 stage-1 CoT-SFT data: LLaMA-Factory sharegpt rows whose assistant turn is
    ``<think>reasoning</think><answer>(x1,y1),(x2,y2)</answer>`` (0-1000 boxes).

    Reads ``conversations`` (from/value) or ``messages`` (role/content); a multi-turn conversation
    gives one sample per exchange (ids suffixed ``-1``, ``-2``, ...). Writes ``conversations`` with the
    prompt of :func:`~.render.prompt_text` and the answer of :func:`~.render.paper_answer`.

    Cannot hold: the coordinate space (boxes become 0-1000 integers, so pixel boxes need image_sizes,
    precision below one unit is lost and a box thinner than one unit is refused); image_sizes; a
    multi-image sample without target_image comes back with the image its question or reasoning
    names last, if any.
    """

    def parse(self, raw: Any, default_id: str) -> list[GroundingSample]:
        raw = _object(raw)
        images = _paths(raw, "images")
        identity = _identity(raw, default_id)
        column, pairs, system = _exchanges(raw)
        meta = {**_extras(raw, ("images", column)), **system}
        samples = []
        for number, (question, answer, answer_field) in enumerate(pairs, start=1):
            if not isinstance(answer, str):
                raise FieldError(answer_field, "must be a string")
            reasoning, boxes, said = read_paper_answer(answer)
            boxes = boxes.tolist()
            if not boxes:
                raise FieldError(answer_field, "has no box inside <answer>...</answer>")
            question, named = _read_question(question, len(images))
            target = said if said is not None else _target_from_text(question, len(images), named)
            if target is None and reasoning and len(images) > 1:
                target = parse_image_index(reasoning, last=True)
            turn = {**identity, "id": f"{identity['id']}-{number}"} if len(pairs) > 1 else identity
            samples.append(
                GroundingSample(
                    **turn,
                    images=images,
                    question=question,
                    boxes=boxes,
                    reasoning=reasoning,
                    target_image=target,
                    meta=meta,
                )
            )
        return samples

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
        return _with_extras(row, sample, self.name)


class SharegptFormat(Stage1Format):
    """LLaMA-Factory sharegpt for stage 1 (the ``univg_stage1`` layout), plus its ``dataset_info.json`` entry.

    Writing ``out/train.jsonl`` also adds ``{"train": {"file_name": "train.jsonl", "formatting":
    "sharegpt", "columns": {"messages": "conversations", "images": "images"}}}`` to
    ``out/dataset_info.json`` (other entries are kept).

    Cannot hold: the same as univg_stage1.

    Args:
        dataset_name: Name of the ``dataset_info.json`` entry (default: the file's stem).
    """

    def __init__(self, dataset_name: str | None = None):
        self.dataset_name = dataset_name

    def finish(self, path: Path) -> None:
        entry = {"formatting": "sharegpt", "columns": {"messages": "conversations", "images": "images"}}
        _dataset_info_entry(path, self.dataset_name, entry)


class Stage2Format(Format):
    """UniVG-R1 stage-2 RL data: a JSON list of ``{"question", "answer": [x1, y1, x2, y2], "images"}``,
    boxes in 0-1000, ``<image>`` placeholders in the question, the target image named in the question.

    Cannot hold: reasoning; several boxes; image_sizes; the coordinate space (written as 0-1000
    integers).

    Args:
        space: Coordinate space of the ``answer`` boxes when reading (default ``norm1000``).
    """

    _native = ("question", "answer", "images")

    def __init__(self, space: str = "norm1000"):
        self.space = CoordinateSpace(space)

    def parse(self, raw: Any, default_id: str) -> list[GroundingSample]:
        raw = _object(raw)
        images = _paths(raw, "images")
        question, named = _read_question(_text(raw, "question"), len(images))
        return [
            GroundingSample(
                **_identity(raw, default_id),
                images=images,
                question=question,
                boxes=_boxes(raw.get("answer"), "answer"),
                space=self.space,
                target_image=_target_from_text(question, len(images), named),
                meta=_extras(raw, self._native),
            )
        ]

    def dump(self, sample: GroundingSample) -> dict[str, Any]:
        if len(sample.boxes) != 1:
            raise FieldError("boxes", f"{self.name} holds one box per sample, this one has {len(sample.boxes)}")
        row = {
            "id": sample.id,
            "task": sample.task,
            "question": _write_question(sample),
            "answer": norm1000_ints(sample)[0].tolist(),
            "images": sample.images,
        }
        return _with_extras(row, sample, self.name)


class MigicianFormat(Format):
    """MGrounding-630k / Migician training conversations: sharegpt rows with ``images``, a ``type``
    and answers like ``It's in the third image. <|box_start|>(316,58),(764,999)<|box_end|>`` (0-1000).

    Each exchange of a multi-turn conversation becomes one sample (ids suffixed ``-1``, ``-2``, ...);
    the target image is the one the answer names, else the one the question names last. An answer
    with boxes in several images is an error (a sample's boxes lie in one image). Read only.

    Cannot hold: (read only) nothing is lost in reading; ``type`` becomes the task (MIG-Bench's
    names where they match) and stays in meta.
    """

    _tasks = (
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

    def parse(self, raw: Any, default_id: str) -> list[GroundingSample]:
        raw = _object(raw)
        images = _paths(raw, "images")
        identity = _identity(raw, default_id)
        kind = raw.get("type")
        if "task" not in identity and isinstance(kind, str) and kind:
            identity["task"] = next((task for prefix, task in self._tasks if kind.startswith(prefix)), kind)
        column, pairs, system = _exchanges(raw)
        meta = {**_extras(raw, ("images", column)), **system}
        samples = []
        for number, (question, answer, answer_field) in enumerate(pairs, start=1):
            if not isinstance(answer, str):
                raise FieldError(answer_field, "must be a string")
            boxes = parse_boxes(answer).tolist()
            if not boxes:
                raise FieldError(answer_field, f"holds no box: {answer!r}")
            mentioned = {parse_image_index(part) for part in re.split(r"(?<=[.;:])\s+", answer)} - {None}
            if len(boxes) > 1 and len(mentioned) > 1:
                raise FieldError(answer_field, f"grounds boxes in several images {sorted(mentioned)}: {answer!r}")
            question, named = _read_question(question, len(images))
            if mentioned:
                target = parse_image_index(answer, last=True)
            else:
                target = _target_from_text(question, len(images), named)
            turn = {**identity, "id": f"{identity['id']}-{number}"} if len(pairs) > 1 else identity
            samples.append(
                GroundingSample(**turn, images=images, question=question, boxes=boxes, target_image=target, meta=meta)
            )
        return samples


class MigBenchFormat(Format):
    """MIG-Bench (and UniVG-R1's revised copy): a JSON list of ``{"task", "images", "question",
    "answer": [x1, y1, x2, y2], "additional_info", "need_format"}``.

    Boxes are 0-1 floats in the original release and 0-1000 integers in UniVG-R1's
    ``revised_MIG_bench.json``: the space is detected per row (any value above 2 means 0-1000, so a
    0-1 box slightly outside the image is still reported as such) unless given. The target image:
    for ``group_grounding`` the one ``additional_info`` names ("It is in the first image. ..."),
    otherwise the one the question names last, else for ``region`` the source image 1 (None for the
    original ``diff`` rows, whose box holds in both images).

    Cannot hold: reasoning; several boxes; image_sizes; pixel spaces (written as 0-1 floats).

    Args:
        space: Force the coordinate space of ``answer`` when reading (``norm1`` or ``norm1000``).
    """

    _native = ("images", "question", "answer")

    def __init__(self, space: str | None = None):
        self.space = None if space is None else CoordinateSpace(space)

    def parse(self, raw: Any, default_id: str) -> list[GroundingSample]:
        raw = _object(raw)
        images = _paths(raw, "images")
        task = _text(raw, "task")
        boxes = _boxes(raw.get("answer"), "answer")
        space = self.space or (
            CoordinateSpace.NORM1000 if max(max(box) for box in boxes) > 2 else CoordinateSpace.NORM1
        )
        question, named = _read_question(_text(raw, "question"), len(images))
        if task == "group_grounding" and named is None:
            named = parse_image_index(_text(raw, "additional_info"))
            if named is None:
                raise FieldError("additional_info", "names no target image (group_grounding needs it)")
        target = _target_from_text(question, len(images), named)
        sample = GroundingSample(
            **_identity(raw, default_id),
            images=images,
            question=question,
            boxes=boxes,
            space=space,
            target_image=1 if target is None and task == "region" else target,
        )
        defaults = self._defaults(sample)
        extras = _extras(raw, self._native)
        sample.meta.update({k: v for k, v in extras.items() if k not in defaults or defaults[k] != v})
        return [sample]

    @staticmethod
    def _defaults(sample: GroundingSample) -> dict[str, Any]:
        """The ``additional_info`` and ``need_format`` a sample implies (kept in meta only when different)."""
        defaults: dict[str, Any] = {"additional_info": "", "need_format": True}
        if sample.task == "group_grounding":
            try:
                x1, y1, x2, y2 = norm1000_ints(sample)[0].tolist()
                ordinal = _ORDINALS[sample.target_image - 1]
            except (DataError, IndexError, TypeError):  # no target, or a box too thin for 0-1000 integers
                del defaults["additional_info"]
            else:
                defaults["additional_info"] = (
                    f"It is in the {ordinal} image. <|box_start|>({x1},{y1}),({x2},{y2})<|box_end|>. "
                )
        return defaults

    def dump(self, sample: GroundingSample) -> dict[str, Any]:
        if len(sample.boxes) != 1:
            raise FieldError("boxes", f"{self.name} holds one box per sample, this one has {len(sample.boxes)}")
        space = sample.space if sample.space in (CoordinateSpace.NORM1, CoordinateSpace.NORM1000) else "norm1"
        grouped = sample.task == "group_grounding"
        defaults = self._defaults(sample)
        if grouped and "additional_info" not in defaults and "additional_info" not in sample.meta:
            if sample.target_image is None or sample.target_image > len(_ORDINALS):
                raise FieldError(
                    "target_image", "group_grounding needs a target image of 1 to 10 (additional_info names it)"
                )
            norm1000_ints(sample)  # raises: the box is too thin for additional_info's 0-1000 integers
        row = {
            "id": sample.id,
            "task": sample.task,
            "images": sample.images,
            "question": sample.question if grouped else _write_question(sample, placeholders=False),
            "answer": [_json_number(value, space) for value in sample.boxes_in(space)[0].tolist()],
        }
        row.update({k: v for k, v in defaults.items() if k not in sample.meta})
        return _with_extras(row, sample, self.name)


class VlmR1Format(Format):
    """VLM-R1 REC jsonl: ``{"id", "image": path or [paths], "conversations": [{"from": "human",
    "value": "<image>..."}, {"from": "gpt", "value": answer}]}`` with boxes in absolute pixels of the
    original image (``"[x1, y1, x2, y2]"`` strings or lists, optionally inside ``<answer>``).

    Cannot hold: reasoning; image_sizes; the coordinate space (written as abs_image pixels, so
    normalized boxes need image_sizes).

    Args:
        space: Coordinate space of the answer boxes when reading (default ``abs_image``).
    """

    def __init__(self, space: str = "abs_image"):
        self.space = CoordinateSpace(space)

    def parse(self, raw: Any, default_id: str) -> list[GroundingSample]:
        raw = _object(raw)
        images = _paths(raw, "image")
        column, pairs, system = _exchanges(raw)
        if len(pairs) != 1:
            raise FieldError(column, f"expected one human turn and one gpt turn, got {2 * len(pairs)} turns")
        question, answer, answer_field = pairs[0]
        question, named = _read_question(question, len(images))
        return [
            GroundingSample(
                **_identity(raw, default_id),
                images=images,
                question=question,
                boxes=_boxes(answer, answer_field),
                space=self.space,
                target_image=_target_from_text(question, len(images), named),
                meta={**_extras(raw, ("image", column)), **system},
            )
        ]

    def dump(self, sample: GroundingSample) -> dict[str, Any]:
        boxes = sample.boxes_in(CoordinateSpace.ABS_IMAGE).tolist()
        answer = ", ".join(format_box(box) for box in boxes)
        identity = int(sample.id) if sample.id.isdigit() and str(int(sample.id)) == sample.id else sample.id
        row = {
            "id": identity,
            "task": sample.task,
            "image": sample.images[0] if len(sample.images) == 1 else sample.images,
            "conversations": [
                {"from": "human", "value": _write_question(sample)},
                {"from": "gpt", "value": answer},
            ],
        }
        return _with_extras(row, sample, self.name)


class GrpoFormat(Format):
    """Stage-2 GRPO rows (:func:`~.render.grpo_row`) as jsonl: conversational prompt with image
    slots, images, solution boxes, their space, target image, image sizes. Write only.

    Cannot hold: (write only) reasoning and meta.

    Args:
        media_root: Directory joined to relative image paths.
    """

    def __init__(self, media_root: str | None = None):
        self.media_root = media_root

    def dump(self, sample: GroundingSample) -> dict[str, Any]:
        return grpo_row(sample, self.media_root)


for _name, _class in (
    ("univg", UnivgFormat),
    ("univg_stage1", Stage1Format),
    ("sharegpt", SharegptFormat),
    ("univg_stage2", Stage2Format),
    ("migician", MigicianFormat),
    ("mig_bench", MigBenchFormat),
    ("vlm_r1", VlmR1Format),
    ("grpo", GrpoFormat),
):
    register_format(_name, _class)

"""A sample as the models see it: the paper's prompt, the stage-1 answer, and the stage-2 GRPO row.

Stage 1 (CoT-SFT) trains on ``question + PAPER_INSTRUCTION`` -> ``<think>...</think><answer>(x1,y1),(x2,y2)</answer>``;
stage 2 (GRPO) samples answers to the same prompt and scores them against the ground-truth boxes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from itertools import islice
from typing import TYPE_CHECKING, Any

import numpy as np

from ..boxes import MAX_INDEX_DIGITS, AnswerPolicy, CoordinateSpace, answer_boxes, parse_image_index, smart_resize
from ..qwen_vl import ModelFamily, model_family
from .errors import DataError, FieldError, Issue
from .schema import IMAGE_PLACEHOLDER, GroundingSample, format_box

if TYPE_CHECKING:
    from datasets import Dataset, Features

#: UniVG-R1's question suffix, appended to every prompt of both stages (unless already present).
PAPER_INSTRUCTION = (
    "First output the thinking process in <think> </think> tags and then output the bounding box in "
    "<answer> </answer> tags."
)
#: The sentence the stage-1 answer adds to the reasoning when the question does not name the target image.
TARGET_SENTENCE = "So the target is in image {index}."
_TARGET_PREFIX = TARGET_SENTENCE.partition("{")[0]
#: Longer digit runs name no image (as in :mod:`univg_plugin.boxes`; ``int`` refuses more than 4,300 digits).


def with_instruction(question: str) -> str:
    """The question followed by :data:`PAPER_INSTRUCTION` (once).

    Example:
        >>> with_instruction("Where is the dog?") == "Where is the dog? " + PAPER_INSTRUCTION
        True
    """
    if PAPER_INSTRUCTION in question:
        return question
    return f"{question} {PAPER_INSTRUCTION}"


def prompt_text(sample: GroundingSample) -> str:
    """The stage-1 user turn: exactly one ``<image>`` per image (prepended when the question has none)
    and the paper's instruction.

    Example:
        >>> s = GroundingSample(id="a", images=["1.png", "2.png"], question="Find the cat.", boxes=[[1, 2, 3, 4]])
        >>> prompt_text(s).startswith("<image><image>Find the cat. First output")
        True
    """
    question = with_instruction(sample.question)
    if IMAGE_PLACEHOLDER not in question:
        question = IMAGE_PLACEHOLDER * len(sample.images) + question
    return question


def names_target(question: str, target_image: int | None, image_count: int) -> bool:
    """Whether nothing needs adding to tell the target image: a single image, no target, or a question
    whose last image mention is the target."""
    return image_count <= 1 or target_image is None or parse_image_index(question, last=True) == target_image


def numbered_suffix(text: str, prefix: str) -> tuple[int, int] | None:
    """``(where prefix starts, N)`` when ``text`` ends with ``prefix`` + an image number ``N`` + ``"."``.

    One final newline may follow. String methods, not a regular expression: linear in any text. A
    number of more than 9 digits names no image (None).

    Example:
        >>> numbered_suffix("Find it. Locate it in image-2.", " Locate it in image-")
        (8, 2)
    """
    body = text.removesuffix("\n")
    start = body.rfind(prefix)
    digits = body[start + len(prefix) : -1] if start >= 0 and body.endswith(".") else ""
    if not digits.isdecimal() or len(digits) > MAX_INDEX_DIGITS:
        return None
    return start, int(digits)


def split_target_sentence(reasoning: str | None) -> tuple[str | None, int | None]:
    """Undo :func:`paper_answer`'s target sentence: ``(reasoning without it, image index or None)``.

    Example:
        >>> split_target_sentence("A red circle. So the target is in image 2.")
        ('A red circle.', 2)
    """
    if not reasoning:
        return reasoning or None, None
    found = numbered_suffix(reasoning, _TARGET_PREFIX)
    if found is None:
        return reasoning, None
    start, index = found
    return reasoning[:start].rstrip() or None, index


def _think_content(answer: str) -> str | None:
    """The text between the first ``<think>`` and the next ``</think>`` (None without both)."""
    start = answer.find("<think>")
    end = answer.find("</think>", start + len("<think>")) if start >= 0 else -1
    return answer[start + len("<think>") : end] if end >= 0 else None


def read_paper_answer(
    answer: str, policy: AnswerPolicy | str = AnswerPolicy.STRICT
) -> tuple[str | None, np.ndarray, int | None]:
    """Read an assistant turn in the paper's layout (the inverse of :func:`paper_answer`).

    Args:
        answer: ``<think>reasoning</think><answer>boxes</answer>``.
        policy: Where the boxes are read (see :class:`~univg_plugin.boxes.AnswerPolicy`).

    Returns:
        ``(reasoning without the target sentence, (k, 4) boxes, image index the target sentence names)``.

    Example:
        >>> reasoning, boxes, target = read_paper_answer(
        ...     "<think>A red circle. So the target is in image 2.</think><answer>(1,2),(3,4)</answer>")
        >>> reasoning, boxes.tolist(), target
        ('A red circle.', [[1.0, 2.0, 3.0, 4.0]], 2)
    """
    think = _think_content(answer)
    reasoning, target = split_target_sentence(think.strip() if think is not None else None)
    return reasoning, answer_boxes(answer, policy), target


def norm1000_ints(sample: GroundingSample) -> np.ndarray:
    """The boxes in Qwen2-VL's 0-1000 space as integers (rounded half up, clipped to [0, 1000]).

    Raises:
        DataError: naming the sample and ``image_sizes`` when pixel boxes cannot be converted, or the
            box when it is too thin to survive the rounding.
    """
    return family_boxes(sample, "qwen2_vl")


def _model_input_size(sample: GroundingSample, family: ModelFamily, min_pixels: int, max_pixels: int) -> np.ndarray:
    """The target image's ``(width, height)`` once the family's processor has resized it."""
    size = sample.target_size()
    if size is None:
        raise FieldError("image_sizes", f"{family.name} writes pixels of the resized input, which needs image_sizes")
    height, width = smart_resize(size[1], size[0], family.resize_factor, min_pixels, max_pixels)
    return np.array([width, height, width, height], dtype=np.float64)


def family_boxes(
    sample: GroundingSample, family: str = "qwen2_vl", *, min_pixels: int | None = None, max_pixels: int | None = None
) -> np.ndarray:
    """The boxes as the integers ``family`` writes (rounded half up, clipped to its extent).

    Qwen2-VL and Qwen3-VL: 0-1000 of the image; Qwen2.5-VL: pixels of the model input, the image resized by
    ``smart_resize`` with the family's factor and the processor's pixel limits (which must then be given).

    Raises:
        ValueError: an unknown family, or an ``abs_input`` family without ``min_pixels`` / ``max_pixels``.
        DataError: naming the sample and ``image_sizes`` when the conversion needs sizes it lacks, or the
            box when it is too thin to survive the rounding.

    Example:
        >>> s = GroundingSample(id="a", images=["x.png"], question="q", boxes=[[0, 0, 500, 500]],
        ...                     image_sizes=[[640, 480]])
        >>> family_boxes(s, "qwen2_5_vl", min_pixels=3136, max_pixels=640000).tolist()
        [[0, 0, 322, 238]]
    """
    conventions = model_family(family)
    space = CoordinateSpace(conventions.box_space)
    if space is CoordinateSpace.ABS_INPUT and (min_pixels is None or max_pixels is None):
        raise ValueError(
            f"{family} writes boxes in pixels of the resized model input: give min_pixels and max_pixels, the pixel "
            "limits of the processor that will see the images (a recipe's image_min_pixels / image_max_pixels)"
        )
    try:
        boxes = sample.boxes_in(space, min_pixels=min_pixels, max_pixels=max_pixels, factor=conventions.resize_factor)
        extent = (
            1000.0
            if space is CoordinateSpace.NORM1000
            else _model_input_size(sample, conventions, min_pixels, max_pixels)
        )
    except FieldError as error:
        raise DataError(sample.where, [error.issue]) from None
    rounded = np.clip(np.floor(boxes + 0.5), 0, extent).astype(np.int64)
    grid = "the 0-1000 integer grid" if space is CoordinateSpace.NORM1000 else f"{family}'s model-input pixel grid"
    collapsed = [
        Issue(f"boxes[{index}]", f"{format_box(box)} collapses to {format_box(ints)} on {grid}")
        for index, (box, ints) in enumerate(zip(sample.boxes, rounded.tolist()))
        if ints[2] <= ints[0] or ints[3] <= ints[1]
    ]
    if collapsed:
        raise DataError(sample.where, collapsed)
    return rounded


def family_answer(
    sample: GroundingSample, family: str = "qwen2_vl", *, min_pixels: int | None = None, max_pixels: int | None = None
) -> str:
    """The stage-1 assistant turn as ``family`` writes it: reasoning, then the boxes inside ``<answer>``.

    The reasoning is wrapped in the family's ``thought_words`` (Qwen3-VL: ``<think>\\n...\\n</think>\\n\\n``) and
    the boxes are written in its syntax and space (:func:`family_boxes`, ``ModelFamily.boxes_text``): Qwen2-VL
    ``(x1,y1),(x2,y2)`` in 0-1000 (the paper's, :func:`paper_answer`), Qwen2.5-VL ``[{"bbox_2d": [...]}]`` in
    model-input pixels, Qwen3-VL ``[{"bbox_2d": [...]}]`` in 0-1000. When a multi-image question does not name
    the target image, the reasoning ends with :data:`TARGET_SENTENCE`.

    Raises:
        ValueError, DataError: as :func:`family_boxes`.

    Example:
        >>> s = GroundingSample(id="a", images=["1.png"], question="Which one?", reasoning="The red one.",
        ...                     boxes=[[100, 200, 300, 400]])
        >>> family_answer(s, "qwen3_vl")
        '<think>\\nThe red one.\\n</think>\\n\\n<answer>[{"bbox_2d": [100, 200, 300, 400]}]</answer>'
    """
    conventions = model_family(family)
    think = sample.reasoning or ""
    if not names_target(sample.question, sample.target_image, len(sample.images)):
        sentence = TARGET_SENTENCE.format(index=sample.target_image)
        think = f"{think} {sentence}" if think else sentence
    boxes = family_boxes(sample, family, min_pixels=min_pixels, max_pixels=max_pixels).tolist()
    opening, closing = conventions.thought_words
    return f"{opening}{think}{closing}<answer>{conventions.boxes_text(boxes)}</answer>"


def paper_answer(sample: GroundingSample) -> str:
    """The stage-1 assistant turn in the paper's layout: ``<think>{reasoning}</think><answer>(x1,y1),(x2,y2)</answer>``.

    Boxes are 0-1000 integers (several are separated by a space). When a multi-image question does
    not name the target image, the reasoning ends with :data:`TARGET_SENTENCE`; the answer tag holds
    only the box, so the paper's strict format reward matches. Qwen2-VL's :func:`family_answer`.

    Raises:
        DataError: when pixel boxes need ``image_sizes`` that the sample lacks.

    Example:
        >>> s = GroundingSample(id="a", images=["1.png", "2.png"], question="Which one is red?",
        ...                     reasoning="Only the second image has a red square.", boxes=[[100, 200, 300, 400]],
        ...                     target_image=2)
        >>> think, answer = paper_answer(s).split("</think>")
        >>> think
        '<think>Only the second image has a red square. So the target is in image 2.'
        >>> answer
        '<answer>(100,200),(300,400)</answer>'
    """
    return family_answer(sample, "qwen2_vl")


def prompt_messages(sample: GroundingSample) -> list[dict[str, Any]]:
    """The stage-2 prompt in TRL's conversational layout.

    One user turn whose content holds an ``{"type": "image", "text": None}`` part at each ``<image>``
    placeholder (all images first when the question has none) and ``{"type": "text", "text": ...}``
    parts; every part has both keys so Arrow stores them in one struct type.

    Example:
        >>> s = GroundingSample(id="a", images=["1.png", "2.png"], question="Compare <image> with <image>.",
        ...                     boxes=[[1, 2, 3, 4]])
        >>> [part["type"] for part in prompt_messages(s)[0]["content"]]
        ['text', 'image', 'text', 'image', 'text']
    """
    question = with_instruction(sample.question)
    image = {"type": "image", "text": None}
    if IMAGE_PLACEHOLDER not in question:
        parts = [dict(image) for _ in sample.images] + [{"type": "text", "text": question}]
    else:
        parts = []
        for index, segment in enumerate(question.split(IMAGE_PLACEHOLDER)):
            if index:
                parts.append(dict(image))
            if segment:
                parts.append({"type": "text", "text": segment})
    return [{"role": "user", "content": parts}]


def _media_path(path: str, media_root: str | os.PathLike | None) -> str:
    return path if media_root is None or os.path.isabs(path) else os.path.join(media_root, path)


def grpo_row(sample: GroundingSample, media_root: str | os.PathLike | None = None) -> dict[str, Any]:
    """One stage-2 (GRPO) dataset row.

    Args:
        sample: The sample.
        media_root: Directory that relative image paths are joined to (absolute paths are kept).

    Returns:
        ``{"id", "task", "prompt", "images", "solution", "solution_space", "target_image",
        "image_sizes"}``: ``prompt`` from :func:`prompt_messages`, ``solution`` the boxes in
        ``solution_space`` (the sample's own space: rewards convert), ``image_sizes`` a list of
        ``[w, h]`` or None.

    Example:
        >>> s = GroundingSample(id="a", images=["x.png"], question="Find it.", boxes=[[1, 2, 3, 4]])
        >>> row = grpo_row(s, media_root="/data")
        >>> row["images"], row["solution"], row["solution_space"], row["target_image"]
        (['/data/x.png'], [[1.0, 2.0, 3.0, 4.0]], 'norm1000', 1)
    """
    return {
        "id": sample.id,
        "task": sample.task,
        "prompt": prompt_messages(sample),
        "images": [_media_path(path, media_root) for path in sample.images],
        "solution": [list(box) for box in sample.boxes],
        "solution_space": sample.space.value,
        "target_image": sample.target_image,
        "image_sizes": None if sample.image_sizes is None else [list(size) for size in sample.image_sizes],
    }


def grpo_features() -> Features:
    """The Arrow schema of :func:`grpo_row` rows, with ``images`` as ``Sequence(Image())`` (decoded to PIL)."""
    from datasets import Features, Image, List, Sequence, Value

    return Features(
        {
            "id": Value("string"),
            "task": Value("string"),
            "prompt": [{"role": Value("string"), "content": [{"type": Value("string"), "text": Value("string")}]}],
            "images": Sequence(Image()),
            "solution": List(List(Value("float64"), length=4)),
            "solution_space": Value("string"),
            "target_image": Value("int64"),
            "image_sizes": List(List(Value("int64"), length=2)),
        }
    )


def grpo_dataset(
    samples: Iterable[GroundingSample], media_root: str | os.PathLike | None = None, chunk_size: int = 10_000
) -> Dataset:
    """The stage-2 rows of ``samples`` as a ``datasets.Dataset`` (TRL's GRPOTrainer gets PIL images).

    Built ``chunk_size`` rows at a time, so only the Arrow table grows with the data. Relative image
    paths without a ``media_root`` are resolved against the working directory when decoded.

    Example:
        >>> s = GroundingSample(id="a", images=["x.png"], question="Find it.", boxes=[[1, 2, 3, 4]])
        >>> grpo_dataset([s], media_root="/data").features["images"]
        List(Image(mode=None, decode=True))
    """
    from datasets import Dataset, concatenate_datasets

    features = grpo_features()
    iterator = iter(samples)
    parts = []
    while chunk := [grpo_row(sample, media_root) for sample in islice(iterator, chunk_size)]:
        parts.append(Dataset.from_list(chunk, features=features))
    if not parts:
        return Dataset.from_dict({name: [] for name in features}, features=features)
    return parts[0] if len(parts) == 1 else concatenate_datasets(parts)

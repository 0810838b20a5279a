"""``zero_shot``: the zero-shot reasoning-grounding sets UniVG-R1 reports (LISA, LLMSeg, ReasonVOS, ReVOS).

Read only. The layouts are those the reference evaluation scripts read
(AMAP-ML/UniVG-R1 ``eval/zero_shot/*/eval.py``); each row is recognised by its keys:

- one image (LISA, LLMSeg): ``{"image_path", "instruction" | "question", "boxes": [[x1, y1, x2, y2], ...]
  | "bbox": [[x1, y1], [x2, y2]]}``;
- video frames (ReasonVOS): ``{"image_list": [paths], "question", "bbox_list": [one box per frame]}``;
- a video folder (ReVOS): ``{"video_id", "frames": [frame indices], "question", "bbox_list"}``, the
  frames being the files of ``frames_root/video_id`` sorted by the first number in their names.

Boxes are pixels of the original image (``abs_image``); a box may be a list, nested lists or a string
(``"[x1, y1, x2, y2]"``, ``"x1 y1 x2 y2"``). With frames, the target is frame ``target_frame`` (the
third, as in the reference) and its box is the target box. The question is the reference prompt
without its last sentence, which :func:`~univg_plugin.data.render.with_instruction` adds back word for word:
``Output the bounding box in the image corresponding to the instruction: {instruction}.`` or
``This is a sequence of images from a video. Please understand the entire video content, and then
output the bounding box in the third image according to the instruction: {instruction}.``
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from ...boxes import ORDINALS, CoordinateSpace, parse_boxes
from ..errors import FieldError
from ..schema import GroundingSample
from ._fields import extra_fields, json_object, row_identity
from .base import Format

IMAGE_PROMPT = "Output the bounding box in the image corresponding to the instruction: {instruction}."
FRAMES_PROMPT = (
    "This is a sequence of images from a video. Please understand the entire video content, and then output "
    "the bounding box in the {ordinal} image according to the instruction: {instruction}."
)
_NATIVE = (
    "image_path",
    "image_list",
    "instruction",
    "question",
    "boxes",
    "bbox",
    "bbox_list",
    "frames",
)
_FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")


def canonical_task(stem: str) -> str:
    """A benchmark file's stem as a task name: lower case, without ``_eval``.

    Example:
        >>> canonical_task("ReasonVOS_eval"), canonical_task("lisa_val")
        ('reasonvos', 'lisa_val')
    """
    return stem.lower().removesuffix("_eval")


def _numbers(value: Any) -> list[int | float] | None:
    """The numbers of a (possibly nested) list, flattened and as they are (the sample checks them); None when
    it holds anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return [value]
    if isinstance(value, list):
        flat = []
        for item in value:
            numbers = _numbers(item)
            if numbers is None:
                return None
            flat.extend(numbers)
        return flat
    return None


def _box_list(value: Any, field: str) -> list[list[float]]:
    """Boxes from a list, nested lists (flattened, four numbers per box) or a string."""
    if isinstance(value, str):
        boxes = parse_boxes(value)
        if not len(boxes):  # "x1 y1 x2 y2" or "x1,y1,x2,y2"
            boxes = parse_boxes("[" + ", ".join(value.replace(",", " ").split()) + "]")
        found = boxes.tolist()
    else:
        numbers = _numbers(value)
        found = [] if not numbers or len(numbers) % 4 else [numbers[i : i + 4] for i in range(0, len(numbers), 4)]
    if not found:
        raise FieldError(field, f"holds no box [x1, y1, x2, y2]: {value!r}")
    return found


def _instruction(raw: dict[str, Any]) -> tuple[str, str]:
    for key in ("instruction", "question"):
        if isinstance(raw.get(key), str) and raw[key].strip():
            return key, raw[key]
    raise FieldError("instruction", "is missing (expected a non-empty 'instruction' or 'question' string)")


@lru_cache(maxsize=4096)
def _sorted_frames(directory: str) -> tuple[str, ...]:
    """Frame file names of a video folder, sorted by the first number in each name (as the reference does)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise FieldError("video_id", f"no frame folder {folder}")
    names = [p.name for p in folder.iterdir() if p.suffix.lower() in _FRAME_SUFFIXES and re.search(r"\d", p.name)]
    return tuple(sorted(names, key=lambda name: int(re.search(r"\d+", name).group())))


class ZeroShotFormat(Format):
    """The zero-shot reasoning-grounding sets (LISA, LLMSeg, ReasonVOS, ReVOS): one image or video frames,
    an instruction, the box in pixels; for frames the question names the target frame. Read only.

    Cannot hold (read only): everything is read; keys other than the layout's go to meta. The task is
    the file's stem in lower case without ``_eval`` (``ReVOS_eval.json`` -> ``revos``) unless a row or
    the ``task`` option names one.

    Args:
        task: Task name of every sample (default: from the file name).
        target_frame: 1-based frame whose box is the target, for frame rows (default 3, as the reference).
        frames_root: Folder holding one sub-folder of frames per ``video_id`` (ReVOS rows).
    """

    def __init__(self, task: str | None = None, target_frame: int | str = 3, frames_root: str | None = None):
        self.task = task
        self.target_frame = int(target_frame)
        if not 1 <= self.target_frame <= len(ORDINALS):
            raise ValueError(f"target_frame must be 1 to {len(ORDINALS)}, got {target_frame}")
        self.frames_root = frames_root
        self._stem_task = "zero_shot"

    def rows(self, stream: IO[bytes], path: str | Path) -> Iterator[tuple[str, Any]]:
        self._stem_task = canonical_task(Path(path).stem)
        return super().rows(stream, path)

    def parse(self, raw: Any, default_id: str) -> list[GroundingSample]:
        raw = json_object(raw)
        _, instruction = _instruction(raw)
        if "image_path" in raw:
            images, target = [self._path(raw, "image_path")], 1
            key = "boxes" if "boxes" in raw else "bbox"
            boxes = _box_list(raw.get(key), key)
            question = IMAGE_PROMPT.format(instruction=instruction)
        else:
            images = self._frames(raw)
            target = self.target_frame
            if len(images) < target:
                raise FieldError("frames", f"has {len(images)} frame(s); the target is frame {target}")
            boxes = self._frame_boxes(raw, target)
            ordinal = tuple(ORDINALS)[target - 1]
            question = FRAMES_PROMPT.format(ordinal=ordinal, instruction=instruction)
        return [
            GroundingSample(
                **{"task": self.task or self._stem_task, **row_identity(raw, default_id)},
                images=images,
                question=question,
                boxes=boxes,
                space=CoordinateSpace.ABS_IMAGE,
                target_image=target,
                meta=extra_fields(raw, _NATIVE),
            )
        ]

    @staticmethod
    def _path(raw: dict[str, Any], key: str) -> str:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise FieldError(key, "must be a non-empty image path")
        return value

    def _frames(self, raw: dict[str, Any]) -> list[str]:
        if "image_list" in raw:
            frames = raw["image_list"]
            if not isinstance(frames, list) or not frames or not all(isinstance(p, str) and p for p in frames):
                raise FieldError("image_list", "must be a non-empty list of image paths")
            return frames
        if "video_id" not in raw or "frames" not in raw:
            raise FieldError("row", "expected 'image_path', 'image_list', or 'video_id' with 'frames'")
        indices = raw["frames"]
        if not isinstance(indices, list) or not indices or not all(isinstance(i, int) for i in indices):
            raise FieldError("frames", "must be a non-empty list of frame indices")
        if self.frames_root is None:
            raise FieldError(
                "frames", "video rows need the reader option frames_root=DIR (one folder of frames per video_id)"
            )
        folder = Path(self.frames_root) / str(raw["video_id"])
        names = _sorted_frames(str(folder))
        bad = [i for i in indices if not 0 <= i < len(names)]
        if bad:
            raise FieldError("frames", f"indices {bad} are out of range for the {len(names)} frames of {folder}")
        return [str(folder / names[i]) for i in indices]

    @staticmethod
    def _frame_boxes(raw: dict[str, Any], target: int) -> list[list[float]]:
        boxes = raw.get("bbox_list")
        if not isinstance(boxes, list) or len(boxes) < target:
            raise FieldError("bbox_list", f"must be a list with a box for each frame up to frame {target}")
        return _box_list(boxes[target - 1], f"bbox_list[{target - 1}]")

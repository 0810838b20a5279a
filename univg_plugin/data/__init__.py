"""The CoT grounding dataset format: schema, validation, readers and writers, rendering, synthetic data.

- :class:`GroundingSample`: one validated sample (our ``univg`` jsonl holds one per line);
- :func:`read` / :func:`write` / :func:`convert` (:mod:`.convert`): streaming readers and writers of
  the registered formats (:data:`FORMATS`, one module per format in :mod:`.formats`), with errors that
  name the file, the row and the field; :mod:`.io` streams JSON rows and writes files atomically;
- :func:`validate_file` and :class:`DatasetStats`: whole-file checks and statistics;
- :func:`paper_answer`, :func:`prompt_text`, :func:`grpo_row`, :func:`grpo_dataset`: a sample as
  stage 1 (CoT-SFT) and stage 2 (GRPO) see it; :func:`family_answer` / :func:`family_boxes`: the answer as
  each Qwen-VL family writes it;
- :mod:`.synth`: seeded synthetic multi-image grounding data.
"""

from .errors import DataError, FieldError, FileStructureError, Issue
from .files import convert, read, read_with_errors, write
from .formats import FORMATS, Format, get_format, register_format
from .media import fill_image_sizes, media_issues
from .render import (
    PAPER_INSTRUCTION,
    family_answer,
    family_boxes,
    grpo_dataset,
    grpo_features,
    grpo_row,
    paper_answer,
    prompt_messages,
    prompt_text,
    with_instruction,
)
from .schema import IMAGE_PLACEHOLDER, KNOWN_TASKS, GroundingSample
from .stats import DatasetStats
from .validate import ValidationReport, validate_file

__all__ = [
    "FORMATS",
    "IMAGE_PLACEHOLDER",
    "KNOWN_TASKS",
    "PAPER_INSTRUCTION",
    "DataError",
    "DatasetStats",
    "FieldError",
    "FileStructureError",
    "Format",
    "GroundingSample",
    "Issue",
    "ValidationReport",
    "convert",
    "family_answer",
    "family_boxes",
    "fill_image_sizes",
    "get_format",
    "grpo_dataset",
    "grpo_features",
    "grpo_row",
    "media_issues",
    "paper_answer",
    "prompt_messages",
    "prompt_text",
    "read",
    "read_with_errors",
    "register_format",
    "validate_file",
    "with_instruction",
    "write",
]

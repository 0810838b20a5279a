"""What produced a predictions file, recorded beside it, so that a resumed run never mixes models or settings.

``predictions.jsonl`` has a record, ``predictions.meta.json`` (:func:`record_path`)::

    {"model": {"path": "/abs/ckpt", "fingerprint": "sha256:..."},
     "generation": {"backend": "transformers", "max_new_tokens": 256, "do_sample": false, ...},
     "prompts": {"<sample id>": "<fingerprint of its prompt>", ...}}

A run may add to the file only when it matches the record: the same model (resolved path and
:func:`model_fingerprint`), the same generation settings, and for every sample already predicted the
same prompt (:func:`prompt_fingerprint`: its messages and image paths). Predictions of samples the record
holds but the run does not ask for (a ``--limit`` after a full run) are kept, not refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data import GroundingSample, prompt_messages
from ..data.errors import DataError, Issue
from .predictions import completed_ids

#: The record of ``predictions.jsonl`` is ``predictions.meta.json``.
RECORD_SUFFIX = ".meta.json"
#: The files of a checkpoint directory that make the model: configs, processor, tokenizer, chat template,
#: weights (other files, e.g. reports written next to them, do not count).
MODEL_FILES: tuple[str, ...] = (
    "config.json",
    "generation_config.json",
    "*processor_config.json",
    "chat_template.*",
    "tokenizer*",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "adapter_config.json",
    "*.safetensors",
    "*.safetensors.index.json",
    "*.bin",
    "*.bin.index.json",
)
_WHOLE = 8 << 20  # files up to 8 MiB are read whole, larger ones in sampled blocks
_BLOCKS, _BLOCK = 16, 64 << 10
_FRESH = "use another output path (--out-dir), or start fresh with --fresh (Python: fresh=True), which discards them"


def record_path(predictions: str | os.PathLike) -> Path:
    """The record beside a predictions file (``predictions.jsonl`` -> ``predictions.meta.json``)."""
    return Path(predictions).with_suffix(RECORD_SUFFIX)


def _digest_file(path: Path, digest: Any) -> None:
    """Feed a file's size and content (whole, or 16 evenly spaced 64 KiB blocks when large) to ``digest``."""
    size = path.stat().st_size
    digest.update(f"{size}\0".encode())
    with open(path, "rb") as stream:
        if size <= _WHOLE:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
            return
        for block in range(_BLOCKS):
            stream.seek(block * (size - _BLOCK) // (_BLOCKS - 1))
            digest.update(stream.read(_BLOCK))


def model_fingerprint(model: str | os.PathLike) -> str | None:
    """A cheap fingerprint of a checkpoint directory: SHA-256 over the names, sizes and contents of its
    :data:`MODEL_FILES` (files up to 8 MiB whole, larger ones by 16 evenly spaced 64 KiB blocks: a 7B
    checkpoint costs a few MB of reading). A copy of a checkpoint has the same fingerprint.

    Returns:
        ``"sha256:<hex>"``, or None when ``model`` is not a local directory (e.g. a Hub name).
    """
    folder = Path(model)
    if not folder.is_dir():
        return None
    names = sorted({path.name for pattern in MODEL_FILES for path in folder.glob(pattern) if path.is_file()})
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + b"\0")
        _digest_file(folder / name, digest)
    return "sha256:" + digest.hexdigest()


def prompt_fingerprint(sample: GroundingSample) -> str:
    """A fingerprint of what a sample's prompt is made of: its messages (question, instruction) and image paths.

    Example:
        >>> sample = GroundingSample(id="a", images=["x.png"], question="Find it.", boxes=[[1, 2, 3, 4]])
        >>> len(prompt_fingerprint(sample)), prompt_fingerprint(sample) == prompt_fingerprint(sample.model_copy())
        (16, True)
    """
    text = json.dumps([prompt_messages(sample), sample.images], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunRecord:
    """What produced (or is about to produce) a predictions file.

    Attributes:
        model_path: The model's resolved path (as given when it is not a local path).
        fingerprint: :func:`model_fingerprint` (None when not a local directory).
        generation: The generation settings (backend, decoding, token budget, pixel limits, dtype, media root).
        prompts: Sample id -> :func:`prompt_fingerprint`.
    """

    model_path: str
    fingerprint: str | None
    generation: dict[str, Any]
    prompts: dict[str, str]

    @classmethod
    def of(cls, model: str | os.PathLike, samples: Iterable[GroundingSample], generation: dict[str, Any]) -> RunRecord:
        """The record of a run of ``model`` over ``samples`` with the ``generation`` settings."""
        path = Path(model)
        shown = str(path.resolve()) if path.exists() else str(model)
        prompts = {sample.id: prompt_fingerprint(sample) for sample in samples}
        return cls(shown, model_fingerprint(path), dict(generation), prompts)

    def differences(self, now: RunRecord) -> list[str]:
        """What differs between this (recorded) run and ``now``, prompts aside, one line each."""
        lines = [
            f"{what}: {recorded} (recorded) != {current} (now)"
            for what, recorded, current in (
                ("model path", self.model_path, now.model_path),
                ("model fingerprint", self.fingerprint, now.fingerprint),
            )
            if recorded != current
        ]
        for key in sorted(self.generation.keys() | now.generation.keys()):
            recorded, current = self.generation.get(key), now.generation.get(key)
            if recorded != current:
                lines.append(f"{key}: {recorded!r} (recorded) != {current!r} (now)")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (the layout of ``predictions.meta.json``)."""
        model = {"path": self.model_path, "fingerprint": self.fingerprint}
        return {"model": model, "generation": self.generation, "prompts": self.prompts}

    def write(self, path: str | os.PathLike) -> None:
        """Write the record to ``path`` atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(temporary, path)

    @classmethod
    def read(cls, path: str | os.PathLike) -> RunRecord | None:
        """The record in ``path`` (None when there is none).

        Raises:
            DataError: naming the file and the field when it cannot be read or is not a record.
        """
        path = Path(path)
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_bytes())
        except (ValueError, RecursionError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise DataError(str(path), [Issue("row", f"cannot be read: {error}; {_FRESH}")]) from None
        record, issues = _parsed(data)
        if issues:
            raise DataError(str(path), [*issues, Issue("row", f"is not a record of a run; {_FRESH}")])
        return record


def _parsed(data: Any) -> tuple[RunRecord | None, list[Issue]]:
    """A record from its JSON data, or the problems of that data."""
    if not isinstance(data, dict):
        return None, [Issue("row", f"must be an object, got {type(data).__name__}")]
    model, generation, prompts = data.get("model"), data.get("generation"), data.get("prompts")
    issues = []
    if not isinstance(model, dict):
        issues.append(Issue("model", f"must be an object, got {model!r}"))
    elif not isinstance(model.get("path"), str) or not isinstance(model.get("fingerprint"), str | None):
        issues.append(Issue("model", f"must hold a path and a fingerprint, got {model!r}"))
    if not isinstance(generation, dict):
        issues.append(Issue("generation", f"must be an object, got {generation!r}"))
    if not isinstance(prompts, dict) or not all(isinstance(value, str) for value in prompts.values()):
        issues.append(Issue("prompts", "must map sample ids to prompt fingerprints"))
    if issues:
        return None, issues
    return RunRecord(model["path"], model["fingerprint"], generation, prompts), []


def _refuse_foreign(path: Path, done: set[str], known: set[str]) -> None:
    foreign = done - known
    if foreign:
        example = ", ".join(repr(identity) for identity in sorted(foreign)[:3])
        raise ValueError(
            f"{path} holds {len(foreign)} prediction(s) of other samples (e.g. {example}); "
            f"it is the output of another benchmark: {_FRESH}"
        )


def resume(path: str | os.PathLike, now: RunRecord) -> tuple[set[str], RunRecord]:
    """The ids already predicted in ``path`` that a run may keep, and the record to write for it.

    Args:
        path: The predictions file (absent or empty: nothing to resume).
        now: The record of the run about to add to it.

    Returns:
        ``(ids already predicted, the record covering them and the run's samples)``.

    Raises:
        ValueError: the file holds predictions of samples the record does not know, has no record, or was
            made by another model, with other settings or from other prompts (every difference is named).
        DataError: the predictions file or its record cannot be read (naming file, line and field).
    """
    path = Path(path)
    done = completed_ids(path)
    if not done:
        return done, now
    recorded = RunRecord.read(record_path(path))
    _refuse_foreign(path, done, set(now.prompts if recorded is None else recorded.prompts))
    if recorded is None:
        raise ValueError(
            f"{path} holds {len(done)} prediction(s) but no record of what produced them "
            f"({record_path(path).name} is missing): they may come from another model or other settings; {_FRESH}"
        )
    problems = recorded.differences(now)
    changed = sorted(
        identity for identity in done & now.prompts.keys() if recorded.prompts[identity] != now.prompts[identity]
    )
    if changed:
        example = ", ".join(repr(identity) for identity in changed[:3])
        problems.append(f"prompt of {len(changed)} sample(s) differs (e.g. {example}): other questions or images")
    if problems:
        lines = "\n  ".join(problems)
        raise ValueError(
            f"{path} holds {len(done)} prediction(s) made otherwise than this run:\n  {lines}\n"
            f"Resuming would mix them; {_FRESH}."
        )
    return done, RunRecord(now.model_path, now.fingerprint, now.generation, {**recorded.prompts, **now.prompts})

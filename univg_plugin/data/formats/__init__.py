"""The dataset formats, found by name: ours, the layouts met in the wild, and other packages' formats.

Each built-in format is one module of this package; :data:`FORMATS` is the table of their names.
Another package adds a format through the ``univg_plugin.formats`` entry-point group::

    [project.entry-points."univg_plugin.formats"]
    coco = "my_package.coco:CocoFormat"

or, in one process, with :func:`register_format`. ``univg data formats`` lists them all.

Conventions shared by every format other than ``univg``:

- ``id`` and ``task`` are read when present and written as extra keys; other source keys go to
  ``meta`` on reading, and ``meta`` entries come back as top-level keys on writing, so a round trip
  keeps them (a ``meta`` key that collides with a field of the format is an error);
- a question whose placeholders all come before its text (one per image, with or without whitespace
  between them) is read without them: it means the same as a question with none (all images first),
  which writers render as ``<image>`` * n + question; a trailing :data:`~univg_plugin.data.render.PAPER_INSTRUCTION`
  is removed too (renderers add it back);
- formats with no target-image field name it in the question: writers append
  ``" Locate it in image-N."`` when the question does not already name the target last, readers take
  it back, and otherwise use the image the question names last.

Example:
    >>> fmt = get_format("mig_bench", space="norm1")
    >>> fmt.name, fmt.readable, fmt.writable
    ('mig_bench', True, True)
"""

from __future__ import annotations

from typing import Any

from ...plugins import Registry
from .base import Format, describe

__all__ = ["FORMATS", "Format", "describe", "format_class", "get_format", "register_format"]

#: Every dataset format by name: the built-ins (declared here), other packages' entry points in the
#: ``univg_plugin.formats`` group, and formats registered at run time with :func:`register_format`.
FORMATS = Registry(
    "univg_plugin.formats",
    "dataset format",
    {
        "univg": "univg_plugin.data.formats.univg:UnivgFormat",
        "univg_stage1": "univg_plugin.data.formats.univg_stage1:Stage1Format",
        "sharegpt": "univg_plugin.data.formats.sharegpt:SharegptFormat",
        "univg_stage2": "univg_plugin.data.formats.univg_stage2:Stage2Format",
        "migician": "univg_plugin.data.formats.migician:MigicianFormat",
        "mig_bench": "univg_plugin.data.formats.mig_bench:MigBenchFormat",
        "vlm_r1": "univg_plugin.data.formats.vlm_r1:VlmR1Format",
        "grpo": "univg_plugin.data.formats.grpo:GrpoFormat",
        "zero_shot": "univg_plugin.data.formats.zero_shot:ZeroShotFormat",
    },
)


def _named(name: str, cls: type[Format]) -> type[Format]:
    """``cls`` with its registry ``name``, and whether it reads (has a ``parse``) and writes (has a ``dump``)."""
    cls.name = name
    cls.readable = cls.parse is not Format.parse
    cls.writable = cls.dump is not Format.dump
    return cls


def register_format(name: str, format_class: type[Format]) -> type[Format]:
    """Register a format class under ``name`` in this process (names are unique).

    Raises:
        ValueError: ``name`` is taken.
    """
    return FORMATS.register(name, _named(name, format_class))


def format_class(name: str) -> type[Format]:
    """The format class registered as ``name``, with its ``name``, ``readable`` and ``writable`` set.

    Raises:
        ValueError: for an unknown name (the message lists the known ones).
    """
    if name not in FORMATS:
        raise ValueError(f"unknown dataset format {name!r}; known formats: {', '.join(FORMATS.names())}")
    return _named(name, FORMATS.load(name))


def get_format(name: str, **options: Any) -> Format:
    """An instance of the format registered as ``name``, configured with ``options``.

    Raises:
        ValueError: for an unknown name (the message lists the known ones).
    """
    return format_class(name)(**options)

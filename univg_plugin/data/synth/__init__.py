"""Seeded synthetic multi-image grounding data: coloured shapes on varied backgrounds, rendered with PIL.

- :mod:`.scene`: objects, scenes, difficulty levels and the seeded :class:`Sampler` that places them;
- :mod:`.drawing`: a scene as an image;
- :mod:`.tasks`: the six MIG-Bench-like task builders (:data:`TASKS`);
- :mod:`.writing`: :func:`make_sample` and :func:`generate` (the images and a univg jsonl).

Each sample has 1-4 images, a short correct reasoning chain, the target image index and the box.
Difficulty grades object size and distractors. Boxes are stored in ``norm1000`` with
``image_sizes``; ``meta`` holds ``difficulty``, ``distractors`` and ``seed`` (the same keys and types
in every row). A caller adds tasks of its own with ``generate(..., builders={name: builder})``:
``univg demo`` adds its compact tasks this way (:mod:`univg_plugin.demo.tasks`).

Example:
    >>> import tempfile
    >>> from univg_plugin.data import read
    >>> path = generate(tempfile.mkdtemp(), n=6, seed=0, image_size=112)
    >>> sample = next(read(path))
    >>> sample.task, sample.meta["difficulty"], sample.target_image, sample.boxes
    ('group_grounding', 'hard', 1, [(330.0, 36.0, 464.0, 170.0)])
"""

from .drawing import draw
from .scene import COLORS, LEVELS, SHAPES, Level, Sampler, Scene, Shape, position
from .tasks import TASK_BUILDERS, TASKS, TaskBuilder, TaskOutput
from .writing import generate, make_sample

__all__ = [
    "COLORS",
    "LEVELS",
    "SHAPES",
    "TASKS",
    "TASK_BUILDERS",
    "Level",
    "Sampler",
    "Scene",
    "Shape",
    "TaskBuilder",
    "TaskOutput",
    "draw",
    "generate",
    "make_sample",
    "position",
]

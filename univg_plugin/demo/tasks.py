"""The demo's compact synthetic tasks, sized for models trained from scratch in minutes.

Two tasks, given to :func:`univg_plugin.data.synth.generate` as extra ``builders``:

- ``locate``: one image of 1 / 2-3 / 4-5 coloured squares (easy / medium / hard);
- ``find``: 2 / 3 / 4 images of one square each; which image holds the named one?

Colour alone names the target (every object is a square), the images follow the question, and the
reasoning scans the squares in reading order (image by image) up to the named one, then names its
image and position:
``image 1 top-right purple, image 2 left green. The green square is in image 2, at the left.``

Example:
    >>> import tempfile
    >>> from univg_plugin.data import read
    >>> from univg_plugin.data.synth import generate
    >>> path = generate(tempfile.mkdtemp(), 2, image_size=84, grid=3, tasks=DEMO_TASKS, builders=COMPACT_BUILDERS)
    >>> sample = list(read(path))[1]
    >>> sample.question, sample.reasoning
    ('Locate the purple square. <image>', 'top-right green, bottom purple. The purple square is at the bottom.')
"""

from __future__ import annotations

from collections.abc import Sequence

from ..data.schema import IMAGE_PLACEHOLDER
from ..data.synth import COLORS, Sampler, Shape, TaskBuilder, TaskOutput, position


def _squares(sampler: Sampler, count: int) -> list[str]:
    """``count`` distinct colours (the compact tasks' objects are all squares, told apart by colour)."""
    return sampler.rng.sample(tuple(COLORS), count)


def _placeholders(count: int) -> str:
    """The images after the question: in a from-scratch model the vision tokens can then attend to it."""
    return " " + IMAGE_PLACEHOLDER * count


def _scan_until(target: Shape, squares: Sequence[tuple[str, Shape]], sampler: Sampler) -> str:
    """The compact tasks' first clause: each square as ``[image k ]position colour``, in the given order,
    up to and including ``target`` (``"image 1 top-right purple, image 2 left green"``).

    Scanning in a fixed order and stopping at the named colour turns "which square is red?" into one
    comparison per step, which a model trained from scratch learns in minutes (``docs/demo.md``)."""
    last = next(index for index, (_, square) in enumerate(squares) if square is target)
    return ", ".join(
        f"{prefix}{position(square.box, sampler.width, sampler.height)} {square.color}"
        for prefix, square in squares[: last + 1]
    )


def locate(sampler: Sampler) -> TaskOutput:
    """One image of 1 / 2-3 / 4-5 squares of different colours; locate the named one."""
    count = {"easy": 1, "medium": sampler.rng.randint(2, 3), "hard": sampler.rng.randint(4, 5)}[sampler.difficulty]
    colors = _squares(sampler, count)
    scene = sampler.scene()
    target = sampler.place(scene, colors[0], "square")
    for color in colors[1:]:
        sampler.place(scene, color, "square")
    where = position(target.box, sampler.width, sampler.height)
    in_reading_order = sorted(scene.objects, key=lambda square: (square.box[1], square.box[0]))
    scan = _scan_until(target, [("", square) for square in in_reading_order], sampler)
    return TaskOutput(
        [scene],
        f"Locate the {target.name}." + _placeholders(1),
        f"{scan}. The {target.name} is at the {where}.",
        1,
        target.box,
        count - 1,
    )


def find(sampler: Sampler) -> TaskOutput:
    """2 / 3 / 4 images of one square each; find the image of the named one and locate it."""
    count = {"easy": 2, "medium": 3, "hard": 4}[sampler.difficulty]
    colors = _squares(sampler, count)
    target = sampler.rng.randint(1, count)
    scenes, found = [], None
    for index in range(1, count + 1):
        scene = sampler.scene()
        placed = sampler.place(scene, colors[0] if index == target else colors[index - (index > target)], "square")
        found = placed if index == target else found
        scenes.append(scene)
    where = position(found.box, sampler.width, sampler.height)
    images = [(f"image {index} ", scene.objects[0]) for index, scene in enumerate(scenes, 1)]
    scan = _scan_until(found, images, sampler)
    return TaskOutput(
        scenes,
        f"Find the {found.name} in these images." + _placeholders(count),
        f"{scan}. The {found.name} is in image {target}, at the {where}.",
        target,
        found.box,
        count - 1,
    )


#: The compact tasks, for :func:`~univg_plugin.data.synth.generate`'s ``builders``.
COMPACT_BUILDERS: dict[str, TaskBuilder] = {"locate": locate, "find": find}
#: The demo's task mix.
DEMO_TASKS: dict[str, float] = {"locate": 2.0, "find": 1.0}

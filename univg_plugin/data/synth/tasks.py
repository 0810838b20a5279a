"""The synthetic task builders: each turns a :class:`~.scene.Sampler` into a :class:`TaskOutput`.

Task types mirror MIG-Bench (each sample has 1-4 images, a short correct reasoning chain, the target
image index and the box):

- ``common_object``: one object appears in every image; locate it in image k;
- ``diff``: image 2 is image 1 with one object added (or, when hard, recoloured); locate it in image 2;
- ``refer_grounding``: one image and a referring expression (colour and shape; when hard, a twin of
  the same colour and shape is told apart by position or size);
- ``region``: image 2 is a zoomed-in crop of image 1; locate the crop in image 1;
- ``group_grounding``: the described object is in exactly one of the images, which the question does
  not name;
- ``counting``: "in the image with exactly N blue squares, locate the red circle" (every image has a
  red circle; the counts are the distractors).

Difficulty grades object size and distractors: ``easy`` objects are large with at most one
distractor, ``hard`` ones small among 4-6 distractors that share the target's colour or shape.
A caller adds its own tasks by giving :func:`~.writing.generate` more builders (``univg demo`` does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from PIL import Image

from .drawing import draw
from .scene import COLORS, Sampler, Scene, Shape, position


@dataclass
class TaskOutput:
    """What a task builder makes of one sample.

    Attributes:
        images: Scenes (drawn afterwards) or finished images, in order.
        question: The question, ``<image>`` placeholders excepted (unless the task places them itself).
        reasoning: The correct reasoning chain.
        target: 1-based index of the image that holds the answer.
        box: The answer box in pixels ``(x1, y1, x2, y2)``.
        distractors: How many other objects the images hold.
    """

    images: list[Scene | Image.Image]
    question: str
    reasoning: str
    target: int
    box: tuple[float, float, float, float]
    distractors: int


def _common_object(sampler: Sampler) -> TaskOutput:
    """One object appears in every image; locate it in image k."""
    count = sampler.level.images
    common = sampler.identity()
    scenes, distractors = [], 0
    seen: dict[tuple[str, str], int] = {}
    for _ in range(count):
        scene = sampler.scene()
        sampler.place(scene, *common)
        hard = sampler.difficulty == "hard"
        avoid = [common] + [identity for identity, times in seen.items() if times == count - 1]
        distractors += sampler.fill(scene, sampler.distractor_count(), avoid, common if hard else None)
        for item in scene.objects[1:]:
            seen[(item.color, item.shape)] = seen.get((item.color, item.shape), 0) + 1
        scenes.append(scene)
    target = sampler.rng.randint(1, count)
    found = scenes[target - 1].objects[0]
    where = position(found.box, sampler.width, sampler.height)
    return TaskOutput(
        scenes,
        f"These images share one object in common. Recognize and locate this object in image {target}.",
        f"The {found.name} appears in {'both' if count == 2 else f'all {count}'} images and no other object does. "
        f"In image {target} it is at the {where}.",
        target,
        found.box,
        distractors,
    )


def _diff(sampler: Sampler) -> TaskOutput:
    """Image 2 is image 1 with one object added (or, when hard, recoloured); locate it in image 2."""
    scene = sampler.scene()
    hard = sampler.difficulty == "hard"
    distractors = sampler.fill(scene, sampler.distractor_count() + 1, (), None)
    changed = replace(scene, objects=list(scene.objects))
    if hard and scene.objects:
        index = sampler.rng.randrange(len(scene.objects))
        before = scene.objects[index]
        color = sampler.rng.choice([c for c in COLORS if c != before.color])
        after = Shape(color, before.shape, before.box)
        changed.objects[index] = after
        where = position(after.box, sampler.width, sampler.height)
        question = "Image 2 is image 1 with one object changed. Locate the changed object in image 2."
        reasoning = (
            f"Comparing the two images object by object, the {before.shape} at the {where} is {before.color} "
            f"in image 1 but {color} in image 2; everything else is unchanged."
        )
        box = after.box
    else:
        added = sampler.place(changed, *sampler.identity([(o.color, o.shape) for o in scene.objects]))
        if added is None:
            raise RuntimeError("no room for the added object; use a larger image size")
        where = position(added.box, sampler.width, sampler.height)
        question = "Image 2 is image 1 with one object added. Locate the added object in image 2."
        reasoning = (
            f"Comparing the two images object by object, image 2 has a {added.name} at the {where} "
            "that image 1 lacks; everything else is unchanged."
        )
        box = added.box
    # both images share one background: render them from the same random state
    state = sampler.rng.getstate()
    first = draw(scene, sampler.rng)
    sampler.rng.setstate(state)
    return TaskOutput([first, draw(changed, sampler.rng)], question, reasoning, 2, box, distractors)


def _refer(sampler: Sampler) -> TaskOutput:
    """One image and a referring expression (when hard, a twin is told apart by position or size)."""
    scene = sampler.scene()
    identity = sampler.identity()
    hard = sampler.difficulty == "hard"
    target = sampler.place(scene, *identity, side=sampler.side(1.3) if hard else None)
    description, reason = f"{target.name}", f"Only one object is a {target.name}"
    if hard:
        twin = sampler.place(scene, *identity, side=max(6, round(target.size / 1.6)))
        if twin is not None:
            if sampler.rng.random() < 0.5:
                description = f"larger {target.name}"
                reason = f"There are two {target.shape}s in {target.color}; the larger one is the target"
            else:
                if target.box[2] <= twin.box[0] or twin.box[2] <= target.box[0]:  # side by side
                    where = "further to the left" if target.box[0] < twin.box[0] else "further to the right"
                else:  # one above the other
                    where = "nearer the top" if target.box[1] < twin.box[1] else "nearer the bottom"
                description = f"{target.name} {where}"
                reason = f"There are two {target.color} {target.shape}s; the one {where} is the target"
    sampler.fill(scene, sampler.distractor_count(), [identity], identity if sampler.difficulty != "easy" else None)
    where = position(target.box, sampler.width, sampler.height)
    return TaskOutput(
        [scene],
        f"Locate the {description}.",
        f"The image has {_counted(len(scene.objects), 'object')}. {reason}; it is at the {where}.",
        1,
        target.box,
        len(scene.objects) - 1,
    )


def _region(sampler: Sampler) -> TaskOutput:
    """Image 2 is a zoomed-in crop of image 1; locate the crop in image 1."""
    scene = sampler.scene()
    identity = sampler.identity()
    target = sampler.place(scene, *identity)
    distractors = sampler.fill(scene, sampler.distractor_count(), [identity], None)
    margin = target.size * sampler.rng.uniform(0.3, 0.8)
    x1, y1 = max(0.0, target.box[0] - margin), max(0.0, target.box[1] - margin)
    x2, y2 = min(float(sampler.width), target.box[2] + margin), min(float(sampler.height), target.box[3] + margin)
    crop = (round(x1), round(y1), round(x2), round(y2))
    source = draw(scene, sampler.rng)
    zoomed = source.crop(crop).resize((sampler.width, sampler.height), Image.Resampling.BILINEAR)
    where = position(crop, sampler.width, sampler.height)
    return TaskOutput(
        [source, zoomed],
        "Image 2 is a zoomed-in region of image 1. Locate this region in image 1.",
        f"Image 2 shows a {target.name} up close. Image 1 has its only {target.name} at the {where}, "
        "so the region is the area around it.",
        1,
        crop,
        distractors,
    )


def _group(sampler: Sampler) -> TaskOutput:
    """The described object is in exactly one of the images, which the question does not name."""
    count = sampler.level.images
    identity = sampler.identity()
    target = sampler.rng.randint(1, count)
    scenes, distractors, found = [], 0, None
    hard = sampler.difficulty == "hard"
    for index in range(1, count + 1):
        scene = sampler.scene()
        if index == target:
            found = sampler.place(scene, *identity)
        distractors += sampler.fill(scene, max(1, sampler.distractor_count()), [identity], identity if hard else None)
        scenes.append(scene)
    where = position(found.box, sampler.width, sampler.height)
    return TaskOutput(
        scenes,
        f"Find the {found.name} in these images and locate it.",
        f"Looking through the {count} images, only image {target} contains a {found.name}; it is at the {where}.",
        target,
        found.box,
        distractors,
    )


def _counting(sampler: Sampler) -> TaskOutput:
    """ "In the image with exactly N blue squares, locate the red circle" (every image has the marker)."""
    count = min(3, sampler.level.images)
    marker = sampler.identity()
    counted = sampler.identity([marker])
    wanted = sampler.rng.randint(1, 3)
    others = [n for n in range(0, 5) if n != wanted]
    target = sampler.rng.randint(1, count)
    numbers = [wanted if index == target else sampler.rng.choice(others) for index in range(1, count + 1)]
    scenes, found, distractors = [], None, 0
    for index, number in enumerate(numbers, start=1):
        scene = sampler.scene()
        placed = sampler.place(scene, *marker)
        if index == target:
            found = placed
        for _ in range(number):
            if sampler.place(scene, *counted, side=sampler.side(0.8)) is None:
                raise RuntimeError("no room for the counted objects; use a larger image size")
        extra = sampler.distractor_count() // 2
        distractors += number + sampler.fill(scene, extra, [marker, counted], None)
        scenes.append(scene)
    noun = f"{counted[0]} {counted[1]}"
    tally = ", ".join(f"image {i} has {n}" for i, n in enumerate(numbers, start=1))
    where = position(found.box, sampler.width, sampler.height)
    return TaskOutput(
        scenes,
        f"In the image that contains exactly {_counted(wanted, noun)}, locate the {found.name}.",
        f"Counting the {noun}s: {tally}. Only image {target} has {wanted}, and its {found.name} is at the {where}.",
        target,
        found.box,
        distractors,
    )


#: A task builder: the sample's :class:`~.scene.Sampler` in, the sample's content out.
TaskBuilder = Callable[[Sampler], TaskOutput]

#: The built-in tasks, by name (the default mix of :func:`~.writing.generate`).
TASK_BUILDERS: dict[str, TaskBuilder] = {
    "common_object": _common_object,
    "diff": _diff,
    "refer_grounding": _refer,
    "region": _region,
    "group_grounding": _group,
    "counting": _counting,
}
TASKS: tuple[str, ...] = tuple(TASK_BUILDERS)


def _counted(number: int, noun: str) -> str:
    """``"1 red circle"``, ``"3 red circles"``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"

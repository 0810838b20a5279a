"""Seeded synthetic multi-image grounding data: coloured shapes on varied backgrounds, rendered with PIL.

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

Two compact tasks (:data:`COMPACT_TASKS`, only when asked for) are sized for models trained from
scratch in minutes, as in ``univg demo``: ``locate`` (one image of 1 / 2-3 / 4-5 coloured squares) and
``find`` (2 / 3 / 4 images of one square each; which image holds the named one?). Colour alone names
the target, the images follow the question, and the reasoning scans the squares in reading order
(image by image) up to the named one, then names its image and position:
``image 1 top-right purple, image 2 left green. The green square is in image 2, at the left.``

Difficulty grades object size and distractors: ``easy`` objects are large with at most one
distractor, ``hard`` ones small among 4-6 distractors that share the target's colour or shape.
Boxes are stored in ``norm1000`` with ``image_sizes``; ``meta`` holds ``difficulty``, ``distractors``
and ``seed`` (the same keys and types in every row).

Example:
    >>> import tempfile
    >>> from univg_plugin.data import read
    >>> path = generate(tempfile.mkdtemp(), n=6, seed=0, image_size=112)
    >>> sample = next(read(path))
    >>> sample.task, sample.meta["difficulty"], sample.target_image, sample.boxes
    ('group_grounding', 'hard', 1, [(330.0, 36.0, 464.0, 170.0)])
"""

from __future__ import annotations

import colorsys
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image, ImageDraw
from tqdm.auto import tqdm

from .jsonio import JsonWriter
from .schema import GroundingSample

TASKS: tuple[str, ...] = ("common_object", "diff", "refer_grounding", "region", "group_grounding", "counting")
#: Compact tasks for models trained from scratch in minutes (the demo): colour alone names the target,
#: the question comes before its images, and the reasoning scans the squares up to the named one.
#: Never in the default mix.
COMPACT_TASKS: tuple[str, ...] = ("locate", "find")
DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 90, 225),
    "yellow": (240, 205, 30),
    "purple": (145, 60, 195),
    "orange": (245, 135, 30),
    "white": (248, 248, 248),
    "black": (18, 18, 18),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "diamond", "hexagon", "star")


@dataclass(frozen=True)
class Level:
    """Object side as a share of the image's shorter side, and the number of distractors per image."""

    scale: tuple[float, float]
    distractors: tuple[int, int]
    images: int


LEVELS: dict[str, Level] = {
    "easy": Level(scale=(0.22, 0.32), distractors=(0, 1), images=2),
    "medium": Level(scale=(0.14, 0.22), distractors=(2, 3), images=3),
    "hard": Level(scale=(0.08, 0.14), distractors=(4, 6), images=4),
}


@dataclass(frozen=True)
class Shape:
    """One drawn object: colour and shape names, pixel box ``(x1, y1, x2, y2)`` (x2, y2 exclusive)."""

    color: str
    shape: str
    box: tuple[int, int, int, int]

    @property
    def name(self) -> str:
        return f"{self.color} {self.shape}"

    @property
    def size(self) -> int:
        return self.box[2] - self.box[0]


@dataclass
class Scene:
    """The objects of one image (drawn later, on a background chosen per image).

    ``coordinate_background``: draw a two-axis colour gradient (red grows left to right, green top to
    bottom) instead of a random background, so every pixel's colour tells where it is.
    """

    width: int
    height: int
    objects: list[Shape]
    coordinate_background: bool = False


class _Sampler:
    """Random choices of one sample (a ``random.Random`` seeded by the global seed and the sample index).

    With ``grid``, objects sit in the cells of a ``grid x grid`` lattice (one object per cell, inset by
    a small margin) instead of anywhere, and scenes get the coordinate background.
    """

    def __init__(self, seed: int, index: int, width: int, height: int, level: Level, grid: int | None = None):
        self.rng = random.Random(f"univg-synth:{seed}:{index}")
        self.width, self.height, self.level, self.grid = width, height, level, grid

    def identity(self, avoid: Sequence[tuple[str, str]] = (), like: tuple[str, str] | None = None) -> tuple[str, str]:
        """A (colour, shape) not in ``avoid``; with ``like``, one sharing its colour or its shape."""
        while True:
            color, shape = self.rng.choice(tuple(COLORS)), self.rng.choice(SHAPES)
            if like is not None:
                color, shape = (like[0], shape) if self.rng.random() < 0.5 else (color, like[1])
            if (color, shape) not in avoid:
                return color, shape

    def side(self, factor: float = 1.0) -> int:
        low, high = self.level.scale
        return max(6, round(self.rng.uniform(low, high) * factor * min(self.width, self.height)))

    def place(self, scene: Scene, color: str, shape: str, side: int | None = None) -> Shape | None:
        """Put an object where it overlaps nothing (None when there is no room)."""
        if self.grid:
            return self._place_in_cell(scene, color, shape)
        side = min(side or self.side(), min(self.width, self.height) - 4)
        while side >= 6:  # crowded: shrink the object a little and try again
            for _ in range(100):
                x = self.rng.randint(2, self.width - side - 2)
                y = self.rng.randint(2, self.height - side - 2)
                box = (x, y, x + side, y + side)
                if all(_apart(box, other.box) for other in scene.objects):
                    placed = Shape(color, shape, box)
                    scene.objects.append(placed)
                    return placed
            side = int(side * 0.8)
        return None

    def _place_in_cell(self, scene: Scene, color: str, shape: str) -> Shape | None:
        cell_w, cell_h = self.width // self.grid, self.height // self.grid
        margin = max(2, min(cell_w, cell_h) // 8)
        cells = [(row, column) for row in range(self.grid) for column in range(self.grid)]
        self.rng.shuffle(cells)
        for row, column in cells:
            x, y = column * cell_w + margin, row * cell_h + margin
            box = (x, y, x + min(cell_w, cell_h) - 2 * margin, y + min(cell_w, cell_h) - 2 * margin)
            if all(_apart(box, other.box, gap=0) for other in scene.objects):
                placed = Shape(color, shape, box)
                scene.objects.append(placed)
                return placed
        return None

    def scene(self) -> Scene:
        return Scene(self.width, self.height, [], coordinate_background=self.grid is not None)

    def distractor_count(self) -> int:
        return self.rng.randint(*self.level.distractors)

    def fill(self, scene: Scene, count: int, avoid: Sequence[tuple[str, str]], like: tuple[str, str] | None) -> int:
        """Add up to ``count`` distractors that are not in ``avoid`` (confusers of ``like`` when hard)."""
        placed = 0
        for _ in range(count):
            confuser = like if like is not None and self.rng.random() < 0.7 else None
            if self.place(scene, *self.identity(avoid, confuser)) is not None:
                placed += 1
        return placed


def _count(number: int, noun: str) -> str:
    """``"1 red circle"``, ``"3 red circles"``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _apart(a: tuple[int, ...], b: tuple[int, ...], gap: int = 3) -> bool:
    return a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1]


def position(box: Sequence[float], width: int, height: int) -> str:
    """Where a box's centre lies on a 3x3 grid: ``top-left``, ``top``, ..., ``center``, ..., ``bottom-right``.

    Example:
        >>> position((0, 0, 10, 10), 100, 100), position((45, 45, 55, 55), 100, 100)
        ('top-left', 'center')
    """
    column = min(2, int(3 * (box[0] + box[2]) / 2 / width))
    row = min(2, int(3 * (box[1] + box[3]) / 2 / height))
    vertical, horizontal = ("top", "", "bottom")[row], ("left", "", "right")[column]
    return "-".join(part for part in (vertical, horizontal) if part) or "center"


# ---------------------------------------------------------------- drawing


def _polygon(shape: str, box: tuple[int, int, int, int]) -> list[tuple[float, float]]:
    x1, y1, x2, y2 = box[0], box[1], box[2] - 1, box[3] - 1
    cx, cy, w = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1
    if shape == "triangle":
        return [(x1, y2), (x2, y2), (cx, y1)]
    if shape == "diamond":
        return [(cx, y1), (x2, cy), (cx, y2), (x1, cy)]
    if shape == "hexagon":
        return [(x1 + w / 4, y1), (x2 - w / 4, y1), (x2, cy), (x2 - w / 4, y2), (x1 + w / 4, y2), (x1, cy)]
    # a five-pointed star stretched to touch all four sides of its box
    points = []
    for k in range(10):
        radius = 1.0 if k % 2 == 0 else 0.45
        angle = math.pi / 2 + k * math.pi / 5
        points.append((radius * math.cos(angle), -radius * math.sin(angle)))
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    left, top, spread_x, spread_y = min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)
    return [(x1 + (px - left) / spread_x * w, y1 + (py - top) / spread_y * (y2 - y1)) for px, py in points]


def _background(rng: random.Random, width: int, height: int) -> Image.Image:
    """A muted solid colour, a two-tone gradient, checkerboard or stripes (objects stay in contrast).

    Patterns are drawn as a few pixels and scaled up, which is fast and compresses well as PNG.
    """

    def muted() -> tuple[int, int, int]:
        r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.05, 0.25), rng.uniform(0.35, 0.75))
        return round(255 * r), round(255 * g), round(255 * b)

    style = rng.choice(("solid", "gradient", "checker", "stripes"))
    first, second = muted(), muted()
    if style == "solid":
        return Image.new("RGB", (width, height), first)
    if style == "gradient":
        mask = Image.linear_gradient("L")
        if rng.random() < 0.5:
            mask = mask.transpose(Image.Transpose.ROTATE_90)
        mask = mask.resize((width, height))
        return Image.composite(
            Image.new("RGB", (width, height), second), Image.new("RGB", (width, height), first), mask
        )
    cells = rng.randint(3, 9)
    shape = (cells, cells) if style == "checker" else ((cells, 1) if rng.random() < 0.5 else (1, cells))
    tiny = Image.new("RGB", shape)
    tiny.putdata([first if (x + y) % 2 else second for y in range(shape[1]) for x in range(shape[0])])
    return tiny.resize((width, height), Image.Resampling.NEAREST)


def _coordinate_background(width: int, height: int) -> Image.Image:
    """Red grows from left to right, green from top to bottom, blue is constant."""
    red = Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    green = Image.linear_gradient("L")
    to_range = [70 + value * 120 // 255 for value in range(256)]
    red, green = (band.resize((width, height)).point(to_range) for band in (red, green))
    return Image.merge("RGB", (red, green, Image.new("L", (width, height), 128)))


def draw(scene: Scene, rng: random.Random) -> Image.Image:
    """Draw a scene on a background chosen by ``rng`` (or the coordinate background)."""
    if scene.coordinate_background:
        image = _coordinate_background(scene.width, scene.height)
    else:
        image = _background(rng, scene.width, scene.height)
    draw = ImageDraw.Draw(image)
    for item in scene.objects:
        fill = COLORS[item.color]
        if item.shape == "circle":
            draw.ellipse([item.box[0], item.box[1], item.box[2] - 1, item.box[3] - 1], fill=fill)
        elif item.shape == "square":
            draw.rectangle([item.box[0], item.box[1], item.box[2] - 1, item.box[3] - 1], fill=fill)
        else:
            draw.polygon(_polygon(item.shape, item.box), fill=fill)
    return image


# ---------------------------------------------------------------- the tasks


@dataclass
class _Made:
    """What a task builds: images (scenes or finished images), the question, reasoning, target and box."""

    images: list[Scene | Image.Image]
    question: str
    reasoning: str
    target: int
    box: tuple[float, float, float, float]
    distractors: int


def _common_object(s: _Sampler) -> _Made:
    count = s.level.images
    common = s.identity()
    scenes, distractors = [], 0
    seen: dict[tuple[str, str], int] = {}
    for _ in range(count):
        scene = s.scene()
        s.place(scene, *common)
        hard = s.level is LEVELS["hard"]
        avoid = [common] + [identity for identity, times in seen.items() if times == count - 1]
        distractors += s.fill(scene, s.distractor_count(), avoid, common if hard else None)
        for item in scene.objects[1:]:
            seen[(item.color, item.shape)] = seen.get((item.color, item.shape), 0) + 1
        scenes.append(scene)
    target = s.rng.randint(1, count)
    found = scenes[target - 1].objects[0]
    where = position(found.box, s.width, s.height)
    return _Made(
        scenes,
        f"These images share one object in common. Recognize and locate this object in image {target}.",
        f"The {found.name} appears in {'both' if count == 2 else f'all {count}'} images and no other object does. "
        f"In image {target} it is at the {where}.",
        target,
        found.box,
        distractors,
    )


def _diff(s: _Sampler) -> _Made:
    scene = s.scene()
    hard = s.level is LEVELS["hard"]
    distractors = s.fill(scene, s.distractor_count() + 1, (), None)
    changed = replace(scene, objects=list(scene.objects))
    if hard and scene.objects:
        index = s.rng.randrange(len(scene.objects))
        before = scene.objects[index]
        color = s.rng.choice([c for c in COLORS if c != before.color])
        after = Shape(color, before.shape, before.box)
        changed.objects[index] = after
        where = position(after.box, s.width, s.height)
        question = "Image 2 is image 1 with one object changed. Locate the changed object in image 2."
        reasoning = (
            f"Comparing the two images object by object, the {before.shape} at the {where} is {before.color} "
            f"in image 1 but {color} in image 2; everything else is unchanged."
        )
        box = after.box
    else:
        added = s.place(changed, *s.identity([(o.color, o.shape) for o in scene.objects]))
        if added is None:
            raise RuntimeError("no room for the added object; use a larger image size")
        where = position(added.box, s.width, s.height)
        question = "Image 2 is image 1 with one object added. Locate the added object in image 2."
        reasoning = (
            f"Comparing the two images object by object, image 2 has a {added.name} at the {where} "
            "that image 1 lacks; everything else is unchanged."
        )
        box = added.box
    # both images share one background: render them from the same random state
    state = s.rng.getstate()
    first = draw(scene, s.rng)
    s.rng.setstate(state)
    return _Made([first, draw(changed, s.rng)], question, reasoning, 2, box, distractors)


def _refer(s: _Sampler) -> _Made:
    scene = s.scene()
    identity = s.identity()
    hard = s.level is LEVELS["hard"]
    target = s.place(scene, *identity, side=s.side(1.3) if hard else None)
    description, reason = f"{target.name}", f"Only one object is a {target.name}"
    if hard:
        twin = s.place(scene, *identity, side=max(6, round(target.size / 1.6)))
        if twin is not None:
            if s.rng.random() < 0.5:
                description = f"larger {target.name}"
                reason = f"There are two {target.shape}s in {target.color}; the larger one is the target"
            else:
                if target.box[2] <= twin.box[0] or twin.box[2] <= target.box[0]:  # side by side
                    where = "further to the left" if target.box[0] < twin.box[0] else "further to the right"
                else:  # one above the other
                    where = "nearer the top" if target.box[1] < twin.box[1] else "nearer the bottom"
                description = f"{target.name} {where}"
                reason = f"There are two {target.color} {target.shape}s; the one {where} is the target"
    s.fill(scene, s.distractor_count(), [identity], identity if s.level is not LEVELS["easy"] else None)
    where = position(target.box, s.width, s.height)
    return _Made(
        [scene],
        f"Locate the {description}.",
        f"The image has {_count(len(scene.objects), 'object')}. {reason}; it is at the {where}.",
        1,
        target.box,
        len(scene.objects) - 1,
    )


def _region(s: _Sampler) -> _Made:
    scene = s.scene()
    identity = s.identity()
    target = s.place(scene, *identity)
    distractors = s.fill(scene, s.distractor_count(), [identity], None)
    margin = target.size * s.rng.uniform(0.3, 0.8)
    x1, y1 = max(0.0, target.box[0] - margin), max(0.0, target.box[1] - margin)
    x2, y2 = min(float(s.width), target.box[2] + margin), min(float(s.height), target.box[3] + margin)
    crop = (round(x1), round(y1), round(x2), round(y2))
    source = draw(scene, s.rng)
    zoomed = source.crop(crop).resize((s.width, s.height), Image.Resampling.BILINEAR)
    where = position(crop, s.width, s.height)
    return _Made(
        [source, zoomed],
        "Image 2 is a zoomed-in region of image 1. Locate this region in image 1.",
        f"Image 2 shows a {target.name} up close. Image 1 has its only {target.name} at the {where}, "
        "so the region is the area around it.",
        1,
        crop,
        distractors,
    )


def _group(s: _Sampler) -> _Made:
    count = s.level.images
    identity = s.identity()
    target = s.rng.randint(1, count)
    scenes, distractors, found = [], 0, None
    hard = s.level is LEVELS["hard"]
    for index in range(1, count + 1):
        scene = s.scene()
        if index == target:
            found = s.place(scene, *identity)
        distractors += s.fill(scene, max(1, s.distractor_count()), [identity], identity if hard else None)
        scenes.append(scene)
    where = position(found.box, s.width, s.height)
    return _Made(
        scenes,
        f"Find the {found.name} in these images and locate it.",
        f"Looking through the {count} images, only image {target} contains a {found.name}; it is at the {where}.",
        target,
        found.box,
        distractors,
    )


def _counting(s: _Sampler) -> _Made:
    count = min(3, s.level.images)
    marker = s.identity()
    counted = s.identity([marker])
    wanted = s.rng.randint(1, 3)
    others = [n for n in range(0, 5) if n != wanted]
    target = s.rng.randint(1, count)
    numbers = [wanted if index == target else s.rng.choice(others) for index in range(1, count + 1)]
    scenes, found, distractors = [], None, 0
    for index, number in enumerate(numbers, start=1):
        scene = s.scene()
        placed = s.place(scene, *marker)
        if index == target:
            found = placed
        for _ in range(number):
            if s.place(scene, *counted, side=s.side(0.8)) is None:
                raise RuntimeError("no room for the counted objects; use a larger image size")
        extra = s.distractor_count() // 2
        distractors += number + s.fill(scene, extra, [marker, counted], None)
        scenes.append(scene)
    noun = f"{counted[0]} {counted[1]}"
    tally = ", ".join(f"image {i} has {n}" for i, n in enumerate(numbers, start=1))
    where = position(found.box, s.width, s.height)
    return _Made(
        scenes,
        f"In the image that contains exactly {_count(wanted, noun)}, locate the {found.name}.",
        f"Counting the {noun}s: {tally}. Only image {target} has {wanted}, and its {found.name} is at the {where}.",
        target,
        found.box,
        distractors,
    )


def _squares(s: _Sampler, count: int) -> list[str]:
    """``count`` distinct colours (the compact tasks' objects are all squares, told apart by colour)."""
    return s.rng.sample(tuple(COLORS), count)


def _placeholders(count: int) -> str:
    """The images after the question: in a from-scratch model the vision tokens can then attend to it."""
    return " " + "<image>" * count


def _scan_until(target: Shape, squares: Sequence[tuple[str, Shape]], s: _Sampler) -> str:
    """The compact tasks' first clause: each square as ``[image k ]position colour``, in the given order,
    up to and including ``target`` (``"image 1 top-right purple, image 2 left green"``).

    Scanning in a fixed order and stopping at the named colour turns "which square is red?" into one
    comparison per step, which a model trained from scratch learns in minutes (``docs/demo.md``)."""
    last = next(index for index, (_, square) in enumerate(squares) if square is target)
    return ", ".join(
        f"{prefix}{position(square.box, s.width, s.height)} {square.color}" for prefix, square in squares[: last + 1]
    )


def _locate(s: _Sampler) -> _Made:
    count = {"easy": 1, "medium": s.rng.randint(2, 3), "hard": s.rng.randint(4, 5)}[_level_name(s.level)]
    colors = _squares(s, count)
    scene = s.scene()
    target = s.place(scene, colors[0], "square")
    for color in colors[1:]:
        s.place(scene, color, "square")
    where = position(target.box, s.width, s.height)
    in_reading_order = sorted(scene.objects, key=lambda square: (square.box[1], square.box[0]))
    scan = _scan_until(target, [("", square) for square in in_reading_order], s)
    return _Made(
        [scene],
        f"Locate the {target.name}." + _placeholders(1),
        f"{scan}. The {target.name} is at the {where}.",
        1,
        target.box,
        count - 1,
    )


def _find(s: _Sampler) -> _Made:
    count = {"easy": 2, "medium": 3, "hard": 4}[_level_name(s.level)]
    colors = _squares(s, count)
    target = s.rng.randint(1, count)
    scenes, found = [], None
    for index in range(1, count + 1):
        scene = s.scene()
        placed = s.place(scene, colors[0] if index == target else colors[index - (index > target)], "square")
        found = placed if index == target else found
        scenes.append(scene)
    where = position(found.box, s.width, s.height)
    scan = _scan_until(found, [(f"image {index} ", scene.objects[0]) for index, scene in enumerate(scenes, 1)], s)
    return _Made(
        scenes,
        f"Find the {found.name} in these images." + _placeholders(count),
        f"{scan}. The {found.name} is in image {target}, at the {where}.",
        target,
        found.box,
        count - 1,
    )


def _level_name(level: Level) -> str:
    return next(name for name, known in LEVELS.items() if known is level)


_BUILDERS = {
    "common_object": _common_object,
    "diff": _diff,
    "refer_grounding": _refer,
    "region": _region,
    "group_grounding": _group,
    "counting": _counting,
    "locate": _locate,
    "find": _find,
}


# ---------------------------------------------------------------- the generator


def _weights(choice: Mapping[str, float] | Sequence[str] | None, known: tuple[str, ...], what: str) -> list:
    if choice is None:
        choice = {name: 1.0 for name in known}
    elif not isinstance(choice, Mapping):
        choice = {name: 1.0 for name in choice}
    unknown = sorted(set(choice) - set(known))
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(unknown)}; known: {', '.join(known)}")
    if not choice or any(weight < 0 for weight in choice.values()) or sum(choice.values()) <= 0:
        raise ValueError(f"{what} weights must be non-negative with a positive sum")
    total = sum(choice.values())
    return [(name, choice[name] / total) for name in known if choice.get(name, 0) > 0]


def _pick(weights: list, u: float) -> str:
    """The category at position ``u`` in [0, 1) of the cumulative weights."""
    for name, weight in weights:
        if u < weight:
            return name
        u -= weight
    return weights[-1][0]


def make_sample(
    index: int,
    seed: int,
    task: str,
    difficulty: str,
    image_size: tuple[int, int],
    image_dir: str = "images",
    grid: int | None = None,
) -> tuple[GroundingSample, list[Image.Image]]:
    """One synthetic sample and its images (not saved), deterministic for ``(seed, index, task, difficulty)``.

    Args:
        index: Sample index (part of the id and of the random seed).
        seed: Global seed.
        task: One of :data:`TASKS` or :data:`COMPACT_TASKS`.
        difficulty: One of :data:`DIFFICULTIES`.
        image_size: ``(width, height)`` of every image.
        image_dir: Directory of the images, relative to the dataset file.
        grid: Place objects in the cells of a ``grid x grid`` lattice, on the coordinate background
            (see :func:`generate`).
    """
    width, height = image_size
    sampler = _Sampler(seed, index, width, height, LEVELS[difficulty], grid)
    made = _BUILDERS[task](sampler)
    images = [item if isinstance(item, Image.Image) else draw(item, sampler.rng) for item in made.images]
    sample_id = f"synth-{seed}-{index:06d}"
    x1, y1, x2, y2 = made.box
    box = [round(1000 * x1 / width), round(1000 * y1 / height), round(1000 * x2 / width), round(1000 * y2 / height)]
    sample = GroundingSample(
        id=sample_id,
        task=task,
        images=[f"{image_dir}/{sample_id}_{k}.png" for k in range(1, len(images) + 1)],
        question=made.question,
        reasoning=made.reasoning,
        boxes=[box],
        space="norm1000",
        target_image=made.target,
        image_sizes=[[width, height]] * len(images),
        meta={"difficulty": difficulty, "distractors": made.distractors, "seed": seed},
    )
    return sample, images


def generate(
    out_dir: str | Path,
    n: int,
    seed: int = 0,
    *,
    image_size: int | tuple[int, int] = 224,
    tasks: Mapping[str, float] | Sequence[str] | None = None,
    difficulties: Mapping[str, float] | Sequence[str] | None = None,
    file_name: str = "data.jsonl",
    progress: bool | None = False,
    grid: int | None = None,
) -> Path:
    """Write ``n`` synthetic samples: PNG images under ``out_dir/images`` and a univg jsonl.

    The mix of tasks and difficulties follows the weights exactly up to rounding (samples are
    assigned along a low-discrepancy sequence, so any prefix is mixed too); everything is
    deterministic for a seed.

    Args:
        out_dir: Output directory (the jsonl's image paths are relative to it).
        n: Number of samples.
        seed: Random seed.
        image_size: Side of square images, or ``(width, height)`` (at least 64 pixels per side).
        tasks: Task names (equal weights) or ``{task: weight}``; default all of :data:`TASKS` (the
            :data:`COMPACT_TASKS` only when named).
        difficulties: Difficulty names or ``{difficulty: weight}``; default all three equally.
        file_name: Name of the jsonl file.
        progress: Show a progress bar (None: only on a terminal).
        grid: Put every object in a cell of a ``grid x grid`` lattice, on a background whose colour
            encodes the position (red left to right, green top to bottom). Meant for tiny models trained
            from scratch: with cells of 28 pixels one cell is one Qwen-VL vision token, and the colour
            gives that token's position, which a Qwen-VL vision tower (rotary positions only) cannot
            otherwise tell a freshly initialised language model. The ``region`` task is not grid-aligned.

    Returns:
        The path of the jsonl file.
    """
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if min(size) < 64:
        raise ValueError(f"image_size must be at least 64 pixels per side, got {size}")
    if grid is not None and not 2 <= grid <= min(size) // 8:
        raise ValueError(f"grid must be between 2 and {min(size) // 8} for {size} images, got {grid}")
    task_weights = _weights(tasks if tasks is not None else TASKS, TASKS + COMPACT_TASKS, "task(s)")
    level_weights = _weights(difficulties, DIFFICULTIES, "difficulty(ies)")
    out_dir = Path(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    offset = random.Random(f"univg-synth:{seed}").random()
    path = out_dir / file_name
    with JsonWriter(path) as writer:
        for index in tqdm(range(n), desc="synth", unit=" samples", disable=None if progress is None else not progress):
            task = _pick(task_weights, (offset + index * 0.6180339887498949) % 1.0)
            level = _pick(level_weights, (offset + index * 0.7548776662466927) % 1.0)
            sample, images = make_sample(index, seed, task, level, size, grid=grid)
            for relative, image in zip(sample.images, images):
                image.save(out_dir / relative, compress_level=1)
            writer.write(sample.model_dump_json())
    return path

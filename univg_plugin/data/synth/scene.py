"""The synthetic scene model: coloured shapes in images, difficulty levels, and the seeded sampler that
places them."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

#: The objects' colours, by name (RGB).
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
#: The objects' shapes.
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "diamond", "hexagon", "star")


@dataclass(frozen=True)
class Level:
    """Object side as a share of the image's shorter side, and the number of distractors per image."""

    scale: tuple[float, float]
    distractors: tuple[int, int]
    images: int


#: The :class:`Level` of each of :data:`~univg_plugin.data.schema.DIFFICULTIES`.
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


class Sampler:
    """Random choices of one sample (a ``random.Random`` seeded by the global seed and the sample index).

    With ``grid``, objects sit in the cells of a ``grid x grid`` lattice (one object per cell, inset by
    a small margin) instead of anywhere, and scenes get the coordinate background.

    Attributes:
        rng: The sample's random state (task builders draw from it too).
        width: Image width in pixels.
        height: Image height in pixels.
        difficulty: One of :data:`~univg_plugin.data.schema.DIFFICULTIES`.
        level: The difficulty's :class:`Level`.
        grid: Cells per side of the lattice (None: objects anywhere).
    """

    def __init__(self, seed: int, index: int, width: int, height: int, difficulty: str, grid: int | None = None):
        self.rng = random.Random(f"univg-synth:{seed}:{index}")
        self.width, self.height, self.grid = width, height, grid
        self.difficulty, self.level = difficulty, LEVELS[difficulty]

    def identity(self, avoid: Sequence[tuple[str, str]] = (), like: tuple[str, str] | None = None) -> tuple[str, str]:
        """A (colour, shape) not in ``avoid``; with ``like``, one sharing its colour or its shape."""
        while True:
            color, shape = self.rng.choice(tuple(COLORS)), self.rng.choice(SHAPES)
            if like is not None:
                color, shape = (like[0], shape) if self.rng.random() < 0.5 else (color, like[1])
            if (color, shape) not in avoid:
                return color, shape

    def side(self, factor: float = 1.0) -> int:
        """An object side in pixels, drawn from the level's scale (times ``factor``)."""
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
        """An empty scene of the sample's size (on the coordinate background when on a grid)."""
        return Scene(self.width, self.height, [], coordinate_background=self.grid is not None)

    def distractor_count(self) -> int:
        """A number of distractors in the level's range."""
        return self.rng.randint(*self.level.distractors)

    def fill(self, scene: Scene, count: int, avoid: Sequence[tuple[str, str]], like: tuple[str, str] | None) -> int:
        """Add up to ``count`` distractors that are not in ``avoid`` (confusers of ``like`` when hard)."""
        placed = 0
        for _ in range(count):
            confuser = like if like is not None and self.rng.random() < 0.7 else None
            if self.place(scene, *self.identity(avoid, confuser)) is not None:
                placed += 1
        return placed


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

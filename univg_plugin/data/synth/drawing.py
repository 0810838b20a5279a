"""Drawing a synthetic scene with PIL: the shapes, on a random background or the coordinate background."""

from __future__ import annotations

import colorsys
import functools
import math
import random

from PIL import Image, ImageDraw

from .scene import COLORS, Scene


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


@functools.lru_cache(maxsize=8)
def _coordinate_background(width: int, height: int) -> Image.Image:
    """Red grows from left to right, green from top to bottom, blue is constant (made once per size:
    callers draw on a copy)."""
    red = Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    green = Image.linear_gradient("L")
    to_range = [70 + value * 120 // 255 for value in range(256)]
    red, green = (band.resize((width, height)).point(to_range) for band in (red, green))
    return Image.merge("RGB", (red, green, Image.new("L", (width, height), 128)))


def draw(scene: Scene, rng: random.Random) -> Image.Image:
    """Draw a scene on a background chosen by ``rng`` (or the coordinate background).

    Example:
        >>> from univg_plugin.data.synth.scene import Shape
        >>> image = draw(Scene(64, 64, [Shape("red", "square", (8, 8, 24, 24))]), random.Random(0))
        >>> image.size, image.getpixel((10, 10))
        ((64, 64), (220, 40, 40))
    """
    if scene.coordinate_background:
        image = _coordinate_background(scene.width, scene.height).copy()
    else:
        image = _background(rng, scene.width, scene.height)
    pen = ImageDraw.Draw(image)
    for item in scene.objects:
        fill = COLORS[item.color]
        if item.shape == "circle":
            pen.ellipse([item.box[0], item.box[1], item.box[2] - 1, item.box[3] - 1], fill=fill)
        elif item.shape == "square":
            pen.rectangle([item.box[0], item.box[1], item.box[2] - 1, item.box[3] - 1], fill=fill)
        else:
            pen.polygon(_polygon(item.shape, item.box), fill=fill)
    return image

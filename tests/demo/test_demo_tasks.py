"""The demo's compact synthetic tasks: the reasoning scans the squares up to the named one."""

from __future__ import annotations

import numpy as np
from PIL import Image

from univg_plugin.data import read
from univg_plugin.data.synth import COLORS, generate
from univg_plugin.demo import COMPACT_BUILDERS


def test_compact_reasoning_scans_the_squares_in_reading_order_up_to_the_named_one(tmp_path):
    """Read each grid cell's colour off the pixels and rebuild the scan the reasoning must start with."""
    names = {tuple(rgb): name for name, rgb in COLORS.items()}
    cell_names = [
        ["top-left", "top", "top-right"],
        ["left", "center", "right"],
        ["bottom-left", "bottom", "bottom-right"],
    ]
    path = generate(
        tmp_path,
        n=60,
        seed=5,
        image_size=84,
        grid=3,
        tasks={"locate": 2, "find": 1},
        builders=COMPACT_BUILDERS,
        progress=None,
    )
    samples = list(read(path))
    assert {s.task for s in samples} == {"locate", "find"}
    for sample in samples:
        target = sample.question.split("the ")[1].split(" square")[0]
        clauses = []
        for number, image in enumerate(sample.images, 1):
            pixels = np.asarray(Image.open(tmp_path / image).convert("RGB"))
            for row in range(3):
                for column in range(3):
                    color = names.get(tuple(int(v) for v in pixels[28 * row + 14, 28 * column + 14]))
                    if color and target not in " ".join(clauses).split():
                        prefix = f"image {number} " if len(sample.images) > 1 else ""
                        clauses.append(f"{prefix}{cell_names[row][column]} {color}")
        assert sample.reasoning.startswith(", ".join(clauses) + ". The " + target + " square is "), sample.reasoning
        assert clauses[-1].endswith(target) and sample.reasoning.endswith(f"at the {clauses[-1].split()[-2]}.")

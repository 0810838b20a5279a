"""Round trips ours -> X -> ours keep every field X can hold (property tests with hypothesis).

What each format cannot hold (see docs/data.md) is left out of the comparison, and nothing else:
boxes come back in the format's own space (compared after converting), rounded where the format
stores 0-1000 integers.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from univg_plugin.data import DataError, GroundingSample, read, write
from univg_plugin.data.render import norm1000_ints

WORDS = st.text(alphabet="abcdefghij klmnop,.?'", min_size=1, max_size=30).map(lambda t: "Q" + t.strip())
META = st.dictionaries(
    st.text(alphabet="xyz_", min_size=1, max_size=6).map(lambda key: "m_" + key),
    st.one_of(st.integers(-5, 10**6), st.booleans(), st.text(max_size=8), st.lists(st.integers(0, 9), max_size=3)),
    max_size=3,
)
SIZES = st.tuples(st.integers(8, 4000), st.integers(8, 4000))


@st.composite
def boxes(draw, space: str, size: tuple[int, int], integers: bool, count: int):
    width, height = {"norm1000": (1000, 1000), "norm1": (1, 1)}.get(space, size)
    result = []
    for _ in range(count):
        if integers:
            x1, x2 = sorted(draw(st.lists(st.integers(0, int(width)), min_size=2, max_size=2, unique=True)))
            y1, y2 = sorted(draw(st.lists(st.integers(0, int(height)), min_size=2, max_size=2, unique=True)))
        else:
            coordinate = st.floats(0, 1, allow_nan=False).map(lambda v: round(v, 6))
            x1, x2 = sorted(draw(st.lists(coordinate, min_size=2, max_size=2, unique=True)))
            y1, y2 = sorted(draw(st.lists(coordinate, min_size=2, max_size=2, unique=True)))
            x1, x2, y1, y2 = x1 * width, x2 * width, y1 * height, y2 * height
        result.append([x1, y1, x2, y2])
    return result


@st.composite
def samples(draw, spaces=("norm1000", "norm1", "abs_image"), integers=False, max_boxes=3, tasks=None):
    count = draw(st.integers(1, 4))
    space = draw(st.sampled_from(spaces))
    sizes = [draw(SIZES) for _ in range(count)]
    target = draw(st.integers(1, count)) if count > 1 and draw(st.booleans()) else None
    text = draw(WORDS)
    style = draw(st.sampled_from(["plain", "interleaved"]))
    question = text if style == "plain" or count == 1 else text + " " + " vs ".join(["<image>"] * count) + "?"
    reasoning = draw(st.one_of(st.none(), WORDS))
    size = sizes[(target or 1) - 1]
    if target is None and count > 1:
        sizes = [size] * count  # so pixel boxes have one size to convert with
    sample_boxes = draw(
        boxes(space, size, integers or (space == "norm1000" and draw(st.booleans())), draw(st.integers(1, max_boxes)))
    )
    if space == "norm1000" and max(max(b) for b in sample_boxes) <= 2:  # MIG-Bench reads such tiny boxes as 0-1
        sample_boxes[0][2] = 3
    return GroundingSample(
        id=draw(st.one_of(st.integers(0, 99).map(str), st.text(alphabet="ab-_7", min_size=1, max_size=5))),
        task=draw(st.sampled_from(tasks or ["grounding", "common_object", "group_grounding", "region", "diff"])),
        images=[f"img/{k}.png" for k in range(count)],
        question=question,
        reasoning=reasoning,
        boxes=sample_boxes,
        space=space,
        target_image=target,
        image_sizes=[list(s) for s in sizes] if draw(st.booleans()) or space == "abs_image" else None,
        meta=draw(META),
    )


def fits_1000_grid(sample: GroundingSample) -> bool:
    """Formats with 0-1000 integers refuse boxes thinner than one unit (tested in test_data_render)."""
    try:
        norm1000_ints(sample)
    except DataError:
        return False
    return True


def round_trip(tmp_path_factory, sample: GroundingSample, fmt: str) -> GroundingSample:
    path = tmp_path_factory.getbasetemp() / f"round_trip_{fmt}.jsonl"
    write([sample], path, fmt)
    (back,) = list(read(path, fmt))
    return back


def common(sample: GroundingSample, back: GroundingSample) -> None:
    assert back.id == sample.id
    assert back.task == sample.task
    assert back.images == sample.images
    assert back.question == sample.question
    assert back.target_image == sample.target_image
    assert back.meta == sample.meta


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(sample=samples(spaces=("norm1000", "norm1", "abs_image", "abs_input")))
def test_univg_keeps_everything(tmp_path_factory, sample):
    assert round_trip(tmp_path_factory, sample, "univg") == sample


@pytest.mark.parametrize("fmt", ["univg_stage1", "sharegpt"])
@SETTINGS
@given(sample=samples())
def test_stage1_keeps_all_but_space_precision_and_sizes(tmp_path_factory, fmt, sample):
    assume(fits_1000_grid(sample))
    back = round_trip(tmp_path_factory, sample, fmt)
    common(sample, back)
    assert back.reasoning == sample.reasoning
    assert back.space.value == "norm1000" and back.image_sizes is None
    assert back.boxes_in("norm1000").tolist() == norm1000_ints(sample).astype(float).tolist()


@SETTINGS
@given(sample=samples(max_boxes=1))
def test_stage2_keeps_all_but_reasoning_space_precision_and_sizes(tmp_path_factory, sample):
    assume(fits_1000_grid(sample))
    back = round_trip(tmp_path_factory, sample, "univg_stage2")
    common(sample, back)
    assert (back.reasoning, back.image_sizes) == (None, None)
    assert back.boxes_in("norm1000").tolist() == norm1000_ints(sample).astype(float).tolist()


@SETTINGS
@given(sample=samples(max_boxes=1))
def test_mig_bench_keeps_all_but_reasoning_sizes_and_pixel_spaces(tmp_path_factory, sample):
    if sample.task in ("group_grounding", "region") and sample.target_image is None:
        sample = sample.model_copy(update={"task": "grounding"})  # these come back with a target (see docs)
    if sample.task == "group_grounding":
        assume(fits_1000_grid(sample))  # additional_info holds the box in 0-1000 integers
    back = round_trip(tmp_path_factory, sample, "mig_bench")
    common(sample, back)
    assert (back.reasoning, back.image_sizes) == (None, None)
    if sample.space.value in ("norm1", "norm1000"):
        assert (back.space, back.boxes) == (sample.space, sample.boxes)
    else:
        np.testing.assert_allclose(back.boxes_in("norm1"), sample.boxes_in("norm1"), rtol=1e-12)


@SETTINGS
@given(sample=samples())
def test_vlm_r1_keeps_all_but_reasoning_sizes_and_normalized_spaces(tmp_path_factory, sample):
    assume(sample.image_sizes is not None)  # normalized boxes need the size to become pixels
    back = round_trip(tmp_path_factory, sample, "vlm_r1")
    common(sample, back)
    assert (back.reasoning, back.image_sizes, back.space.value) == (None, None, "abs_image")
    if sample.space.value == "abs_image":
        assert back.boxes == sample.boxes
    else:
        np.testing.assert_allclose(back.boxes, sample.boxes_in("abs_image"), rtol=1e-12)


def test_leading_placeholders_mean_the_same_as_none(tmp_path):
    """The one canonical change: placeholders before all the text are dropped (images come first anyway)."""
    sample = GroundingSample(
        id="a",
        images=["1.png", "2.png"],
        question="<image>\n<image>\nFind it.",
        boxes=[[1, 2, 3, 4]],
        image_sizes=[[9, 9], [9, 9]],
    )
    for fmt in ("univg_stage1", "univg_stage2", "vlm_r1"):
        write([sample], tmp_path / f"x_{fmt}.jsonl", fmt)
        assert next(read(tmp_path / f"x_{fmt}.jsonl", fmt)).question == "Find it."

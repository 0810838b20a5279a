"""`univg data preview`: samples drawn with their truth boxes, in every space, any format, in a real browser."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from browser import page_images, serve
from click.testing import CliRunner
from paths import GOLDEN
from PIL import Image

from univg_plugin.cli import main
from univg_plugin.data import read
from univg_plugin.data.preview import preview, select
from univg_plugin.visual import TRUTH

#: One box in pixels of a 560x280 image, written in each space (abs_input: the model saw it at 280x140).
SAME_BOX = {
    "norm1000": [250, 250, 750, 750],
    "norm1": [0.25, 0.25, 0.75, 0.75],
    "abs_image": [140, 70, 420, 210],
    "abs_input": [70, 35, 210, 105],
}
INPUT_PIXELS = 280 * 140


def write_dataset(tmp_path, rows: list[dict]) -> str:
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def sample(identity: str, space: str = "norm1000", box=None, images=("a.png",), **fields) -> dict:
    return {
        "id": identity,
        "images": list(images),
        "question": "Where is <it>?",
        "boxes": [box or SAME_BOX[space]],
        "space": space,
        **fields,
    }


def truth_pixels(jpeg) -> np.ndarray:
    """The pixels of the truth colour (JPEG: within a few levels)."""
    pixels = np.asarray(Image.open(jpeg).convert("RGB"), dtype=np.int16)
    return np.abs(pixels - np.array(TRUTH.color)).sum(axis=2) <= 24


@pytest.fixture
def images(tmp_path):
    for name in ("a.png", "b.png"):
        Image.new("RGB", (560, 280), (128, 128, 128)).save(tmp_path / name)
    return tmp_path


def test_every_space_is_drawn_on_the_same_pixels(images, tmp_path):
    rows = [sample(space, space) for space in SAME_BOX]
    rows[-1]["image_sizes"] = [[560, 280]]
    result = preview(write_dataset(tmp_path, rows), tmp_path / "out", min_pixels=INPUT_PIXELS, max_pixels=INPUT_PIXELS)
    masks = [truth_pixels(tmp_path / "out" / "images" / f"{k:05d}-1.jpg") for k in range(4)]
    assert result.samples == 4 and result.notes == []
    for mask in masks[1:]:
        assert np.array_equal(mask, masks[0])
    ys, xs = np.nonzero(masks[0])
    assert (xs.min(), ys.min(), xs.max(), ys.max()) == (80, 40, 239, 119)  # on the 320x160 thumbnail


def test_the_target_image_is_marked_and_the_only_one_drawn(images, tmp_path):
    rows = [sample("s", images=("a.png", "b.png"), target_image=2, reasoning="It is <b>there</b>.")]
    preview(write_dataset(tmp_path, rows), tmp_path / "out")
    assert not truth_pixels(tmp_path / "out" / "images" / "00000-1.jpg").any()
    assert truth_pixels(tmp_path / "out" / "images" / "00000-2.jpg").any()
    page = (tmp_path / "out" / "index.html").read_text()
    assert '<figure class="target"><img src="images/00000-2.jpg"' in page
    assert "Where is &lt;it&gt;?" in page and "It is &lt;b&gt;there&lt;/b&gt;." in page


def test_a_box_in_the_wrong_space_shows_wrong_and_is_noted(images, tmp_path):
    rows = [
        sample("pixels as norm1000", box=SAME_BOX["abs_image"]),  # drawn small, up and to the left
        sample("pixels of a larger photo", "abs_image", box=[600, 300, 900, 450]),  # drawn off the image
        sample("unspecified", images=("a.png", "b.png")),
    ]
    result = preview(write_dataset(tmp_path, rows), tmp_path / "out")
    ys, xs = np.nonzero(truth_pixels(tmp_path / "out" / "images" / "00000-1.jpg"))
    assert (xs.min(), ys.min(), xs.max(), ys.max()) == (45, 11, 133, 33)  # [140, 70, 420, 210] / 1000 * [320, 160]
    assert not truth_pixels(tmp_path / "out" / "images" / "00001-1.jpg").any()
    assert result.notes == [
        "pixels of a larger photo: image 1 (target): truth box 1 (abs_image) lies entirely outside the image",
        "unspecified: target image not specified: the boxes are drawn on every image",
    ]
    assert truth_pixels(tmp_path / "out" / "images" / "00002-2.jpg").any()
    assert (tmp_path / "out" / "index.html").read_text().count('class="card fail"') == 2


def test_missing_images_and_bad_rows_are_noted_not_errors(images, tmp_path):
    rows = [sample("ok"), {"id": "bad", "images": []}, sample("gone", images=("nowhere.png",))]
    result = preview(write_dataset(tmp_path, rows), tmp_path / "out")
    page = (tmp_path / "out" / "index.html").read_text()
    assert result.samples == 2 and result.bad_rows == 1
    assert "1 bad row(s) skipped" in page and "data.jsonl:2" in page
    assert "image 1 (target): file not found:" in page and "nowhere.png" in page


def test_ids_count_and_seed_choose_the_samples(images, tmp_path):
    path = write_dataset(tmp_path, [sample(f"s{k}") for k in range(30)])
    pick = lambda **options: [s.id for s in select(read(path, errors="skip"), **options)[0]]  # noqa: E731
    assert pick(count=3) == ["s0", "s1", "s2"]
    assert pick(count=3, ids=["s9", "s4"]) == ["s4", "s9"]
    seeded = pick(count=5, seed=1)
    assert seeded == pick(count=5, seed=1) != pick(count=5, seed=2) and len(set(seeded)) == 5
    assert seeded == sorted(seeded, key=lambda identity: int(identity[1:])) and seeded != pick(count=5)
    result = preview(path, tmp_path / "out", ids=["s3", "missing"])
    assert result.samples == 1 and result.missing_ids == ["missing"]
    with pytest.raises(ValueError, match="none of the ids nope"):
        preview(path, tmp_path / "out", ids=["nope"])


def test_any_readable_format(tmp_path):
    result = preview(GOLDEN / "mig_bench.json", tmp_path / "out", "mig_bench", count=2)
    page = (tmp_path / "out" / "index.html").read_text()
    assert result.samples == 2 and "space norm1" in page and "file not found" in page  # the images are not shipped


def test_the_command(images, tmp_path):
    path = write_dataset(tmp_path, [sample("a"), sample("b"), sample("c", images=("gone.png",))])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["data", "preview", path, "--ids", "a,c", "--ids", "zz", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote 2 sample(s) to {out / 'index.html'}" in result.output
    assert "ids not in" in result.output and "zz" in result.output and "note: 1 note(s)" in result.output
    failed = CliRunner().invoke(main, ["data", "preview", path, "--n", "0", "--out", str(out)])
    assert failed.exit_code == 1 and "count must be at least 1" in failed.output


def test_the_page_in_a_browser(tmp_path, chromium):
    from univg_plugin.data.synth import generate

    data = generate(tmp_path / "synth", 6, 0, progress=False)
    preview(data, tmp_path / "out", count=6)
    page = chromium.new_page()
    with serve(tmp_path / "out") as url:
        page.goto(url + "index.html")
        shown = page_images(page, {"truth": TRUTH.color})
        cards = page.locator(".card").count()
    page.close()
    assert cards == 6 and len(shown) == sum(len(s.images) for s in read(data))
    assert all(image["width"] > 0 for image in shown)
    drawn = [image for image in shown if image["styles"]]
    assert drawn and all(image["shown"] == [True] * len(image["styles"]) for image in drawn)
    assert all(re.fullmatch(r"images/\d{5}-\d\.jpg", image["src"]) for image in shown)

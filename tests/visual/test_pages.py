"""Panels (an image file drawn and saved) and the HTML pages that show them, in a real browser."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pytest
from browser import page_images, serve
from PIL import Image

from univg_plugin.visual import PREDICTION, TRUTH, Figure, Layer, card, draw_panel, grid, legend, write_page

COLORS = {"truth": TRUTH.color, "prediction": PREDICTION.color}


def test_a_panel_is_a_thumbnail_with_its_boxes_where_they_are(tmp_path):
    Image.new("RGB", (1000, 500), (90, 90, 90)).save(tmp_path / "big.png")
    layers = [Layer([[100, 100, 500, 600]], "norm1000"), Layer([[0.5, 0.5, 0.9, 0.9]], "norm1", PREDICTION)]
    figure, notes = draw_panel(tmp_path / "big.png", tmp_path / "out.png", layers, caption="image 1", src="out.png")
    thumb = Image.open(tmp_path / "out.png")
    assert thumb.size == (320, 160) and notes == []
    assert [style.name for style, _ in figure.boxes] == ["truth", "prediction"]
    np.testing.assert_allclose(figure.boxes[0][1], [32, 16, 160, 96])
    assert thumb.getpixel((100, 16)) == TRUTH.color and thumb.getpixel((100, 19)) == (90, 90, 90)


def test_a_missing_image_and_a_box_outside_it_are_notes_not_errors(tmp_path):
    figure, notes = draw_panel(tmp_path / "gone.png", tmp_path / "o.png", [], caption="image 2", src="o.png")
    assert figure.src is None and "file not found" in figure.caption and "gone.png" in figure.caption
    assert notes == [figure.caption]
    (tmp_path / "text.png").write_text("not an image")
    figure, _ = draw_panel(tmp_path / "text.png", tmp_path / "o.png", [], caption="image 1", src="o.png")
    assert figure.src is None and "cannot read it" in figure.caption
    Image.new("RGB", (64, 48)).save(tmp_path / "small.png")
    layers = [Layer([[100, 100, 200, 200]], "abs_image"), Layer([[10, 10, 80, 40]], "abs_image", PREDICTION)]
    _, notes = draw_panel(tmp_path / "small.png", tmp_path / "o.png", layers, caption="image 1", src="o.png")
    assert notes == [
        "image 1: truth box 1 (abs_image) lies entirely outside the image",
        "image 1: prediction box 1 (abs_image) reaches past the image's edge",
    ]


def test_every_text_of_a_card_is_escaped():
    text = card(
        "<b>id</b>",
        [Figure("a&b.png", 'cap "1"'), Figure(None, "<missing>")],
        facts=["IoU <0.5>"],
        notes=["<script>alert(1)</script>"],
        texts=[("question", "Where's the <image>?"), ("reasoning", None)],
    )
    assert "<script>" not in text and "<b>" not in text and "<missing>" not in text and "<image>" not in text
    assert "&lt;script&gt;" in text and 'src="a&amp;b.png"' in text and "reasoning" not in text


def test_a_page_shows_its_images_and_boxes_in_a_browser(tmp_path, chromium):
    Image.new("RGB", (320, 240), (200, 200, 200)).save(tmp_path / "photo.png")
    layers = [Layer([[0.1, 0.1, 0.6, 0.6]], "norm1"), Layer([[300, 300, 900, 900]], "norm1000", PREDICTION)]
    figure, _ = draw_panel(
        tmp_path / "photo.png", tmp_path / "img" / "0.png", layers, caption="image 1", src="img/0.png"
    )
    missing, _ = draw_panel(tmp_path / "gone.png", tmp_path / "img" / "1.png", [], caption="image 2", src="img/1.png")
    write_page(tmp_path / "index.html", "A <test> page", [legend(), grid([card("s1", [figure, missing])])])
    page = chromium.new_page()
    with serve(tmp_path) as url:
        page.goto(url + "index.html")
        images = page_images(page, COLORS)
        assert page.title() == "A <test> page"
        assert "file not found" in page.inner_text(".card")
    page.close()
    assert len(images) == 1 and images[0]["width"] == 320
    assert images[0]["styles"] == ["truth", "prediction"] and images[0]["shown"] == [True, True]
    attribute = re.search(r"data-boxes='([^']*)'", (tmp_path / "index.html").read_text())[1]
    boxes = json.loads(html.unescape(attribute))
    assert boxes[0] == {"style": "truth", "box": [32.0, 24.0, 192.0, 144.0]}


def test_the_browser_check_sees_a_box_that_is_not_drawn(tmp_path, chromium):
    Image.new("RGB", (100, 100), (255, 255, 255)).save(tmp_path / "blank.png")
    figure = Figure("blank.png", "no box drawn", boxes=[(TRUTH, np.array([10.0, 10.0, 90.0, 90.0]))])
    write_page(tmp_path / "index.html", "claims a box", [figure.render()])
    page = chromium.new_page()
    with serve(tmp_path) as url:
        page.goto(url + "index.html")
        images = page_images(page, COLORS)
    page.close()
    assert images[0]["width"] == 100 and images[0]["shown"] == [False]


def test_a_panel_is_written_as_png_or_jpeg_only(tmp_path):
    Image.new("RGB", (100, 80), (90, 90, 90)).save(tmp_path / "in.png")
    layers = [Layer([[100, 100, 900, 900]], "norm1000")]
    draw_panel(tmp_path / "in.png", tmp_path / "out.jpg", layers, caption="image 1", src="out.jpg")
    with Image.open(tmp_path / "out.jpg") as picture:
        assert picture.format == "JPEG" and picture.size == (100, 80)
        assert np.abs(np.subtract(picture.getpixel((50, 8)), TRUTH.color)).sum() <= 24  # the outline's colour kept
    with pytest.raises(ValueError, match=r"out\.gif: a panel is written as \.png, \.jpg, \.jpeg"):
        draw_panel(tmp_path / "in.png", tmp_path / "out.gif", layers, caption="image 1", src="out.gif")


def test_a_large_jpeg_is_decoded_small_and_drawn_where_its_boxes_are(tmp_path):
    Image.new("RGB", (1280, 960), (90, 90, 90)).save(tmp_path / "photo.jpg")  # draft decodes it at 1/4
    layers = [Layer([[320, 240, 960, 720]], "abs_image")]
    figure, notes = draw_panel(tmp_path / "photo.jpg", tmp_path / "out.png", layers, caption="image 1", src="out.png")
    mask = (np.asarray(Image.open(tmp_path / "out.png")) == np.array(TRUTH.color, dtype=np.uint8)).all(axis=2)
    ys, xs = np.nonzero(mask)
    assert mask.shape == (240, 320) and notes == []
    assert (xs.min(), ys.min(), xs.max(), ys.max()) == (80, 60, 239, 179)
    np.testing.assert_allclose(figure.boxes[0][1], [80, 60, 240, 180])

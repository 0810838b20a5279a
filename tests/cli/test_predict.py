"""`univg predict`: an answer read and drawn on the image it names, the family's space, and end to end."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from univg_plugin.cli import main
from univg_plugin.data import DataError
from univg_plugin.eval.predict import question_sample, read_answer
from univg_plugin.qwen_vl import MODEL_FAMILIES, MODEL_TYPE_FAMILIES, checkpoint_family, family_of_model_type
from univg_plugin.visual import PREDICTION

UNIVG = [sys.executable, "-m", "univg_plugin.cli"]
GREY = (128, 128, 128)


@pytest.fixture
def two_images(tmp_path) -> list[Path]:
    """Two plain images of different sizes: 160x120, then 200x100."""
    paths = []
    for index, size in enumerate([(160, 120), (200, 100)], start=1):
        paths.append(tmp_path / f"image{index}.png")
        Image.new("RGB", size, GREY).save(paths[-1])
    return paths


def _drawn_extent(image: Image.Image) -> tuple[int, int, int, int]:
    """``(x1, y1, x2, y2)`` (inclusive) of the prediction-coloured pixels below the top outline (the label sits
    above the box, over its top edge)."""
    mask = (np.asarray(image) == PREDICTION.color).all(axis=2)
    top = int(np.flatnonzero(mask.any(axis=1))[0])
    rows, columns = np.nonzero(mask[top + 3 :])
    return int(columns.min()), top, int(columns.max()), int(rows.max()) + top + 3


def test_the_box_is_drawn_where_its_space_puts_it_on_the_image_the_answer_names(two_images):
    output = "<think>The left one is grey. So the target is in image 2.</think><answer>(250,250),(750,800)</answer>"
    prediction = read_answer(output, two_images, "Which image has the object? Find it.", "norm1000")
    assert (prediction.image, prediction.drawn, prediction.note) == (2, True, None)
    assert prediction.reasoning == "The left one is grey." and prediction.answer == "(250,250),(750,800)"
    assert prediction.pixel_boxes() == [[50.0, 25.0, 150.0, 80.0]]
    drawn = prediction.draw()
    assert drawn.size == (200, 100)
    x1, _, x2, y2 = _drawn_extent(drawn)
    assert (x1, x2, y2) == (50, 149, 79)  # the half-open pixel rectangle [50, 150) x [25, 80)
    assert "box: [250, 250, 750, 800] (norm1000) on image 2: [50, 25, 150, 80] px" in prediction.describe()


def test_qwen2_5_vl_pixels_of_the_model_input_are_scaled_to_the_image(two_images):
    output = '<think>x</think><answer>[{"bbox_2d": [28, 14, 84, 42], "label": "cat"}]</answer>'
    prediction = read_answer(output, two_images[:1], "Find the cat.", "abs_input", input_sizes=[[112, 84]])
    assert prediction.input_size == (112, 84)
    assert prediction.pixel_boxes() == [[40.0, 20.0, 120.0, 60.0]]  # 160x120 shown as 112x84
    x1, _, x2, y2 = _drawn_extent(prediction.draw())
    assert (x1, x2, y2) == (40, 119, 59)


def test_an_answer_without_a_box_is_noted_and_its_image_written_as_it_is(two_images):
    prediction = read_answer("\n\n I do not know", two_images, "Find it in image 2.", "norm1000")
    assert prediction.boxes == () and not prediction.drawn and prediction.image == 2
    assert prediction.note == "the answer holds no box: nothing is drawn"
    assert prediction.describe() == ["answer: (no <answer> block)"] and prediction.pixel_boxes() == []
    assert np.array_equal(np.asarray(prediction.draw()), np.asarray(Image.open(two_images[1]).convert("RGB")))


def test_which_image_is_shown_and_the_note_when_nothing_names_it(two_images):
    box = "<answer>(100,100),(500,500)</answer>"
    beyond = read_answer(f"<think>It is in image 3.</think>{box}", two_images, "Find it.", "norm1000")
    assert (beyond.image, beyond.drawn) == (1, False) and beyond.pixel_boxes() == []
    assert beyond.note == "the answer names image 3 but 2 were given: its box is not drawn"
    assert (np.asarray(beyond.draw()) == GREY).all()
    assert "box: [100, 100, 500, 500] (norm1000)" in beyond.describe()
    asked = read_answer(box, two_images, "Locate the dog in the second image.", "norm1000")
    assert (asked.image, asked.drawn, asked.note) == (2, True, None)
    unnamed = read_answer(box, two_images, "Find the dog.", "norm1000")
    assert (unnamed.image, unnamed.drawn) == (1, True)
    assert unnamed.note == "neither the answer nor the question names an image: the box is drawn on image 1"


def test_the_answer_policy_says_where_the_box_is_read(two_images):
    output = "<think>(1,2),(300,400)</think>no answer tags"
    assert read_answer(output, two_images[:1], "Find it.", "norm1000", policy="strict").boxes == ()
    assert read_answer(output, two_images[:1], "Find it.", "norm1000").boxes == ((1.0, 2.0, 300.0, 400.0),)


@pytest.mark.parametrize("model_type", [*MODEL_FAMILIES, *MODEL_TYPE_FAMILIES])
def test_the_space_follows_the_family_the_checkpoint_config_names(tmp_path, model_type):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": model_type}))
    assert checkpoint_family(tmp_path) is MODEL_FAMILIES[family_of_model_type(model_type)]


def test_a_checkpoint_of_no_known_family_is_refused_naming_its_config(tmp_path, two_images):
    with pytest.raises(FileNotFoundError, match=r"config\.json: not found"):
        checkpoint_family(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llava"}))
    with pytest.raises(ValueError, match=r"config.json: model_type 'llava' is not a known Qwen-VL family .*--space"):
        checkpoint_family(tmp_path)
    args = ["predict", "--model", str(tmp_path), "--image", str(two_images[0]), "Find it."]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "error: " in result.stderr and "model_type 'llava'" in result.stderr


def test_a_bad_question_is_refused_naming_each_problem(two_images, tmp_path):
    with pytest.raises(DataError, match=r"the question: question: has 1 <image> placeholder\(s\) but the sample has 2"):
        question_sample(two_images, "Compare <image> with the other.")
    with pytest.raises(DataError, match=r"the question: images\[1\]: .*not found"):
        question_sample([two_images[0], tmp_path / "missing.png"], "Find it.")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(DataError, match=r"images\[0\]"):
        question_sample([tmp_path / "text.png"], "Find it.")


def _predict(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*UNIVG, "predict", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_predict_on_a_tiny_checkpoint_end_to_end(tiny_qwen2_vl, two_images, tmp_path):
    """A random model may answer nothing parseable: then the note says so and the image is still written."""
    out = tmp_path / "answers" / "drawn.png"
    question = "Which image holds the grey square? Find it."
    args = ["--model", str(tiny_qwen2_vl), "--image", str(two_images[0]), "--image", str(two_images[1]), question]
    args += ["--max-new-tokens", "8", "--out", str(out)]
    result = _predict(*args, "--json", "--space", "norm1")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["space"] == "norm1" and answer["png"] == str(out) and answer["question"] == question
    assert answer["images"] == [str(path) for path in two_images] and len(answer["input_sizes"]) == 2
    assert isinstance(answer["output"], str) and Image.open(out).size == tuple(answer["image_size"])

    result = _predict(*args)  # the same greedy answer, read in the family's space
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("reasoning: ") and "\nanswer: " in result.stdout and f"wrote {out}" in result.stderr
    if answer["boxes"]:
        assert "(norm1000) on image" in result.stdout
    else:
        assert "note: the answer holds no box: nothing is drawn" in result.stderr
    assert Image.open(out).size == ((160, 120) if answer["image"] == 1 else (200, 100))


@pytest.mark.skipif(importlib.util.find_spec("gradio") is not None, reason="Gradio is installed here")
def test_the_app_without_gradio_says_how_to_install_it(tmp_path):
    result = CliRunner().invoke(main, ["app", "--model", str(tmp_path)])
    assert result.exit_code == 1
    assert "univg app needs Gradio, which is not installed: pip install 'univg-plugin[app]'" in result.stderr

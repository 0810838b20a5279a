"""`univg app` on a tiny checkpoint, in real headless Chromium: ask about an uploaded image, and about an example."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from ports import free_port

from univg_plugin.app import MAX_IMAGES, answer, example_rows
from univg_plugin.cli import main
from univg_plugin.data import read
from univg_plugin.data.synth import generate

#: Seconds the app may take to load its model and start serving (2 shared CPU cores).
START_TIMEOUT = 240
#: Milliseconds one answer may take in the browser.
ANSWER_TIMEOUT = 120_000
#: True once the answer's image has loaded.
_ANSWERED = "() => { const img = document.querySelector('#drawn img'); return img?.complete && img.naturalWidth > 0; }"


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    """6 synthetic samples (1 to 4 images each) with 64-pixel images."""
    return generate(tmp_path_factory.mktemp("synth"), n=6, seed=0, image_size=64)


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"univg app exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(1)
    pytest.fail(f"univg app did not serve {url} within {START_TIMEOUT} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def app_url(chromium, tiny_qwen2_vl, synth, tmp_path_factory) -> Iterator[str]:
    """``univg app`` serving the tiny checkpoint with the synthetic examples, started once for the module."""
    url, log = f"http://127.0.0.1:{free_port()}/", tmp_path_factory.mktemp("app") / "app.log"
    command = [sys.executable, "-m", "univg_plugin.cli", "app", "--model", str(tiny_qwen2_vl), "--max-new-tokens", "8"]
    command += ["--examples", str(synth), "--port", url.rsplit(":", 1)[1].strip("/")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with open(log, "w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_until_serving(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ask(page) -> dict:
    """Submit the question; wait for the drawn image; return it and the texts."""
    page.click("#ask")
    page.wait_for_function(_ANSWERED, timeout=ANSWER_TIMEOUT)
    return page.evaluate(
        """() => ({width: document.querySelector('#drawn img').naturalWidth,
                   height: document.querySelector('#drawn img').naturalHeight,
                   reasoning: document.querySelector('#reasoning textarea').value,
                   answer: document.querySelector('#answer textarea').value})"""
    )


@pytest.mark.slow
def test_a_question_about_an_uploaded_image_comes_back_answered_and_drawn(chromium, app_url, tmp_path):
    image = tmp_path / "upload.png"
    Image.new("RGB", (96, 72), (0, 114, 178)).save(image)
    page = chromium.new_page()
    elsewhere = []
    page.on("request", lambda request: None if request.url.startswith(app_url) else elsewhere.append(request.url))
    try:
        page.goto(app_url, timeout=60_000)
        page.set_input_files("#image-1 input[type=file]", str(image))
        page.wait_for_selector("#image-1 img", timeout=30_000)
        page.fill("#question textarea", "Where is the blue square?")
        shown = _ask(page)
    finally:
        page.close()
    assert (shown["width"], shown["height"]) == (96, 72)
    # nothing from the internet (fonts, analytics) but the iframe resizer of Gradio's page template, unused
    assert all("/iframe-resizer/" in url for url in elsewhere), elsewhere
    assert shown["answer"].startswith("answer: ") and shown["reasoning"]
    if "box: " not in shown["answer"]:  # a random model's answer may hold none
        assert "note: the answer holds no box: nothing is drawn" in shown["answer"]


@pytest.mark.slow
def test_an_example_of_the_benchmark_fills_the_form_and_is_answered(chromium, app_url, synth):
    first = next(iter(read(synth)))
    page = chromium.new_page()
    try:
        page.goto(app_url, timeout=60_000)
        page.wait_for_selector("table tbody tr", timeout=30_000)
        assert page.locator("table tbody tr").count() == 6
        page.locator("table tbody tr").first.click()
        page.wait_for_selector(f"#image-{len(first.images)} img", timeout=30_000)
        assert page.input_value("#question textarea") == first.question
        shown = _ask(page)
    finally:
        page.close()
    assert shown["width"] > 0 and shown["answer"].startswith("answer: ")


def test_examples_are_the_samples_that_fit_the_image_slots_with_their_files(synth, tmp_path):
    samples = list(read(synth))
    rows = example_rows(samples, synth.parent, limit=3)
    assert len(rows) == 3 and all(len(row) == MAX_IMAGES + 1 for row in rows)
    first = samples[0]
    assert rows[0][: len(first.images)] == [str(synth.parent / path) for path in first.images]
    assert rows[0][len(first.images) : MAX_IMAGES] == [None] * (MAX_IMAGES - len(first.images))
    assert rows[0][-1] == first.question
    crowded = first.model_copy(update={"images": first.images * 5, "image_sizes": None})
    assert example_rows([crowded, samples[1]], synth.parent) == example_rows([samples[1]], synth.parent) != []
    assert example_rows(samples, tmp_path) == []  # the wrong media root: no file found


def test_a_model_of_no_known_family_stops_the_app_before_serving(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "llava"}')
    result = CliRunner().invoke(main, ["app", "--model", str(tmp_path)])
    assert result.exit_code == 1 and "model_type 'llava' is not a known Qwen-VL family" in result.stderr


def test_a_question_without_an_image_is_refused_on_the_page():
    import gradio

    with pytest.raises(gradio.Error, match="Upload at least one image"):
        answer(None, None, None, None, None, "Where is the cat?")

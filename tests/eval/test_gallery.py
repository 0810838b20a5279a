"""gallery.html: the worst, best and random answers drawn on their images, with the reason of each failure."""

from __future__ import annotations

import json

import numpy as np
import pytest
from browser import page_images, serve
from click.testing import CliRunner
from PIL import Image

from univg_plugin.cli import main
from univg_plugin.data import GroundingSample, read
from univg_plugin.eval import PredictionSet, score
from univg_plugin.eval.gallery import choose, write_comparison, write_gallery
from univg_plugin.visual import PREDICTION, TRUTH

COLORS = {"truth": TRUTH.color, "prediction": PREDICTION.color}


def painted(png, style) -> np.ndarray:
    return (np.asarray(Image.open(png).convert("RGB")) == np.array(style.color, dtype=np.uint8)).all(axis=2)


def extent(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


@pytest.fixture
def benchmark(tmp_path) -> list[GroundingSample]:
    """Two images of 280x140; samples: image 2 is the target, box [70, 35, 210, 105] in pixels."""
    for name in ("a.png", "b.png"):
        Image.new("RGB", (280, 140), (128, 128, 128)).save(tmp_path / name)
    common = {"images": ["a.png", "b.png"], "question": "Find <it>.", "boxes": [[250, 250, 750, 750]]}
    return [GroundingSample(id=f"s{k}", task="easy" if k < 4 else "hard", target_image=2, **common) for k in range(8)]


OUTPUTS = {
    "s0": "<think>Image 2 holds it.</think><answer>(250,250),(750,750)</answer>",  # exact
    "s1": "<think>Image 2.</think><answer>(300,300),(750,750)</answer>",
    "s2": "<think>I see nothing.</think><answer>none</answer>",  # no box
    "s3": "<think>It is in image 1.</think><answer>(0,0),(500,500)</answer>",  # wrong image
    "s4": "<think>Image 2.</think><answer>(250,250),(700,700)</answer>",
    "s6": "<think>Image 2.</think><answer>(500,500),(1000,1000)</answer>",
    # s5 and s7: no prediction
}


def scored(benchmark, tmp_path, outputs=OUTPUTS, **options):
    predictions = PredictionSet(dict(outputs))
    report = score(predictions, benchmark, media_root=tmp_path, **options)
    return report, predictions


def test_worst_best_and_random_are_distinct_and_seeded(benchmark, tmp_path):
    report, _ = scored(benchmark, tmp_path)
    chosen = choose(report, count=1, seed=3)
    assert list(chosen) == ["easy", "hard"]
    assert chosen["easy"]["worst"] == [2] and chosen["easy"]["best"] == [0]  # no box (first 0) / exact
    assert chosen["hard"]["worst"] == [5] and chosen["hard"]["best"] == [4]
    assert chosen == choose(report, count=1, seed=3)
    everything = choose(report, count=10)
    assert sorted(row for kinds in everything.values() for rows in kinds.values() for row in rows) == list(range(8))


def test_truth_and_prediction_are_drawn_on_their_images(benchmark, tmp_path):
    report, predictions = scored(benchmark, tmp_path)
    page = write_gallery(report, benchmark, predictions, tmp_path / "out", count=2).read_text()
    folder = tmp_path / "out" / "gallery"
    # exact answer: truth and prediction on the same pixels of the target image, the only image shown
    assert extent(painted(folder / "00000-2.png", TRUTH)) == (70, 35, 209, 104)
    assert extent(painted(folder / "00000-2.png", PREDICTION)) == (70, 35, 209, 104)
    assert not (folder / "00000-1.png").exists()
    # the answer names image 1: the prediction is drawn there, the truth on image 2
    assert extent(painted(folder / "00003-1.png", PREDICTION)) == (0, 0, 139, 69)
    assert not painted(folder / "00003-1.png", TRUTH).any() and not painted(folder / "00003-2.png", PREDICTION).any()
    assert "wrong image: the answer names image 1, the target is image 2" in page
    assert "failure: no_box" in page and "failure: missing (no prediction for this sample)" in page
    assert "wrong image: the answer names no image, the target is image 2" in page  # s2: no box, no image
    assert "IoU 1.000" in page and "&lt;think&gt;Image 2 holds it.&lt;/think&gt;" in page and "Find &lt;it&gt;." in page
    assert page.index("<h2>easy") < page.index("<h3>worst</h3>") < page.index("<h3>best</h3>") < page.index("<h2>hard")


def test_abs_input_predictions_use_the_recorded_input_size(benchmark, tmp_path):
    rows = [{"id": "s0", "output": "<answer>[35, 17.5, 105, 52.5]</answer>", "input_sizes": [[140, 70], [140, 70]]}]
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text("".join(json.dumps(row) + "\n" for row in rows))
    from univg_plugin.eval import read_predictions

    found = read_predictions(predictions)
    report = score(found, benchmark[:1], space="abs_input", media_root=tmp_path)
    write_gallery(report, benchmark[:1], found, tmp_path / "out")
    assert report.results.iou[0] == pytest.approx(1.0)
    assert extent(painted(tmp_path / "out" / "gallery" / "00000-2.png", PREDICTION)) == (70, 35, 209, 104)


def test_an_answer_naming_an_image_the_sample_lacks_is_drawn_nowhere(benchmark, tmp_path):
    outputs = {"s0": "<think>It is in image 3.</think><answer>(250,250),(750,750)</answer>"}
    report, predictions = scored(benchmark[:1], tmp_path, outputs)
    page = write_gallery(report, benchmark[:1], predictions, tmp_path / "out").read_text()
    folder = tmp_path / "out" / "gallery"
    assert painted(folder / "00000-2.png", TRUTH).any() and not painted(folder / "00000-2.png", PREDICTION).any()
    assert sorted(path.name for path in folder.iterdir()) == ["00000-2.png"]
    assert "wrong image: the answer names image 3 (the sample has 2), the target is image 2" in page


def test_no_predictions_and_missing_images_render_with_notes(benchmark, tmp_path):
    (tmp_path / "b.png").unlink()
    report, predictions = scored(benchmark, tmp_path, {"elsewhere": "(1,1),(2,2)"}, unknown_ids="ignore")
    page = write_gallery(report, benchmark, predictions, tmp_path / "out", count=1).read_text()
    assert page.count("failure: missing (no prediction for this sample)") == 6  # 3 kinds x 2 groups
    assert "image 2 (target): file not found:" in page and "b.png" in page


def test_the_eval_command_writes_the_gallery(benchmark, tmp_path):
    from univg_plugin.data import write

    write(benchmark, tmp_path / "bench.jsonl")
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text("".join(json.dumps({"id": k, "output": v}) + "\n" for k, v in OUTPUTS.items()))
    args = ["eval", "score", str(predictions), "--benchmark", str(tmp_path / "bench.jsonl"), "--no-plot"]
    result = CliRunner().invoke(main, [*args, "--gallery", "1"])
    assert result.exit_code == 0, result.output
    assert str(tmp_path / "gallery.html") in result.output
    assert (tmp_path / "gallery.html").read_text().count('class="card') == 6
    (tmp_path / "gallery.html").unlink()
    assert CliRunner().invoke(main, [*args, "--gallery", "0"]).exit_code == 0
    assert not (tmp_path / "gallery.html").exists()


def test_runs_side_by_side_on_the_same_samples(benchmark, tmp_path):
    first = scored(benchmark, tmp_path)
    better = scored(benchmark, tmp_path, {**OUTPUTS, "s2": OUTPUTS["s0"], "s5": OUTPUTS["s0"]})
    page = write_comparison({"stage 1": first, "stage 2": better}, benchmark, tmp_path / "side.html", count=1)
    text = page.read_text()
    rows = text.split('<div class="grid" style="grid-template-columns: repeat(2, 1fr)">')[1:]
    titles = [[part.split("</h3>")[0] for part in row.split("<h3>")[1:]] for row in rows]
    assert ["stage 1: s2", "stage 2: s2"] in titles and ["stage 1: s5", "stage 2: s5"] in titles  # the changed ones
    assert all(a.split(": ")[1] == b.split(": ")[1] for a, b in titles)
    assert (tmp_path / "side" / "stage-2" / "00002-2.png").is_file()


def test_runs_that_agree_still_show_a_random_few_per_group(benchmark, tmp_path):
    run = scored(benchmark, tmp_path)
    page = write_comparison({"a": run, "b": run}, benchmark, tmp_path / "same.html", count=2).read_text()
    titles = [part.split("</h3>")[0] for part in page.split("<h3>")[1:]]
    assert len(titles) == 8 and len({title.split(": ")[1] for title in titles}) == 4  # 2 per group, both runs
    assert {int(title.split(": s")[1]) < 4 for title in titles} == {True, False}  # from both groups


def test_the_gallery_in_a_browser(tmp_path, chromium):
    from univg_plugin.data.synth import generate

    data = generate(tmp_path / "synth", 12, 0, progress=False)
    samples = list(read(data))
    outputs = {s.id: f"<answer>({s.boxes[0][0]:.0f},{s.boxes[0][1]:.0f}),(900,900)</answer>" for s in samples[1:]}
    report, predictions = scored(samples, tmp_path / "synth", outputs, group_by="difficulty")
    write_gallery(report, samples, predictions, tmp_path / "out", count=2)
    page = chromium.new_page()
    with serve(tmp_path / "out") as url:
        page.goto(url + "gallery.html")
        shown = page_images(page, COLORS)
        missing = page.get_by_text("failure: missing").count()
    page.close()
    assert shown and all(image["width"] > 0 for image in shown) and missing == 1
    styles = [style for image in shown for style in image["styles"]]
    assert "truth" in styles and "prediction" in styles
    assert all(all(image["shown"]) for image in shown)

"""The demo's held-out gallery draws a Qwen2.5-VL run's pixel (abs_input) answers where they belong: re-scored
from eval/<run>/report.json with its space and pixel limits, with or without recorded input sizes."""

from __future__ import annotations

import json
import re

import numpy as np

from univg_plugin.boxes import convert_boxes, smart_resize
from univg_plugin.data import read
from univg_plugin.data.synth import generate
from univg_plugin.demo.evaluation import REPORT_ROWS, STAGE1_ROW
from univg_plugin.demo.report import held_out_gallery
from univg_plugin.eval import score

#: A processor that resizes the demo's 224 x 224 images to 84 x 84: pixel answers differ from 0-1000 ones.
LIMITS = {"min_pixels": 28 * 28, "max_pixels": 100 * 100}
INPUT = 84


def _pixel_answer(sample) -> str:
    """The sample's truth as Qwen2.5-VL writes it: JSON, in the pixels of the resized input."""
    box = convert_boxes(sample.boxes[:1], sample.space, "abs_input", sample.image_sizes[0], **LIMITS)[0]
    return f'<think>x</think><answer>[{{"bbox_2d": {[int(value) for value in box.round()]}}}]</answer>'


def _run(out, run: str, samples, *, recorded: bool) -> None:
    """A Qwen2.5-VL run's out/eval/<run>: predictions.jsonl (input sizes recorded or not) and report.json."""
    folder = out / "eval" / run
    folder.mkdir(parents=True)
    rows = [{"id": s.id, "output": _pixel_answer(s)} for s in samples]
    if recorded:
        rows = [{**row, "input_sizes": [[INPUT, INPUT]] * len(s.images)} for row, s in zip(rows, samples)]
    (folder / "predictions.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    outputs = {row["id"]: row["output"] for row in rows}
    report = score(
        outputs, samples, group_by="difficulty", media_root=out / "data" / "test", family="qwen2_5_vl", **LIMITS
    )
    assert report.overall.miou > 90  # the answers are right (up to rounding to whole input pixels)
    report.write(folder, plot=False)


def test_a_qwen2_5_vl_runs_pixel_answers_are_drawn_on_the_truth(tmp_path):
    samples = list(read(generate(tmp_path / "data" / "test", 4, 0, progress=False)))
    assert smart_resize(224, 224, **LIMITS) == (INPUT, INPUT)
    stage2 = next(run for _, run in REPORT_ROWS if run and run.startswith("stage2"))
    _run(tmp_path, "stage1", samples, recorded=True)  # as the demo's generation writes them
    _run(tmp_path, stage2, samples, recorded=False)  # only the pixel limits of report.json
    page = held_out_gallery(tmp_path, count=4).read_text()
    figures = [json.loads(value.replace("&quot;", '"')) for value in re.findall(r"data-boxes='([^']*)'", page)]
    drawn = [figure for figure in figures if any(box["style"] == "prediction" for box in figure)]
    assert len(drawn) == 2 * len(samples)  # each sample's answer, in both runs
    for figure in drawn:
        truth, prediction = (
            np.array(next(b["box"] for b in figure if b["style"] == s)) for s in ("truth", "prediction")
        )
        assert np.abs(prediction - truth).max() <= 2.0  # 224 / 84 / 2 pixels of rounding at most
    assert f"<h3>{STAGE1_ROW}: {samples[0].id}</h3>" in page

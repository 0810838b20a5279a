"""The demo report's held-out gallery: stage 1 and stage 2 drawn side by side on the same samples."""

from __future__ import annotations

import json

from univg_plugin.data import read
from univg_plugin.data.synth import generate
from univg_plugin.demo.evaluation import REPORT_ROWS, STAGE1_ROW
from univg_plugin.demo.report import _gallery_section, held_out_gallery
from univg_plugin.eval import score


def _run(out, run: str, outputs: dict[str, str], samples) -> None:
    """What the demo's evaluation leaves in out/eval/<run>: predictions.jsonl and report.json."""
    folder = out / "eval" / run
    folder.mkdir(parents=True)
    (folder / "predictions.jsonl").write_text(
        "".join(json.dumps({"id": k, "output": v}) + "\n" for k, v in outputs.items())
    )
    score(outputs, samples, group_by="difficulty", media_root=out / "data" / "test").write(folder, plot=False)


def test_stage_1_and_stage_2_side_by_side(tmp_path):
    samples = list(read(generate(tmp_path / "data" / "test", 9, 0, progress=False)))
    right = {s.id: "<answer>({:.0f},{:.0f}),({:.0f},{:.0f})</answer>".format(*s.boxes[0]) for s in samples}
    _run(tmp_path, "stage1", {s.id: "<answer>(0,0),(10,10)</answer>" for s in samples}, samples)
    _run(tmp_path, "stage2_weighted", right, samples)
    section = _gallery_section(tmp_path)
    assert "[gallery.html](gallery.html)" in section
    page = (tmp_path / "gallery.html").read_text()
    stage2 = dict(REPORT_ROWS)
    label2 = next(label for label, run in stage2.items() if run == "stage2_weighted")
    for sample in samples:  # every sample changed (all missed, then all hit): each shown once per run, side by side
        assert page.count(f"<h3>{STAGE1_ROW}: {sample.id}</h3>") == 1
        assert page.index(f"<h3>{STAGE1_ROW}: {sample.id}</h3>") < page.index(f"<h3>{label2}: {sample.id}</h3>")
    assert held_out_gallery(tmp_path, count=1) == tmp_path / "gallery.html"


def test_no_gallery_without_two_runs(tmp_path):
    samples = list(read(generate(tmp_path / "data" / "test", 3, 0, progress=False)))
    _run(tmp_path, "stage1", {s.id: "" for s in samples}, samples)
    assert held_out_gallery(tmp_path) is None
    assert "No two runs with predictions" in _gallery_section(tmp_path)

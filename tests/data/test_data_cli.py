"""`univg data convert | stats | formats`: conversions end to end, errors and exit codes."""

from __future__ import annotations

import json

from click.testing import CliRunner
from paths import GOLDEN

from univg_plugin.cli import main
from univg_plugin.data import read


def run(*args: str):
    return CliRunner().invoke(main, ["data", *args])


def test_help_explains_every_command():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("convert", "formats", "stats", "synth", "validate"):
        assert command in result.output
    assert "--check-files" in run("validate", "--help").output
    assert "--skip-invalid" in run("convert", "--help").output


def test_formats_lists_what_each_format_cannot_hold():
    result = run("formats")
    assert result.exit_code == 0
    for name in (
        "grpo (write)",
        "mig_bench (read/write)",
        "migician (read)",
        "sharegpt (read/write)",
        "univg (read/write)",
    ):
        assert name in result.output
    assert "cannot hold: reasoning; several boxes; image_sizes" in result.output


def test_convert_stops_at_the_first_bad_row_or_skips_and_reports_each(tmp_path):
    source = tmp_path / "mig.json"
    rows = json.loads((GOLDEN / "mig_bench.json").read_text())
    rows[1]["answer"] = [0.5, 0.5, 0.4, 0.9]
    rows[3]["answer"] = [0.5, 0.5, 0.9, 1.2]
    source.write_text(json.dumps(rows))
    out = tmp_path / "out.jsonl"
    failed = run("convert", "--from", "mig_bench", "--to", "univg", str(source), str(out))
    assert failed.exit_code == 1 and not out.exists()
    assert failed.stderr == (
        f"error: {source}[1]: boxes[0]: is degenerate or swapped (needs x1 < x2): [0.5, 0.5, 0.4, 0.9]\n"
    )
    skipped = run("convert", "--from", "mig_bench", "--to", "univg", str(source), str(out), "--skip-invalid")
    assert skipped.exit_code == 0, skipped.output
    assert skipped.stderr.splitlines() == [
        f"skipped: {source}[1]: boxes[0]: is degenerate or swapped (needs x1 < x2): [0.5, 0.5, 0.4, 0.9]",
        f"skipped: {source}[3]: boxes[0]: lies outside the image: [0.5, 0.5, 0.9, 1.2] is not within [0, 1] (norm1)",
    ]
    assert skipped.stdout.strip() == f"wrote 4 row(s) to {out}; skipped 2 bad row(s)"
    assert [s.id for s in read(out)] == ["mig-0", "mig-2", "mig-4", "mig-5"]


def test_pixel_boxes_need_sizes_which_fill_sizes_reads_from_the_images(tmp_path, make_images):
    images = make_images(tmp_path / "img", 2, size=(200, 100))
    rows = [
        {
            "id": i,
            "image": f"img/{image.name}",
            "conversations": [
                {"from": "human", "value": "<image>Find it."},
                {"from": "gpt", "value": "[20, 10, 120, 60]"},
            ],
        }
        for i, image in enumerate(images)
    ]
    source = tmp_path / "rec.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "sft" / "train.json"
    failed = run("convert", "--from", "vlm_r1", "--to", "sharegpt", str(source), str(out))
    assert failed.exit_code == 1
    assert failed.stderr.startswith(f"error: {source}:1: image_sizes: converting abs_image boxes to norm1000 needs")
    done = run(
        "convert",
        "--from",
        "vlm_r1",
        "--to",
        "sharegpt",
        str(source),
        str(out),
        "--fill-sizes",
        "-w",
        "dataset_name=rec",
    )
    assert done.exit_code == 0, done.output
    written = json.loads(out.read_text())
    assert written[0]["conversations"][1]["value"] == "<think></think><answer>(100,100),(600,600)</answer>"
    assert written[0]["conversations"][0]["value"].startswith("<image>Find it. First output the thinking process")
    info = json.loads((out.parent / "dataset_info.json").read_text())
    assert info == {
        "rec": {
            "file_name": "train.json",
            "formatting": "sharegpt",
            "columns": {"messages": "conversations", "images": "images"},
        }
    }


def test_formats_refuse_what_they_cannot_hold(tmp_path):
    source = tmp_path / "two_boxes.jsonl"
    source.write_text(
        json.dumps({"id": "b", "images": ["x.png"], "question": "Find both.", "boxes": [[1, 2, 3, 4], [5, 6, 7, 8]]})
        + "\n"
    )
    result = run("convert", "--from", "univg", "--to", "univg_stage2", str(source), str(tmp_path / "s2.json"))
    assert result.exit_code == 1
    assert result.stderr == f"error: {source}:1: boxes: univg_stage2 holds one box per sample, this one has 2\n"
    unknown = run("convert", "--from", "univg", "--to", "coco", str(source), str(tmp_path / "x.json"))
    assert unknown.exit_code == 1 and "unknown dataset format 'coco'; known formats: grpo, mig_bench" in unknown.stderr


def test_read_options_reach_the_reader(tmp_path):
    out = tmp_path / "forced.jsonl"
    result = run(
        "convert",
        "--from",
        "mig_bench",
        "--to",
        "univg",
        str(GOLDEN / "mig_bench.json"),
        str(out),
        "-r",
        "space=norm1000",
    )
    assert result.exit_code == 0, result.output
    assert {s.space.value for s in read(out)} == {"norm1000"}


def test_stats_tables_and_json():
    result = run("stats", str(GOLDEN / "mig_bench.json"), "--format", "mig_bench")
    assert result.exit_code == 0
    assert "samples: 6   boxes: 6   with reasoning: 0 (0.0%)   multi-image without target: 1" in result.output
    assert "samples per task:" in result.output and "box area / image area:" in result.output
    data = json.loads(run("stats", str(GOLDEN / "univg_stage1.json"), "--format", "univg_stage1", "--json").output)
    assert data["samples"] == 4 and data["with_reasoning"] == 4 and data["bad_rows"] == 0
    assert data["images_per_sample"] == {"1": 1, "2": 2, "3": 1}
    assert data["box_area_share"] == {"1-5%": 3, "20-50%": 2}


def test_validate_names_an_unknown_format_or_reader_option_without_a_traceback(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text("{}\n")
    unknown = run("validate", str(path), "--format", "coco")
    assert unknown.exit_code == 2 and "unknown dataset format 'coco'; known formats: grpo" in unknown.stderr
    option = run("validate", str(path), "--format", "mig_bench", "-r", "space=pixels")
    assert option.exit_code == 2 and "unknown coordinate space 'pixels'" in option.stderr


def test_stats_stops_with_an_error_where_a_json_list_breaks_off(tmp_path):
    path = tmp_path / "mig.json"
    rows = json.loads((GOLDEN / "mig_bench.json").read_text())
    path.write_text(json.dumps(rows[:2])[:-1] + ', {"task": ]')
    result = run("stats", str(path), "--format", "mig_bench")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}[2]: row: invalid JSON: Expecting value (line 1, column")
    assert result.stderr.endswith("); nothing after it can be read\n")

"""File validation: every bad row reported with file, row and field; exit codes of `univg data validate`."""

from __future__ import annotations

import json

from click.testing import CliRunner

from univg_plugin.cli import main
from univg_plugin.data import GroundingSample, validate_file, write


def row(**changes) -> str:
    base = {"id": "a", "images": ["x.png"], "question": "Find the cat.", "boxes": [[1, 2, 3, 4]]}
    return json.dumps({**base, **changes})


def bad_jsonl(tmp_path):
    lines = [
        row(id="ok-1"),
        row(id="two", boxes=[[5, 5, 1, 9]], target_image=3),
        "",  # blank lines are skipped, but still counted as lines
        "{not json",
        row(id="ok-2"),
        row(id="space", space="pixels"),
        row(id="ph", question="<image><image> Find the cat."),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_every_bad_row_is_reported_with_line_and_field(tmp_path):
    path = bad_jsonl(tmp_path)
    report = validate_file(path)
    assert not report.ok and report.samples == 2
    assert [str(error) for error in report.errors] == [
        f"{path}:2: target_image: 3 is out of range for 1 image(s) (indices are 1-based)\n"
        f"{path}:2: boxes[0]: is degenerate or swapped (needs x1 < x2): [5, 5, 1, 9]",
        f"{path}:4: row: Invalid JSON: key must be a string at line 1 column 2",
        f"{path}:6: space: Input should be 'norm1000', 'norm1', 'abs_input' or 'abs_image'",
        f"{path}:7: question: has 2 <image> placeholder(s) but the sample has 1 image(s); use one per image, or none",
    ]
    assert report.summary() == f"{path}: FAILED: 2 valid sample(s), 4 bad row(s)"


def test_json_lists_are_located_by_index(tmp_path):
    path = tmp_path / "stage2.json"
    rows = [
        {"question": "Find it.", "answer": [1, 2, 3, 4], "images": ["a.jpg"]},
        {"question": "Find it.", "answer": [1, 2, 3], "images": ["a.jpg"]},
        {"question": "Find it.", "images": ["a.jpg"], "answer": [10, 10, 20, 20], "id": "x", "task": ""},
        {"answer": [1, 2, 3, 4], "images": ["a.jpg"]},
    ]
    path.write_text(json.dumps(rows))
    report = validate_file(path, "univg_stage2")
    assert [str(error) for error in report.errors] == [
        f"{path}[1]: answer: holds no box [x1, y1, x2, y2]: [1, 2, 3]",
        f"{path}[3]: question: is missing",
    ]
    assert report.samples == 2  # an empty task is simply absent: the default applies


def test_duplicate_ids_are_reported_after_the_pass(tmp_path):
    path = tmp_path / "dup.jsonl"
    path.write_text("\n".join([row(id="a"), row(id="b"), row(id="a"), row(id="a")]) + "\n")
    report = validate_file(path)
    assert [str(error) for error in report.errors] == [
        f"{path}:3: id: 'a' is not unique (first at {path}:1)",
        f"{path}:4: id: 'a' is not unique (first at {path}:1)",
    ]
    assert report.samples == 2


def test_check_files_finds_missing_and_mis_sized_images(tmp_path, make_images):
    (image,) = make_images(tmp_path / "images", 1, size=(96, 72))
    samples = [
        GroundingSample(
            id="ok", images=["images/" + image.name], question="q", boxes=[[1, 2, 3, 4]], image_sizes=[[96, 72]]
        ),
        GroundingSample(id="missing", images=["images/nope.png"], question="q", boxes=[[1, 2, 3, 4]]),
        GroundingSample(
            id="size", images=["images/" + image.name], question="q", boxes=[[1, 2, 3, 4]], image_sizes=[[90, 72]]
        ),
    ]
    path = tmp_path / "data.jsonl"
    write(samples, path)
    assert validate_file(path).ok
    report = validate_file(path, check_files=True)
    assert [str(error) for error in report.errors] == [
        f"{path}:2: images[0]: file not found: {tmp_path}/images/nope.png",
        f"{path}:3: image_sizes[0]: is [90, 72] but {tmp_path}/images/{image.name} is [96, 72]",
    ]


def test_meta_whose_type_changes_between_rows_is_a_warning(tmp_path):
    path = tmp_path / "meta.jsonl"
    path.write_text(
        "\n".join([row(id="1", meta={"k": "a"}), row(id="2", meta={"k": None}), row(id="3", meta={"k": 2})])
    )
    report = validate_file(path)
    assert report.ok
    assert report.warnings == [
        f"meta.k is a string at {path}:1 but a number at {path}:3: Arrow (and so LLaMA-Factory's loader) cannot"
        " read a column whose type changes"
    ]


def test_cli_validate_exits_non_zero_and_prints_every_bad_row(tmp_path):
    path = bad_jsonl(tmp_path)
    result = CliRunner().invoke(main, ["data", "validate", str(path)])
    assert result.exit_code == 1
    assert result.stderr.count(str(path)) == 5  # four bad rows, one of them with two problems
    assert result.stdout.strip() == f"{path}: FAILED: 2 valid sample(s), 4 bad row(s)"
    limited = CliRunner().invoke(main, ["data", "validate", str(path), "--max-errors", "1"])
    assert "... and 3 more bad row(s)" in limited.stderr


def test_cli_validate_passes_a_good_file(tmp_path):
    path = tmp_path / "good.jsonl"
    path.write_text(row(id="1") + "\n")
    result = CliRunner().invoke(main, ["data", "validate", str(path), "--check-files"])
    assert result.exit_code == 1 and "file not found" in result.stderr  # x.png does not exist
    result = CliRunner().invoke(main, ["data", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{path}: OK: 1 valid sample(s), 0 bad row(s)"

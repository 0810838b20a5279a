"""Bad rows never crash a scan: each is an error naming file, row and field, and the rows after it are read.

Also what a file holds beyond its rows: content after a JSON list is an error, and a file with no
samples is reported (validate fails, convert writes nothing unless asked to).
"""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner
from paths import GOLDEN

from univg_plugin.cli import main
from univg_plugin.data import read, validate_file

MIG_ROW = json.loads((GOLDEN / "mig_bench.json").read_text())[0]
STAGE1_ROW = json.loads((GOLDEN / "univg_stage1.json").read_text())[0]
UNIVG_ROW = {
    "id": "a",
    "images": ["street.jpg"],
    "question": "Find the red car.",
    "boxes": [[120, 200, 380, 330]],
    "space": "abs_image",
}
LONG_NUMBER = "9" * 5000
INT_DIGITS = sys.get_int_max_str_digits()


def _write(path, rows: list[bytes]) -> None:
    """Raw rows (bytes, each one JSON object) as a JSON list (``.json``) or jsonl."""
    if path.suffix == ".json":
        path.write_bytes(b"[\n" + b",\n".join(rows) + b"\n]\n")
    else:
        path.write_bytes(b"\n".join(rows) + b"\n")


def _mig_row_with_answer(answer: str) -> bytes:
    return json.dumps({**MIG_ROW, "answer": "ANSWER"}).replace('"ANSWER"', answer).encode()


def _stage1_row_with_role(role) -> bytes:
    row = json.loads(json.dumps(STAGE1_ROW))
    row["conversations"][0]["from"] = role
    return json.dumps(row).encode()


def _stage1_row_with_byte(byte: bytes) -> bytes:
    return json.dumps(STAGE1_ROW).encode().replace(b"share one object", b"share one " + byte + b"object")


#: (case, format, file name, the bad middle row, where and field and message of its error)
BAD_ROWS = [
    (
        "a box holding a string",
        "mig_bench",
        "mig.json",
        _mig_row_with_answer('[[1, 2, 3, "x"]]'),
        "[1]: answer[0][3]: must be a number, got 'x'",
    ),
    (
        "a role that is a list",
        "univg_stage1",
        "sft.jsonl",
        _stage1_row_with_role(["human"]),
        ":2: conversations[0].from: unknown role ['human']",
    ),
    (
        "a role that is an object",
        "univg_stage1",
        "sft.json",
        _stage1_row_with_role({"human": 1}),
        "[1]: conversations[0].from: unknown role {'human': 1}",
    ),
    (
        "a byte that is not UTF-8 in a JSON list",
        "univg_stage1",
        "sft.json",
        _stage1_row_with_byte(b"\xff"),
        "[1]: conversations[0].value: holds a byte that is not UTF-8 (0xff)",
    ),
    (
        "a byte that is not UTF-8 in jsonl",
        "univg_stage1",
        "sft.jsonl",
        _stage1_row_with_byte(b"\xc3\x28"),
        ":2: conversations[0].value: holds a byte that is not UTF-8 (0xc3)",
    ),
    (
        "a number too long for int() in a JSON list",
        "mig_bench",
        "mig.json",
        _mig_row_with_answer(f"[1, 2, 3, {LONG_NUMBER}]"),
        f"[1]: answer[3]: is a number of 5000 digits (more than {INT_DIGITS} cannot be read)",
    ),
    (
        "a number too long for int() in jsonl",
        "mig_bench",
        "mig.jsonl",
        _mig_row_with_answer(f"[1, 2, 3, {LONG_NUMBER}]"),
        f":2: answer[3]: is a number of 5000 digits (more than {INT_DIGITS} cannot be read)",
    ),
    (
        "a number too long for int() as the id",
        "univg_stage1",
        "sft.json",
        json.dumps({**STAGE1_ROW, "id": 7}).replace('"id": 7', f'"id": {LONG_NUMBER}').encode(),
        f"[1]: id: is a number of 5000 digits (more than {INT_DIGITS} cannot be read)",
    ),
    (
        "a number too large for a float",
        "univg_stage2",
        "stage2.json",
        json.dumps({"question": "Find it.", "answer": [1, 2, 3, 4], "images": ["a.jpg"]})
        .replace("4]", "1" + "0" * 400 + "]")
        .encode(),
        "[1]: boxes[0][3]: Input should be a valid number",
    ),
    (
        "a row nested too deeply",
        "univg_stage1",
        "sft.jsonl",
        b'{"images": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        ":2: row: invalid JSON: nested too deeply",
    ),
    (
        "an image size too large for a float",
        "univg",
        "data.jsonl",
        json.dumps({**UNIVG_ROW, "id": "b", "image_sizes": [[640, 480]]}).replace("640", "1" + "0" * 400).encode(),
        ":2: image_sizes[0]: has a side longer than 2147483647 pixels (no image library holds one)",
    ),
]


def _file_with_bad_row(tmp_path, fmt: str, name: str, bad: bytes):
    """A good row, ``bad``, and a good row (with ids of their own)."""
    good = {
        "univg_stage2": {"question": "Find it.", "answer": [1, 2, 3, 4], "images": ["a.jpg"]},
        "mig_bench": MIG_ROW,
        "univg_stage1": STAGE1_ROW,
        "univg": UNIVG_ROW,
    }[fmt]
    path = tmp_path / name
    _write(path, [json.dumps({**good, "id": "a"}).encode(), bad, json.dumps({**good, "id": "c"}).encode()])
    return path


@pytest.mark.parametrize(("fmt", "name", "bad", "error"), [case[1:] for case in BAD_ROWS], ids=[c[0] for c in BAD_ROWS])
def test_a_bad_value_is_a_located_error_and_the_scan_goes_on(tmp_path, fmt, name, bad, error):
    path = _file_with_bad_row(tmp_path, fmt, name, bad)
    report = validate_file(path, fmt)
    assert [str(e) for e in report.errors] == [f"{path}{error}"]
    assert report.samples == 2  # the rows before and after it

    result = CliRunner().invoke(main, ["data", "validate", str(path), "--format", fmt])
    assert result.exit_code == 1 and result.stderr == f"{path}{error}\n"


@pytest.mark.parametrize(("fmt", "name", "bad", "error"), [case[1:] for case in BAD_ROWS], ids=[c[0] for c in BAD_ROWS])
def test_skip_invalid_skips_the_bad_row_and_converts_the_rest(tmp_path, fmt, name, bad, error):
    path = _file_with_bad_row(tmp_path, fmt, name, bad)
    out = tmp_path / "out.jsonl"
    stopped = CliRunner().invoke(main, ["data", "convert", "--from", fmt, "--to", "univg", str(path), str(out)])
    assert stopped.exit_code == 1 and stopped.stderr == f"error: {path}{error}\n" and not out.exists()
    skipped = CliRunner().invoke(
        main, ["data", "convert", "--from", fmt, "--to", "univg", str(path), str(out), "--skip-invalid"]
    )
    assert skipped.exit_code == 0, skipped.output
    assert skipped.stderr == f"skipped: {path}{error}\n"
    assert len(list(read(out))) == 2


def test_an_id_too_long_for_an_integer_is_written_as_a_string(tmp_path):
    """vlm_r1 writes digit ids as numbers; one that no JSON reader holds as an integer stays a string."""
    path = tmp_path / "ids.jsonl"
    good = {"id": "", "images": ["x.png"], "question": "Find it.", "boxes": [[1, 2, 3, 4]], "space": "abs_image"}
    ids = ["12", "0012", "\u00b2", "9" * 5000, "12345678901234567890"]
    path.write_text("\n".join(json.dumps({**good, "id": identity}) for identity in ids) + "\n")
    out = tmp_path / "rec.jsonl"
    result = CliRunner().invoke(main, ["data", "convert", "--from", "univg", "--to", "vlm_r1", str(path), str(out)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [12, *ids[1:]]


# ---------------------------------------------------------------- what a file holds beyond its rows

TRAILING = [
    (
        "a second list",
        b"\n[" + json.dumps(MIG_ROW).encode() + b"]\n",
        4,
        1,
        '\'[{"task": "common_object", "images": [".\'',
    ),
    ("text", b" garbage\n", 3, 3, "'garbage\\n'"),
    ("a closing bracket", b"]", 3, 2, "']'"),
]


@pytest.mark.parametrize(("tail", "line", "column", "shown"), [c[1:] for c in TRAILING], ids=[c[0] for c in TRAILING])
def test_content_after_a_json_list_is_an_error_where_it_starts(tmp_path, tail, line, column, shown):
    path = tmp_path / "mig.json"
    path.write_bytes(b"[\n" + json.dumps(MIG_ROW).encode() + b"\n]" + tail)
    report = validate_file(path, "mig_bench")
    expected = (
        f"{path}:{line}:{column}: file: has content after its JSON list: {shown}"
        " (a file holds one JSON list, or one JSON object per line)"
    )
    assert [str(error) for error in report.errors] == [expected]
    assert report.samples == 1 and not report.ok
    out = tmp_path / "out.jsonl"
    for flags in ([], ["--skip-invalid"]):
        result = CliRunner().invoke(
            main, ["data", "convert", "--from", "mig_bench", "--to", "univg", str(path), str(out), *flags]
        )
        assert result.exit_code == 1 and result.stderr == f"error: {expected}\n" and not out.exists()


def test_skip_invalid_stops_where_a_json_list_cannot_be_read_further(tmp_path):
    """A row whose JSON is broken hides where the next row starts: converting stops rather than lose the rest."""
    path = tmp_path / "mig.json"
    text = b"[" + json.dumps(MIG_ROW).encode() + b', {"task": ]' + b"," + json.dumps(MIG_ROW).encode() + b"]"
    path.write_bytes(text)
    column = text.index(b"]", text.index(b'{"task": ]')) + 1
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        main, ["data", "convert", "--from", "mig_bench", "--to", "univg", str(path), str(out), "--skip-invalid"]
    )
    assert result.exit_code == 1 and not out.exists()
    assert result.stderr == (
        f"error: {path}[1]: row: invalid JSON: Expecting value (line 1, column {column});"
        " nothing after it can be read\n"
    )


@pytest.mark.parametrize("content", [b"", b"\n \n", b"[]", b"\xef\xbb\xbf[\n]\n"], ids=["empty", "blank", "[]", "bom"])
def test_a_file_without_samples_fails_validation(tmp_path, content):
    path = tmp_path / ("data.json" if b"[" in content else "data.jsonl")
    path.write_bytes(content)
    report = validate_file(path)
    assert not report.ok and report.summary() == f"{path}: FAILED: no samples"
    result = CliRunner().invoke(main, ["data", "validate", str(path)])
    assert result.exit_code == 1 and result.stdout == f"{path}: FAILED: no samples\n"


def test_convert_writes_no_empty_file_unless_allowed(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{**MIG_ROW, "answer": [0.5, 0.5, 0.4, 0.9]}]))
    out = tmp_path / "out.json"
    cases = [
        (empty, "univg", [], f"error: {empty}: file: holds no samples"),
        (
            bad,
            "mig_bench",
            ["--skip-invalid"],
            f"skipped: {bad}[0]: boxes[0]: is degenerate or swapped (needs x1 < x2)",
        ),
    ]
    for source, fmt, flags, message in cases:
        command = ["data", "convert", "--from", fmt, "--to", "univg", str(source), str(out), *flags]
        refused = CliRunner().invoke(main, command)
        assert refused.exit_code == 1 and message in refused.stderr and not out.exists()
        assert "nothing written (--allow-empty writes an empty file)" in refused.stderr
        allowed = CliRunner().invoke(main, [*command, "--allow-empty"])
        assert allowed.exit_code == 0, allowed.output
        assert json.loads(out.read_text()) == [] and allowed.stdout.startswith(f"wrote 0 row(s) to {out}")
        out.unlink()


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_bad_rows_and_trailing_content_are_found_across_chunk_boundaries(tmp_path, monkeypatch, chunk):
    from univg_plugin.data import io as data_io

    monkeypatch.setattr(data_io, "_CHUNK", chunk)
    path = tmp_path / "sft.json"
    good = json.dumps(STAGE1_ROW).encode()
    long_id = json.dumps({**STAGE1_ROW, "id": 7}).replace('"id": 7', f'"id": {LONG_NUMBER}').encode()
    path.write_bytes(b"[" + b",\n".join([good, _stage1_row_with_byte(b"\xe9"), long_id, good]) + b"]\n\n  {}")
    report = validate_file(path, "univg_stage1")
    assert [str(error) for error in report.errors] == [
        f"{path}[1]: conversations[0].value: holds a byte that is not UTF-8 (0xe9)",
        f"{path}[2]: id: is a number of 5000 digits (more than {INT_DIGITS} cannot be read)",
        f"{path}:6:3: file: has content after its JSON list: '{{}}' (a file holds one JSON list, or one JSON object"
        " per line)",
    ]
    assert report.samples == 2

"""``univg eval score``: the terminal table, the files, the paper comparison and clear errors."""

from __future__ import annotations

import json
import shutil

import click
import numpy as np
import pytest
from click.testing import CliRunner
from paths import GOLDEN as GOLDEN_ROOT

from univg_plugin.boxes import AnswerPolicy, CoordinateSpace
from univg_plugin.cli import main
from univg_plugin.cli.eval import run_command
from univg_plugin.eval.generate import Backend
from univg_plugin.eval.paper import MIG_BENCH, PAPER_TABLES, ZERO_SHOT

GOLDEN = GOLDEN_ROOT / "eval"


def _invoke(*args: str):
    return CliRunner().invoke(main, ["eval", *args], catch_exceptions=False)


def test_score_mig_bench_with_the_paper(tmp_path):
    result = _invoke(
        "score",
        str(GOLDEN / "mig_bench.predictions.jsonl"),
        "--benchmark",
        str(GOLDEN / "mig_bench.json"),
        "--compare",
        "paper",
        "--out-dir",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    rows = [line.split()[0] for line in lines[2:] if line and not line.startswith(("-", "paper"))]
    assert rows == [*MIG_BENCH.order(), "all", "average"]
    assert "paper@0.5 (UniVG-R1)" in lines[0]
    assert "average          13    55.00    45.00    35.00   44.75" in result.stdout
    assert "72.64  -27.64" in result.stdout
    assert "paper averages (Acc@0.5): Qwen2-VL-7B 30.20, Migician 63.54, UniVG-R1 72.64" in result.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["benchmark"] == "mig_bench" and report["average"]["acc50"] == 45.0
    assert report["paper"]["rows"]["UniVG-R1"]["diff"] == 71.97
    markdown = (tmp_path / "report.md").read_text()
    assert "| UniVG-R1 (paper) | 71.97 | 58.51 | 93.13 |" in markdown
    assert "| **this run** | 0.00 | 100.00 | 100.00 |" in markdown
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(results) == 13
    by_id = {row["id"]: row for row in results}
    assert by_id["corr-1"]["hit@0.5"] is True and by_id["corr-1"]["hit@0.7"] is False
    assert by_id["gg-2"]["predicted_image"] == 1 and by_id["gg-2"]["target_image"] == 2
    assert by_id["region-1"]["reason"] == "invalid_box" and by_id["region-1"]["box"] == [400, 400, 200, 200]
    assert by_id["corr-2"]["reason"] == "missing" and by_id["corr-2"]["box"] is None


def test_score_by_difficulty_defaults_to_the_predictions_directory(tmp_path):
    predictions = tmp_path / "predictions.jsonl"
    shutil.copy(GOLDEN / "univg.predictions.jsonl", predictions)
    result = _invoke(
        "score", str(predictions), "--benchmark", str(GOLDEN / "univg.jsonl"), "--group-by", "difficulty", "--no-plot"
    )
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.stdout.splitlines()[2:5]] == ["easy", "medium", "hard"]
    assert (tmp_path / "report.md").is_file() and not (tmp_path / "report.png").exists()
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [record["group"] for record in records] == ["easy", "hard", "medium", "medium", "easy", "hard"]


def test_score_compare_without_paper_numbers_says_so(tmp_path):
    result = _invoke(
        "score",
        str(GOLDEN / "univg.predictions.jsonl"),
        "--benchmark",
        str(GOLDEN / "univg.jsonl"),
        "--compare",
        "paper",
        "--out-dir",
        str(tmp_path),
        "--no-plot",
    )
    assert result.exit_code == 0
    assert "note: the paper reports no numbers for the univg layout" in result.stderr


def test_score_errors_are_clear(tmp_path):
    predictions = tmp_path / "p.jsonl"
    predictions.write_text('{"id": "nope", "output": ""}\n')
    result = _invoke("score", str(predictions), "--benchmark", str(GOLDEN / "univg.jsonl"), "--out-dir", str(tmp_path))
    assert result.exit_code == 1
    assert "error: 1 prediction id(s) are not in the benchmark: 'nope'" in result.stderr
    result = _invoke(
        "score",
        str(predictions),
        "--benchmark",
        str(GOLDEN / "univg.jsonl"),
        "--group-by",
        "colour",
        "--ignore-unknown-ids",
    )
    assert result.exit_code == 1 and "cannot group by 'colour'" in result.stderr
    predictions.write_text('{"id": "u1"}\n')
    result = _invoke("score", str(predictions), "--benchmark", str(GOLDEN / "univg.jsonl"))
    assert result.exit_code == 1 and "p.jsonl:1: output: is missing" in result.stderr


def test_help_explains_the_options():
    result = _invoke("score", "--help")
    for text in ("--benchmark", "--space", "norm1000", "abs_input", "--answer-policy", "--group-by", "--compare"):
        assert text in result.output
    assert "--resume" not in _invoke("run", "--help").output
    assert "rerun with the same one to resume" in _invoke("run", "--help").output


def test_choices_are_the_packages_own():
    """The CLI writes out the choices (no numpy at start-up); they must stay the enums' values."""
    choices = {param.name: param.type.choices for param in run_command.params if isinstance(param.type, click.Choice)}
    assert set(choices["space"]) == {space.value for space in CoordinateSpace}
    assert set(choices["policy"]) == {policy.value for policy in AnswerPolicy}
    assert set(choices["backend"]) == {backend.value for backend in Backend}


@pytest.mark.parametrize("table", list(PAPER_TABLES.values()), ids=list(PAPER_TABLES))
def test_paper_tables_are_consistent(table):
    method = table.rows["UniVG-R1"]
    assert set(method) == {*table.order(), "average"}
    assert np.mean([method[key] for key in table.order()]) == pytest.approx(method["average"], abs=0.05)
    assert table is PAPER_TABLES[table.benchmark]
    assert ZERO_SHOT.rows["Qwen2-VL-7B"] == {"average": 34.02}

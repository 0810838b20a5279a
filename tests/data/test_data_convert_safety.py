"""`univg data convert` never loses its input: no converting a file onto itself, nothing left behind when killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from univg_plugin.cli import main

ROW = {"id": "a", "images": ["x.png"], "question": "Find the cat.", "boxes": [[1, 2, 3, 4]]}


def _source(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(ROW) + "\n")
    return path


def _destinations(tmp_path, source):
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.jsonl").symlink_to(source)
    os.link(source, tmp_path / "hard.jsonl")
    return {
        "the same path": str(source),
        "through sub/..": str(tmp_path / "sub" / ".." / source.name),
        "through a missing folder": str(tmp_path / "missing" / ".." / source.name),
        "a symbolic link": str(tmp_path / "link.jsonl"),
        "a hard link": str(tmp_path / "hard.jsonl"),
    }


def test_converting_a_file_onto_itself_is_refused_before_anything_is_written(tmp_path):
    source = _source(tmp_path)
    content = source.read_bytes()
    for case, destination in _destinations(tmp_path, source).items():
        before = sorted(path.name for path in tmp_path.rglob("*"))
        result = CliRunner().invoke(
            main, ["data", "convert", "--from", "univg", "--to", "univg_stage1", str(source), destination]
        )
        assert result.exit_code == 1, case
        assert result.stderr == (
            f"error: {destination} is the input file {source}: converting would replace it; write to another path\n"
        ), case
        assert source.read_bytes() == content, case
        assert sorted(path.name for path in tmp_path.rglob("*")) == before, case


@pytest.mark.parametrize("command", [["convert", "--from", "univg", "--to", "univg"], ["validate"], ["stats"]])
def test_a_pipe_as_input_is_refused_with_a_usage_error(tmp_path, command):
    """A named pipe (what ``<(zcat data.jsonl.gz)`` gives) cannot be sought in: refused before it is opened."""
    pipe = tmp_path / "rows.jsonl"
    os.mkfifo(pipe)
    destination = [str(tmp_path / "out.jsonl")] if command[0] == "convert" else []
    result = CliRunner().invoke(main, ["data", *command, str(pipe), *destination])
    assert result.exit_code == 2
    assert f"{str(pipe)!r} is not a regular file (a pipe or a device); write it to a file first" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["rows.jsonl"]


def _large_source(tmp_path, rows: int = 60_000):
    path = tmp_path / "big.jsonl"
    line = json.dumps({**ROW, "reasoning": "The cat sits on the left. " * 4})
    path.write_text("\n".join(line.replace('"a"', f'"{i}"', 1) for i in range(rows)) + "\n")
    return path


def _writing(out) -> bool:
    """Whether rows are being written: the hidden temporary file next to ``out`` holds some."""
    return any(path.stat().st_size > 0 for path in out.parent.glob(f".{out.name}.*.tmp"))


def _frozen_mid_write(command: list[str], out) -> subprocess.Popen:
    """Start ``command`` and stop it (SIGSTOP) once it writes ``out``'s temporary file and before ``out``
    exists. A conversion takes about 2 s, so a stall of the test process could let it finish first: such an
    attempt is run to its end, cleaned up and started again (three attempts)."""
    for _ in range(3):
        # Ctrl-C's default action, as in a user's shell: an earlier test of this process may have left SIGINT
        # ignored, and a child inherits that (measured: the conversion then finished and exited 0)
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        deadline = time.monotonic() + 120
        while not _writing(out) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGSTOP)
        time.sleep(0.05)  # the stop takes effect
        if process.poll() is None and _writing(out) and not out.exists():
            return process
        process.send_signal(signal.SIGCONT)
        _, errors = process.communicate(timeout=60)
        for leftover in out.parent.glob("*") if out.parent.exists() else ():
            leftover.unlink()
    pytest.fail(f"the conversion never ran long enough to be interrupted mid-write: {errors.decode()[-2000:]}")


@pytest.mark.slow
@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_convert_killed_mid_write_leaves_no_temporary_file(tmp_path, sent):
    source = _large_source(tmp_path)
    out = tmp_path / "out" / "train.jsonl"
    command = [sys.executable, "-m", "univg_plugin.cli", "data", "convert", "--from", "univg", "--to", "univg_stage1"]
    process = _frozen_mid_write([*command, str(source), str(out)], out)
    process.send_signal(sent)  # delivered when the process continues
    process.send_signal(signal.SIGCONT)
    process.communicate(timeout=60)
    assert process.returncode != 0
    assert list(out.parent.iterdir()) == []  # neither the temporary file nor a partial output

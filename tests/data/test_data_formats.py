"""The format registry: built-ins, run-time registration and other packages' entry points all reach `get_format`."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from univg_plugin.cli import main
from univg_plugin.data import Format, GroundingSample, formats, get_format, read, register_format, validate_file
from univg_plugin.data.formats.univg import UnivgFormat
from univg_plugin.plugins import Registry

PACKAGE = '''
from univg_plugin.data import Format, GroundingSample


class BoxPerRowFormat(Format):
    """One box per row: ``{"image", "text", "box"}``."""

    def parse(self, raw, default_id):
        return [GroundingSample(id=default_id, images=[raw["image"]], question=raw["text"], boxes=[raw["box"]])]
'''


class LinesFormat(Format):
    """Question lines (write only)."""

    def dump(self, sample: GroundingSample) -> str:
        return json.dumps(sample.question)


@pytest.fixture
def fresh_formats(monkeypatch) -> Registry:
    """A registry with the built-ins only, discovering entry points anew (this test's registrations stay here)."""
    registry = Registry(formats.FORMATS.group, formats.FORMATS.kind, formats.FORMATS.builtins)
    monkeypatch.setattr(formats, "FORMATS", registry)
    return registry


@pytest.fixture
def installed_package(tmp_path, monkeypatch):
    """A distribution ``demo-formats`` on sys.path whose entry points declare two dataset formats."""
    (tmp_path / "demo_formats.py").write_text(textwrap.dedent(PACKAGE))
    info = tmp_path / "demo_formats-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-formats\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[univg_plugin.formats]\n"
        "box_per_row = demo_formats:BoxPerRowFormat\n"
        "univg = demo_formats:BoxPerRowFormat\n"  # taken by a built-in: ignored with a warning
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_builtins_are_found_by_name_with_their_modes():
    univg = get_format("univg")
    assert isinstance(univg, UnivgFormat) and (univg.name, univg.readable, univg.writable) == ("univg", True, True)
    grpo = get_format("grpo")
    assert (grpo.readable, grpo.writable) == (False, True)
    assert formats.FORMATS.provider("zero_shot") == "univg-plugin"
    with pytest.raises(ValueError, match="unknown dataset format 'coco'; known formats: grpo, mig_bench"):
        get_format("coco")


def test_a_format_registered_at_run_time_reaches_get_format(fresh_formats, tmp_path):
    assert register_format("lines", LinesFormat) is LinesFormat
    fmt = get_format("lines")
    assert isinstance(fmt, LinesFormat) and (fmt.name, fmt.readable, fmt.writable) == ("lines", False, True)
    assert fresh_formats.provider("lines") == "(registered at run time)"
    with pytest.raises(ValueError, match="dataset format 'lines' already exists"):
        register_format("lines", LinesFormat)


def test_a_format_of_another_package_reaches_get_format_read_and_the_cli(fresh_formats, installed_package):
    with pytest.warns(UserWarning, match="'univg' of package 'demo-formats'.* is ignored"):
        assert "box_per_row" in fresh_formats
    assert type(get_format("univg")) is UnivgFormat  # the built-in wins
    fmt = get_format("box_per_row")
    assert type(fmt).__module__ == "demo_formats"
    assert (fmt.name, fmt.readable, fmt.writable) == ("box_per_row", True, False)
    assert fresh_formats.provider("box_per_row") == "demo-formats"

    path = installed_package / "rows.jsonl"
    path.write_text(json.dumps({"image": "a.png", "text": "Find it.", "box": [1, 2, 3, 4]}) + "\n")
    [sample] = read(path, "box_per_row")
    assert (sample.id, sample.images, sample.boxes) == ("rows-0", ["a.png"], [(1, 2, 3, 4)])

    listing = CliRunner().invoke(main, ["data", "formats"])
    assert listing.exit_code == 0, listing.output
    assert 'box_per_row (read) from demo-formats\n  One box per row: `{"image", "text", "box"}`.' in listing.output
    assert "univg (read/write) from univg-plugin" in listing.output


def test_a_reader_that_fails_on_a_row_gives_a_located_error_and_the_scan_goes_on(fresh_formats, installed_package):
    """Another package's reader meets a row it did not expect (``raw["image"]`` without an image)."""
    with pytest.warns(UserWarning, match="is ignored"):
        assert "box_per_row" in fresh_formats
    path = installed_package / "rows.jsonl"
    good = json.dumps({"image": "a.png", "text": "Find it.", "box": [1, 2, 3, 4]})
    path.write_text("\n".join([good, json.dumps({"text": "Find it."}), good]) + "\n")
    report = validate_file(path, "box_per_row")
    assert [str(error) for error in report.errors] == [
        f"{path}:2: row: the box_per_row reader failed: KeyError: 'image'"
    ]
    assert report.samples == 2

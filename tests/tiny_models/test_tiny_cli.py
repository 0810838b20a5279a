"""`univg tiny-model PATH --family F`: every family from the command line, loadable by transformers."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from transformers import AutoConfig

from univg_plugin.cli import main
from univg_plugin.tiny_models import FAMILIES


@pytest.mark.parametrize("family", FAMILIES)
def test_tiny_model_command_builds_each_family(tmp_path, family):
    out = tmp_path / family
    result = CliRunner().invoke(main, ["tiny-model", str(out), "--family", family, "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert f"wrote a tiny {family} checkpoint to {out}\n" in result.output
    assert AutoConfig.from_pretrained(out).model_type == family
    spec = json.loads((out / "univg_tiny_spec.json").read_text())
    assert (spec["family"], spec["seed"]) == (family, 3)


def test_tiny_model_command_refuses_an_unknown_family(tmp_path):
    result = CliRunner().invoke(main, ["tiny-model", str(tmp_path / "x"), "--family", "qwen9_vl"])
    assert result.exit_code == 2 and "'qwen9_vl' is not one of 'qwen2_vl', 'qwen2_5_vl', 'qwen3_vl'" in result.output

"""`univg doctor`: versions, support verdicts, and a refusal for an unsupported version."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version

from univg_plugin.compat import FEATURES, feature_problems, installed_version, support_report

UNIVG = [sys.executable, "-m", "univg_plugin.cli"]


def _run(args, env=None):
    return subprocess.run([*UNIVG, *args], capture_output=True, text=True, env=env, timeout=300)


def test_help_explains_every_command():
    result = _run(["--help"])
    assert result.returncode == 0
    for command in ("doctor", "tiny-model", "rewards"):
        assert command in result.stdout


@pytest.mark.slow
@pytest.mark.skipif(
    not all(check.ok for check in support_report()),
    reason="a framework is installed in a version the trainer does not support (e.g. VLM-R1's pins)",
)
def test_doctor_passes_in_the_supported_environment():
    """Also where the core is alone: a framework that is not installed is fine, and the features say so."""
    result = _run(["doctor"])
    assert result.returncode == 0, result.stdout + result.stderr
    for package in ("python", "torch", "transformers", "trl", "datasets", "llamafactory"):
        assert package in result.stdout
    for name in FEATURES:
        problems = feature_problems(name)
        line = next(line for line in result.stdout.splitlines() if f"] {name} (" in line)
        assert line.startswith("[-- ]" if problems else "[ok ]") and all(problem in line for problem in problems)
    assert "all supported" in result.stdout


def _fake_distribution(root: Path, name: str, version: str) -> None:
    info = root / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


@pytest.mark.slow
def test_doctor_refuses_an_unsupported_trl_and_names_the_versions_that_work(tmp_path):
    _fake_distribution(tmp_path, "trl", "0.19.0")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = _run(["doctor"], env=env)
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if " trl " in line)
    assert "0.19.0" in line and "unsupported" in line
    assert ">=0.24.0,<0.25" in line and ">=1.16,<2" in line


@pytest.mark.slow
@pytest.mark.llamafactory
def test_doctor_flags_trl_1_beside_llamafactory(tmp_path):
    _fake_distribution(tmp_path, "trl", "1.16.0")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = _run(["doctor"], env=env)
    assert result.returncode == 1
    assert "llamafactory 0.9.5 needs trl 0.24.x" in result.stdout


def test_trl_requirement_accepts_both_supported_lines_only():
    from univg_plugin.compat import TRL

    assert TRL.accepts("0.24.0") and TRL.accepts("1.16.0") and TRL.accepts("1.20.3")
    assert not TRL.accepts("0.23.1") and not TRL.accepts("2.0.0") and not TRL.accepts("garbage")


@pytest.mark.slow
def test_doctor_flags_torch_2_9_naming_the_versions_that_work(tmp_path):
    _fake_distribution(tmp_path, "torch", "2.9.1")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = _run(["doctor"], env=env)
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if " torch " in line)
    assert line.startswith("[BAD]") and "2.9.1" in line and ">=2.4,<2.9 or >=2.10" in line and "Conv3d" in line


def test_doctor_says_which_families_this_environment_supports():
    from click.testing import CliRunner

    from univg_plugin.cli import main
    from univg_plugin.cli.doctor import family_problems
    from univg_plugin.qwen_vl import MODEL_FAMILIES

    output = CliRunner().invoke(main, ["doctor"]).output
    for name, family in MODEL_FAMILIES.items():
        line = next((line for line in output.splitlines() if line[6:].startswith(f"family {name}:")), None)
        assert line is not None, output
        problems = family_problems(family)
        assert line.startswith("[-- ]" if problems else "[ok ]") and all(problem in line for problem in problems)
        if not problems:
            assert family.model_class in line
    transformers = installed_version("transformers")
    if installed_version("llamafactory") and Version(transformers) >= Version("4.57"):
        assert (
            "family qwen3_vl: transformers Qwen3VLForConditionalGeneration, LLaMA-Factory template qwen3_vl" in output
        )


def test_family_problems_name_the_missing_class_and_template():
    from univg_plugin.cli.doctor import family_problems
    from univg_plugin.qwen_vl import MODEL_FAMILIES

    unknown = dataclasses.replace(
        MODEL_FAMILIES["qwen3_vl"], model_class="Qwen9VLForConditionalGeneration", llamafactory_template="qwen9_vl"
    )
    problems = family_problems(unknown)
    if importlib.util.find_spec("transformers") is None:
        assert problems == ["transformers is not installed"]
        return
    assert problems[0].startswith("transformers ") and problems[0].endswith(" has no Qwen9VLForConditionalGeneration")
    if installed_version("llamafactory"):
        assert problems[1] == "LLaMA-Factory 0.9.5 has no template 'qwen9_vl'"

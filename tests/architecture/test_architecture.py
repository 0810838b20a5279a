"""The architecture as executable rules: import contracts, short functions, entry points equal to the declarations."""

from __future__ import annotations

import ast
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "univg_plugin"
MAX_FUNCTION_LINES = 60

#: Every plugin group and the registry that declares its built-ins.
REGISTRIES = {
    "univg_plugin.rewards": "univg_plugin.rewards:REWARDS",
    "univg_plugin.formats": "univg_plugin.data.formats:FORMATS",
    "univg_plugin.difficulty": "univg_plugin.weighting:WEIGHTING_METHODS",
    "univg_plugin.trainers": "univg_plugin.trainer:TRAINERS",
}


def _registry(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _function_lengths():
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body_start = node.body[0].lineno
                yield f"{path.relative_to(ROOT)}:{node.lineno} {node.name}", node.end_lineno - body_start + 1


def test_no_function_body_is_longer_than_the_limit():
    lengths = dict(_function_lengths())
    assert len(lengths) > 300  # the walk saw the package
    too_long = {name: length for name, length in lengths.items() if length > MAX_FUNCTION_LINES}
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines: {too_long}"


def _declared_entry_points() -> dict[str, dict[str, str]]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]


def test_pyproject_declares_exactly_the_plugin_groups():
    assert set(_declared_entry_points()) == set(REGISTRIES)


@pytest.mark.parametrize("group", sorted(REGISTRIES))
def test_pyproject_declares_exactly_the_builtin_plugins(group):
    registry = _registry(REGISTRIES[group])
    assert registry.group == group
    assert _declared_entry_points()[group] == registry.builtins, group


@pytest.mark.parametrize("group", sorted(REGISTRIES))
def test_every_builtin_plugin_loads(group):
    registry = _registry(REGISTRIES[group])
    for name in registry.builtins:
        assert registry.load(name) is not None
        assert registry.provider(name) == "univg-plugin"


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the package found first in ``root`` (PYTHONPATH wins over the editable install)."""
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command, "import-linter is not installed (the dev extra)"
    environment = {**os.environ, "PYTHONPATH": str(root), "UNIVG_PLUGIN_DISABLE": "1"}
    return subprocess.run(
        [command, str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env=environment,
    )


def lint_imports_with(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess:
    """``lint-imports`` on a copy of the package where ``module`` (a path under it) ends with ``line``."""
    copy = tmp_path / "copy"
    shutil.copytree(PACKAGE, copy / "univg_plugin", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    source = copy / "univg_plugin" / module
    source.write_text(source.read_text() + f"\n{line}  # noqa: E402,F401\n")
    return _lint_imports(copy)


@pytest.mark.slow
def test_import_contracts_hold_and_catch_a_deliberate_cycle(tmp_path):
    """The contracts pass on the package, and fail on a copy where `boxes.parse` imports `rewards` (a cycle)."""
    kept = _lint_imports(ROOT)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    broken = lint_imports_with(tmp_path, "boxes/parse.py", "from ..rewards import accuracy")
    assert broken.returncode != 0, broken.stdout
    assert "univg_plugin.boxes.parse -> univg_plugin.rewards.accuracy" in broken.stdout

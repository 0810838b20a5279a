"""The `univg_plugin_hook.pth` line as `site` runs it at interpreter start, with healthy and broken installs.

Each case copies the real .pth into a fresh site directory and has `site.addsitedir` process it in a
Python started with `-S` (so that the copy installed in this environment does not run first), with a
`PYTHONPATH` holding the package, a broken stand-in for it, or nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import univg_plugin.integrations.llamafactory as integration

ROOT = Path(__file__).resolve().parents[3]
PTH = Path(integration.__file__).with_name("univg_plugin_hook.pth")
HOOK_ACTIVE = "any(type(finder).__name__ == 'PostImportFinder' for finder in sys.meta_path)"
FIX = "reinstall univg-plugin or set UNIVG_PLUGIN_DISABLE=1"


def start_python(tmp_path: Path, python_path: Path | None, **env: str) -> subprocess.CompletedProcess:
    """A new interpreter that processes a site directory holding the real .pth, then prints ok."""
    site_dir = tmp_path / "site"
    site_dir.mkdir(exist_ok=True)
    (site_dir / PTH.name).write_bytes(PTH.read_bytes())
    code = f"import site, sys; site.addsitedir({str(site_dir)!r}); print('ok', {HOOK_ACTIVE})"
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "UNIVG_PLUGIN_DISABLE")}
    environment.update(env, PYTHONPATH=str(python_path or tmp_path / "empty"))
    command = [sys.executable, "-S", "-c", code]  # run in tmp_path: `-c` puts the working directory on sys.path
    return subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)


def fake_package(tmp_path: Path, files: dict[str, str]) -> Path:
    """A stand-in `univg_plugin` package (a moved or half-deleted install) on its own path entry."""
    root = tmp_path / "fake"
    for name, text in files.items():
        path = root / "univg_plugin" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_pth_file_is_one_import_line():
    lines = PTH.read_text().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("import ")  # site.py executes only lines that start with `import`


def test_a_healthy_install_adds_the_hook_silently(tmp_path):
    result = start_python(tmp_path, ROOT)
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok True\n", "")


def test_opting_out_imports_nothing_even_from_a_broken_install(tmp_path):
    broken = fake_package(tmp_path, {"__init__.py": "raise SystemExit(3)\n"})
    result = start_python(tmp_path, broken, UNIVG_PLUGIN_DISABLE="1")
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok False\n", "")


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        (None, "No module named 'univg_plugin'"),
        ({"__init__.py": ""}, "No module named 'univg_plugin.integrations'"),
        ({"__init__.py": "raise SystemExit(3)\n"}, "SystemExit: 3"),
        ({"__init__.py": "raise KeyError('a\\nb')\n"}, "KeyError: 'a\\nb'"),
        (
            {
                "__init__.py": "",
                "integrations/__init__.py": "",
                "integrations/llamafactory/__init__.py": "",
                "integrations/llamafactory/import_hook.py": "def install():\n    raise RuntimeError('one\\ntwo')\n",
            },
            "RuntimeError: one two",
        ),
    ],
    ids=["package-gone", "package-moved", "system-exit", "multi-line-error", "install-raises"],
)
def test_a_broken_install_prints_one_line_naming_the_fix_and_python_starts(tmp_path, files, reason):
    result = start_python(tmp_path, fake_package(tmp_path, files) if files is not None else None)
    assert (result.returncode, result.stdout) == (0, "ok False\n")
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("univg-plugin: the LLaMA-Factory hook could not load (")
    assert reason in result.stderr
    assert FIX in result.stderr
    assert "Traceback" not in result.stderr

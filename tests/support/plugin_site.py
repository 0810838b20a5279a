"""tests/plugin_package (a test-only package registering one plugin per entry-point group), installed for a test."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PLUGIN_PACKAGE = Path(__file__).resolve().parents[1] / "plugin_package"


def install_test_plugin(target: Path) -> Path:
    """Install tests/plugin_package into ``target`` (a folder to put on sys.path) with pip, offline."""
    source = target.parent / "plugin_package_source"
    shutil.copytree(PLUGIN_PACKAGE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*command, "--target", str(target), str(source)], check=True, capture_output=True)
    return target

"""The core works without torch, transformers, trl, llamafactory or datasets, and a contract keeps it so."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest
import tomllib
from packaging.requirements import Requirement
from test_architecture import ROOT, lint_imports_with

#: The frameworks the core never imports: the forbidden modules of the contract in pyproject.toml.
CONTRACT = next(
    contract
    for contract in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    if contract["type"] == "forbidden"
)


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
#: The torch that verl's sglang extra pins.
VERL_SGLANG_TORCH = "2.9.1"


def test_the_core_requires_only_what_it_imports_and_installs_beside_other_trainers_pins():
    """No torch, transformers, trl or datasets (VLM-R1 pins transformers 4.49.0 and trl 0.17.0), and the
    extras accept verl's torch."""
    core = {Requirement(text).name for text in PROJECT["dependencies"]}
    assert core == {"numpy", "scipy", "pydantic", "pillow", "click", "tqdm", "packaging", "matplotlib"}
    for extra in ("trl", "eval"):
        torch = next(Requirement(text) for text in PROJECT["optional-dependencies"][extra] if text.startswith("torch"))
        assert torch.specifier.contains(VERL_SGLANG_TORCH)  # 2.9.x is refused at run time instead


def test_the_llamafactory_extra_brings_everything_the_demo_and_eval_run_need():
    assert "univg-plugin[trl,eval,demo]" in PROJECT["optional-dependencies"]["llamafactory"]


def test_the_contract_forbids_the_frameworks_of_the_extras():
    assert {"torch", "transformers", "trl", "llamafactory", "datasets"} <= set(CONTRACT["forbidden_modules"])


def test_the_core_imports_and_works_with_the_frameworks_blocked():
    """Every core module (the contract's source modules and all below them) imports and the CLI starts, with
    each framework made unimportable as if it were not installed; none of them gets imported."""
    script = textwrap.dedent(
        f"""
        import importlib, pkgutil, sys
        blocked = {CONTRACT["forbidden_modules"]!r}
        for name in blocked:
            sys.modules[name] = None  # `import name` now raises ModuleNotFoundError
        names = []
        for source in {CONTRACT["source_modules"]!r}:
            module = importlib.import_module(source)
            names.append(source)
            for info in pkgutil.walk_packages(getattr(module, "__path__", []), source + "."):
                importlib.import_module(info.name)
                names.append(info.name)
        from univg_plugin.rewards import get
        from univg_plugin.weighting import difficulty_weights
        assert get("iou")(["<answer>(0,0),(10,10)</answer>"], solution=[[0, 0, 10, 10]]) == [1.0]
        assert difficulty_weights([0.0, 1.0], 1).round(4).tolist() == [2.7183, 1.0]
        from univg_plugin.cli import main
        try:
            main(["--help"])
        except SystemExit as stop:
            assert stop.code == 0, stop.code
        print(len(names), "modules")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    assert int(result.stdout.split()[-2]) > 60  # the walk saw the core's modules


@pytest.mark.slow
def test_the_core_contract_catches_a_deliberate_torch_import(tmp_path):
    """The contract fails on a copy of the package where `boxes.geometry` imports torch."""
    broken = lint_imports_with(tmp_path, "boxes/geometry.py", "import torch")
    assert broken.returncode != 0, broken.stdout
    assert "univg_plugin.boxes is not allowed to import torch" in broken.stdout
    assert "univg_plugin.boxes.geometry -> torch" in broken.stdout


def test_every_test_path_that_needs_more_than_the_core_exists():
    """conftest.py's table of what needs more than the core names real folders, files and tests."""
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    for key in table.NEEDS:
        path, _, test = key.partition("::")
        assert (ROOT / path).exists(), key
        name = test.partition("[")[0].rpartition(".")[-1]
        assert not test or f"def {name}" in (ROOT / path).read_text(), key

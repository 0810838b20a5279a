"""What works beyond the core is read from package versions; torch 2.9.x is refused by the trainer and generation."""

from __future__ import annotations

import importlib.metadata

import pytest

from univg_plugin import compat


@pytest.fixture
def versions(monkeypatch):
    """``versions(torch="2.9.1", trl=None, ...)``: these packages seem installed in these versions (None: absent)."""

    def pretend(**pretended):
        real = compat.installed_version
        monkeypatch.setattr(compat, "installed_version", lambda package: pretended.get(package, real(package)))

    return pretend


def test_nothing_installed_is_fine_for_the_core_and_each_feature_names_what_it_lacks(versions):
    versions(torch=None, torchvision=None, transformers=None, trl=None, datasets=None, llamafactory=None)
    assert all(check.ok for check in compat.support_report())
    assert compat.feature_problems("trainer") == ["not installed: torch, torchvision, transformers, trl, datasets"]
    assert compat.feature_problems("generation") == ["not installed: torch, torchvision, transformers"]


def test_vlm_r1_pins_leave_the_trainer_and_generation_out_naming_the_versions(versions):
    versions(torch="2.14.1", torchvision="0.29.1", transformers="4.49.0", trl="0.17.0", datasets="3.5.0")
    assert compat.feature_problems("trainer") == ["unsupported: transformers 4.49.0, trl 0.17.0"]
    assert compat.feature_problems("generation") == ["unsupported: transformers 4.49.0"]
    assert compat.unusable("trl").startswith("unsupported: trl 0.17.0; supported: >=0.24.0,<0.25 or >=1.16,<2")


def test_the_supported_stack_makes_every_feature_but_llamafactory_work(versions):
    versions(torch="2.14.1", torchvision="0.29.1", transformers="5.2.0", trl="1.16.0", datasets="4.8.0")
    versions(llamafactory=None, pyyaml="6.0")
    assert compat.feature_problems("trainer") == compat.feature_problems("generation") == []
    assert compat.feature_problems("llamafactory") == ["not installed: llamafactory"]


def test_torch_2_9_is_refused_naming_the_versions_that_work(versions):
    versions(torch="2.9.1")
    with pytest.raises(compat.UnsupportedVersionError, match=r"torch 2\.9\.1; supported: >=2\.4,<2\.9 or >=2\.10"):
        compat.require_supported_torch()
    versions(torch="2.10.0")
    compat.require_supported_torch()


def test_the_trainer_refuses_torch_2_9_before_loading_anything(versions):
    from univg_plugin.trainer import DifficultyAwareGRPOTrainer

    versions(torch="2.9.1")
    with pytest.raises(compat.UnsupportedVersionError, match=r"torch 2\.9\.1; supported: >=2\.4,<2\.9 or >=2\.10"):
        DifficultyAwareGRPOTrainer(model="no/such/model", reward_funcs=[])


def test_generation_refuses_torch_2_9_before_loading_anything(versions, tmp_path):
    from univg_plugin.eval import generate_predictions

    versions(torch="2.9.1")
    with pytest.raises(compat.UnsupportedVersionError, match=r"torch 2\.9\.1; supported: >=2\.4,<2\.9 or >=2\.10"):
        generate_predictions(tmp_path / "no-model", [], tmp_path / "predictions.jsonl")


def test_pyyaml_is_found_by_its_distribution_name():
    pytest.importorskip("yaml")
    assert compat.installed_version("pyyaml") == importlib.metadata.version("PyYAML")

"""Another package's plugins, declared only by entry points, reach every registry (tests/plugin_package)."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import pytest
from plugin_site import install_test_plugin

from univg_plugin.compat import feature_problems
from univg_plugin.data import get_format, read
from univg_plugin.data.formats import FORMATS
from univg_plugin.rewards import REWARDS, get, load
from univg_plugin.weighting import WEIGHTING_METHODS, difficulty_weights

PROVIDER = "univg-test-plugin"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    return install_test_plugin(tmp_path_factory.mktemp("site") / "site-packages")


@pytest.fixture
def with_test_plugin(plugin_site, monkeypatch):
    """The test plugin importable and its entry points visible, for this test only."""
    registries = [REWARDS, FORMATS, WEIGHTING_METHODS, *([] if feature_problems("trainer") else [_trainers()])]
    monkeypatch.syspath_prepend(str(plugin_site))
    for registry in registries:
        registry.refresh()
    yield plugin_site
    monkeypatch.undo()
    for registry in registries:
        registry.refresh()
    for module in [name for name in sys.modules if name.startswith("univg_test_plugin")]:
        del sys.modules[module]


def _trainers():
    from univg_plugin.trainer import TRAINERS

    return TRAINERS


@pytest.mark.usefixtures("with_test_plugin")
def test_each_group_finds_the_other_packages_plugin():
    for registry, name in [(REWARDS, "answer_length"), (FORMATS, "flat_boxes"), (WEIGHTING_METHODS, "step")]:
        assert registry.provider(name) == PROVIDER
    assert REWARDS.provider("iou") == "univg-plugin"


@pytest.mark.usefixtures("with_test_plugin")
def test_the_reward_takes_its_options_and_shared_ones_skip_it():
    reward = get("answer_length", modulus=3)
    assert reward.__name__ == "answer_length"
    assert reward(["ab", "abc"]) == [1.0, 0.0]
    iou, length = load(["iou", "answer_length"], space="abs_input")  # `space` is not one of its options
    assert length.options == {} and iou.options == {"space": "abs_input"}


@pytest.mark.usefixtures("with_test_plugin")
def test_the_format_reads_a_file(tmp_path):
    path = tmp_path / "flat.jsonl"
    path.write_text(
        json.dumps({"id": "a", "image": "x.png", "question": "Find it.", "x1": 1, "y1": 2, "x2": 3, "y2": 4})
    )
    assert get_format("flat_boxes").readable
    (sample,) = read(path, "flat_boxes")
    assert sample.boxes == [(1.0, 2.0, 3.0, 4.0)] and sample.question == "<image>Find it."


@pytest.mark.usefixtures("with_test_plugin")
def test_the_weighting_method_weights_groups():
    weights = difficulty_weights([0.0, 0.2, 0.9, 1.0], group_size=2, method="step")
    assert weights.tolist() == [2.0, 2.0, 1.0, 1.0]
    weights = difficulty_weights([0.0, 0.2, 0.9, 1.0], group_size=2, method="step", high=3.0)
    assert weights.tolist() == [3.0, 3.0, 1.0, 1.0]


@pytest.mark.usefixtures("with_test_plugin")
def test_the_trainer_is_a_difficulty_aware_trainer():
    from univg_plugin.trainer import DifficultyAwareGRPOTrainer

    assert _trainers().provider("marking") == PROVIDER
    assert issubclass(_trainers().load("marking"), DifficultyAwareGRPOTrainer)


def test_a_plugin_under_a_builtin_name_is_ignored_with_a_warning_naming_both(tmp_path, monkeypatch):
    info = tmp_path / "shadowing-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shadowing\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[univg_plugin.rewards]\niou = shadowing:iou\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    REWARDS.refresh()
    try:
        with pytest.warns(UserWarning, match=r"reward 'iou' of package 'shadowing' .* taken by package 'univg-plugin'"):
            assert REWARDS.provider("iou") == "univg-plugin"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert get("iou")(["<answer>(0,0),(10,10)</answer>"], solution=[[0, 0, 10, 10]]) == [1.0]
    finally:
        monkeypatch.undo()
        REWARDS.refresh()


@pytest.mark.slow
@pytest.mark.llamafactory
def test_a_llamafactory_yaml_uses_all_four_plugins_by_name(tmp_path, plugin_site, tiny_qwen2_vl, make_images):
    """`llamafactory-cli train` with the other package's reward, format, weighting method and trainer."""
    from llamafactory_cli import logged, output_of, recipe, run_cli

    images = make_images(tmp_path / "data", 4)
    rows = [
        {
            "id": f"r{i}",
            "image": path.name,
            "question": "Where is the rectangle?",
            "x1": 100,
            "y1": 100,
            "x2": 500,
            "y2": 400,
        }
        for i, path in enumerate(images)
    ]
    (tmp_path / "data" / "flat.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    info = {"flat": {"file_name": "flat.jsonl", "formatting": "univg:flat_boxes"}}
    (tmp_path / "data" / "dataset_info.json").write_text(json.dumps(info))
    output = tmp_path / "out"
    config = recipe(
        "tiny/grpo.yaml",
        model_name_or_path=str(tiny_qwen2_vl),
        dataset="flat",
        dataset_dir=str(tmp_path / "data"),
        media_dir=str(tmp_path / "data"),
        output_dir=str(output),
        reward_funcs="answer_length",
        difficulty_accuracy_reward="answer_length",
        difficulty_weighting="step",
        difficulty_params={"threshold": 0.5, "high": 3.0},
        grpo_trainer="marking",
        max_steps=2,
    )
    result = run_cli(config, tmp_path, env={"PYTHONPATH": str(plugin_site)})
    assert result.returncode == 0, output_of(result)[-4000:]
    assert (output / "marking_trainer_ran.txt").read_text() == "MarkingGRPOTrainer"
    assert len(logged(output, "rewards/answer_length/mean")) == 2
    phis = logged(output, "difficulty/phi_mean")
    assert len(phis) == 2 and all(1.0 <= phi <= 3.0 for phi in phis)

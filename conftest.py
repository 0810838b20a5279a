"""Repository-wide pytest setup: every environment runs the tests of what works in it.

The core (boxes, rewards, weighting, data, eval scoring, the adapters, the CLI) is tested everywhere.
The tests and doctest modules of a feature beyond it (:data:`univg_plugin.compat.FEATURES`: the
trainer, generation, LLaMA-Factory) are collected only where that feature works, i.e. its packages are
installed at supported versions; so the core-only and VLM-R1 environments of ``scripts/test.sh`` run
the core alone, and the run ends with one line naming what was left out and why.
"""

from __future__ import annotations

import functools
from pathlib import Path

from univg_plugin.compat import FEATURES, feature_problems, unusable

collect_ignore_glob = ["benchmarks/*", "recipes/*", "docs/*"]

#: What each test path needs beyond the core: a feature of ``FEATURES`` or one package, at versions this package
#: supports (as `univg doctor` says). A path ending in "/" is a folder; one with "::" is a test id prefix.
NEEDS = {
    "univg_plugin/trainer.py": "trainer",
    "tests/trainer/": "trainer",
    "tests/support/grpo_data.py": "trainer",
    "tests/support/distributed_grpo.py": "trainer",
    "tests/support/deepspeed_grpo.py": "trainer",
    "tests/support/teardown_ranks.py": "torch",
    # DeepSpeed is installed only beside LLaMA-Factory (.venv); there a missing DeepSpeed fails it in CI (zero3.py)
    "tests/trainer/test_trainer_deepspeed.py": "llamafactory",
    "tests/plugin_package/univg_test_plugin/trainer.py": "trainer",
    "univg_plugin/data/render.py::univg_plugin.data.render.grpo_dataset": "trainer",  # builds a datasets.Dataset
    "tests/data/test_data_render.py::test_grpo_dataset": "trainer",
    "tests/architecture/test_architecture.py::test_every_builtin_plugin_loads[univg_plugin.trainers]": "trainer",
    (
        "tests/architecture/test_architecture.py::"
        "test_pyproject_declares_exactly_the_builtin_plugins[univg_plugin.trainers]"
    ): "trainer",
    "tests/architecture/test_third_party_plugins.py::test_the_trainer_is_a_difficulty_aware_trainer": "trainer",
    "tests/compat/test_compat.py::test_the_trainer_refuses_torch_2_9": "trainer",
    "tests/tiny_models/": "generation",
    "tests/tiny_models/test_tiny_llamafactory.py": "llamafactory",
    "tests/app/": "gradio",  # univg app (its tiny checkpoint also needs generation)
    "tests/eval/test_eval_run.py": "generation",
    "tests/eval/test_eval_stop.py": "generation",
    "tests/demo/test_demo_speed.py::test_evaluation_runs_torch_on_one_thread": "torch",
    "tests/demo/test_demo_speed.py::test_stage_1_splits_its_batch": "pyyaml",  # reads the tiny recipes
    "tests/demo/test_demo_speed.py::test_stage_1_runs_in_one_process": "pyyaml",
    "tests/demo/test_demo_speed.py::test_the_demo_tokenizer": "generation",
    "tests/eval/test_eval_resume.py::test_predictions_without_a_record_are_refused": "generation",
    "tests/eval/test_eval_resume.py::test_an_unreadable_record_is_a_located_error": "generation",
    "univg_plugin/integrations/llamafactory/": "llamafactory",
    "tests/support/llamafactory_cli.py": "llamafactory",
    "tests/integrations/llamafactory/": "llamafactory",
    # Tests that compare with, or pass, one package's objects:
    "tests/weighting/test_weighting_torch.py": "torch",
    "tests/boxes/test_boxes.py::test_smart_resize_matches_transformers": "transformers",
}
#: Fixtures that need a feature: the tiny checkpoints are built with torch and transformers.
FIXTURE_NEEDS = {
    "tiny_qwen2_vl": "generation",
    "tiny_qwen2_5_vl": "generation",
    "tiny_qwen3_vl": "generation",
    "tiny_checkpoint": "generation",
}
_ROOT = Path(__file__).parent
_left_out: dict[str, list[str]] = {}


@functools.cache
def _problems(need: str) -> tuple[str, ...]:
    """Why ``need`` (a feature or a package) cannot work here; empty when it can."""
    if need in FEATURES:
        return tuple(feature_problems(need))
    problem = unusable(need)
    return (problem,) if problem else ()


def _asked_for(path: Path, config) -> bool:
    """Whether ``path`` lies in what this run collects (pytest also looks at the neighbours of what it was given)."""
    asked = (Path(config.invocation_params.dir, arg.partition("::")[0]).resolve() for arg in config.args)
    return any(path == root or root in path.parents for root in asked)


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    try:
        relative = collection_path.relative_to(_ROOT).as_posix()
    except ValueError:
        return None
    key = relative + "/" if collection_path.is_dir() else relative
    if key not in NEEDS or not _problems(NEEDS[key]):
        return None
    if _asked_for(collection_path, config):
        _left_out.setdefault(NEEDS[key], []).append(key)
    return True


def _item_need(item) -> str | None:
    """What ``item`` needs that does not work here, by its test id or its fixtures; None when it can run."""
    needs = [need for key, need in NEEDS.items() if "::" in key and item.nodeid.startswith(key)]
    needs += [FIXTURE_NEEDS[name] for name in getattr(item, "fixturenames", ()) if name in FIXTURE_NEEDS]
    return next((need for need in needs if _problems(need)), None)


def pytest_collection_modifyitems(config, items) -> None:
    kept, left_out = [], []
    for item in items:
        need = _item_need(item)
        if need is None:
            kept.append(item)
        else:
            left_out.append(item)
            _left_out.setdefault(need, []).append(item.nodeid)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def pytest_terminal_summary(terminalreporter, config) -> None:
    """One line: how many test paths and tests of each need were left out, and why (``-v`` lists them)."""
    if _left_out:
        verbose = config.get_verbosity() > 0
        parts = [
            f"{len(keys)} of {need} ({'; '.join(_problems(need))}){': ' + ', '.join(keys) if verbose else ''}"
            for need, keys in _left_out.items()
        ]
        terminalreporter.write_line(f"left out (needing what does not work here): {' | '.join(parts)}")

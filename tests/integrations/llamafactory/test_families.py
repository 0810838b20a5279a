"""`stage: grpo` per model family: `model_family` (or the model's config.json) sets the rewards' space and format.

The parse-time checks run in-process; the end-to-end runs go through the real `llamafactory-cli` (subprocess)
with each family's tiny recipes: stage 1, then GRPO in one process and under torchrun with two.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from llamafactory_cli import grpo_yaml, logged, logged_losses, output_of, recipe, run_cli
from plugin_site import install_test_plugin
from test_llamafactory_grpo import synth_data  # noqa: F401  (a module fixture: synthetic univg data)

from univg_plugin.qwen_vl import MODEL_FAMILIES

pytestmark = pytest.mark.llamafactory

#: The families beside the paper's Qwen2-VL (test_llamafactory_grpo.py runs that one).
NEW_FAMILIES = ("qwen2_5_vl", "qwen3_vl")
#: transformers' model class of each family's checkpoints.
MODEL_CLASSES = {"qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration", "qwen3_vl": "Qwen3VLForConditionalGeneration"}


@pytest.fixture(scope="module")
def hparams():
    from univg_plugin.integrations.llamafactory import hparams

    return hparams


@pytest.fixture(scope="module")
def run_grpo_training():
    import llamafactory.train.tuner  # noqa: F401  (importing it patches the parser, as in llamafactory-cli)

    from univg_plugin.integrations.llamafactory.workflow import run_grpo_training

    return run_grpo_training


def model_dir(tmp_path: Path, model_type: str) -> Path:
    """A folder with a real config.json of ``model_type`` (transformers' defaults): what the family is read from."""
    directory = tmp_path / model_type
    directory.mkdir()
    (directory / "config.json").write_text(json.dumps({"model_type": model_type}))
    return directory


def parse_yaml_keys(hparams, **keys):
    from transformers import HfArgumentParser

    (arguments,) = HfArgumentParser([hparams.GRPOFinetuningArguments]).parse_dict({"stage": "grpo", **keys})
    return arguments


@pytest.mark.parametrize("family", MODEL_FAMILIES)
def test_the_family_sets_the_reward_space_and_format_together(hparams, family):
    arguments = parse_yaml_keys(hparams, model_family=family)
    arguments.resolve_model_family(None, MODEL_FAMILIES[family].llamafactory_template)
    options = arguments.reward_options(min_pixels=3136, max_pixels=12544)
    assert options["iou"]["space"] == arguments.reward_space == MODEL_FAMILIES[family].box_space
    assert options["format"] == {"format_pattern": MODEL_FAMILIES[family].format_pattern}


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            {"model_family": "qwen3_vl", "reward_space": "abs_input"},
            "`model_family: qwen3_vl` contradicts `reward_space: abs_input`: qwen3_vl writes boxes in norm1000; "
            "remove `reward_space` (the family sets it), or set `model_family` to the one you train (qwen2_5_vl)",
        ),
        (
            {"model_family": "qwen2_5_vl", "reward_kwargs": {"iou": {"space": "norm1000"}}},
            "`model_family: qwen2_5_vl` contradicts `reward_kwargs` for 'iou': `space: norm1000`: qwen2_5_vl "
            "writes boxes in abs_input; remove this `space`, or set `model_family` to the one you train "
            "(qwen2_vl or qwen3_vl)",
        ),
        ({"model_family": "qwen4_vl"}, "`model_family`: unknown model family 'qwen4_vl'; known: qwen2_vl, "),
    ],
    ids=["reward-space", "reward-kwargs-space", "unknown-family"],
)
def test_a_setting_of_another_family_is_refused_at_parse_time(hparams, keys, message):
    with pytest.raises(ValueError) as raised:
        parse_yaml_keys(hparams, **keys)
    assert message in str(raised.value)


def test_model_family_is_a_grpo_key(hparams):
    with pytest.raises(ValueError, match=r"`model_family` only applies to `stage: grpo`"):
        hparams.GRPOFinetuningArguments(stage="sft", model_family="qwen3_vl")


@pytest.mark.parametrize(
    ("model_type", "keys", "message"),
    [
        (
            "qwen2_5_vl",
            {"model_family": "qwen3_vl", "template": "qwen3_vl"},
            "`model_family: qwen3_vl`, but the model's config.json has model_type 'qwen2_5_vl': "
            "set `model_family: qwen2_5_vl` or remove the key",
        ),
        (
            "qwen3_vl",
            {"model_family": "qwen3_vl", "template": "qwen2_vl"},
            "`model_family: qwen3_vl` contradicts `template: qwen2_vl`: LLaMA-Factory's template for qwen3_vl is "
            "qwen3_vl or qwen3_vl_nothink; set `template: qwen3_vl`",
        ),
    ],
    ids=["family-of-another-model", "template-of-another-family"],
)
def test_a_family_the_model_or_template_contradicts_is_refused_before_anything_loads(
    tmp_path, run_grpo_training, model_type, keys, message
):
    model = model_dir(tmp_path, model_type)
    with pytest.raises(ValueError) as raised:  # the dataset `no_dataset` does not exist: nothing loaded
        run_grpo_training({"args": {**grpo_yaml(tmp_path), "model_name_or_path": str(model), **keys}})
    assert message in str(raised.value)


@pytest.mark.parametrize(("model_type", "family"), [("qwen2_5_vl", "qwen2_5_vl"), ("qwen3_vl_moe", "qwen3_vl")])
def test_without_model_family_the_family_is_read_from_the_models_config(tmp_path, hparams, model_type, family):
    import llamafactory.train.tuner  # noqa: F401
    from llamafactory.hparams import get_train_args

    from univg_plugin.integrations.llamafactory.converter import model_type_of

    template = MODEL_FAMILIES[family].llamafactory_template
    keys = {**grpo_yaml(tmp_path), "model_name_or_path": str(model_dir(tmp_path, model_type)), "template": template}
    model_args, data_args, _, arguments, _ = get_train_args(keys)
    arguments.resolve_model_family(model_type_of(model_args), data_args.template)
    assert (arguments.model_family, arguments.reward_space) == (family, MODEL_FAMILIES[family].box_space)
    assert arguments.reward_options()["format"] == {"format_pattern": MODEL_FAMILIES[family].format_pattern}


def test_a_setting_contradicting_the_config_family_is_kept_with_a_warning(hparams, caplog):
    arguments = parse_yaml_keys(hparams, reward_space="norm1000")  # e.g. Qwen2.5-VL taught the paper's 0-1000
    arguments.resolve_model_family("qwen2_5_vl", "qwen2_vl")
    assert (arguments.model_family, arguments.reward_space) == (None, "norm1000")
    warning = "the model is qwen2_5_vl (config.json model_type 'qwen2_5_vl'), but `reward_space: norm1000`"
    assert warning in caplog.text
    assert "format_pattern" not in arguments.reward_options()["format"]  # the paper's format, as the space says


def test_a_model_of_no_known_family_keeps_the_papers_space_with_a_warning(hparams, caplog):
    arguments = parse_yaml_keys(hparams)
    arguments.resolve_model_family("llava", "llava")
    assert (arguments.model_family, arguments.reward_space) == (None, "norm1000")
    assert "model_type 'llava' is not a known Qwen-VL family" in caplog.text


# ---------------------------------------------------------------- end to end, per family


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """tests/plugin_package installed: its `answer_length` reward varies within every group of a random model."""
    return install_test_plugin(tmp_path_factory.mktemp("site") / "site-packages")


def family_recipe(family: str, stage: str, model: Path, data: Path, output: Path, **overrides) -> dict:
    """The family's tiny recipe pointed at this test's model, data and output directory."""
    paths = {"model_name_or_path": str(model), "dataset_dir": str(data), "media_dir": str(data)}
    return recipe(f"tiny/{family}/{stage}.yaml", **paths, output_dir=str(output), **overrides)


@pytest.mark.slow
@pytest.mark.distributed
@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_sft_then_grpo_in_one_and_two_processes(tmp_path, request, family, synth_data, plugin_site):  # noqa: F811
    from transformers import AutoModelForImageTextToText

    model = request.getfixturevalue(f"tiny_{family}")
    stage1 = tmp_path / "sft"
    result = run_cli(family_recipe(family, "sft", model, synth_data, stage1, max_steps=2), tmp_path)
    assert result.returncode == 0, output_of(result)[-4000:]
    assert len(logged_losses(stage1)) == 2
    rewards = {"reward_funcs": "iou,format,answer_length", "difficulty_accuracy_reward": "answer_length"}
    environment = {"PYTHONPATH": str(plugin_site), "OMP_NUM_THREADS": "1"}
    output = tmp_path / "grpo"
    config = family_recipe(family, "grpo", stage1, synth_data, output, max_steps=2, **rewards)
    result = run_cli(config, tmp_path, env=environment)
    assert result.returncode == 0, output_of(result)[-4000:]
    space = MODEL_FAMILIES[family].box_space
    assert f"model family {family}: rewards read boxes in {space}" in output_of(result)
    for key in ("rewards/iou/mean", "rewards/format/mean", "difficulty/phi_mean", "difficulty/hard_share"):
        assert len(logged(output, key)) == 2, key
    assert any(share < 1.0 for share in logged(output, "frac_reward_zero_std"))  # rewards vary within a group
    assert type(AutoModelForImageTextToText.from_pretrained(output)).__name__ == MODEL_CLASSES[family]
    two = tmp_path / "grpo2"
    config = family_recipe(family, "grpo", stage1, synth_data, two, max_steps=1, per_device_train_batch_size=2)
    result = run_cli({**config, **rewards}, tmp_path, env={**environment, "FORCE_TORCHRUN": "1", "NPROC_PER_NODE": "2"})
    assert result.returncode == 0, output_of(result)[-4000:]
    assert len(logged(two, "difficulty/phi_mean")) == 1  # the hook ran inside the torchrun workers


def test_each_family_has_its_recipes(hparams):
    for family in NEW_FAMILIES:
        for name in ("sft", "grpo", "sft_lora", "grpo_lora", "../tiny/{family}/sft", "../tiny/{family}/grpo"):
            config = recipe(f"{family}/{name.format(family=family)}.yaml")
            assert config["template"] in hparams.family_templates(MODEL_FAMILIES[family])
            assert config.get("model_family", family) == family and "reward_space" not in config
            if config["stage"] == "grpo":  # the GRPO keys pass the parse-time checks, the family's included
                keys = {key: value for key, value in config.items() if key in hparams.GRPO_KEYS}
                assert parse_yaml_keys(hparams, **keys).model_family == family


# ---------------------------------------------------------------- stage-1 answers in the family's convention


def load_aligned_for(model: Path, data: Path, tmp_path: Path, **model_keys):
    """LLaMA-Factory's own loading of the univg dataset `tiny_synth` for ``model`` (the patched loader)."""
    from llamafactory.data.loader import _load_single_dataset
    from llamafactory.data.parser import get_dataset_list
    from llamafactory.hparams import DataArguments, ModelArguments
    from transformers import Seq2SeqTrainingArguments

    data_args = DataArguments(dataset="tiny_synth", dataset_dir=str(data), media_dir=str(data), overwrite_cache=True)
    model_args = ModelArguments(model_name_or_path=str(model), **model_keys)
    training_args = Seq2SeqTrainingArguments(output_dir=str(tmp_path / "out"))
    (attribute,) = get_dataset_list(["tiny_synth"], str(data))
    return _load_single_dataset(attribute, model_args, data_args, training_args)


@pytest.mark.parametrize("family", MODEL_FAMILIES)
def test_stage1_answers_are_written_as_the_models_family_writes_boxes(tmp_path, request, family, synth_data):  # noqa: F811
    from univg_plugin.boxes import parse_boxes
    from univg_plugin.data import GroundingSample

    aligned = load_aligned_for(request.getfixturevalue(f"tiny_{family}"), synth_data, tmp_path)
    for row in aligned:
        sample = GroundingSample.model_validate_json(row["_univg"])
        answer = row["_response"][0]["content"]
        assert re.search(MODEL_FAMILIES[family].format_pattern, answer), answer
        expected = sample.boxes_in(MODEL_FAMILIES[family].box_space, min_pixels=3136, max_pixels=12544)
        assert parse_boxes(answer.split("<answer>")[1]).tolist() == np.floor(expected + 0.5).tolist()


def test_pixel_answers_follow_llamafactorys_own_resizing(tmp_path, tiny_qwen2_5_vl, synth_data):  # noqa: F811
    from univg_plugin.boxes import parse_boxes
    from univg_plugin.data import GroundingSample

    # LLaMA-Factory shrinks the 112-pixel images to 77 x 77 (at most 6000 pixels), the processor rounds that to 84
    aligned = load_aligned_for(tiny_qwen2_5_vl, synth_data, tmp_path, image_max_pixels=6000)
    for row in aligned:
        sample = GroundingSample.model_validate_json(row["_univg"])
        answer = row["_response"][0]["content"]
        assert (
            parse_boxes(answer.split("<answer>")[1]).tolist() == np.floor(sample.boxes_in("norm1") * 84 + 0.5).tolist()
        )

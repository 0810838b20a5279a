"""The trainer gives the rewards the policy model's family (from its config's `model_type`): the patch size and
resize factor of `abs_input` conversions. Without it an `abs_input` reward on a Qwen3-VL model resizes with
Qwen2-VL's factor 28 instead of 32, and a perfect answer scores below 1.
"""

from __future__ import annotations

import pytest
from grpo_data import multi_image_dataset, unweighted_trainer

from univg_plugin.boxes import convert_boxes
from univg_plugin.qwen_vl import model_family
from univg_plugin.rewards import get
from univg_plugin.rewards.presets import preset
from univg_plugin.tiny_models import TinyModelSpec, build_tiny_qwen_vl
from univg_plugin.trainer import DifficultyAwareGRPOTrainer

pytestmark = pytest.mark.slow

MIN_PIXELS, MAX_PIXELS = 65536, 16777216  # Qwen3-VL-8B-Instruct's preprocessor_config.json (shortest/longest edge)
IMAGE = (1000, 1000)  # model input 992 x 992 with factor 32, 1008 x 1008 with factor 28
TRUTH = [125.0, 250.0, 625.0, 750.0]  # in the image's pixels; [124, 248, 620, 744] in the model input's
GROUP = 4  # config_kwargs' num_generations


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny Qwen3-VL whose processor has the 8B-Instruct model's pixel limits."""
    directory = tmp_path_factory.mktemp("tiny") / "qwen3_vl_pixels"
    return build_tiny_qwen_vl(
        directory, family="qwen3_vl", seed=0, spec=TinyModelSpec(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
    )


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return multi_image_dataset(tmp_path_factory.mktemp("images"), rows=4, images_per_row=1)


def pixel_answers() -> list[list[dict[str, str]]]:
    """GROUP completions whose box is the truth in Qwen3-VL's model-input pixels (factor 32)."""
    factor = model_family("qwen3_vl").resize_factor
    box = convert_boxes(
        [TRUTH], "abs_image", "abs_input", [IMAGE], min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS, factor=factor
    )
    answer = f'<think>it is there</think><answer>[{{"bbox_2d": {[int(value) for value in box[0].round()]}}}]</answer>'
    return [[{"role": "assistant", "content": answer}] for _ in range(GROUP)]


COLUMNS = {"solution": [TRUTH] * GROUP, "solution_space": ["abs_image"] * GROUP, "image_sizes": [[list(IMAGE)]] * GROUP}


def trainer_rewards(trainer: DifficultyAwareGRPOTrainer) -> list[float]:
    """The first reward of a perfect group through the trainer's reward call (TRL's columns: no `image_grid_thw`)."""
    prompt = [{"role": "user", "content": "Where is the car?"}]
    row = {"prompt": prompt, "solution": TRUTH, "solution_space": "abs_image", "image_sizes": [list(IMAGE)]}
    rewards = trainer._calculate_rewards([row] * GROUP, [prompt] * GROUP, pixel_answers(), [[1, 2]] * GROUP)
    return rewards[:, 0].tolist()


def test_an_abs_input_reward_on_qwen3_vl_resizes_with_the_models_factor_32(tmp_path, checkpoint, dataset):
    iou = get("iou", space="abs_input")
    without_family = get("iou", space="abs_input", min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
    assert without_family(pixel_answers(), **COLUMNS) == pytest.approx([0.946] * GROUP, abs=1e-3)  # factor 28
    trainer = unweighted_trainer([iou], checkpoint, dataset, tmp_path)
    assert trainer.reward_funcs[0].options == {
        "space": "abs_input",
        "min_pixels": MIN_PIXELS,
        "max_pixels": MAX_PIXELS,
        "model_family": "qwen3_vl",
    }
    assert trainer_rewards(trainer) == pytest.approx([1.0] * GROUP)
    assert iou.options == {"space": "abs_input"}  # the caller's reward, as given


def test_a_reward_of_another_family_is_refused_naming_both(tmp_path, checkpoint, dataset):
    with pytest.raises(
        ValueError, match=r"reward 'qwen2_5_vl_iou' has model_family='qwen2_5_vl', but the model is qwen3_vl"
    ):
        unweighted_trainer([preset("qwen2_5_vl", "iou")], checkpoint, dataset, tmp_path)
    trainer = unweighted_trainer(
        [preset("qwen3_vl", "iou")], checkpoint, dataset, tmp_path
    )  # the model's own: as given
    assert trainer.reward_funcs[0].options["model_family"] == "qwen3_vl"


def test_a_reward_taught_another_familys_normalized_space_is_left_without_a_family(tmp_path, tiny_qwen2_5_vl, dataset):
    # Qwen2.5-VL writes abs_input; a norm1000 reward means a model taught 0-1000 answers (the paper's syntax),
    # which qwen2_5_vl's syntax check would wrongly warn about
    trainer = unweighted_trainer([get("iou"), get("iou", space="abs_input")], tiny_qwen2_5_vl, dataset, tmp_path)
    assert "model_family" not in trainer.reward_funcs[0].options
    assert trainer.reward_funcs[1].options["model_family"] == "qwen2_5_vl"

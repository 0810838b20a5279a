"""The trainer gives the rewards its processor's pixel limits: TRL never passes `image_grid_thw` to a reward.

Without them an `abs_input` reward falls back to its own `max_pixels` default: a perfect answer on a
1920x1080 image processed with Qwen2.5-VL-7B-Instruct's `max_pixels` (12845056) scores 0.219 here.
"""

from __future__ import annotations

import numpy as np
import pytest
from grpo_data import TRL_024, multi_image_dataset, unweighted_trainer

from univg_plugin.boxes import convert_boxes
from univg_plugin.qwen_vl import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS
from univg_plugin.rewards import get
from univg_plugin.tiny_models import TinyModelSpec, build_tiny_qwen_vl
from univg_plugin.trainer import DifficultyAwareGRPOTrainer

pytestmark = pytest.mark.slow

MIN_PIXELS, MAX_PIXELS = 3136, 12845056  # Qwen2.5-VL-7B-Instruct's preprocessor_config.json
IMAGE = (1920, 1080)
TRUTH = [480.0, 270.0, 1440.0, 810.0]  # in the image's pixels
GROUP = 4  # config_kwargs' num_generations


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny Qwen2.5-VL whose saved processor has the 7B-Instruct model's pixel limits."""
    directory = tmp_path_factory.mktemp("tiny") / "qwen2_5_vl_7b_pixels"
    return build_tiny_qwen_vl(
        directory, family="qwen2_5_vl", seed=0, spec=TinyModelSpec(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
    )


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return multi_image_dataset(tmp_path_factory.mktemp("images"), rows=4, images_per_row=1)


def perfect_answers() -> list[list[dict[str, str]]]:
    """GROUP completions whose box is the truth in the model-input pixels of the processor above."""
    box = convert_boxes([TRUTH], "abs_image", "abs_input", [IMAGE], min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)[0]
    x1, y1, x2, y2 = (int(value) for value in box.round())
    answer = f'<think>it is there</think><answer>{{"bbox_2d": [{x1}, {y1}, {x2}, {y2}]}}</answer>'
    return [[{"role": "assistant", "content": answer}] for _ in range(GROUP)]


def trainer_rewards(trainer: DifficultyAwareGRPOTrainer) -> np.ndarray:
    """The rewards of a perfect group through the trainer's reward call (TRL's columns: no `image_grid_thw`)."""
    prompt = [{"role": "user", "content": "Where is the car?"}]
    row = {"prompt": prompt, "solution": TRUTH, "solution_space": "abs_image", "image_sizes": [list(IMAGE)]}
    rewards = trainer._calculate_rewards([row] * GROUP, [prompt] * GROUP, perfect_answers(), [[1, 2]] * GROUP)
    return rewards.cpu().numpy()


def test_without_the_processors_limits_a_perfect_answer_scores_0_219():
    columns = {"solution_space": ["abs_image"] * GROUP, "image_sizes": [[list(IMAGE)]] * GROUP}
    rewards = get("iou", space="abs_input")(perfect_answers(), solution=[TRUTH] * GROUP, **columns)
    assert rewards == pytest.approx([0.219] * GROUP, abs=1e-3)


def test_the_trainer_passes_its_processors_limits_to_the_rewards_that_take_them(tmp_path, checkpoint, dataset):
    seen = []

    def third_party(completions, *, min_pixels: int = 1, max_pixels: int = 2, **columns):
        seen.append((min_pixels, max_pixels))
        return [0.0] * len(completions)

    iou, text_format = get("iou", space="abs_input"), get("format")
    rewards = [iou, text_format, third_party]
    trainer = unweighted_trainer(rewards, checkpoint, dataset, tmp_path)
    assert trainer_rewards(trainer)[:, 0] == pytest.approx([1.0] * GROUP)
    assert seen == [(MIN_PIXELS, MAX_PIXELS)]
    assert trainer.reward_func_names == ["iou", "format", "third_party"]
    assert [reward.__name__ for reward in trainer.reward_funcs] == trainer.reward_func_names
    assert trainer.reward_funcs[0].options == {
        "space": "abs_input",
        "min_pixels": MIN_PIXELS,
        "max_pixels": MAX_PIXELS,
        "model_family": "qwen2_5_vl",  # the model's (tests/trainer/test_trainer_model_family.py)
    }
    assert trainer.reward_funcs[1] is text_format  # takes no pixel limits: left as it is
    assert rewards == [iou, text_format, third_party] and iou.options == {
        "space": "abs_input"
    }  # the caller's, as given


def test_pixel_limits_given_to_a_reward_win_over_the_processors(tmp_path, checkpoint, dataset):
    iou = get("iou", space="abs_input", min_pixels=DEFAULT_MIN_PIXELS, max_pixels=DEFAULT_MAX_PIXELS)
    trainer = unweighted_trainer([iou], checkpoint, dataset, tmp_path)
    assert trainer.reward_funcs[0].options == {**iou.options, "model_family": "qwen2_5_vl"}  # its limits kept
    assert trainer_rewards(trainer)[:, 0] == pytest.approx([0.219] * GROUP, abs=1e-3)


@pytest.mark.skipif(TRL_024, reason="TRL 1.x awaits asynchronous reward functions")
def test_an_asynchronous_reward_stays_asynchronous(tmp_path, checkpoint, dataset):
    seen = []

    async def remote_judge(completions, *, max_pixels: int = 2, **columns):
        seen.append(max_pixels)
        return [0.5] * len(completions)

    trainer = unweighted_trainer([get("iou", space="abs_input"), remote_judge], checkpoint, dataset, tmp_path)
    assert trainer_rewards(trainer)[:, 1] == pytest.approx([0.5] * GROUP)
    assert seen == [MAX_PIXELS]

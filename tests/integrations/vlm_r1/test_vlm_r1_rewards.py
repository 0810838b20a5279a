"""Our rewards inside VLM-R1 (om-ai-lab/VLM-R1): `registry(...)` merged into `reward_funcs_registry`, called as
VLM-R1's trainer calls its reward functions (see vlm_r1_calls.py for the file and lines each call re-creates).

The two lines a VLM-R1 user adds to `src/open-r1-multimodal/src/open_r1/grpo_jsonl.py`, after
`reward_funcs_registry = {...}` (line 900), are the first two of each test that uses `registry`.
"""

from __future__ import annotations

import json
import random
import re

import pytest
from PIL import Image
from vlm_r1_calls import (
    FORMAT_REWARD_REC_PATTERN,
    call_reward_like_vlm_r1,
    completion,
    image_grid_thw,
    jsonl_row,
    rewards_per_func_like_vlm_r1,
)

from univg_plugin.integrations.vlm_r1 import OUR_REWARDS, VLM_R1_NAMES, registry
from univg_plugin.qwen_vl import MODEL_FAMILIES
from univg_plugin.rewards import _truth, get

MIN_PIXELS, MAX_PIXELS = 3136, 200_000  # small, so that the processor really resizes
SIZES = [(640, 480), (333, 517), (1024, 768)]


def continuous_iou(a, b) -> float:
    """IoU of two well-ordered boxes, by hand."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    overlap = width * height
    return overlap / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - overlap)


@pytest.fixture
def rec_batch(tmp_path, make_images):
    """VLM-R1's REC batch for a Qwen2.5-VL policy: truth in original pixels, answers in model-input pixels.

    Rows as `grpo_jsonl.py` makes them, each repeated for 4 generations, with the `image_grid_thw` the Qwen2-VL
    image processor gives; half the answers as JSON `bbox_2d`, half as a bare list, and one without a box.
    Returns the inputs, the completions, the expected IoU of each, and the number of distinct images.
    """
    rng = random.Random(0)
    paths = [make_images(tmp_path / str(i), 1, size=size, seed=i)[0] for i, size in enumerate(SIZES)]
    grids = image_grid_thw([Image.open(path) for path in paths], MIN_PIXELS, MAX_PIXELS)
    inputs, completions, expected = [], [], []
    for path, (width, height), grid in zip(paths, SIZES, grids):
        truth = [round(width * 0.2), round(height * 0.3), round(width * 0.7), round(height * 0.9)]
        input_w, input_h = int(grid[2]) * 14, int(grid[1]) * 14
        for generation in range(4):
            guess = [v + rng.uniform(-0.05, 0.05) * s for v, s in zip(truth, (width, height, width, height))]
            scale = (input_w / width, input_h / height) * 2
            predicted = [round(v * f) for v, f in zip(guess, scale)]
            answer = json.dumps([{"bbox_2d": predicted, "label": "object"}]) if generation % 2 else str(predicted)
            completions.append(completion(f"<think>looking</think><answer>{answer}</answer>"))
            expected.append(continuous_iou([v / f for v, f in zip(predicted, scale)], truth))
            inputs.append({**jsonl_row([str(path)], "Where is the object?", str(truth)), "image_grid_thw": grid})
    completions.append(completion("<think>no idea</think><answer>somewhere</answer>"))
    inputs.append(dict(inputs[0]))
    expected.append(0.0)
    return inputs, completions, expected, len(paths)


def test_registry_offers_vlm_r1s_names_and_ours_named_as_registered():
    rewards = registry("qwen2_5_vl")
    assert set(rewards) == set(VLM_R1_NAMES) | set(OUR_REWARDS)
    assert all(function.__name__ == name for name, function in rewards.items())  # VLM-R1 logs rewards/<name>
    assert rewards["accuracy"].options == {"space": "abs_input", "model_family": "qwen2_5_vl", "none_value": 0.0}
    assert rewards["format"].options == {
        "format_pattern": MODEL_FAMILIES["qwen2_5_vl"].format_pattern,
        "none_value": 0.0,
    }
    assert rewards["image_index"].options == {"none_value": 0.0}
    assert registry("qwen2_vl", threshold=0.7)["iou_threshold"].options["threshold"] == 0.7
    assert registry("qwen2_vl")["accuracy"].options["space"] == "norm1000"


def test_registry_refuses_what_would_be_ignored_or_contradict_the_family():
    with pytest.raises(ValueError, match="no VLM-R1 reward takes the option"):
        registry("qwen2_5_vl", treshold=0.7)
    with pytest.raises(ValueError, match="qwen2_5_vl writes boxes in abs_input, not norm1000"):
        registry("qwen2_5_vl", space="norm1000")
    with pytest.raises(KeyError, match=r"unknown model family 'qwen2\.5'"):
        registry("qwen2.5")


def test_accuracy_and_format_for_a_qwen2_5_vl_policy(rec_batch):
    inputs, completions, expected, distinct_images = rec_batch
    reward_funcs_registry = {"accuracy": None, "format": None}  # grpo_jsonl.py, line 900 (VLM-R1's own functions)
    reward_funcs_registry.update(registry("qwen2_5_vl"))
    reward_funcs = [reward_funcs_registry[func] for func in ["accuracy", "format"]]  # grpo_jsonl.py, line 939
    _truth._image_size_from_file.cache_clear()
    scores = call_reward_like_vlm_r1(reward_funcs[0], inputs, completions)
    assert scores == pytest.approx(expected, abs=1e-9)
    assert min(scores[:-1]) > 0.3 and scores[-1] == 0.0
    assert _truth._image_size_from_file.cache_info().misses == distinct_images  # each image's header read once
    texts = [c[0]["content"] for c in completions]
    vlm_r1_format = [float(re.search(FORMAT_REWARD_REC_PATTERN, text, re.DOTALL) is not None) for text in texts]
    assert call_reward_like_vlm_r1(reward_funcs[1], inputs, completions) == vlm_r1_format
    assert vlm_r1_format[:4] == [0.0, 1.0, 0.0, 1.0]  # a bare list is not VLM-R1's JSON layout


def test_the_input_size_comes_from_image_grid_thw_not_a_guess(rec_batch):
    inputs, completions, expected, _ = rec_batch
    without_grid = [{key: value for key, value in row.items() if key != "image_grid_thw"} for row in inputs]
    matching = get("iou", space="abs_input", solution_space="abs_image", min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
    assert call_reward_like_vlm_r1(matching, without_grid, completions) == pytest.approx(expected, abs=1e-9)
    default_limits = registry("qwen2_5_vl")["accuracy"]
    assert call_reward_like_vlm_r1(default_limits, without_grid, completions) != pytest.approx(expected, abs=1e-3)


def test_univg_r1_data_on_a_qwen2_vl_policy(make_images, tmp_path):
    """UniVG-R1's setting: norm1000 answers and truth, several images per row, the target named in the answer."""
    paths = [str(path) for path in make_images(tmp_path, 3)]
    truth = [316, 58, 764, 999]
    inputs = [jsonl_row(paths, "Which image shows the cup?", str(truth)) | {"target_image": 3} for _ in range(3)]
    completions = [
        completion("<think>the cup is in image 3</think><answer>image 3: (316,58),(764,999)</answer>"),
        completion("<think>x</think><answer>image 2: (300,100),(700,900)</answer>"),
        completion("<think>x</think><answer>(300,100)</answer>"),
    ]
    rewards = registry("qwen2_vl", solution_space="norm1000")
    assert call_reward_like_vlm_r1(rewards["accuracy"], inputs, completions) == pytest.approx(
        [1.0, continuous_iou([300, 100, 700, 900], truth), 0.0]
    )
    assert call_reward_like_vlm_r1(rewards["image_index"], inputs, completions) == [1.0, 0.0, 0.0]
    assert call_reward_like_vlm_r1(rewards["format"], inputs, completions) == [0.0, 0.0, 0.0]  # "image 3:" too
    assert call_reward_like_vlm_r1(rewards["grounding"], inputs, completions)[1] == 0.0  # box right, image wrong


def test_a_rows_solution_space_key_wins_over_vlm_r1s_pixel_default(make_images, tmp_path):
    """`grpo_jsonl.py` keeps every key of a jsonl row as a column (lines 966-991): a `solution_space` key there
    tells the rewards the row's truth is not in pixels; the `solution_space` option wins over both."""
    path = str(make_images(tmp_path, 1, size=(200, 100))[0])
    answer = [completion("<think>x</think><answer>(100,100),(500,500)</answer>")]
    in_pixels = jsonl_row([path], "q", "[20, 10, 100, 50]")
    in_norm1000 = jsonl_row([path], "q", "[100, 100, 500, 500]") | {"solution_space": "norm1000"}
    accuracy = registry("qwen2_vl")["accuracy"]
    assert call_reward_like_vlm_r1(accuracy, [in_pixels], answer) == [pytest.approx(1.0)]
    assert call_reward_like_vlm_r1(accuracy, [in_norm1000], answer) == [pytest.approx(1.0)]
    mixed = [in_pixels | {"solution_space": None}, in_norm1000]  # Dataset.from_list fills a missing key with None
    assert call_reward_like_vlm_r1(accuracy, mixed, answer * 2) == [pytest.approx(1.0)] * 2
    pixel_option = registry("qwen2_vl", solution_space="abs_image")["accuracy"]
    assert call_reward_like_vlm_r1(pixel_option, [in_norm1000], answer) == [0.0]


def test_a_mixed_dataset_crashes_vlm_r1s_trainer_with_none_and_not_with_the_registry(rec_batch):
    """A row without a target box (another task of a mixed `grpo_jsonl.py` run) makes our rewards return None
    ("does not apply", TRL's convention); VLM-R1's trainer puts the list into `torch.tensor` (grpo_trainer.py,
    line 668), which refuses None. The registry's rewards score such a row 0.0."""
    pytest.importorskip("torch")
    inputs, completions, _, _ = rec_batch
    mixed = [*inputs[:4], {**jsonl_row(inputs[0]["image_path"], "Which is red? A or B", "B", "mcq")}]
    mixed[-1]["image_grid_thw"] = inputs[0]["image_grid_thw"]
    answers = [*completions[:4], completion("<think>red</think><answer>B</answer>")]
    plain = [get("iou", space="abs_input", solution_space="abs_image"), get("image_index")]
    for reward in plain:
        with pytest.raises(TypeError, match="must be real number, not NoneType"):
            rewards_per_func_like_vlm_r1([reward], mixed, answers)
    rewards = registry("qwen2_5_vl")
    functions = [rewards[name] for name in ("accuracy", "format", "image_index", "giou")]
    rewards_per_func = rewards_per_func_like_vlm_r1(functions, mixed, answers)
    assert rewards_per_func[-1].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert (rewards_per_func[:4, 0] > 0.3).all()

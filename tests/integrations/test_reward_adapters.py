"""Our rewards inside other trainers: VLM-R1 / UniVG-R1 (TRL-like call), EasyR1 and verl custom functions."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import random
import sys

import numpy as np
import pytest
import torch

from univg_plugin.integrations import easyr1, verl
from univg_plugin.rewards import _truth, get


def conversation(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def continuous_iou(a, b) -> float:
    """IoU of two well-ordered boxes, by hand."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    overlap = width * height
    return overlap / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - overlap)


# --------------------------------------------------------------------------- VLM-R1 (om-ai-lab/VLM-R1)

MIN_PIXELS, MAX_PIXELS = 3136, 200_000  # small, so that the processor really resizes
SIZES = [(640, 480), (333, 517), (1024, 768)]


@pytest.fixture
def vlm_r1_batch(tmp_path, make_images):
    """Reward-function arguments exactly as VLM-R1's trainer assembles them for a Qwen2.5-VL policy.

    Rows as ``grpo_jsonl.py`` makes them (``image_path`` list, ``problem``, ``solution`` as
    ``"<answer> [x1, y1, x2, y2] </answer>"`` in original pixels, ``accu_reward_method``), each repeated
    for its generations, plus ``image_grid_thw`` rows from the real Qwen2-VL image processor; the
    completions ground in pixels of the resized model input, as Qwen2.5-VL does.
    """
    from PIL import Image
    from transformers import Qwen2VLImageProcessor

    rng = random.Random(0)
    processor = Qwen2VLImageProcessor(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
    paths = [make_images(tmp_path / str(i), 1, size=size, seed=i)[0] for i, size in enumerate(SIZES)]
    grids = processor(images=[Image.open(path) for path in paths], return_tensors="pt")["image_grid_thw"]
    inputs, completions, expected = [], [], []
    for path, (width, height), grid in zip(paths, SIZES, grids):
        truth = [round(width * 0.2), round(height * 0.3), round(width * 0.7), round(height * 0.9)]
        input_w, input_h = int(grid[2]) * 14, int(grid[1]) * 14
        for generation in range(4):
            jitter = [rng.uniform(-0.05, 0.05) * side for side in (width, height, width, height)]
            guess = [value + delta for value, delta in zip(truth, jitter)]
            predicted = [
                round(guess[0] * input_w / width),
                round(guess[1] * input_h / height),
                round(guess[2] * input_w / width),
                round(guess[3] * input_h / height),
            ]
            answer = json.dumps([{"bbox_2d": predicted, "label": "object"}]) if generation % 2 else str(predicted)
            completions.append(conversation(f"<think>looking</think><answer>{answer}</answer>"))
            in_image = [
                predicted[0] / input_w * width,
                predicted[1] / input_h * height,
                predicted[2] / input_w * width,
                predicted[3] / input_h * height,
            ]
            expected.append(continuous_iou(in_image, truth))
            inputs.append(
                {
                    "image_path": [str(path)],
                    "problem": "Where is the object?",
                    "solution": f"<answer> {truth} </answer>",
                    "accu_reward_method": "default",
                    "prompt": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "?"}]}],
                    "image_grid_thw": grid,
                }
            )
    completions.append(conversation("<think>no idea</think><answer>somewhere</answer>"))
    inputs.append(dict(inputs[0]))
    expected.append(0.0)
    reward_kwargs = {key: [] for key in inputs[0] if key not in ["prompt", "completion"]}
    for key in reward_kwargs:
        for example in inputs:
            reward_kwargs[key].extend([example[key]])
    prompts = [example["prompt"] for example in inputs]
    return {"prompts": prompts, "completions": completions, **reward_kwargs}, expected, len(paths)


def test_vlm_r1_convention_one_line_registration(vlm_r1_batch):
    arguments, expected, distinct_paths = vlm_r1_batch
    assert isinstance(arguments["image_grid_thw"][0], torch.Tensor) and arguments["image_grid_thw"][0].shape == (3,)
    reward_funcs_registry = {  # VLM-R1's grpo_jsonl.py registry, our rewards registered one line each
        "accuracy": get("iou", space="abs_input", solution_space="abs_image"),
        "format": get("format", format_pattern=r"<think>.*?</think>\s*<answer>.*?</answer>"),
    }
    _truth._image_size_from_file.cache_clear()
    scores = reward_funcs_registry["accuracy"](**arguments)
    assert scores == pytest.approx(expected, abs=1e-9)
    assert min(scores[:-1]) > 0.3 and scores[-1] == 0.0
    assert _truth._image_size_from_file.cache_info().misses == distinct_paths
    assert reward_funcs_registry["format"](**arguments) == [1.0] * len(expected)


def test_vlm_r1_input_size_comes_from_image_grid_thw_not_a_guess(vlm_r1_batch):
    arguments, expected, _ = vlm_r1_batch
    without_grid = {key: value for key, value in arguments.items() if key != "image_grid_thw"}
    matching_limits = get(
        "iou", space="abs_input", solution_space="abs_image", min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS
    )
    assert matching_limits(**without_grid) == pytest.approx(expected, abs=1e-9)  # smart_resize == the processor
    default_limits = get("iou", space="abs_input", solution_space="abs_image")
    assert default_limits(**without_grid) != pytest.approx(expected, abs=1e-3)  # a wrong max_pixels is visible


def test_univg_r1_convention(make_images, tmp_path):
    """UniVG-R1 on VLM-R1's trainer: norm1000 answers and ``answer`` lists as solution, multi-image rows."""
    paths = [str(path) for path in make_images(tmp_path, 3)]
    solution = [[316, 58, 764, 999]] * 3
    completions = [
        conversation("<think>the cup is in image 3</think><answer>(316,58),(764,999)</answer>"),
        conversation("<think>x</think><answer>(300,100),(700,900)</answer>"),
        conversation("<think>x</think><answer>(300,100)</answer>"),
    ]
    out = get("iou")(prompts=[None] * 3, completions=completions, solution=solution, image_path=[paths] * 3)
    assert out == pytest.approx([1.0, continuous_iou([300, 100, 700, 900], solution[0]), 0.0])


# --------------------------------------------------------------------------- EasyR1 (hiyouga/EasyR1)


def load_like_easyr1(path: str, name: str, monkeypatch, **reward_function_kwargs):
    """What EasyR1's AutoRewardManager does with ``reward_function: PATH:NAME`` and its kwargs."""
    spec = importlib.util.spec_from_file_location("custom_reward_fn", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "custom_reward_fn", module)
    spec.loader.exec_module(module)
    return functools.partial(getattr(module, name), **reward_function_kwargs), getattr(module, "REWARD_TYPE", "batch")


EASYR1_RESPONSES = [
    "<think>left</think><answer>(100,200),(300,400)</answer>",
    "<think>left</think><answer>(200,200),(400,400)</answer> trailing",
    "no answer",
]


def test_easyr1_batch_function_loaded_from_its_file(monkeypatch):
    reward_fn, reward_type = load_like_easyr1(easyr1.__file__, "compute_score", monkeypatch)
    assert reward_type == "batch"
    reward_inputs = [
        {"response": text, "response_length": len(text) // 4, "ground_truth": "[100, 200, 300, 400]"}
        for text in EASYR1_RESPONSES
    ]
    scores = reward_fn(reward_inputs)
    assert [set(score) for score in scores] == [{"overall", "iou", "format"}] * 3
    assert [score["iou"] for score in scores] == pytest.approx([1.0, 1 / 3, 0.0])
    assert [score["format"] for score in scores] == [1.0, 0.0, 0.0]
    assert [score["overall"] for score in scores] == pytest.approx([2.0, 1 / 3, 0.0])
    assert all(type(value) is float for score in scores for value in score.values())


def test_easyr1_kwargs_choose_rewards_weights_and_spaces(monkeypatch):
    reward_fn, _ = load_like_easyr1(
        easyr1.__file__,
        "compute_score",
        monkeypatch,
        rewards=["iou", "format", "iou_threshold"],
        weights=[0.5, 0.25, 1.0],
        reward_options={"iou_threshold": {"threshold": 0.3}},
        solution_space="abs_image",
    )
    truth = {"solution": [64, 96, 192, 192], "width": 640, "height": 480}  # (100,200),(300,400) in norm1000
    scores = reward_fn([{"response": text, "response_length": 9, "ground_truth": truth} for text in EASYR1_RESPONSES])
    assert [score["iou"] for score in scores] == pytest.approx([1.0, 1 / 3, 0.0])
    assert [score["iou_threshold"] for score in scores] == [1.0, 1.0, 0.0]
    assert [score["overall"] for score in scores] == pytest.approx([1.75, 1 / 6 + 1.0, 0.0])


# --------------------------------------------------------------------------- verl (volcengine/verl)


def load_like_verl(module_path: str, name: str, reward_kwargs: dict):
    """verl's get_custom_reward_fn: ``pkg://`` or file module path, call-time kwargs merged with reward_kwargs."""
    if module_path.startswith("pkg://"):
        module = importlib.import_module(module_path[len("pkg://") :].replace("/", "."))
    else:
        spec = importlib.util.spec_from_file_location(f"custom_module_{hash(module_path)}", module_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    raw_fn = getattr(module, name)
    return lambda *args, **kwargs: raw_fn(*args, **{**kwargs, **reward_kwargs})


@pytest.mark.parametrize("module_path", ["pkg://univg_plugin.integrations.verl", verl.__file__])
def test_verl_naive_manager_convention(module_path):
    compute_score = load_like_verl(module_path, "compute_score", {"solution_space": "abs_image"})
    extra_info = {"index": 3, "width": 640, "height": 480, "num_turns": None, "rollout_reward_scores": {}}
    score = compute_score(
        data_source="mig_bench",
        solution_str=EASYR1_RESPONSES[0],
        ground_truth=np.array([64, 96, 192, 192]),  # a parquet list column arrives as an array
        extra_info=extra_info,
    )
    assert score == {"score": pytest.approx(2.0), "iou": pytest.approx(1.0), "format": 1.0}
    assert extra_info == {"index": 3, "width": 640, "height": 480, "num_turns": None, "rollout_reward_scores": {}}


def test_verl_batch_manager_convention():
    compute_score = load_like_verl("pkg://univg_plugin.integrations.verl", "compute_score_batch", {"rewards": ["iou"]})
    scores = compute_score(
        data_sources=np.array(["a", "b", "c"], dtype=object),
        solution_strs=EASYR1_RESPONSES,
        ground_truths=["<answer> [100, 200, 300, 400] </answer>"] * 3,
        extra_infos=np.array([{"index": i} for i in range(3)], dtype=object),
    )
    assert scores == [
        {"score": pytest.approx(1.0), "iou": pytest.approx(1.0)},
        {"score": pytest.approx(1 / 3), "iou": pytest.approx(1 / 3)},
        {"score": 0.0, "iou": 0.0},
    ]


def test_verl_adapter_scores_equal_the_trl_rewards():
    rng = random.Random(1)
    texts = [
        f"<think>r</think><answer>({rng.randint(0, 400)},{rng.randint(0, 400)}),({rng.randint(500, 999)},"
        f"{rng.randint(500, 999)})</answer>"
        for _ in range(50)
    ]
    truths = [[rng.randint(0, 400), rng.randint(0, 400), rng.randint(500, 999), rng.randint(500, 999)] for _ in texts]
    scores = verl.compute_score_batch([None] * 50, texts, truths, rewards=["giou", "format"], weights=[2.0, 1.0])
    giou = get("giou")(texts, solution=truths)
    assert [score["giou"] for score in scores] == giou
    assert [score["score"] for score in scores] == pytest.approx([2 * value + 1.0 for value in giou])


def test_adapter_configuration_errors_are_clear():
    with pytest.raises(ValueError, match="2 weights for 1 rewards"):
        verl.compute_score("d", "x", [0, 0, 1, 1], rewards=["iou"], weights=[1, 2])
    with pytest.raises(KeyError, match="unknown reward 'accuracy'"):
        verl.compute_score("d", "x", [0, 0, 1, 1], rewards=["accuracy"])
    with pytest.raises(ValueError, match="takes the option"):
        easyr1.compute_score(
            [{"response": "x", "response_length": 1, "ground_truth": "[0,0,1,1]"}], rewards=["format"], space="norm1"
        )

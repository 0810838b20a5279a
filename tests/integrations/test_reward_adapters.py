"""Our rewards inside EasyR1 and verl (custom reward functions); VLM-R1's are in tests/integrations/vlm_r1/."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import random
import sys

import numpy as np
import pytest

from univg_plugin.integrations import easyr1, verl
from univg_plugin.rewards import get

# --------------------------------------------------------------------------- EasyR1 (hiyouga/EasyR1)


def load_like_easyr1(path: str, name: str, monkeypatch, module_name="custom_reward_fn", **reward_function_kwargs):
    """What EasyR1's reward manager does with ``reward_function: PATH:NAME`` and its kwargs
    (hiyouga/EasyR1 ``verl/workers/reward/function.py``: lines 117-133 at b44b311; lines 52-65 at v0.3.0, where
    the module is ``custom_score_fn`` and the keys ``score_function``/``score_function_kwargs``)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, module_name, module)
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


def test_easyr1_before_0_3_1_one_response_and_batch_of_lists(monkeypatch):
    """EasyR1 v0.3.0 calls `self.score_fn(response_str, ground_truth)` (function.py line 82 at v0.3.0); between
    the batch reward (669ca30) and v0.3.1, sequential managers call `self.reward_fn(response_str, ground_truth)`
    (line 89) and batch managers `self.reward_fn(response_strs, ground_truths)` with two lists (line 111); each
    reads `score["overall"]` (lines 83, 90, 115)."""
    truths = ["[100, 200, 300, 400]"] * 3
    score_fn, _ = load_like_easyr1(easyr1.__file__, "compute_score", monkeypatch, module_name="custom_score_fn")
    one_by_one = [score_fn(text, truth) for text, truth in zip(EASYR1_RESPONSES, truths)]
    assert [score["overall"] for score in one_by_one] == pytest.approx([2.0, 1 / 3, 0.0])
    reward_fn, _ = load_like_easyr1(easyr1.__file__, "compute_score", monkeypatch)
    assert reward_fn(list(EASYR1_RESPONSES), truths) == one_by_one
    reward_inputs = [{"response": t, "response_length": 9, "ground_truth": g} for t, g in zip(EASYR1_RESPONSES, truths)]
    assert reward_fn(reward_inputs) == one_by_one  # the batch convention since v0.3.1
    assert [reward_fn(item) for item in reward_inputs] == one_by_one  # `reward_type: sequential` since v0.3.1


def test_easyr1_calls_of_no_known_shape_are_refused(monkeypatch):
    reward_fn, _ = load_like_easyr1(easyr1.__file__, "compute_score", monkeypatch)
    with pytest.raises(TypeError, match=r"compute_score takes EasyR1's reward inputs.*got \(int\)"):
        reward_fn(3)
    with pytest.raises(TypeError, match=r"got \(list, str\)"):
        reward_fn(["a", "b"], "[0, 0, 1, 1]")
    with pytest.raises(ValueError, match="2 responses for 1 ground truths"):
        reward_fn(["a", "b"], ["[0, 0, 1, 1]"])


def test_a_reward_that_does_not_apply_scores_none_value_in_verl_and_easyr1(monkeypatch):
    """A row without a target box or target image: None from the reward, `none_value` (default 0.0) in the
    adapters, in the reward's entry and in the sum the framework trains on."""
    no_target = {"solution": None, "target_image": None}
    reward_fn, _ = load_like_easyr1(easyr1.__file__, "compute_score", monkeypatch, rewards=["iou", "image_index"])
    text = "<think>x</think><answer>image 1: (0,0),(9,9)</answer>"
    assert reward_fn(text, no_target) == {"overall": 0.0, "iou": 0.0, "image_index": 0.0}
    assert reward_fn(text, no_target, none_value=0.5) == {"overall": 1.0, "iou": 0.5, "image_index": 0.5}
    score = verl.compute_score("d", text, no_target, None, rewards=["iou", "format"], none_value=-1.0)
    assert score == {"score": -1.0, "iou": -1.0, "format": 0.0}
    with pytest.raises(ValueError, match="none_value must be a number"):
        verl.compute_score("d", text, no_target, None, none_value=None)


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
    """verl's get_custom_reward_fn (volcengine/verl ``verl/trainer/ppo/reward.py``, lines 60-97 at b178a3c):
    ``pkg://`` or file module path, call-time kwargs merged with ``reward_kwargs`` (``_call_with_kwargs``)."""
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


def test_verl_reward_loop_keywords_are_accepted_and_ignored():
    """verl's reward loop calls `compute_score(data_source=..., solution_str=..., ground_truth=..., extra_info=...,
    reward_router_address=..., reward_model_tokenizer=...)` when a reward router runs
    (verl/experimental/reward_loop/reward_manager/naive.py, lines 57-75 at b178a3c)."""
    compute_score = load_like_verl("pkg://univg_plugin.integrations.verl", "compute_score", {"rewards": ["iou"]})
    extra_reward_kwargs = {"reward_router_address": "127.0.0.1:8000", "reward_model_tokenizer": object()}
    score = compute_score(
        data_source="mig_bench",
        solution_str=EASYR1_RESPONSES[0],
        ground_truth="[100, 200, 300, 400]",
        extra_info={"num_turns": None, "rollout_reward_scores": {}},
        **extra_reward_kwargs,
    )
    assert score == {"score": 1.0, "iou": 1.0}


def test_verl_keywords_no_reward_takes_are_ignored_with_a_warning():
    with pytest.warns(UserWarning, match="ignoring keyword 'spcae', which no reward in \\['iou'\\] takes"):
        score = verl.compute_score("d", EASYR1_RESPONSES[0], "[100, 200, 300, 400]", rewards=["iou"], spcae="norm1")
    assert score == {"score": 1.0, "iou": 1.0}
    with pytest.warns(UserWarning, match="ignoring keyword 'some_new_key'"):
        batch = verl.compute_score_batch(["d"], EASYR1_RESPONSES[:1], ["[100, 200, 300, 400]"], None, some_new_key=1)
    assert batch == [{"score": 2.0, "iou": 1.0, "format": 1.0}]


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

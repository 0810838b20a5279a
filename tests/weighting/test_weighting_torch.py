"""The weighting on torch tensors, as the trainer calls it: tensors in, tensors out, NumPy arrays to the methods."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from univg_plugin import weighting
from univg_plugin.plugins import Registry
from univg_plugin.weighting import WEIGHTING_METHODS, WeightingMethod, difficulty_weights, group_mean, phi


def test_a_tensor_gives_a_tensor_of_the_same_weights_as_numpy():
    rewards = [0.0, 0.25, 1.0, 0.5, float("nan"), float("nan")]
    weights = difficulty_weights(torch.tensor(rewards), group_size=2, normalize=True)
    assert isinstance(weights, torch.Tensor) and weights.dtype == torch.float32
    assert weights.tolist() == pytest.approx(difficulty_weights(rewards, group_size=2, normalize=True).tolist())


def test_a_tensor_keeps_its_floating_dtype_and_an_integer_one_becomes_float32():
    assert phi(torch.tensor([0.5], dtype=torch.float64)).dtype == torch.float64
    assert difficulty_weights(torch.tensor([0, 1]), group_size=2).dtype == torch.float32
    assert difficulty_weights(torch.tensor([0.0, 1.0], dtype=torch.bfloat16), 2).dtype == torch.bfloat16


def test_a_tensor_that_requires_grad_is_accepted_and_the_weights_carry_no_graph():
    rewards = torch.tensor([0.2, 0.4], requires_grad=True)
    weights = difficulty_weights(rewards, group_size=2)
    assert not weights.requires_grad and weights.tolist() == pytest.approx([math.exp(0.7)] * 2)


def test_group_mean_of_a_tensor_is_a_tensor_with_nan_for_an_empty_group():
    means = group_mean(torch.tensor([1.0, float("nan"), float("nan"), float("nan")]), 2)
    assert isinstance(means, torch.Tensor)
    assert means[0].item() == 1.0 and torch.isnan(means[1])


def test_a_method_gets_a_numpy_array_even_for_a_tensor(monkeypatch):
    seen = []

    def spy(m, *, scale):
        seen.append(type(m))
        return scale * np.ones_like(m)

    registry = Registry(WEIGHTING_METHODS.group, WEIGHTING_METHODS.kind, WEIGHTING_METHODS.builtins)
    monkeypatch.setattr(weighting, "WEIGHTING_METHODS", registry)
    registry.register("spy", WeightingMethod(spy, {"scale": 2.0}))
    assert difficulty_weights(torch.tensor([0.1, 0.9]), 2, method="spy").tolist() == [2.0, 2.0]
    assert set(seen) == {np.ndarray}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_cuda_tensor_gives_weights_on_its_device():
    weights = difficulty_weights(torch.tensor([0.0, 1.0], device="cuda"), group_size=1)
    assert weights.device.type == "cuda" and weights.tolist() == pytest.approx([math.e, 1.0])

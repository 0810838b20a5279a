"""DifficultyAwareGRPOTrainer against TRL's own GRPOTrainer (real TRL, tiny checkpoint, CPU)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import torch
from grpo_data import TRL_024, config_kwargs, multi_image_dataset, varied_accuracy
from transformers import TrainerCallback
from trl import GRPOConfig, GRPOTrainer

from univg_plugin import compat
from univg_plugin.trainer import DifficultyAwareGRPOConfig, DifficultyAwareGRPOTrainer
from univg_plugin.weighting import group_mean, phi

pytestmark = pytest.mark.slow


class GradientRecorder(TrainerCallback):
    """Keeps a copy of every gradient just before the optimizer step."""

    def __init__(self):
        self.gradients: list[dict[str, torch.Tensor]] = []

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        self.gradients.append(
            {name: p.grad.detach().clone() for name, p in model.named_parameters() if p.grad is not None}
        )


class RecordingTrainer(DifficultyAwareGRPOTrainer):
    """Records, per generation batch, the prompts (in batch order) and the weights attached to them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.records: list[tuple[list[str], list[float]]] = []

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        prompts = [x["prompt"][0]["content"][-1]["text"] for x in inputs]
        self.records.append((prompts, output["difficulty_weights"].tolist()))
        return output


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return multi_image_dataset(tmp_path_factory.mktemp("images"), rows=4, images_per_row=2)


def train(trainer_class, config_class, model, dataset, output: Path, rewards=None, **overrides):
    recorder = GradientRecorder()
    args = config_class(**config_kwargs(output, **overrides))
    trainer = trainer_class(
        model=str(model), reward_funcs=rewards or [varied_accuracy], args=args, train_dataset=dataset
    )
    trainer.add_callback(recorder)
    if trainer_class is GRPOTrainer:  # our trainer does this itself
        tokenizer = trainer.processing_class.tokenizer
        trainer.generation_config.suppress_tokens = [
            tokenizer.convert_tokens_to_ids(t) for t in ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>")
        ]
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return trainer, losses, recorder.gradients


def _flat(gradients: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([gradients[name].flatten() for name in sorted(gradients)])


def test_method_none_equals_plain_grpo(tmp_path, tiny_qwen2_vl, dataset):
    _, plain_loss, plain_grads = train(GRPOTrainer, GRPOConfig, tiny_qwen2_vl, dataset, tmp_path / "plain")
    _, ours_loss, ours_grads = train(
        DifficultyAwareGRPOTrainer,
        DifficultyAwareGRPOConfig,
        tiny_qwen2_vl,
        dataset,
        tmp_path / "ours",
        difficulty_weighting="none",
        difficulty_accuracy_reward="varied_accuracy",
    )
    assert ours_loss == pytest.approx(plain_loss, rel=1e-6, abs=1e-8)
    assert _flat(plain_grads[0]).abs().sum() > 0
    torch.testing.assert_close(_flat(ours_grads[0]), _flat(plain_grads[0]), rtol=1e-6, atol=1e-9)


def test_constant_weight_scales_loss_and_gradients(tmp_path, tiny_qwen2_vl, dataset):
    # A power of two keeps the product exact: the group-centred advantages make the gradient a sum of
    # near-cancelling terms, where any other factor shows float rounding at the 1e-3 relative level.
    scale = 4.0
    _, plain_loss, plain_grads = train(GRPOTrainer, GRPOConfig, tiny_qwen2_vl, dataset, tmp_path / "plain")
    _, ours_loss, ours_grads = train(
        DifficultyAwareGRPOTrainer,
        DifficultyAwareGRPOConfig,
        tiny_qwen2_vl,
        dataset,
        tmp_path / "ours",
        difficulty_weighting="linear",
        difficulty_params={"intercept": scale, "slope": 0.0},
        difficulty_accuracy_reward="varied_accuracy",
    )
    # at the first step the clipped term's value is -mean(advantage) ~ 0; its gradient is not
    assert ours_loss[0] == pytest.approx(scale * plain_loss[0], abs=1e-6)
    assert _flat(plain_grads[0]).abs().sum() > 0
    torch.testing.assert_close(_flat(ours_grads[0]), scale * _flat(plain_grads[0]), rtol=1e-5, atol=1e-8)


def test_kl_term_is_not_weighted(tmp_path, tiny_qwen2_vl, dataset):
    trainer, _, _ = train(
        DifficultyAwareGRPOTrainer,
        DifficultyAwareGRPOConfig,
        tiny_qwen2_vl,
        dataset,
        tmp_path / "out",
        difficulty_accuracy_reward="varied_accuracy",
        beta=0.5,
    )
    model = trainer.model
    batch = dict(trainer._buffered_inputs[0])
    # positive advantages: group-centred ones make the gradient a sum of near-cancelling terms, where
    # float32 rounding alone shows up at the 1e-3 relative level
    batch["advantages"] = torch.tensor([1.0, 0.5, 2.0, 1.5])
    generator = torch.Generator().manual_seed(0)
    noise = 0.3 * torch.randn(batch["ref_per_token_logps"].shape, generator=generator)
    batch["ref_per_token_logps"] = batch["ref_per_token_logps"] + noise  # a reference the policy has left

    def loss_and_gradient(weight: float) -> tuple[float, torch.Tensor]:
        model.zero_grad()
        weights = torch.full_like(batch["difficulty_weights"], weight)
        loss = trainer._compute_loss(model, {**batch, "difficulty_weights": weights})
        loss.backward()
        return loss.item(), torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])

    (kl_loss, kl_grad), (unit_loss, unit_grad), (loss, grad) = (loss_and_gradient(w) for w in (0.0, 1.0, 3.0))
    assert kl_loss > 1e-3 and kl_grad.abs().sum() > 0  # the KL term contributes and is left as it is
    assert abs(unit_loss - kl_loss) > 1e-3  # the policy term contributes
    assert loss - kl_loss == pytest.approx(3.0 * (unit_loss - kl_loss), rel=1e-5)
    # gradients: back-propagated sums of mixed-sign terms carry float32 rounding at the 1e-3 level,
    # so compare norms, and check that weighting the KL term too would be told apart by far
    expected = kl_grad + 3.0 * (unit_grad - kl_grad)
    error = (grad - expected).norm() / expected.norm()
    error_if_kl_were_weighted = (grad - 3.0 * unit_grad).norm() / expected.norm()
    assert error < 1e-2
    assert error_if_kl_were_weighted > 10 * error


@pytest.mark.parametrize(
    ("batch_size", "accumulation"),
    [(8, 1), (4, 1), (2, 2)],
    ids=["two-groups-per-device", "one-group-per-device", "group-split-over-steps"],
)
def test_weights_are_per_prompt_group_for_any_layout(tmp_path, tiny_qwen2_vl, dataset, batch_size, accumulation):
    rewards_seen: dict[str, list[float]] = {}

    def accuracy(prompts, completions, **kwargs):
        values = varied_accuracy(completions)
        for prompt, value in zip(prompts, values):
            rewards_seen.setdefault(prompt[0]["content"][-1]["text"], []).append(value)
        return values

    trainer, _, _ = train(
        RecordingTrainer,
        DifficultyAwareGRPOConfig,
        tiny_qwen2_vl,
        dataset,
        tmp_path / "out",
        rewards=[accuracy],
        difficulty_accuracy_reward="accuracy",
        per_device_train_batch_size=batch_size,
        gradient_accumulation_steps=accumulation,
    )
    (prompts, weights), *_ = trainer.records
    assert len(prompts) == len(weights) == batch_size * accumulation
    for prompt, weight in zip(prompts, weights):
        values = rewards_seen[prompt]
        assert len(values) == 4  # one group of num_generations completions per prompt
        expected = phi(group_mean(torch.tensor(values), 4), "exp").item()
        assert weight == pytest.approx(expected, rel=1e-6)
    distinct = {prompt: weight for prompt, weight in zip(prompts, weights)}
    assert len(distinct) == batch_size * accumulation // 4


def test_difficulty_metrics_are_logged(tmp_path, tiny_qwen2_vl, dataset):
    trainer, _, _ = train(
        DifficultyAwareGRPOTrainer,
        DifficultyAwareGRPOConfig,
        tiny_qwen2_vl,
        dataset,
        tmp_path / "out",
        difficulty_accuracy_reward="varied_accuracy",
        max_steps=2,
    )
    logged = [entry for entry in trainer.state.log_history if "difficulty/phi_mean" in entry]
    assert len(logged) == 2
    for entry in logged:
        assert (
            1.0 <= entry["difficulty/phi_min"] <= entry["difficulty/phi_mean"] <= entry["difficulty/phi_max"] <= math.e
        )
        shares = entry["difficulty/easy_share"] + entry["difficulty/medium_share"] + entry["difficulty/hard_share"]
        assert shares == pytest.approx(1.0)
        assert entry["difficulty/phi_mean"] == pytest.approx(math.exp(1 - entry["difficulty/group_miou_mean"]), rel=0.2)


def test_two_iterations_with_a_reference_model_and_three_images(tmp_path, tiny_qwen2_5_vl):
    dataset = multi_image_dataset(tmp_path / "images", rows=2, images_per_row=3)
    trainer, losses, gradients = train(
        DifficultyAwareGRPOTrainer,
        DifficultyAwareGRPOConfig,
        tiny_qwen2_5_vl,
        dataset,
        tmp_path / "out",
        difficulty_accuracy_reward="varied_accuracy",
        num_iterations=2,
        beta=0.04,
        max_steps=2,
    )
    assert trainer.ref_model is not None
    assert len(losses) == 2 and all(math.isfinite(loss) for loss in losses)
    assert any("kl" in entry for entry in trainer.state.log_history)
    assert len(gradients) == 2


@pytest.mark.skipif(importlib.util.find_spec("peft") is None, reason="peft is not installed")
def test_lora_trains_only_the_adapter(tmp_path, tiny_qwen2_vl, dataset):
    from peft import LoraConfig

    args = DifficultyAwareGRPOConfig(
        **config_kwargs(tmp_path / "out", beta=0.04, difficulty_accuracy_reward="varied_accuracy")
    )
    trainer = DifficultyAwareGRPOTrainer(
        model=str(tiny_qwen2_vl),
        reward_funcs=[varied_accuracy],
        args=args,
        train_dataset=dataset,
        peft_config=LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]),
    )
    recorder = GradientRecorder()
    trainer.add_callback(recorder)
    trainer.train()
    assert trainer.ref_model is None  # the adapter is disabled for the reference pass
    assert recorder.gradients and all("lora_" in name for name in recorder.gradients[0])


def test_unknown_accuracy_reward_is_refused(tmp_path, tiny_qwen2_vl, dataset):
    args = DifficultyAwareGRPOConfig(**config_kwargs(tmp_path / "out"))
    with pytest.raises(ValueError, match=r"difficulty_accuracy_reward='iou' is not one of .*varied_accuracy"):
        DifficultyAwareGRPOTrainer(
            model=str(tiny_qwen2_vl), reward_funcs=[varied_accuracy], args=args, train_dataset=dataset
        )


@pytest.mark.skipif(not TRL_024, reason="the Liger GRPO loss option exists in TRL 0.24")
def test_liger_loss_is_refused(tmp_path, tiny_qwen2_vl, dataset):
    args = DifficultyAwareGRPOConfig(**config_kwargs(tmp_path / "out"))
    args.use_liger_loss = True
    with pytest.raises(ValueError, match="use_liger_loss"):
        DifficultyAwareGRPOTrainer(
            model=str(tiny_qwen2_vl), reward_funcs=[varied_accuracy], args=args, train_dataset=dataset
        )


def test_unsupported_trl_version_is_refused(tmp_path, tiny_qwen2_vl, dataset, monkeypatch):
    monkeypatch.setattr(compat, "installed_version", lambda package: "0.19.0")
    args = DifficultyAwareGRPOConfig(**config_kwargs(tmp_path / "out"))
    with pytest.raises(compat.UnsupportedVersionError, match=r"trl 0\.19\.0.*>=0\.24\.0,<0\.25 or >=1\.16,<2"):
        DifficultyAwareGRPOTrainer(
            model=str(tiny_qwen2_vl), reward_funcs=[varied_accuracy], args=args, train_dataset=dataset
        )


def test_bad_method_is_refused_by_the_config(tmp_path):
    with pytest.raises(ValueError, match="unknown difficulty weighting method 'cubic'"):
        DifficultyAwareGRPOConfig(**config_kwargs(tmp_path / "out", difficulty_weighting="cubic"))

"""UniVG-R1's difficulty weight in VLM-R1's trainer: the two-line patch of
`src/open-r1-multimodal/src/open_r1/trainer/grpo_trainer.py` (om-ai-lab/VLM-R1@90052f4), inserted after line 684
(`advantages = (rewards - mean_grouped_rewards) / (std_grouped_rewards + 1e-4)`):

    from univg_plugin.integrations.vlm_r1 import weight_advantages
    advantages = weight_advantages(advantages, rewards_per_func, self.reward_funcs, self.num_generations)

Each test runs the trainer's own lines around it (cited per function) on rewards our registry computes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from vlm_r1_calls import completion, jsonl_row, rewards_per_func_like_vlm_r1

from univg_plugin.integrations.vlm_r1 import registry, weight_advantages

torch = pytest.importorskip("torch")

NUM_GENERATIONS = 4
TRUTH = [100, 100, 500, 500]
#: Two prompts: answers close to the target (an easy group) and far from it (a hard one).
ANSWERS = [
    [(100, 100, 500, 500), (110, 100, 500, 520), (100, 90, 480, 500), (120, 120, 500, 500)],
    [(600, 600, 900, 900), (400, 400, 700, 700), (0, 0, 150, 150), (300, 300, 800, 800)],
]


def scored_batch() -> tuple[list, torch.Tensor]:
    """The reward functions and `rewards_per_func` of the batch, as `_generate_and_score_completions` computes them."""
    rewards = registry("qwen2_vl", solution_space="norm1000")
    reward_funcs = [rewards["accuracy"], rewards["format"]]  # --reward_funcs accuracy format
    inputs = [jsonl_row(["unused.png"], f"prompt {p}", str(TRUTH)) for p in range(2) for _ in range(NUM_GENERATIONS)]
    texts = [f"<think>x</think><answer>({a},{b}),({c},{d})</answer>" for group in ANSWERS for a, b, c, d in group]
    return reward_funcs, rewards_per_func_like_vlm_r1(reward_funcs, inputs, [completion(text) for text in texts])


def advantages_like_vlm_r1(rewards_per_func: torch.Tensor, reward_funcs: list, patched: bool) -> torch.Tensor:
    """grpo_trainer.py, lines 674-691 (one process: the slice is the whole batch), with the patch after line 684."""
    rewards = rewards_per_func.sum(dim=1)
    mean_grouped_rewards = rewards.view(-1, NUM_GENERATIONS).mean(dim=1)
    std_grouped_rewards = rewards.view(-1, NUM_GENERATIONS).std(dim=1)
    mean_grouped_rewards = mean_grouped_rewards.repeat_interleave(NUM_GENERATIONS, dim=0)
    std_grouped_rewards = std_grouped_rewards.repeat_interleave(NUM_GENERATIONS, dim=0)
    advantages = (rewards - mean_grouped_rewards) / (std_grouped_rewards + 1e-4)
    if patched:
        advantages = weight_advantages(advantages, rewards_per_func, reward_funcs, NUM_GENERATIONS)
    process_slice = slice(0, len(rewards))
    return advantages[process_slice]


def loss_like_vlm_r1(advantages, per_token_logps, ref_per_token_logps, completion_mask, beta=0.04, epsilon=0.2):
    """grpo_trainer.py, `compute_loss`, lines 751-771 (num_iterations 1: the old log-probs are the current ones)."""
    old_per_token_logps = per_token_logps.detach()
    coef_1 = torch.exp(per_token_logps - old_per_token_logps)
    coef_2 = torch.clamp(coef_1, 1 - epsilon, 1 + epsilon)
    per_token_loss1 = coef_1 * advantages.unsqueeze(1)
    per_token_loss2 = coef_2 * advantages.unsqueeze(1)
    per_token_loss = -torch.min(per_token_loss1, per_token_loss2)
    per_token_kl = torch.exp(ref_per_token_logps - per_token_logps) - (ref_per_token_logps - per_token_logps) - 1
    per_token_loss = per_token_loss + beta * per_token_kl
    return ((per_token_loss * completion_mask).sum(dim=1) / completion_mask.sum(dim=1)).mean()


def test_the_patch_weights_each_group_by_exp_of_one_minus_its_miou():
    reward_funcs, rewards_per_func = scored_batch()
    plain = advantages_like_vlm_r1(rewards_per_func, reward_funcs, patched=False)
    weighted = advantages_like_vlm_r1(rewards_per_func, reward_funcs, patched=True)
    miou = rewards_per_func[:, 0].view(-1, NUM_GENERATIONS).mean(dim=1)
    assert miou[0] > 0.8 and miou[1] < 0.3  # an easy group and a hard one
    phi = torch.exp(1 - miou).repeat_interleave(NUM_GENERATIONS)
    assert torch.allclose(weighted, plain * phi)
    assert weighted.dtype == plain.dtype == torch.float32


def test_the_weight_scales_the_policy_term_of_the_loss_and_not_the_kl_term():
    """Group by group, the patched loss (value and gradient) is UniVG-R1's own fork's (AMAP-ML/UniVG-R1@44868ea,
    grpo_trainer.py lines 746-751: `per_token_loss = math.exp(1 - miou) * per_token_loss`, before line 759 adds
    the KL term)."""
    reward_funcs, rewards_per_func = scored_batch()
    plain = advantages_like_vlm_r1(rewards_per_func, reward_funcs, patched=False)
    weighted = advantages_like_vlm_r1(rewards_per_func, reward_funcs, patched=True)
    generator = torch.Generator().manual_seed(0)
    ref_logps = torch.randn(NUM_GENERATIONS, 5, generator=generator)
    mask = torch.ones(NUM_GENERATIONS, 5)
    for group in range(2):
        rows = slice(group * NUM_GENERATIONS, (group + 1) * NUM_GENERATIONS)
        phi = math.exp(1 - rewards_per_func[rows, 0].mean().item())
        terms = {}
        for name, advantages, beta in [("ours", weighted, 0.04), ("policy", plain, 0.0), ("kl", 0 * plain, 0.04)]:
            logps = (ref_logps + 0.1).requires_grad_()
            loss = loss_like_vlm_r1(advantages[rows], logps, ref_logps, mask, beta=beta)
            loss.backward()
            terms[name] = (loss.item(), logps.grad)
        assert terms["ours"][0] == pytest.approx(phi * terms["policy"][0] + terms["kl"][0], abs=1e-7)
        assert torch.allclose(terms["ours"][1], phi * terms["policy"][1] + terms["kl"][1], atol=1e-7)
        assert terms["policy"][1].abs().max() > 1e-3  # the policy term has a gradient to scale


def test_weight_advantages_on_numpy_arrays():
    reward_funcs, rewards_per_func = scored_batch()
    rewards = rewards_per_func.numpy().astype(np.float64)
    advantages = np.linspace(-1.0, 1.0, len(rewards))
    weighted = weight_advantages(advantages, rewards, reward_funcs, NUM_GENERATIONS)
    miou = rewards[:, 0].reshape(-1, NUM_GENERATIONS).mean(axis=1)
    assert isinstance(weighted, np.ndarray)
    np.testing.assert_allclose(weighted, advantages * np.repeat(np.exp(1 - miou), NUM_GENERATIONS))
    unweighted = weight_advantages(advantages, rewards, reward_funcs, NUM_GENERATIONS, method="none")
    np.testing.assert_array_equal(unweighted, advantages)


def test_an_accuracy_reward_under_another_name_is_named_or_refused():
    reward_funcs, rewards_per_func = scored_batch()
    advantages = torch.ones(len(rewards_per_func))
    renamed = [registry("qwen2_vl")["iou"], reward_funcs[1]]
    with pytest.raises(ValueError, match=r"no reward function named 'accuracy' among \['iou', 'format'\]"):
        weight_advantages(advantages, rewards_per_func, renamed, NUM_GENERATIONS)
    by_name = weight_advantages(advantages, rewards_per_func, renamed, NUM_GENERATIONS, accuracy_reward="iou")
    assert torch.equal(by_name, weight_advantages(advantages, rewards_per_func, reward_funcs, NUM_GENERATIONS))

"""``DifficultyAwareGRPOTrainer``: TRL's ``GRPOTrainer`` with UniVG-R1's difficulty-aware weighting.

The trainer overrides three hooks and copies none of TRL's loss code:

- ``_calculate_rewards``: after TRL gathers every process's rewards, computes one weight per
  completion from the mean accuracy reward of its prompt group (:mod:`univg_plugin.weighting`) and
  keeps this process's slice. Groups are read from the gathered rewards, so a group split across
  processes, or several groups per device, are weighted exactly like one group on one device.
- ``_generate_and_score_completions``: adds the slice as ``difficulty_weights`` to the batch; as a 1-D
  per-sample tensor it is shuffled and split with the rest of the batch by TRL.
- ``_compute_loss``: multiplies the advantages by the weights and delegates to TRL. Because the weight
  is positive and constant within a group, this scales the clipped policy term and nothing else: the
  KL term is not weighted, as in the paper.

Supported TRL: 0.24.x (the LLaMA-Factory environment) and 1.x (1.16 tested).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from trl import GRPOConfig, GRPOTrainer

from .compat import require_supported_trl
from .plugins import Registry
from .qwen_vl import VISION_PLACEHOLDER_TOKENS
from .weighting import difficulty_weights, group_mean, resolve_method

__all__ = ["TRAINERS", "DifficultyAwareGRPOConfig", "DifficultyAwareGRPOTrainer"]

#: GRPO trainers by name (entry-point group ``univg_plugin.trainers``), for LLaMA-Factory's
#: ``grpo_trainer`` key. A registered trainer must take ``trl.GRPOTrainer``'s arguments; it is given a
#: :class:`DifficultyAwareGRPOConfig` (a ``GRPOConfig``) as ``args``.
TRAINERS = Registry(
    "univg_plugin.trainers", "GRPO trainer", {"difficulty_aware": "univg_plugin.trainer:DifficultyAwareGRPOTrainer"}
)


@dataclass
class DifficultyAwareGRPOConfig(GRPOConfig):
    """``GRPOConfig`` plus the difficulty-aware weighting settings.

    Args:
        difficulty_weighting: A method of :data:`univg_plugin.weighting.WEIGHTING_METHODS`: ``exp``
            (paper default, ``e^(1-mIoU)``), ``power``, ``log``, ``linear``, ``none`` (plain GRPO) or
            another package's.
        difficulty_params: Parameters of the method (e.g. ``{"power": 2.0}``); see
            :attr:`univg_plugin.weighting.WeightingMethod.params`.
        difficulty_accuracy_reward: Name of the reward function whose group mean is the mIoU
            (``iou`` for our registry's accuracy reward).
        difficulty_normalize: Rescale each batch's weights to mean 1 (beyond the paper; off).
        difficulty_easy_threshold: Groups with mIoU above this count as easy in the logged shares.
        difficulty_hard_threshold: Groups with mIoU below this count as hard in the logged shares.
        suppress_vision_tokens: Never sample vision placeholder tokens (``<|image_pad|>`` ...): one
            sampled placeholder breaks the next forward pass of a Qwen-VL model.
    """

    difficulty_weighting: str = field(default="exp", metadata={"help": "A registered difficulty weighting method."})
    difficulty_params: dict[str, float] | None = field(default=None, metadata={"help": "Method parameters."})
    difficulty_accuracy_reward: str = field(default="iou", metadata={"help": "Reward whose group mean is mIoU."})
    difficulty_normalize: bool = field(default=False, metadata={"help": "Rescale weights to mean 1 per batch."})
    difficulty_easy_threshold: float = field(default=0.7, metadata={"help": "mIoU above which a group is easy."})
    difficulty_hard_threshold: float = field(default=0.3, metadata={"help": "mIoU below which a group is hard."})
    suppress_vision_tokens: bool = field(default=True, metadata={"help": "Never sample vision placeholders."})

    def __post_init__(self) -> None:
        super().__post_init__()
        resolve_method(self.difficulty_weighting, self.difficulty_params)  # validates method and parameters
        if not 0.0 <= self.difficulty_hard_threshold <= self.difficulty_easy_threshold <= 1.0:
            raise ValueError("need 0 <= difficulty_hard_threshold <= difficulty_easy_threshold <= 1")


class DifficultyAwareGRPOTrainer(GRPOTrainer):
    """GRPO whose policy term is weighted by ``phi(group mIoU)``; see the module docstring.

    Takes the arguments of ``trl.GRPOTrainer``. ``args`` should be a :class:`DifficultyAwareGRPOConfig`;
    a plain ``GRPOConfig`` gets the defaults (``exp`` weighting of the ``iou`` reward).

    Example:
        >>> from univg_plugin.rewards import load
        >>> trainer = DifficultyAwareGRPOTrainer(  # doctest: +SKIP
        ...     model="path/to/qwen2-vl", reward_funcs=load(["iou", "format"]),
        ...     args=DifficultyAwareGRPOConfig(output_dir="out", num_generations=8), train_dataset=dataset)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        require_supported_trl()
        config = kwargs.get("args") if "args" in kwargs else (args[2] if len(args) > 2 else None)
        if config is not None and getattr(config, "use_liger_loss", False):
            raise ValueError(
                "DifficultyAwareGRPOTrainer does not support `use_liger_loss=True`: the Liger GRPO loss "
                "bypasses `_compute_loss`, where the difficulty weights are applied. Set use_liger_loss=False."
            )
        super().__init__(*args, **kwargs)
        defaults = DifficultyAwareGRPOConfig.__dataclass_fields__
        self.difficulty = {
            name: getattr(self.args, name, defaults[name].default)
            for name in defaults
            if name.startswith("difficulty_") or name == "suppress_vision_tokens"
        }
        self.difficulty["difficulty_params"] = dict(self.difficulty["difficulty_params"] or {})
        self._accuracy_index = self._find_accuracy_reward()
        self._pending_weights: torch.Tensor | None = None
        if self.difficulty["suppress_vision_tokens"]:
            self._suppress_vision_tokens()

    def _find_accuracy_reward(self) -> int | None:
        """The accuracy reward's column (also with ``none``, for the logged mIoU); None if absent and unneeded."""
        name = self.difficulty["difficulty_accuracy_reward"]
        if name in self.reward_func_names:
            return self.reward_func_names.index(name)
        if self.difficulty["difficulty_weighting"] == "none":
            return None
        raise ValueError(
            f"difficulty_accuracy_reward={name!r} is not one of the trainer's reward functions "
            f"({', '.join(self.reward_func_names)}); set it to the reward whose group mean is the mIoU, "
            "or difficulty_weighting='none'"
        )

    def _suppress_vision_tokens(self) -> None:
        tokenizer = getattr(self.processing_class, "tokenizer", self.processing_class)
        vocab = tokenizer.get_vocab()
        ids = [vocab[token] for token in VISION_PLACEHOLDER_TOKENS if token in vocab]
        if not ids:
            return
        generation_config = getattr(self, "generation_config", None)
        if generation_config is not None:  # transformers generation path
            existing = list(generation_config.suppress_tokens or [])
            generation_config.suppress_tokens = sorted(set(existing) | set(ids))

    # ------------------------------------------------------------------ hooks

    def _group_size(self) -> int:
        if not self.model.training:
            return getattr(self, "num_generations_eval", None) or self.num_generations
        return self.num_generations

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        group_size = self._group_size()
        settings = self.difficulty
        if self._accuracy_index is None:
            accuracy = torch.full((rewards_per_func.size(0),), float("nan"))
        else:
            accuracy = rewards_per_func[:, self._accuracy_index].detach().float().cpu()
        weights = difficulty_weights(
            accuracy,
            group_size,
            method=settings["difficulty_weighting"],
            normalize=settings["difficulty_normalize"],
            **settings["difficulty_params"],
        )
        self._log_difficulty(accuracy, weights, group_size)
        start = self.accelerator.process_index * len(prompts)
        self._pending_weights = weights[start : start + len(prompts)].to(rewards_per_func.device)
        return rewards_per_func

    def _log_difficulty(self, accuracy: torch.Tensor, weights: torch.Tensor, group_size: int) -> None:
        mode = "train" if self.model.training else "eval"
        metrics = self._metrics[mode]
        group_weights = weights[::group_size]
        metrics["difficulty/phi_mean"].append(group_weights.mean().item())
        metrics["difficulty/phi_min"].append(group_weights.min().item())
        metrics["difficulty/phi_max"].append(group_weights.max().item())
        means = group_mean(accuracy, group_size)
        valid = means[~torch.isnan(means)]
        if valid.numel() == 0:
            return
        easy, hard = self.difficulty["difficulty_easy_threshold"], self.difficulty["difficulty_hard_threshold"]
        metrics["difficulty/group_miou_mean"].append(valid.mean().item())
        metrics["difficulty/easy_share"].append((valid > easy).float().mean().item())
        metrics["difficulty/hard_share"].append((valid < hard).float().mean().item())
        metrics["difficulty/medium_share"].append(((valid >= hard) & (valid <= easy)).float().mean().item())

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        weights = self._pending_weights
        self._pending_weights = None
        if weights is None or weights.numel() != output["advantages"].size(0):
            raise RuntimeError(
                "difficulty weights and advantages are out of step; this TRL version calls the reward hook "
                "differently from the supported ones"
            )
        output["difficulty_weights"] = weights
        return output

    def _compute_loss(self, model, inputs):
        weights = inputs.get("difficulty_weights")
        if weights is not None:
            advantages = inputs["advantages"]
            scale = weights.to(advantages.dtype)
            if advantages.dim() > 1:
                scale = scale.unsqueeze(-1)
            inputs = {**inputs, "advantages": advantages * scale}
        return super()._compute_loss(model, inputs)

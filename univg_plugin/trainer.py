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

It also gives the rewards the processor's pixel limits (``min_pixels``/``max_pixels``): TRL never passes
``image_grid_thw`` to a reward, so an ``abs_input`` reward needs them to know the size the model saw.

Supported TRL: 0.24.x (the LLaMA-Factory environment) and 1.x (1.16 tested).
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from trl import GRPOConfig, GRPOTrainer

from .boxes import CoordinateSpace
from .compat import require_supported_torch, require_supported_trl
from .plugins import Registry
from .qwen_vl import VISION_PLACEHOLDER_TOKENS, ModelFamily, family_of_model_type, model_family
from .rewards import REWARDS
from .rewards import get as get_reward
from .weighting import difficulty_weights, group_mean, resolve_method

__all__ = ["TRAINERS", "DifficultyAwareGRPOConfig", "DifficultyAwareGRPOTrainer", "registry_rewards"]

#: GRPO trainers by name (entry-point group ``univg_plugin.trainers``), for LLaMA-Factory's
#: ``grpo_trainer`` key. A registered trainer must take ``trl.GRPOTrainer``'s arguments; it is given a
#: :class:`DifficultyAwareGRPOConfig` (a ``GRPOConfig``) as ``args``.
TRAINERS = Registry(
    "univg_plugin.trainers", "GRPO trainer", {"difficulty_aware": "univg_plugin.trainer:DifficultyAwareGRPOTrainer"}
)
#: The reward options that carry the processor's pixel limits, in the order :func:`_pixel_limits` returns them.
_PIXEL_OPTIONS: tuple[str, str] = ("min_pixels", "max_pixels")


def _pixel_limits(image_processor: Any) -> tuple[int, int] | None:
    """The ``(min_pixels, max_pixels)`` an image processor resizes to; None when it has none (not a Qwen-VL one).

    transformers 4.5x reads the ``min_pixels``/``max_pixels`` attributes when both are set, else ``size``
    (``shortest_edge``/``longest_edge``), which is all transformers 5 has.
    """
    low, high = (getattr(image_processor, name, None) for name in _PIXEL_OPTIONS)
    if low is None or high is None:
        size = getattr(image_processor, "size", None)
        try:
            low, high = size["shortest_edge"], size["longest_edge"]
        except (KeyError, TypeError):
            return None
    return None if low is None or high is None else (int(low), int(high))


def _keyword_parameters(reward: Any) -> dict[str, inspect.Parameter]:
    """The parameters ``reward`` takes as keywords, by name; none for a reward model or a callable without signature."""
    if isinstance(reward, torch.nn.Module):
        return {}
    try:
        parameters = inspect.signature(reward).parameters.values()
    except (TypeError, ValueError):  # a callable without a signature
        return {}
    keyword = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return {p.name: p for p in parameters if p.kind in keyword}


def _given_options(reward: Any) -> dict[str, Any]:
    """The options ``reward`` was configured with: a registry reward's ``options``, a partial's keywords."""
    return {**(getattr(reward, "options", None) or {}), **(getattr(reward, "keywords", None) or {})}


def _missing_pixel_options(reward: Any) -> list[str]:
    """The pixel-limit options ``reward`` takes as keywords and was not given (``get`` options, partial keywords)."""
    given = _given_options(reward)
    return [name for name in _keyword_parameters(reward) if name in _PIXEL_OPTIONS and name not in given]


def _family_option(reward: Any, family: ModelFamily, name: str) -> dict[str, str]:
    """``{"model_family": family.name}`` for a reward that takes it, was not given it, and reads boxes in
    ``family``'s space or in ``abs_input`` (whose input sizes are the family's patches); else ``{}``.

    A reward set to read another normalized space than the family writes is left as it is: the model was taught
    another family's convention (e.g. Qwen2.5-VL on 0-1000 data), whose answers the family's syntax check would flag.

    Raises:
        ValueError: the reward was given another family than the model's (named ``name``).
    """
    parameters, given = _keyword_parameters(reward), _given_options(reward)
    if given.get("model_family") not in (None, family.name):
        raise ValueError(
            f"reward {name!r} has model_family={given['model_family']!r}, but the model is {family.name} "
            f"(its config's model_type): use the {family.name} reward (univg_plugin.rewards.presets) or leave "
            "model_family unset for the trainer to give the model's"
        )
    if "model_family" not in parameters or "model_family" in given:
        return {}
    default = parameters["space"].default if "space" in parameters else None
    space = given.get("space", None if default is inspect.Parameter.empty else default)
    return {"model_family": family.name} if space in (None, family.box_space, CoordinateSpace.ABS_INPUT.value) else {}


def _is_async(reward: Any) -> bool:
    """Whether calling ``reward`` returns a coroutine (TRL 1.x awaits those): a function, partial or callable object."""
    while isinstance(reward, functools.partial):
        reward = reward.func
    return inspect.iscoroutinefunction(reward) or inspect.iscoroutinefunction(type(reward).__call__)


def _with_defaults(reward: Callable[..., Any], defaults: dict[str, int], name: str) -> Callable[..., Any]:
    """``reward`` called with ``defaults`` unless a column gives them; named ``name``, ``reward`` left as it is."""
    if _is_async(reward):

        async def wrapper(*args: Any, **columns: Any) -> Any:
            return await reward(*args, **{**defaults, **columns})

    else:

        def wrapper(*args: Any, **columns: Any) -> Any:
            return reward(*args, **{**defaults, **columns})

    wrapped = functools.wraps(reward)(wrapper)
    wrapped.__name__ = wrapped.__qualname__ = name
    if hasattr(reward, "options"):  # a registry reward: its options as it is now called
        wrapped.options = {**reward.options, **defaults}  # type: ignore[attr-defined]
    return wrapped


def registry_rewards(reward_funcs: Any) -> Any:
    """``reward_funcs`` with each string that names one of our rewards (``"iou"``) replaced by that reward.

    TRL loads a string as a reward model (a hub id or a local path); a name of :data:`univg_plugin.rewards.REWARDS`
    is meant as our reward, with its default options. Any other string is left to TRL.

    Example:
        >>> [getattr(f, "__name__", f) for f in registry_rewards(["iou", "org/reward-model"])]
        ['iou', 'org/reward-model']
    """
    if isinstance(reward_funcs, str):
        return get_reward(reward_funcs) if reward_funcs in REWARDS else reward_funcs
    if isinstance(reward_funcs, list):
        return [get_reward(f) if isinstance(f, str) and f in REWARDS else f for f in reward_funcs]
    return reward_funcs


#: How ``from_pretrained`` renames the legacy keys a Qwen-VL checkpoint is saved with (``visual.*``,
#: ``model.layers.*``): transformers 4.57's ``_checkpoint_conversion_mapping``, which 5.x keeps elsewhere.
LEGACY_QWEN_VL_KEYS = {"^visual": "model.visual", r"^model(?!\.(language_model|visual))": "model.language_model"}


def _checkpoint_state(directory: Path) -> dict[str, torch.Tensor] | None:
    """The full-model weights saved in ``directory`` (``model*.safetensors``); None when there are none."""
    from safetensors.torch import load_file

    files = sorted(directory.glob("model*.safetensors"))
    return {key: tensor for file in files for key, tensor in load_file(file).items()} if files else None


def _renamed(key: str, mapping: dict[str, str]) -> str:
    """``key`` renamed by the first pattern of ``mapping`` that matches it."""
    for pattern, replacement in mapping.items():
        renamed, count = re.subn(pattern, replacement, key)
        if count:
            return renamed
    return key


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
    a plain ``GRPOConfig`` gets the defaults (``exp`` weighting of the ``iou`` reward). In ``reward_funcs``, a
    name of our reward registry (``"iou"``, ``"format"``) is that reward (see :func:`registry_rewards`).

    Example:
        >>> from univg_plugin.rewards import load
        >>> trainer = DifficultyAwareGRPOTrainer(  # doctest: +SKIP
        ...     model="path/to/qwen2-vl", reward_funcs=load(["iou", "format"]),
        ...     args=DifficultyAwareGRPOConfig(output_dir="out", num_generations=8), train_dataset=dataset)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        require_supported_trl()
        require_supported_torch()  # torch 2.9.x: Qwen-VL vision towers hit its slow Conv3d fallback
        config = kwargs.get("args") if "args" in kwargs else (args[2] if len(args) > 2 else None)
        if config is not None and getattr(config, "use_liger_loss", False):
            raise ValueError(
                "DifficultyAwareGRPOTrainer does not support `use_liger_loss=True`: the Liger GRPO loss "
                "bypasses `_compute_loss`, where the difficulty weights are applied. Set use_liger_loss=False."
            )
        if "reward_funcs" in kwargs:
            kwargs["reward_funcs"] = registry_rewards(kwargs["reward_funcs"])
        elif len(args) > 1:
            args = (args[0], registry_rewards(args[1]), *args[2:])
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
        self._pass_model_settings()

    def create_optimizer(self):
        """transformers' optimizer without empty parameter groups.

        With LoRA the no-weight-decay group is empty; DeepSpeed ZeRO-3 drops it from its optimizer while the
        learning-rate scheduler still counts it, and torch 2.14's scheduler then fails the first step
        ("zip() argument 2 is longer than argument 1").
        """
        optimizer = super().create_optimizer()
        optimizer.param_groups[:] = [group for group in optimizer.param_groups if group["params"]]
        return optimizer

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model: Any = None) -> None:
        """transformers' loader for ``resume_from_checkpoint``, with the keys renamed as ``from_pretrained`` does.

        transformers (4.57 and 5.x) saves Qwen-VL models under their legacy keys (``visual.*``, ``model.layers.*``)
        and its ``Trainer._load_from_checkpoint`` matches none of them: a resumed run would only warn and go on from
        the initial weights. Such full-model checkpoints are loaded here; the others (adapters, DeepSpeed's, ones
        whose keys fit) by transformers.
        """
        model = self.model if model is None else model
        state = _checkpoint_state(Path(resume_from_checkpoint))
        if state is None or set(state) <= set(model.state_dict()):
            return super()._load_from_checkpoint(resume_from_checkpoint, model)
        mapping = getattr(model, "_checkpoint_conversion_mapping", None) or LEGACY_QWEN_VL_KEYS
        result = model.load_state_dict({_renamed(key, mapping): tensor for key, tensor in state.items()}, strict=False)
        missing = set(result.missing_keys) - set(getattr(model, "_tied_weights_keys", None) or ())
        if missing or result.unexpected_keys:
            raise ValueError(
                f"checkpoint {resume_from_checkpoint} does not fit the model: missing keys {sorted(missing)[:5]}, "
                f"unexpected keys {sorted(result.unexpected_keys)[:5]}"
            )
        return None

    def _pass_model_settings(self) -> None:
        """Give each reward the processor's pixel limits and the model's family, where it takes them and was not
        given them (see :func:`_family_option`); the caller's list and rewards are left as they were passed.

        Raises:
            ValueError: a reward given another ``model_family`` than the model's.
        """
        limits = _pixel_limits(getattr(self.processing_class, "image_processor", None)) or ()
        family_name = family_of_model_type(getattr(getattr(self.model, "config", None), "model_type", None))
        rewards = list(self.reward_funcs)
        for index, reward in enumerate(rewards):
            missing = _missing_pixel_options(reward)
            defaults: dict[str, Any] = {name: value for name, value in zip(_PIXEL_OPTIONS, limits) if name in missing}
            if family_name is not None:
                defaults.update(_family_option(reward, model_family(family_name), self.reward_func_names[index]))
            if defaults:
                rewards[index] = _with_defaults(reward, defaults, self.reward_func_names[index])
        self.reward_funcs = rewards

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

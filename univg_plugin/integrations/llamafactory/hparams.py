"""The YAML keys of ``stage: grpo``, parsed and validated like LLaMA-Factory's own arguments.

:class:`GRPOFinetuningArguments` extends LLaMA-Factory's ``FinetuningArguments`` and replaces it in the
training-argument parser (see :mod:`.patches`), so unknown keys are still rejected by
``HfArgumentParser`` and every check below runs at parse time, before any model or dataset loads.
Sampling ``temperature``, ``top_p``, ``top_k`` and ``repetition_penalty`` are LLaMA-Factory's generating
arguments (defaults 0.95 / 0.7 / 50 / 1.0), forwarded to TRL; the other generating arguments are refused
unless left at their defaults (:meth:`GRPOFinetuningArguments.check_generating_arguments`). ``grpo_args``
reaches every other field of TRL's ``GRPOConfig``.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import numbers
import types
import typing
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import trl
from llamafactory.extras import logging as llamafactory_logging
from llamafactory.hparams import FinetuningArguments
from transformers import TrainingArguments

from ...boxes import AnswerPolicy, CoordinateSpace
from ...qwen_vl import MODEL_FAMILIES, ModelFamily, family_of_model_type, model_family
from ...rewards import available, get, reward_options
from ...trainer import TRAINERS, DifficultyAwareGRPOConfig
from ...weighting import WEIGHTING_METHODS, resolve_method

#: Keys that only mean something for ``stage: grpo``, with their defaults (the paper's stage-2 settings).
GRPO_KEYS: tuple[str, ...] = (
    "grpo_trainer",
    "model_family",
    "reward_funcs",
    "reward_weights",
    "reward_space",
    "reward_answer_policy",
    "reward_kwargs",
    "difficulty_weighting",
    "difficulty_params",
    "difficulty_accuracy_reward",
    "difficulty_normalize",
    "num_generations",
    "beta",
    "epsilon",
    "epsilon_high",
    "num_iterations",
    "max_completion_length",
    "loss_type",
    "scale_rewards",
    "min_p",
    "use_vllm",
    "vllm_mode",
    "log_completions",
    "grpo_args",
)


#: The values of the GRPO keys that name a choice: TRL 0.24's loss aggregations (``GRPOTrainer``'s
#: ``_compute_loss``), advantage scalings (``GRPOConfig.scale_rewards``; TRL reads True as group and
#: False as none) and vLLM modes.
CHOICES: dict[str, tuple[str, ...]] = {
    "loss_type": ("grpo", "bnpo", "dr_grpo", "dapo"),
    "scale_rewards": ("group", "batch", "none"),
    "vllm_mode": ("colocate", "server"),
}
#: The ``GRPOConfig`` fields ``grpo_args`` may set that name a choice (TRL 0.24).
GRPO_ARGS_CHOICES: dict[str, tuple[str, ...]] = {
    "importance_sampling_level": ("token", "sequence"),
    "vllm_model_impl": ("vllm", "transformers"),
}
#: LLaMA-Factory generating arguments that TRL's sampling takes under the same name, with their valid range.
SAMPLING_KEYS: dict[str, tuple[str, typing.Callable[[float], bool], bool]] = {
    "temperature": ("> 0", lambda value: value > 0, False),
    "top_p": ("in (0, 1]", lambda value: 0 < value <= 1, False),
    "top_k": (">= 0 (0: off)", lambda value: value >= 0, True),
    "repetition_penalty": ("> 0", lambda value: value > 0, False),
}
#: What to do instead of a LLaMA-Factory generating argument ``stage: grpo`` does not use, where there is a way.
UNUSED_GENERATION_HINTS: dict[str, str] = {
    "max_new_tokens": "set `max_completion_length` (the most tokens sampled per completion)",
    "max_length": "set `max_completion_length` (the most tokens sampled per completion)",
    "do_sample": "GRPO always samples",
    "num_beams": "GRPO samples, it does not search with beams",
}
#: ``GRPOConfig`` fields the stage sets itself, and why.
SET_BY_THE_STAGE: dict[str, str] = {
    "max_prompt_length": "None: truncating a prompt would cut its image tokens",
    "model_init_kwargs": "the reference model is loaded in LLaMA-Factory's compute dtype",
}
#: The GRPO keys that are true or false.
FLAGS: tuple[str, ...] = ("difficulty_normalize", "use_vllm", "log_completions")
#: The numeric GRPO keys with their smallest value and whether it must be a whole number.
MINIMUMS: dict[str, tuple[float, bool]] = {
    "num_generations": (2, True),  # GRPO compares the completions of a group
    "num_iterations": (1, True),
    "max_completion_length": (1, True),
    "beta": (0, False),
    "epsilon": (0, False),
}


def _number(key: str, value: Any, whole: bool = False) -> int | float:
    """The value of a numeric key (a YAML file hands it over as written), refused naming the key."""
    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"`{key}` must be {kind}, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"`{key}` must be a finite number, got {value!r}")
    if whole and not float(value).is_integer():
        raise ValueError(f"`{key}` must be {kind}, got {value!r}")
    return int(value) if whole else float(value)


def _reward_weights(value: Any) -> list[float] | None:
    """``reward_weights`` as floats: a comma-separated string, a list or one number."""
    if not value:
        return None
    weights = []
    for item in _split(value) if isinstance(value, (str, list, tuple)) else [value]:
        try:
            weight = float(item) if isinstance(item, str) else item
        except ValueError:
            raise ValueError(f"`reward_weights`: {item!r} is not a number") from None
        if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
            raise ValueError(f"`reward_weights`: {item!r} is not a number")
        if not math.isfinite(weight):
            raise ValueError(f"`reward_weights`: {item!r} is not a finite number")
        weights.append(float(weight))
    return weights


def _split(value: Any) -> Any:
    """LLaMA-Factory style: a comma-separated string is a list."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _mapping(name: str, value: Any) -> dict:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError(f"`{name}` must be a mapping or a JSON object, got {value!r}: {error}") from None
    if not isinstance(value, dict):
        raise ValueError(f"`{name}` must be a mapping, got {type(value).__name__}")
    return value


def _field_types(config_class: type) -> dict[str, Any]:
    """The type of each field of a dataclass that its constructor takes."""
    types_by_name = typing.get_type_hints(config_class)
    return {f.name: types_by_name[f.name] for f in fields(config_class) if f.init}


#: The fields ``grpo_args`` may name: TRL's ``GRPOConfig`` and the difficulty settings, with their types.
_CONFIG_TYPES = _field_types(DifficultyAwareGRPOConfig)
_TRAINING_ARGUMENTS = frozenset(f.name for f in fields(TrainingArguments))
_KIND_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "a string", dict: "a mapping"}
_KIND_NAMES.update({list: "a list", type(None): "null"})


def _grpo_arg_refusal(key: str) -> str | None:
    """Why ``grpo_args`` may not set ``key`` (one way to set each thing); None when it may."""
    if key in GRPO_KEYS:
        return f"set `{key}` directly (a `stage: grpo` key)"
    if key in SAMPLING_KEYS:
        return f"set `{key}` directly (a LLaMA-Factory generating argument)"
    if key in _TRAINING_ARGUMENTS:
        return f"set `{key}` directly (a LLaMA-Factory training argument)"
    if key in SET_BY_THE_STAGE:
        return f"`{key}` is set by the stage ({SET_BY_THE_STAGE[key]})"
    if key not in _CONFIG_TYPES:
        close = difflib.get_close_matches(key, list(_CONFIG_TYPES))
        hint = f"; did you mean {', '.join(f'`{name}`' for name in close)}?" if close else ""
        return f"TRL {trl.__version__}'s GRPOConfig has no field `{key}`{hint}"
    return None


def _grpo_arg(key: str, value: Any) -> Any:
    """A ``grpo_args`` value checked against its field's type (a YAML file hands it over as written)."""
    annotation = _CONFIG_TYPES[key]
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    kinds = [typing.get_origin(kind) or kind for kind in (typing.get_args(annotation) if union else (annotation,))]
    if value is None and type(None) in kinds:
        return None
    for kind in kinds:
        if kind in (int, float):
            try:
                return _number(key, value, whole=kind is int)
            except ValueError:
                continue
        if kind in (bool, str, dict, list) and isinstance(value, kind):
            return value
    expected = " or ".join(_KIND_NAMES.get(kind, kind.__name__) for kind in kinds)
    raise ValueError(f"`grpo_args`: `{key}` must be {expected}, got {value!r}")


#: Under LLaMA-Factory's logger, so its lines are printed (and kept in running_log.txt) like LLaMA-Factory's own.
_logger = llamafactory_logging.get_logger("llamafactory.univg_plugin")


def family_templates(family: ModelFamily) -> tuple[str, ...]:
    """LLaMA-Factory templates that fit ``family``: its own, and its ``_nothink`` variant where there is one.

    Example:
        >>> family_templates(MODEL_FAMILIES["qwen3_vl"]), family_templates(MODEL_FAMILIES["qwen2_5_vl"])
        (('qwen3_vl', 'qwen3_vl_nothink'), ('qwen2_vl',))
    """
    from llamafactory.data.template import TEMPLATES

    own = family.llamafactory_template
    return tuple(name for name in (own, f"{own}_nothink") if name == own or name in TEMPLATES)


def _families_writing(space: str) -> str:
    """``, or set `model_family` to ...`` naming the families that write boxes in ``space`` (empty for none)."""
    names = [name for name, family in MODEL_FAMILIES.items() if family.box_space == space]
    return f", or set `model_family` to the one you train ({' or '.join(names)})" if names else ""


@dataclass
class GRPOFinetuningArguments(FinetuningArguments):
    """LLaMA-Factory's finetuning arguments plus ``stage: grpo`` and the GRPO keys."""

    stage: Literal["pt", "sft", "rm", "ppo", "dpo", "kto", "grpo"] = field(
        default="sft",
        metadata={"help": "Which stage will be performed in training (`grpo` is added by univg-plugin)."},
    )
    grpo_trainer: str = field(
        default="difficulty_aware",
        metadata={"help": "GRPO: the trainer, by name (`univg plugins`; a `univg_plugin.trainers` entry point)."},
    )
    reward_funcs: list[str] | None = field(
        default=None,
        metadata={"help": "GRPO: reward names from the univg registry (`univg rewards list`). Default: iou,format."},
    )
    reward_weights: list[float] | None = field(
        default=None, metadata={"help": "GRPO: one weight per reward (default: all 1.0)."}
    )
    model_family: str | None = field(
        default=None,
        metadata={
            "help": "GRPO: the model's family (qwen2_vl, qwen2_5_vl, qwen3_vl): its box space and answer format "
            "for the rewards. Default: read from the model's config.json (`model_type`)."
        },
    )
    reward_space: str | None = field(
        default=None,
        metadata={"help": "GRPO: coordinate space the model writes boxes in (default: its family's; norm1000)."},
    )
    reward_answer_policy: str = field(
        default="strict", metadata={"help": "GRPO: strict (box inside <answer> only) or lenient."}
    )
    reward_kwargs: dict | str | None = field(
        default=None,
        metadata={"help": 'GRPO: per-reward options, e.g. {"iou_threshold": {"threshold": 0.7}} (mapping or JSON).'},
    )
    difficulty_weighting: str = field(
        default="exp",
        metadata={"help": "GRPO: difficulty weighting method (exp, power, log, linear, none or a registered one)."},
    )
    difficulty_params: dict | str | None = field(
        default=None, metadata={"help": 'GRPO: parameters of the method, e.g. {"power": 2.0} (mapping or JSON).'}
    )
    difficulty_accuracy_reward: str = field(
        default="iou", metadata={"help": "GRPO: the reward whose group mean is the mIoU."}
    )
    difficulty_normalize: bool = field(
        default=False, metadata={"help": "GRPO: rescale the weights of each batch to mean 1."}
    )
    num_generations: int = field(default=8, metadata={"help": "GRPO: completions per prompt (G)."})
    beta: float = field(default=0.04, metadata={"help": "GRPO: KL coefficient (0 disables the reference model)."})
    epsilon: float = field(default=0.2, metadata={"help": "GRPO: clipping epsilon."})
    epsilon_high: float | None = field(default=None, metadata={"help": "GRPO: upper clipping epsilon (DAPO)."})
    num_iterations: int = field(default=1, metadata={"help": "GRPO: optimisation passes per generation batch."})
    max_completion_length: int = field(default=256, metadata={"help": "GRPO: maximum completion tokens."})
    loss_type: str = field(default="grpo", metadata={"help": "GRPO: TRL loss type (grpo, bnpo, dr_grpo, dapo)."})
    scale_rewards: str = field(default="group", metadata={"help": "GRPO: advantage scaling (group, batch, none)."})
    min_p: float | None = field(
        default=None,
        metadata={"help": "GRPO: sample only tokens with at least min_p x the top token's probability (none: all)."},
    )
    use_vllm: bool = field(default=False, metadata={"help": "GRPO: generate with vLLM."})
    vllm_mode: str = field(default="colocate", metadata={"help": "GRPO: vLLM mode (colocate or server)."})
    log_completions: bool = field(default=False, metadata={"help": "GRPO: print sample completions when logging."})
    grpo_args: dict | str | None = field(
        default=None,
        metadata={
            "help": 'GRPO: other TRL GRPOConfig fields, e.g. {"vllm_gpu_memory_utilization": 0.5} (mapping or JSON).'
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.reward_funcs = _split(self.reward_funcs)
        self.reward_weights = _reward_weights(self.reward_weights)
        self.reward_kwargs = _mapping("reward_kwargs", self.reward_kwargs)
        self.difficulty_params = _mapping("difficulty_params", self.difficulty_params)
        self.grpo_args = _mapping("grpo_args", self.grpo_args)
        if self.stage != "grpo":
            self._refuse_grpo_keys()
            return
        self.reward_funcs = self.reward_funcs or ["iou", "format"]
        self._validate()

    def _refuse_grpo_keys(self) -> None:
        defaults = {f.name: f.default for f in fields(GRPOFinetuningArguments) if f.name in GRPO_KEYS}
        normalized_defaults = {**defaults, "reward_kwargs": {}, "difficulty_params": {}, "grpo_args": {}}
        for key in GRPO_KEYS:
            if getattr(self, key) != normalized_defaults[key]:
                raise ValueError(f"`{key}` only applies to `stage: grpo` (this run has `stage: {self.stage}`)")

    def _validate(self) -> None:
        try:
            TRAINERS.provider(self.grpo_trainer)  # checks the name without importing the trainer
        except KeyError as error:
            raise ValueError(f"`grpo_trainer`: {error.args[0]}") from None
        self._validate_numbers()
        self._validate_choices()
        self._validate_family()
        self._validate_rewards()
        self._validate_difficulty()
        self._validate_grpo_args()

    def _validate_numbers(self) -> None:
        for key, (minimum, whole) in MINIMUMS.items():
            value = _number(key, getattr(self, key), whole)
            if value < minimum:
                raise ValueError(f"`{key}` must be at least {minimum}, got {getattr(self, key)}")
            setattr(self, key, value)
        if self.epsilon_high is not None:
            self.epsilon_high = _number("epsilon_high", self.epsilon_high)
            if self.epsilon_high < self.epsilon:
                raise ValueError(f"`epsilon_high` must be at least `epsilon` ({self.epsilon}), got {self.epsilon_high}")
        if self.min_p is not None:
            self.min_p = _number("min_p", self.min_p)
            if not 0.0 <= self.min_p <= 1.0:
                raise ValueError(f"`min_p` must be between 0 and 1, got {self.min_p}")

    def _validate_choices(self) -> None:
        for key in FLAGS:
            if not isinstance(getattr(self, key), bool):  # a YAML string "false" would be true
                raise ValueError(f"`{key}` must be true or false, got {getattr(self, key)!r}")
        if isinstance(self.scale_rewards, bool):  # as TRL's GRPOConfig reads it
            self.scale_rewards = "group" if self.scale_rewards else "none"
        for key, choices in CHOICES.items():
            if getattr(self, key) not in choices:
                raise ValueError(f"`{key}`: expected one of {', '.join(choices)}, got {getattr(self, key)!r}")

    def _validate_rewards(self) -> None:
        known = available()
        unknown = [name for name in self.reward_funcs if name not in known]
        if unknown:
            raise ValueError(
                f"`reward_funcs`: unknown reward {', '.join(map(repr, unknown))}; known rewards: {', '.join(known)}"
            )
        if self.reward_weights is not None and len(self.reward_weights) != len(self.reward_funcs):
            raise ValueError(
                f"`reward_weights` has {len(self.reward_weights)} values for {len(self.reward_funcs)} "
                f"`reward_funcs` ({', '.join(self.reward_funcs)})"
            )
        for key, choice in (("reward_space", CoordinateSpace), ("reward_answer_policy", AnswerPolicy)):
            try:
                if getattr(self, key) is not None:  # reward_space: None until the family settles it
                    choice(getattr(self, key))
            except ValueError as error:
                raise ValueError(f"`{key}`: {error}") from None
        try:
            options = self.reward_options()
        except ValueError as error:
            raise ValueError(f"`reward_kwargs`: {error}") from None
        for name, reward_kwargs in options.items():
            try:
                get(name, **reward_kwargs)
            except (ValueError, TypeError) as error:
                raise ValueError(f"`reward_kwargs` for {name!r}: {error}") from None

    def _validate_family(self) -> None:
        """A family named by ``model_family``: known, and no reward setting of another family's."""
        if self.model_family is None:
            return
        try:
            family = model_family(self.model_family)
        except KeyError as error:
            raise ValueError(f"`model_family`: {error.args[0]}") from None
        conflicts = self.family_conflicts(family)
        if conflicts:
            raise ValueError(f"`model_family: {family.name}` contradicts {conflicts[0]}")

    def family_conflicts(self, family: ModelFamily, template: str | None = None) -> list[str]:
        """The settings that contradict ``family``'s conventions, each with what to do instead."""
        conflicts = []
        if self.reward_space not in (None, family.box_space):
            conflicts.append(
                f"`reward_space: {self.reward_space}`: {family.name} writes boxes in {family.box_space}; "
                f"remove `reward_space` (the family sets it){_families_writing(self.reward_space)}"
            )
        for name, options in self.reward_kwargs.items():
            if options.get("space", family.box_space) != family.box_space:
                conflicts.append(
                    f"`reward_kwargs` for {name!r}: `space: {options['space']}`: {family.name} writes boxes in "
                    f"{family.box_space}; remove this `space`{_families_writing(options['space'])}"
                )
        if template is not None and template not in family_templates(family):
            conflicts.append(
                f"`template: {template}`: LLaMA-Factory's template for {family.name} is "
                f"{' or '.join(family_templates(family))}; set `template: {family.llamafactory_template}`"
            )
        return conflicts

    def resolve_model_family(self, model_type: str | None, template: str | None) -> None:
        """Settle the family (the ``model_family`` key, else the model's ``model_type``) and ``reward_space``.

        Called by the workflow right after parsing, before anything loads. A setting that contradicts the family
        the YAML names is refused; one that contradicts the family read from the model's config is warned about
        and kept (a model may have been taught another family's convention, e.g. Qwen2.5-VL on 0-1000 data).

        Raises:
            ValueError: ``model_family`` differs from the model's, or the template is not the family's.
        """
        detected = family_of_model_type(model_type)
        if self.model_family is not None:
            if detected not in (None, self.model_family):
                raise ValueError(
                    f"`model_family: {self.model_family}`, but the model's config.json has model_type "
                    f"{model_type!r}: set `model_family: {detected}` or remove the key"
                )
            conflicts = self.family_conflicts(model_family(self.model_family), template)
            if conflicts:
                raise ValueError(f"`model_family: {self.model_family}` contradicts {conflicts[0]}")
        elif detected is not None:
            conflicts = self.family_conflicts(model_family(detected), template)
            for conflict in conflicts:
                _logger.warning_rank0(
                    f"univg-plugin: the model is {detected} (config.json model_type {model_type!r}), but {conflict}; "
                    f"kept as set. Add `model_family: {detected}` to have such settings refused."
                )
            self.model_family = None if conflicts else detected
        self._settle_reward_space(model_type)

    def _settle_reward_space(self, model_type: str | None) -> None:
        """``reward_space`` from the settled family (said in the log), else as set, else ``norm1000`` (warned)."""
        if self.model_family is not None:
            family = model_family(self.model_family)
            self.reward_space = family.box_space
            _logger.info_rank0(
                f"univg-plugin: model family {family.name}: rewards read boxes in {family.box_space}, written as "
                f"{family.answer_syntax}"
            )
        elif self.reward_space is None:
            self.reward_space = CoordinateSpace.NORM1000.value
            _logger.warning_rank0(
                f"univg-plugin: model_type {model_type!r} is not a known Qwen-VL family "
                f"({', '.join(MODEL_FAMILIES)}): rewards read boxes in norm1000 with the paper's format; "
                "set `model_family` or `reward_space`"
            )

    def _validate_difficulty(self) -> None:
        try:
            resolve_method(self.difficulty_weighting, self.difficulty_params)
        except ValueError as error:
            key = "difficulty_weighting" if self.difficulty_weighting not in WEIGHTING_METHODS else "difficulty_params"
            raise ValueError(f"`{key}`: {error}") from None
        if self.difficulty_weighting != "none" and self.difficulty_accuracy_reward not in self.reward_funcs:
            raise ValueError(
                f"`difficulty_accuracy_reward`: {self.difficulty_accuracy_reward!r} is not in `reward_funcs` "
                f"({', '.join(self.reward_funcs)})"
            )

    def _validate_grpo_args(self) -> None:
        for key in self.grpo_args:
            refusal = _grpo_arg_refusal(key)
            if refusal is not None:
                raise ValueError(f"`grpo_args`: {refusal}")
            value = self.grpo_args[key] = _grpo_arg(key, self.grpo_args[key])
            choices = GRPO_ARGS_CHOICES.get(key)
            if choices is not None and value not in choices:
                raise ValueError(f"`grpo_args`: `{key}`: expected one of {', '.join(choices)}, got {value!r}")
        batch = {key: self.grpo_args.get(key) for key in ("generation_batch_size", "steps_per_generation")}
        if None not in batch.values():
            raise ValueError("`grpo_args`: set `generation_batch_size` or `steps_per_generation`, not both")
        for key, value in batch.items():
            if value is not None and value < 1:
                raise ValueError(f"`grpo_args`: `{key}` must be at least 1, got {value}")

    def reward_options(self, min_pixels: int | None = None, max_pixels: int | None = None) -> dict[str, dict[str, Any]]:
        """Options per reward: the shared settings each reward takes, then its ``reward_kwargs``.

        Args:
            min_pixels: The processor's ``min_pixels`` (for ``abs_input`` boxes).
            max_pixels: The processor's ``max_pixels``.
        """
        shared: dict[str, Any] = {"space": self.reward_space, "policy": self.reward_answer_policy}
        if self.reward_space is None:
            del shared["space"]  # not settled yet (the workflow settles it): each reward's default
        if self.model_family is not None:
            shared["format_pattern"] = model_family(self.model_family).format_pattern
        if min_pixels is not None and max_pixels is not None:
            shared.update(min_pixels=min_pixels, max_pixels=max_pixels)
        return reward_options(self.reward_funcs, self.reward_kwargs, **shared)

    def check_generation_batch(
        self, per_device_train_batch_size: int, gradient_accumulation_steps: int, processes: int
    ) -> None:
        """Refuse a generation batch without whole prompt groups, as TRL 0.24's ``GRPOConfig`` would.

        TRL generates ``per_device_train_batch_size x gradient_accumulation_steps x processes`` completions
        at a time (``steps_per_generation`` in ``grpo_args`` replaces the accumulation steps;
        ``generation_batch_size`` sets the count, a multiple of the per-step batch); called by the workflow
        right after parsing (the batch keys are LLaMA-Factory's training arguments), before anything loads.
        """
        step = per_device_train_batch_size * processes
        size, steps = self.grpo_args.get("generation_batch_size"), self.grpo_args.get("steps_per_generation")
        if size is not None:
            if size % step:
                raise ValueError(
                    f"`grpo_args`: `generation_batch_size` ({size}) must be a multiple of per_device_train_batch_size "
                    f"({per_device_train_batch_size}) x processes ({processes}) = {step}"
                )
            batch, factors = size, f"generation_batch_size ({size})"
        else:
            name = "gradient_accumulation_steps" if steps is None else "steps_per_generation"
            steps = gradient_accumulation_steps if steps is None else steps
            batch = step * steps
            factors = (
                f"per_device_train_batch_size ({per_device_train_batch_size}) x {name} ({steps}) x processes "
                f"({processes}) = {batch}"
            )
        if batch % self.num_generations:
            raise ValueError(f"`num_generations` ({self.num_generations}) must divide the generation batch: {factors}")

    def check_generating_arguments(self, generating_args: Any) -> None:
        """Refuse LLaMA-Factory generating arguments that ``stage: grpo`` would ignore or TRL would refuse.

        The sampling keys (:data:`SAMPLING_KEYS`) must be in range; any other generating argument must keep its
        default. Called by the workflow right after parsing, before anything loads.
        """
        for key, (allowed, valid, whole) in SAMPLING_KEYS.items():
            value = _number(key, getattr(generating_args, key), whole)
            if not valid(value):
                raise ValueError(f"`{key}` must be {allowed}, got {value}")
        for argument in fields(generating_args):
            default = argument.default_factory() if argument.default is dataclasses.MISSING else argument.default
            value = getattr(generating_args, argument.name)
            if argument.name not in SAMPLING_KEYS and value != default:
                hint = UNUSED_GENERATION_HINTS.get(argument.name, "remove it")
                raise ValueError(f"`{argument.name}` ({value}) is not used by `stage: grpo`: {hint}")

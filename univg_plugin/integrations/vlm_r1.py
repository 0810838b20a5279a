"""VLM-R1 (om-ai-lab/VLM-R1): our rewards under VLM-R1's reward names, and the difficulty weight in its trainer.

VLM-R1's ``src/open-r1-multimodal/src/open_r1/grpo_jsonl.py`` takes its reward functions by name from the dict
``reward_funcs_registry``. Two lines after that dict add ours, set up for the policy's model family::

    from univg_plugin.integrations.vlm_r1 import registry
    reward_funcs_registry.update(registry("qwen2_5_vl"))

and ``--reward_funcs accuracy format`` (or ``iou giou image_index ...``) trains on them. Its trainer turns each
reward list into ``torch.tensor(rewards)``, where a None (a row without a target box) is a ``TypeError``: every
reward here has ``none_value=0.0``. The ground truth is read in VLM-R1's layout (``"<answer> [x1, y1, x2, y2]
</answer>"`` in pixels of the original image, ``image_path``, ``image_grid_thw``).

UniVG-R1's difficulty weight, two lines in ``trainer/grpo_trainer.py``'s ``_generate_and_score_completions``,
right after ``advantages = (rewards - mean_grouped_rewards) / (std_grouped_rewards + 1e-4)``::

    from univg_plugin.integrations.vlm_r1 import weight_advantages
    advantages = weight_advantages(advantages, rewards_per_func, self.reward_funcs, self.num_generations)

The weight is positive and constant within a prompt group, so scaling the advantage scales the clipped policy
term of the loss and leaves the KL term alone, as in the paper (and in UniVG-R1's fork of this trainer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from univg_plugin.rewards import reward_options
from univg_plugin.rewards.presets import preset
from univg_plugin.weighting import difficulty_weights

__all__ = ["OUR_REWARDS", "VLM_R1_COLUMN_DEFAULTS", "VLM_R1_NAMES", "VLM_R1_OPTIONS", "registry", "weight_advantages"]

#: VLM-R1's reward names and the rewards of ours they stand for.
VLM_R1_NAMES = {"accuracy": "iou", "format": "format"}
#: Our rewards :func:`registry` offers under their own names too.
OUR_REWARDS = ("iou", "iou_threshold", "giou", "image_index", "grounding", "multi_box")
#: VLM-R1's trainer needs a number for a row a reward does not apply to.
VLM_R1_OPTIONS = {"none_value": 0.0}
#: VLM-R1's data (REC jsonl) hold boxes in pixels of the original image; a row's ``solution_space`` key wins.
VLM_R1_COLUMN_DEFAULTS = {"solution_space": "abs_image"}


def registry(model_family: str = "qwen2_vl", **options: Any) -> dict[str, Any]:
    """Reward functions for ``reward_funcs_registry``, by VLM-R1's names (``accuracy``, ``format``) and ours.

    Args:
        model_family: The policy's family (``qwen2_vl``, ``qwen2_5_vl``, ``qwen3_vl``): the box space the
            rewards read and the answer layout ``format`` accepts (VLM-R1's JSON layout for ``qwen2_5_vl`` and
            ``qwen3_vl``, the paper's ``(x1,y1),(x2,y2)`` for ``qwen2_vl``).
        **options: Options for every reward that takes them, over VLM-R1's ``none_value=0.0`` (e.g.
            ``solution_space="norm1000"`` for UniVG-R1's data, ``threshold=0.7``, ``policy="lenient"``). The
            ground truth is read in pixels of the original image (VLM-R1's data), unless a row's
            ``solution_space`` key or the ``solution_space`` option says otherwise.

    Returns:
        ``{name: reward function}``; each function's ``__name__`` is its name, which VLM-R1 logs as
        ``rewards/<name>``.

    Raises:
        KeyError: an unknown family.
        ValueError: an option no reward takes, a bad value, or a ``space`` the family does not write.

    Example:
        >>> rewards = registry("qwen2_5_vl")
        >>> sorted(rewards)[:3], rewards["accuracy"].__name__
        (['accuracy', 'format', 'giou'], 'accuracy')
    """
    names = {**VLM_R1_NAMES, **{name: name for name in OUR_REWARDS}}
    rewards = sorted(set(names.values()))
    settings = {**VLM_R1_OPTIONS, **options}
    per_reward = reward_options(rewards, None, **settings)
    unused = sorted(set(settings) - set().union(*map(set, per_reward.values())))
    if unused:
        raise ValueError(f"no VLM-R1 reward takes the option(s) {', '.join(unused)}")
    defaults = reward_options(rewards, None, **VLM_R1_COLUMN_DEFAULTS)
    return {
        alias: preset(model_family, reward, name=alias, column_defaults=defaults[reward], **per_reward[reward])
        for alias, reward in names.items()
    }


def weight_advantages(
    advantages: Any,
    rewards_per_func: Any,
    reward_funcs: Sequence[Any],
    group_size: int,
    *,
    accuracy_reward: str = "accuracy",
    method: str = "exp",
    normalize: bool = False,
    **params: float,
) -> Any:
    """VLM-R1's advantages times each completion's difficulty weight ``phi(mIoU of its prompt group)``.

    Args:
        advantages: The advantages of the whole gathered batch, ``(N,)``, before the trainer keeps its
            process's slice (a torch tensor or a NumPy array).
        rewards_per_func: The gathered rewards, ``(N, number of reward functions)``, ``group_size`` consecutive
            rows per prompt.
        reward_funcs: The trainer's reward functions (``self.reward_funcs``): the accuracy column is found by
            ``__name__``.
        group_size: Completions per prompt (``self.num_generations``).
        accuracy_reward: ``__name__`` of the reward whose group mean is the mIoU (``accuracy`` from
            :func:`registry`, or ``iou``).
        method: A weighting method of :data:`univg_plugin.weighting.WEIGHTING_METHODS` (``exp``: the paper's
            ``e^(1-mIoU)``).
        normalize: Rescale the weights to mean 1 over the batch.
        **params: The method's parameters.

    Returns:
        The weighted advantages, of the type, dtype and device of ``advantages``.

    Raises:
        ValueError: no reward function is named ``accuracy_reward``.
    """
    names = [getattr(function, "__name__", type(function).__name__) for function in reward_funcs]
    if accuracy_reward not in names:
        raise ValueError(
            f"no reward function named {accuracy_reward!r} among {names}: pass accuracy_reward=<the name of the "
            "IoU reward> to weight_advantages"
        )
    accuracy = rewards_per_func[:, names.index(accuracy_reward)]
    weights = difficulty_weights(accuracy, group_size, method=method, normalize=normalize, **params)
    return advantages * (weights.to(advantages) if hasattr(advantages, "to") else weights)

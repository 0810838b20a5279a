"""``stage: grpo`` inside LLaMA-Factory: its loaders, its callbacks, our trainer.

The model and processor are loaded by LLaMA-Factory (so ``finetuning_type``, ``freeze_vision_tower``,
quantization and DeepSpeed mean what they mean there), the dataset comes through ``dataset_info.json``
and LLaMA-Factory's converters (``"formatting": "univg"`` included), and training runs in the trainer
named by ``grpo_trainer`` (:data:`univg_plugin.trainer.TRAINERS`; by default
:class:`~univg_plugin.trainer.DifficultyAwareGRPOTrainer`) with LLaMA-Factory's logging, plotting and
checkpointing around it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ...boxes import AnswerPolicy, parse_image_index
from ...data import GroundingSample
from ...data.render import read_paper_answer
from ...qwen_vl import set_pixel_limits
from .converter import model_type_of

if TYPE_CHECKING:
    from datasets import Dataset
    from transformers import TrainerCallback

    from .hparams import GRPOFinetuningArguments


def run_grpo_training(config: dict[str, Any]) -> None:
    """LLaMA-Factory's ``_training_function`` for ``stage: grpo``: parse, add its callbacks, train."""
    import torch.distributed as dist
    from llamafactory.hparams import get_train_args
    from llamafactory.train.callbacks import LogCallback, ReporterCallback
    from transformers import EarlyStoppingCallback

    model_args, data_args, training_args, finetuning_args, generating_args = get_train_args(config.get("args"))
    finetuning_args.check_generation_batch(
        training_args.per_device_train_batch_size, training_args.gradient_accumulation_steps, training_args.world_size
    )
    finetuning_args.check_generating_arguments(generating_args)
    finetuning_args.resolve_model_family(model_type_of(model_args), data_args.template)
    callbacks: list[TrainerCallback] = list(config.get("callbacks") or [])
    callbacks.append(LogCallback())
    if finetuning_args.early_stopping_steps is not None:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=finetuning_args.early_stopping_steps))
    callbacks.append(ReporterCallback(model_args, data_args, finetuning_args, generating_args))
    run_grpo(model_args, data_args, training_args, finetuning_args, generating_args, callbacks)
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()  # after a barrier (patches._ranks_meet_before_teardown)


def _sample_from_aligned(row: dict[str, Any], index: int, space: str, where: str) -> GroundingSample:
    """A sample from a row LLaMA-Factory has aligned (``_prompt``, ``_response``, ``_images``, ...)."""
    prompt, response, images = row.get("_prompt") or [], row.get("_response") or [], row.get("_images") or []
    if row.get("_univg"):  # our format: the full sample, with the image paths LLaMA-Factory resolved
        sample = GroundingSample.model_validate_json(row["_univg"])
        return sample.model_copy(update={"images": list(images)}) if images else sample
    if len(prompt) != 1:
        raise ValueError(f"{where} row {index}: the GRPO stage takes single-turn prompts, got {len(prompt)} turns")
    if not images:
        raise ValueError(f"{where} row {index}: no images (the `images` column is empty)")
    answer = response[0]["content"] if response else ""
    reasoning, boxes, target = read_paper_answer(answer, AnswerPolicy.LENIENT)
    if not len(boxes):
        raise ValueError(
            f"{where} row {index}: the assistant turn has no box to use as the GRPO solution: {answer[:120]!r}"
        )
    if target is None and len(images) > 1:
        target = parse_image_index(answer, last=True)
    return GroundingSample(
        id=str(index),
        images=list(images),
        question=prompt[0]["content"],
        reasoning=reasoning,
        boxes=[tuple(box) for box in boxes.tolist()],
        space=space,
        target_image=target,
    )


def load_grpo_dataset(model_args, data_args, training_args, finetuning_args: GRPOFinetuningArguments) -> Dataset:
    """The training rows for TRL (prompt, images, solution, ...), loaded through ``dataset_info.json``.

    Raises:
        ValueError: a row without a usable solution box, naming the dataset, the row and the column.
    """
    from llamafactory.data.loader import _get_merged_dataset

    from ...data import grpo_features, grpo_row

    if data_args.eval_dataset is not None or data_args.val_size > 0:
        raise ValueError("the grpo stage does not evaluate during training: remove `eval_dataset` / `val_size`")
    with training_args.main_process_first(desc="load dataset"):
        aligned = _get_merged_dataset(data_args.dataset, model_args, data_args, training_args, stage="ppo")
        where = f"dataset {','.join(data_args.dataset)}"
        space = finetuning_args.reward_space

        def to_row(row: dict[str, Any], index: int) -> dict[str, Any]:
            return grpo_row(_sample_from_aligned(row, index, space, where))

        return aligned.map(
            to_row,
            with_indices=True,
            remove_columns=aligned.column_names,
            features=grpo_features(),
            load_from_cache_file=False,  # the fingerprint would not see changes to this package's code
            desc="Building GRPO rows",
        )


def grpo_config(training_args, finetuning_args, generating_args, model_args):
    """A :class:`DifficultyAwareGRPOConfig` from LLaMA-Factory's parsed arguments.

    LLaMA-Factory's training arguments that TRL's ``GRPOConfig`` shares, the GRPO keys, the sampling
    generating arguments (``temperature``, ``top_p``, ``top_k``, ``repetition_penalty``) and ``grpo_args``.
    """
    from ...trainer import DifficultyAwareGRPOConfig

    accepted = {f.name for f in dataclasses.fields(DifficultyAwareGRPOConfig) if f.init}
    values = {
        f.name: getattr(training_args, f.name)
        for f in dataclasses.fields(training_args)
        if f.init and f.name in accepted
    }
    values.update(
        remove_unused_columns=False,
        num_generations=finetuning_args.num_generations,
        beta=finetuning_args.beta,
        epsilon=finetuning_args.epsilon,
        num_iterations=finetuning_args.num_iterations,
        max_completion_length=finetuning_args.max_completion_length,
        loss_type=finetuning_args.loss_type,
        scale_rewards=finetuning_args.scale_rewards,
        use_vllm=finetuning_args.use_vllm,
        vllm_mode=finetuning_args.vllm_mode,
        log_completions=finetuning_args.log_completions,
        reward_weights=finetuning_args.reward_weights,
        temperature=generating_args.temperature,
        top_p=generating_args.top_p,
        top_k=generating_args.top_k or None,  # 0: no top-k filtering, which TRL spells None
        repetition_penalty=generating_args.repetition_penalty,
        min_p=finetuning_args.min_p,
        difficulty_weighting=finetuning_args.difficulty_weighting,
        difficulty_params=finetuning_args.difficulty_params or None,
        difficulty_accuracy_reward=finetuning_args.difficulty_accuracy_reward,
        difficulty_normalize=finetuning_args.difficulty_normalize,
    )
    if finetuning_args.epsilon_high is not None:
        values["epsilon_high"] = finetuning_args.epsilon_high
    if "max_prompt_length" in accepted:  # TRL 0.24: truncating a VLM prompt cuts image tokens
        values["max_prompt_length"] = None
    if finetuning_args.beta != 0.0 and finetuning_args.finetuning_type != "lora":
        values["model_init_kwargs"] = {"dtype": model_args.compute_dtype}  # the reference model's dtype
    values.update(finetuning_args.grpo_args)  # checked at parse time: none of the fields set above
    return DifficultyAwareGRPOConfig(**values)


def run_grpo(
    model_args,
    data_args,
    training_args,
    finetuning_args: GRPOFinetuningArguments,
    generating_args,
    callbacks: list[TrainerCallback],
) -> None:
    """Train with the ``grpo_trainer`` (difficulty-aware GRPO by default), then save, log and plot.

    A trainer registered by another package gets the same arguments as ours: ``trl.GRPOTrainer``'s
    (``model``, ``reward_funcs``, ``args``, ``train_dataset``, ``processing_class``, ``callbacks``), with
    a :class:`~univg_plugin.trainer.DifficultyAwareGRPOConfig` as ``args``.
    """
    from llamafactory.data import get_template_and_fix_tokenizer
    from llamafactory.model import load_model, load_tokenizer
    from llamafactory.train.trainer_utils import create_modelcard_and_push

    from ...rewards import load
    from ...trainer import TRAINERS

    dataset = load_grpo_dataset(model_args, data_args, training_args, finetuning_args)  # fails before the model
    tokenizer_module = load_tokenizer(model_args)
    tokenizer, processor = tokenizer_module["tokenizer"], tokenizer_module["processor"]
    if processor is None:
        raise ValueError(f"{model_args.model_name_or_path} has no multimodal processor: the grpo stage needs a VLM")
    get_template_and_fix_tokenizer(tokenizer, data_args)
    pixels = set_pixel_limits(processor.image_processor, model_args.image_min_pixels, model_args.image_max_pixels)
    model = load_model(tokenizer, model_args, finetuning_args, training_args.do_train)

    options = finetuning_args.reward_options(*pixels)  # the limits the processor resizes to, for abs_input
    trainer = TRAINERS.load(finetuning_args.grpo_trainer)(
        model=model,
        reward_funcs=load(finetuning_args.reward_funcs, options),
        args=grpo_config(training_args, finetuning_args, generating_args, model_args),
        train_dataset=dataset,
        processing_class=processor,
        callbacks=callbacks,
    )
    if training_args.do_train:
        _train(trainer, training_args, finetuning_args)
    create_modelcard_and_push(trainer, model_args, data_args, training_args, finetuning_args)


def _train(trainer, training_args, finetuning_args: GRPOFinetuningArguments) -> None:
    """Train, then save the model, metrics, state and (``plot_loss``) the curves, as LLaMA-Factory's stages do."""
    from llamafactory.extras.ploting import plot_loss

    result = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model()
    trainer.log_metrics("train", result.metrics)
    trainer.save_metrics("train", result.metrics)
    trainer.save_state()
    if trainer.is_world_process_zero() and finetuning_args.plot_loss:
        accuracy = finetuning_args.difficulty_accuracy_reward
        plot_loss(
            training_args.output_dir,
            keys=["loss", "reward", f"rewards/{accuracy}/mean", "difficulty/phi_mean", "difficulty/hard_share"],
        )

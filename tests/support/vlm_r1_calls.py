"""VLM-R1's calls re-created from its source (om-ai-lab/VLM-R1 at 90052f478646e38bc67363862f699b7afca6b337).

VLM-R1 is not a package: each helper below re-creates, line for line, what one place of its code does with
our functions, and names the file and lines. Paths are under ``src/open-r1-multimodal/src/open_r1/``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from univg_plugin.boxes import smart_resize

#: ``format_reward_rec`` of ``vlm_modules/qwen_module.py`` (line 93), run as ``re.search(pattern, content,
#: re.DOTALL)`` (line 95): VLM-R1's format reward for JSON grounding answers (Qwen2.5-VL).
FORMAT_REWARD_REC_PATTERN = r"<think>.*?</think>\s*<answer>.*?\{.*\[\d+,\s*\d+,\s*\d+,\s*\d+\].*\}.*?</answer>"

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_TRANSFORMERS = importlib.util.find_spec("transformers") is not None


def image_grid_thw(images: list, min_pixels: int, max_pixels: int) -> list:
    """One ``image_grid_thw`` row per image, as ``Qwen2VLModule.prepare_model_inputs`` hands the trainer
    (``vlm_modules/qwen_module.py``, lines 52-59): from the real Qwen2-VL image processor where transformers is
    installed (a torch tensor per row), else ``(1, h / 14, w / 14)`` of the size the processor resizes to."""
    if HAS_TRANSFORMERS and HAS_TORCH:
        from transformers import Qwen2VLImageProcessor

        processor = Qwen2VLImageProcessor(min_pixels=min_pixels, max_pixels=max_pixels)
        return list(processor(images=images, return_tensors="pt")["image_grid_thw"])
    rows = []
    for image in images:
        height, width = smart_resize(image.height, image.width, min_pixels=min_pixels, max_pixels=max_pixels)
        rows.append([1, int(height) // 14, int(width) // 14])
    return rows


def jsonl_row(image_paths: list[str], problem: str, solution: str, accu_reward_method: str = "default") -> dict:
    """A dataset row as ``grpo_jsonl.py``'s ``make_conversation_from_jsonl`` makes it (lines 995-1011): the
    solution wrapped in ``<answer> .. </answer>`` (line 1002), image paths kept as paths (line 1000)."""
    return {
        "image_path": list(image_paths),
        "problem": problem,
        "solution": f"<answer> {solution} </answer>",
        "accu_reward_method": accu_reward_method,
        "prompt": [
            {
                "role": "user",
                "content": [
                    *({"type": "image", "text": None} for _ in image_paths),
                    {"type": "text", "text": problem},
                ],
            }
        ],
    }


def call_reward_like_vlm_r1(reward_func: Callable[..., Any], inputs: list[dict], completions: list) -> list:
    """``trainer/grpo_trainer.py``, ``_generate_and_score_completions``, lines 661-667: every column but
    ``prompt`` and ``completion`` as a keyword list, one entry per completion (the inputs are already repeated
    per generation), then ``reward_func(prompts=prompts, completions=completions, **reward_kwargs)``."""
    prompts = [x["prompt"] for x in inputs]
    reward_kwargs = {key: [] for key in inputs[0].keys() if key not in ["prompt", "completion"]}  # noqa: SIM118
    for key in reward_kwargs:
        for example in inputs:
            reward_kwargs[key].extend([example[key]])
    return reward_func(prompts=prompts, completions=completions, **reward_kwargs)


def rewards_per_func_like_vlm_r1(reward_funcs: list, inputs: list[dict], completions: list):
    """Lines 643-668: ``rewards_per_func[:, i] = torch.tensor(output_reward_func, dtype=torch.float32)``."""
    import torch

    rewards_per_func = torch.zeros(len(inputs), len(reward_funcs))
    for i, reward_func in enumerate(reward_funcs):
        output_reward_func = call_reward_like_vlm_r1(reward_func, inputs, completions)
        rewards_per_func[:, i] = torch.tensor(output_reward_func, dtype=torch.float32)
    return rewards_per_func


def completion(text: str) -> list[dict[str, str]]:
    """A completion as VLM-R1 decodes it for a conversational dataset (lines 636-638)."""
    return [{"role": "assistant", "content": text}]

"""`llamafactory-cli export` of a `stage: grpo` LoRA adapter merged into its base: the merged model loads, holds
the base plus the adapter's update (as PEFT merges it), and generates."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml
from llamafactory_cli import BIN, REPO, output_of, run_cli
from plugin_site import install_test_plugin
from test_llamafactory_grpo import synth_data, tiny  # noqa: F401  (synth_data: a module fixture)
from zero3 import largest_weight_difference

pytestmark = [pytest.mark.slow, pytest.mark.llamafactory]


def export(config: dict, workdir) -> subprocess.CompletedProcess:
    """`llamafactory-cli export` on ``config`` (a YAML file)."""
    path = workdir / "export.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    command = [str(BIN / "llamafactory-cli"), "export", str(path)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, cwd=REPO)


def test_a_grpo_lora_adapter_merged_by_export_loads_and_generates(tmp_path, tiny_qwen2_vl, synth_data, make_images):  # noqa: F811
    import torch
    from peft import PeftModel
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    site = install_test_plugin(tmp_path / "site")
    adapter, merged = tmp_path / "adapter", tmp_path / "merged"
    rewards = {"reward_funcs": "answer_length", "difficulty_accuracy_reward": "answer_length"}  # the adapter moves
    config = tiny("grpo", tiny_qwen2_vl, synth_data, adapter, finetuning_type="lora", max_steps=2, **rewards)
    result = run_cli(config, tmp_path, env={"PYTHONPATH": str(site)})
    assert result.returncode == 0, output_of(result)[-4000:]
    assert (adapter / "adapter_model.safetensors").is_file()
    keys = {"model_name_or_path": str(tiny_qwen2_vl), "adapter_name_or_path": str(adapter), "template": "qwen2_vl"}
    result = export({**keys, "finetuning_type": "lora", "export_dir": str(merged)}, tmp_path)
    assert result.returncode == 0, output_of(result)[-4000:]

    model = AutoModelForImageTextToText.from_pretrained(merged)
    base = AutoModelForImageTextToText.from_pretrained(tiny_qwen2_vl)
    expected = PeftModel.from_pretrained(base, adapter).merge_and_unload()
    exported, reference = model.state_dict(), expected.state_dict()
    assert largest_weight_difference(exported, reference) <= 1e-6
    untouched = AutoModelForImageTextToText.from_pretrained(tiny_qwen2_vl).state_dict()
    assert largest_weight_difference(exported, untouched) > 1e-6  # the adapter's update is in the merged weights
    processor = AutoProcessor.from_pretrained(merged)
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where is the square?"}]}]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True)
    image = Image.open(make_images(tmp_path / "images", 1)[0])
    inputs = processor(text=[prompt], images=[image], return_tensors="pt")
    with torch.no_grad():
        generated = model.generate(**inputs, max_new_tokens=4, do_sample=False)
    assert generated.shape[1] > inputs["input_ids"].shape[1]

"""Each tiny checkpoint with its family's LLaMA-Factory template: image tokens expanded, answers kept as written."""

from __future__ import annotations

import pytest
from PIL import Image

from univg_plugin.boxes import smart_resize
from univg_plugin.data import GroundingSample, family_answer
from univg_plugin.qwen_vl import MODEL_FAMILIES
from univg_plugin.tiny_models import FAMILIES, build_tiny_qwen_vl

pytestmark = pytest.mark.llamafactory


def llamafactory_template(path, template: str):
    """LLaMA-Factory's tokenizer, processor and template for the checkpoint at ``path``, as its loaders make them."""
    from llamafactory.data.template import get_template_and_fix_tokenizer
    from llamafactory.hparams import DataArguments, ModelArguments
    from llamafactory.model.loader import load_tokenizer

    modules = load_tokenizer(ModelArguments(model_name_or_path=str(path)))
    tokenizer = modules["tokenizer"]
    return tokenizer, modules["processor"], get_template_and_fix_tokenizer(tokenizer, DataArguments(template=template))


@pytest.mark.parametrize("family", FAMILIES)
def test_the_familys_template_expands_images_and_keeps_the_familys_answer(tmp_path, family):
    conventions = MODEL_FAMILIES[family]
    path = build_tiny_qwen_vl(tmp_path / family, family=family)
    tokenizer, processor, template = llamafactory_template(path, conventions.llamafactory_template)
    sample = GroundingSample(
        id="a",
        images=["x.png"],
        question="Where?",
        reasoning="Top left.",
        boxes=[[0, 0, 500, 500]],
        image_sizes=[[90, 60]],
    )
    answer = family_answer(sample, family, min_pixels=3136, max_pixels=12544)
    messages = [{"role": "user", "content": "<image>Where?"}, {"role": "assistant", "content": answer}]
    image = Image.new("RGB", (90, 60))
    expanded = template.mm_plugin.process_messages(messages, [image], [], [], processor)
    grid = template.mm_plugin.get_mm_inputs([image], [], [], [1], [], [], [[0]], processor)["image_grid_thw"]
    assert expanded[0]["content"].count("<|image_pad|>") == int(grid.prod()) // 4  # 2 x 2 patches per token
    height, width = smart_resize(60, 90, conventions.resize_factor, 3136, 12544)
    assert grid.tolist() == [[1, height // conventions.patch_size, width // conventions.patch_size]]
    prompt, response = template.encode_oneturn(tokenizer, expanded)
    assert tokenizer.decode(prompt).endswith("Where?<|im_end|>\n<|im_start|>assistant\n")
    assert tokenizer.decode(response) == answer + "<|im_end|>\n"  # a reasoning template adds no second <think>

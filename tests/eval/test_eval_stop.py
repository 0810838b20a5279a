"""Generation stops at the answer's end, and a checkpoint saved by TRL generates without warnings."""

from __future__ import annotations

import json
import warnings

import pytest
from transformers import AutoTokenizer, GenerationConfig

from univg_plugin.data import read
from univg_plugin.data.synth import generate
from univg_plugin.eval import generate_predictions
from univg_plugin.tiny_models import TinyModelSpec, build_tiny_qwen_vl


@pytest.mark.slow
def test_generation_stops_at_the_end_of_the_answer_without_warnings(tmp_path):
    """A checkpoint that can only say ``</answer>`` (every other token suppressed by its generation config)
    stops after one: the rest of the budget is not generated."""
    spec = TinyModelSpec(extra_tokens=("</answer>",))
    model = build_tiny_qwen_vl(tmp_path / "model", family="qwen2_vl", seed=0, spec=spec)
    tokenizer = AutoTokenizer.from_pretrained(model)
    answer_end = tokenizer.convert_tokens_to_ids("</answer>")
    config = GenerationConfig.from_pretrained(model)
    config.suppress_tokens = [token for token in range(len(tokenizer)) if token != answer_end]
    config.save_pretrained(model)
    # a tokenizer saved with truncation on, as TRL's GRPO trainer saves it
    saved = json.loads((model / "tokenizer.json").read_text())
    saved["truncation"] = {"direction": "Right", "max_length": 32768, "strategy": "LongestFirst", "stride": 0}
    (model / "tokenizer.json").write_text(json.dumps(saved))
    data = generate(tmp_path / "data", n=4, seed=0, image_size=64)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "`max_length` is ignored when `padding`=`True`"
        result = generate_predictions(
            model, read(data), tmp_path / "predictions.jsonl", max_new_tokens=8, media_root=data.parent
        )
    rows = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert [row["output"] for row in rows] == ["</answer>"] * 4
    assert [row["generated_tokens"] for row in rows] == [1] * 4 and result.tokens == 4

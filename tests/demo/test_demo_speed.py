"""What keeps `univg demo` fast and talkative: stage 1 data parallel on one core per process, preprocessing
shown on the bar; one torch thread per evaluation process."""

from __future__ import annotations

from pathlib import Path

import pytest

from univg_plugin.demo import PLANS, stage1_config
from univg_plugin.demo import configs as demo_configs
from univg_plugin.demo import runner as demo_runner
from univg_plugin.demo.runner import preparation


def test_stage_1_splits_its_batch_over_one_process_per_core(monkeypatch):
    """Two processes of one thread each do a step of the tiny model faster than one process of two threads;
    each preprocesses with one ``datasets.map`` worker of one thread (two workers of two threads on two
    cores made LLaMA-Factory's preprocessing about 6x slower than one process)."""
    monkeypatch.setattr(demo_configs, "cpu_cores", lambda: 2)
    monkeypatch.setattr(demo_runner, "cpu_cores", lambda: 2)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    config = stage1_config(PLANS["default"], Path("demo_out"), seed=0)
    assert config["per_device_train_batch_size"] * 2 == PLANS["default"].sft_batch
    assert config["preprocessing_num_workers"] == 2
    environment = demo_runner._environment(run_count=1, ranks=2)
    assert (environment["FORCE_TORCHRUN"], environment["NPROC_PER_NODE"]) == ("1", "2")
    assert environment["OMP_NUM_THREADS"] == "1"


@pytest.mark.parametrize(("cores", "plan"), [(1, "default"), (2, "quick")])
def test_stage_1_runs_in_one_process_on_one_core_or_for_a_few_steps(monkeypatch, cores, plan):
    monkeypatch.setattr(demo_configs, "cpu_cores", lambda: cores)
    config = stage1_config(PLANS[plan], Path("demo_out"), seed=0)
    assert config["per_device_train_batch_size"] == PLANS[plan].sft_batch
    assert config["preprocessing_num_workers"] == 1
    monkeypatch.delenv("FORCE_TORCHRUN", raising=False)
    assert "FORCE_TORCHRUN" not in demo_runner._environment(run_count=1, ranks=1)


@pytest.mark.parametrize(
    ("log", "shown"),
    [
        (None, "starting"),
        ("[INFO] loading the tokenizer\n", "starting"),
        (
            "Converting format of dataset (num_proc=2):  30%|###       | 610/2000 [00:00<00:00, 1551.46 examples/s]",
            "preprocessing: converting 610/2000 samples",
        ),
        (
            "Converting format of dataset (num_proc=2): 100%|##########| 2000/2000 [00:01<00:00]\n"
            "Running tokenizer on dataset (num_proc=2):   0%|          | 0/2000 [00:00<?, ? examples/s]"
            "Running tokenizer on dataset (num_proc=2):  50%|#####     | 1000/2000 [00:54<00:54, 18.44 examples/s]",
            "preprocessing: tokenizing 1000/2000 samples",
        ),
        (
            "Running tokenizer on dataset: 100%|##########| 2000/2000 [01:08<00:00]\n***** Running training *****\n",
            "training: up to the first logged step",
        ),
    ],
)
def test_the_bar_says_what_a_run_prepares(tmp_path, log, shown):
    path = tmp_path / "stage1.log"
    if log is not None:
        path.write_text(log)
    assert preparation(path) == shown


def test_evaluation_runs_torch_on_one_thread_and_gives_the_threads_back():
    import torch

    from univg_plugin.demo.evaluation import one_torch_thread

    before = torch.get_num_threads()
    with one_torch_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(KeyError), one_torch_thread():
        raise KeyError("a failure inside")
    assert torch.get_num_threads() == before


def test_the_demo_tokenizer_has_one_token_for_each_word_of_the_template_and_answers(tmp_path):
    """Role names and CoT words split into letters made every sequence about 10% longer to compute."""
    from transformers import AutoTokenizer

    from univg_plugin.tiny_models import build_tiny_qwen_vl

    build_tiny_qwen_vl(tmp_path, spec=PLANS["default"].model)
    tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    words = ["system", "user", "assistant", "image", " image", " So", " the", " target", " square"]
    assert {word: tokenizer.tokenize(word) for word in words} == {word: [word.replace(" ", "Ġ")] for word in words}

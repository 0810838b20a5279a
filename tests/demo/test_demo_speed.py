"""What keeps `univg demo` fast and talkative: preprocessing in one process, shown on the bar; one torch thread
per evaluation process."""

from __future__ import annotations

import pytest

from univg_plugin.demo.runner import preparation


def test_stage_1_preprocesses_in_one_process():
    """``datasets.map`` workers would each take torch's threads: two workers of two threads on two cores
    made LLaMA-Factory's preprocessing about 6x slower than one process."""
    from pathlib import Path

    from univg_plugin.demo import PLANS, stage1_config

    assert stage1_config(PLANS["default"], Path("demo_out"), seed=0)["preprocessing_num_workers"] == 1


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

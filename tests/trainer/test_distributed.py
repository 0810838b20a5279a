"""A prompt group split across two processes (torchrun, gloo, CPU) is weighted as one group."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
from paths import DISTRIBUTED_GRPO_SCRIPT
from ports import free_port

from univg_plugin.weighting import difficulty_weights

pytestmark = [pytest.mark.slow, pytest.mark.distributed]


def test_group_split_over_two_ranks_gets_the_single_process_weight(tmp_path, tiny_qwen2_vl):
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
        str(DISTRIBUTED_GRPO_SCRIPT), str(tiny_qwen2_vl), str(tmp_path),
    ]  # fmt: skip
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert all(record["world_size"] == 2 for record in ranks)
    # the gathered rewards of the one group are [1, 1, 0, 0]: mIoU 0.5 on both ranks
    single_process = difficulty_weights([1.0, 1.0, 0.0, 0.0], group_size=4)[0].item()
    assert single_process == pytest.approx(math.exp(0.5))
    for record in ranks:
        assert record["weights"] == pytest.approx([single_process] * 2)
    # a per-device mean (the reference implementation) would have given e^0 on rank 0 and e^1 on rank 1

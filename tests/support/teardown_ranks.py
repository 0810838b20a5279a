"""Run under ``torchrun --nproc_per_node 2`` (gloo): rank 0 reaches the teardown a second late, as when it
still saves a checkpoint. Each rank writes ``OUTPUT_DIR/rank{N}.json``: when it called
``destroy_process_group`` and when that returned, inside the LLaMA-Factory patch's teardown guard."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch.distributed as dist

from univg_plugin.integrations.llamafactory.patches import _ranks_meet_before_teardown


def main() -> None:
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    original = dist.destroy_process_group
    with _ranks_meet_before_teardown():
        if rank == 0:
            time.sleep(1.0)
        called = time.time()
        dist.destroy_process_group()
        returned = time.time()
    record = {"called": called, "returned": returned, "restored": dist.destroy_process_group is original}
    (Path(sys.argv[1]) / f"rank{rank}.json").write_text(json.dumps(record))


if __name__ == "__main__":
    main()

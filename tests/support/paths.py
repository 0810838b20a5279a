"""Paths of the files the tests share."""

from pathlib import Path

#: Source-layout samples and their expected readings (``tests/golden``).
GOLDEN = Path(__file__).resolve().parents[1] / "golden"
#: The distributed GRPO script run under torchrun.
DISTRIBUTED_GRPO_SCRIPT = Path(__file__).resolve().with_name("distributed_grpo.py")
#: Two GRPO steps of DifficultyAwareGRPOTrainer, run under accelerate + DeepSpeed ZeRO-3 or torchrun.
DEEPSPEED_GRPO_SCRIPT = Path(__file__).resolve().with_name("deepspeed_grpo.py")
#: Under torchrun: each rank tears its process group down inside the LLaMA-Factory patch's teardown guard.
TEARDOWN_SCRIPT = Path(__file__).resolve().with_name("teardown_ranks.py")

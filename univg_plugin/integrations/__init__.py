"""Adapters to host frameworks: LLaMA-Factory (GRPO stage, dataset format), VLM-R1, EasyR1 and verl."""

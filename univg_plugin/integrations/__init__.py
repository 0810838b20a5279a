"""Adapters to host frameworks: LLaMA-Factory (GRPO stage, dataset format), VLM-R1, EasyR1 and verl.

Each adapter is independent of the others; :mod:`.scoring` is the batch scoring verl and EasyR1 share.
"""

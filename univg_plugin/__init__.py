"""univg-plugin: UniVG-R1 (reasoning-guided universal visual grounding with RL) for TRL and LLaMA-Factory.

One module per concept, dependencies pointing one way (the pure-Python/numpy core never imports a
trainer):

- :mod:`.boxes`: the one box parser, coordinate spaces and conversions, IoU / GIoU;
- :mod:`.rewards`: grounding rewards in TRL's convention and their entry-point registry;
- :mod:`.weighting`: the difficulty-aware weight phi(mIoU), torch only;
- :mod:`.trainer`: ``DifficultyAwareGRPOTrainer`` (TRL 0.24 and 1.x);
- :mod:`.data`: the CoT grounding format, readers/writers, validation, synthetic data;
- :mod:`.eval`: benchmarks' metrics, generation, reports;
- :mod:`.integrations`: LLaMA-Factory (``stage: grpo``, ``"formatting": "univg"``), EasyR1, verl;
- :mod:`.tiny_models`: tiny offline Qwen-VL checkpoints; :mod:`.demo`: ``univg demo``; :mod:`.cli`: ``univg``.
"""

__version__ = "0.1.0"

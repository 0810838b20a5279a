"""univg-plugin: UniVG-R1 (reasoning-guided universal visual grounding with RL) for TRL and LLaMA-Factory.

One package per concept, dependencies pointing one way, written down as import-linter contracts in
pyproject.toml (the core never imports torch, transformers, trl, llamafactory or datasets):

- :mod:`.boxes`: the one box parser, coordinate spaces and conversions, IoU / GIoU;
- :mod:`.rewards`: grounding rewards in TRL's convention and their entry-point registry;
- :mod:`.weighting`: the difficulty-aware weight phi(mIoU), NumPy (torch tensors accepted);
- :mod:`.trainer`: ``DifficultyAwareGRPOTrainer`` (TRL 0.24 and 1.x);
- :mod:`.data`: the CoT grounding format, readers/writers, validation, synthetic data;
- :mod:`.eval`: benchmarks' metrics, generation, reports, galleries, ``univg predict``;
- :mod:`.visual`: boxes drawn on their images, and the HTML pages of data previews and eval galleries;
- :mod:`.integrations`: LLaMA-Factory (``stage: grpo``, ``"formatting": "univg"``), VLM-R1, EasyR1, verl;
- :mod:`.plugins`: the entry-point registries of rewards, dataset formats, weighting methods and trainers;
- :mod:`.tiny_models`: tiny offline Qwen-VL checkpoints (Qwen2-VL, Qwen2.5-VL, Qwen3-VL); :mod:`.demo`: ``univg demo``;
  :mod:`.app`: ``univg app`` (Gradio); :mod:`.cli`: ``univg``.
"""

__version__ = "0.1.0"

"""LLaMA-Factory integration: ``stage: grpo`` and ``"formatting": "univg"`` without forking LLaMA-Factory.

Imported at interpreter start by ``univg_plugin_hook.pth`` (through :mod:`.startup`), so this package
must stay import-free: the work happens in :mod:`.hook` once LLaMA-Factory itself is imported.
"""

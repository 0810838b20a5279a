"""Whether the LLaMA-Factory integration works in this environment, and why not (for ``univg doctor``)."""

from __future__ import annotations

import importlib

from ...compat import LLAMAFACTORY, installed_version
from . import DISABLE_VARIABLE, disabled, import_hook, patches


def integration_status() -> tuple[bool, str]:
    """Whether ``stage: grpo`` and ``"formatting": "univg"`` are available, and a line saying why (not).

    Imports LLaMA-Factory's two patched modules when a supported version is installed.

    Returns:
        ``(ok, message)``; ``ok`` is False only when a supported LLaMA-Factory is installed and the
        integration is not active in it although it was not turned off.
    """
    if disabled():
        return True, f"off ({DISABLE_VARIABLE} is set)"
    version = installed_version("llamafactory")
    if version is None:
        return True, "inactive (llamafactory is not installed)"
    if not LLAMAFACTORY.accepts(version):
        return True, f"inactive: llamafactory {version} is not supported (supported: {LLAMAFACTORY.describe()})"
    if not import_hook.installed():
        return False, "inactive: univg_plugin_hook.pth is missing from site-packages (reinstall univg-plugin)"
    importlib.import_module("llamafactory.data.converter")  # importing them triggers the patches
    importlib.import_module("llamafactory.train.tuner")
    stage, converter = patches.applied["stage"], patches.applied["converter"]
    if stage and converter:
        return True, f"active (llamafactory {version}: stage 'grpo' and formatting 'univg' available)"
    return False, f"inactive: the patches did not apply (stage: {stage}, converter: {converter})"

"""LLaMA-Factory integration: ``stage: grpo`` and ``"formatting": "univg"`` without forking LLaMA-Factory.

Imported at interpreter start by ``univg_plugin_hook.pth`` (through :mod:`.import_hook`), so this
package must stay import-free: the work happens in :mod:`.patches` once LLaMA-Factory itself is
imported. :mod:`.status` says whether the integration is active (``univg doctor``).
"""

import os

#: The ``formatting`` of our jsonl in ``dataset_info.json``; ``univg:<format>`` names any registered dataset format.
CONVERTER_NAME = "univg"
#: The environment variable that turns the integration off (the .pth line checks it too, by itself).
DISABLE_VARIABLE = "UNIVG_PLUGIN_DISABLE"


def disabled() -> bool:
    """Whether :data:`DISABLE_VARIABLE` turns the integration off (``1``, ``true``, ``yes`` or ``on``)."""
    return os.environ.get(DISABLE_VARIABLE, "").lower() in ("1", "true", "yes", "on")

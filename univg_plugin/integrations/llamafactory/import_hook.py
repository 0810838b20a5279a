"""Interpreter-start import hook (run by ``univg_plugin_hook.pth``): waits for LLaMA-Factory to be imported.

Kept tiny on purpose: it imports nothing beyond ``sys`` and adds one finder to ``sys.meta_path``. When
Python later imports one of :data:`WATCHED` (``llamafactory.data.converter``, ...), the module is
executed as usual and then handed to :mod:`.patches`, which patches it. Set ``UNIVG_PLUGIN_DISABLE=1``
to turn the hook off (the .pth line then imports nothing at all).

The .pth file is one line (``site`` executes only lines that start with ``import``) that runs
``install()`` inside ``try``/``except BaseException``: a broken install (a moved checkout, a package
raising, even ``SystemExit``) costs one line on stderr naming the fix, never a traceback at every
start or an interpreter that cannot start.
"""

from __future__ import annotations

import sys

#: Modules whose import triggers a patch, and the :mod:`.patches` function that applies it.
WATCHED = {
    "llamafactory.data.converter": "on_converter_imported",
    "llamafactory.data.loader": "on_loader_imported",
    "llamafactory.train.tuner": "on_tuner_imported",
}


class _PatchingLoader:
    """Wraps a module's loader: executes the module, then hands it to its patch."""

    def __init__(self, loader, callback_name: str):
        self._loader = loader
        self._callback_name = callback_name

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        try:
            from . import patches

            getattr(patches, self._callback_name)(module)
        except Exception as error:  # a failed patch must never break LLaMA-Factory itself
            import warnings

            warnings.warn(f"univg-plugin could not patch {module.__name__}: {error!r}", stacklevel=2)

    def __getattr__(self, name):  # get_source, get_filename, ... for tracebacks and inspect
        return getattr(self._loader, name)


class PostImportFinder:
    """A ``sys.meta_path`` finder that only decorates the loaders of :data:`WATCHED` modules."""

    def find_spec(self, fullname, path=None, target=None):
        callback_name = WATCHED.get(fullname)
        if callback_name is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _PatchingLoader(spec.loader, callback_name)
        return spec


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once)."""
    if not installed():
        sys.meta_path.insert(0, PostImportFinder())


def installed() -> bool:
    """Whether the finder is active in this process."""
    return any(isinstance(finder, PostImportFinder) for finder in sys.meta_path)

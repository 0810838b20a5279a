"""Plugin registries: every kind of plugin is found by name through a Python entry-point group.

| group | a name maps to | built-ins declared in |
|---|---|---|
| ``univg_plugin.rewards`` | a reward function (TRL's convention) | ``univg_plugin.rewards.registry`` |
| ``univg_plugin.formats`` | a dataset ``Format`` subclass | ``univg_plugin.data.formats`` |
| ``univg_plugin.difficulty`` | a ``WeightingMethod`` | ``univg_plugin.weighting`` |
| ``univg_plugin.trainers`` | a ``trl.GRPOTrainer`` subclass | ``univg_plugin.trainer`` |

Each concept declares its built-ins once, as a literal table ``name -> "module:attribute"`` given to its
:class:`Registry`; ``pyproject.toml`` declares the same entry points (a test keeps the two equal), so
other tools discover ours through the groups, and a source checkout without installed metadata still
finds every built-in. Another package adds a plugin with an entry point in the group, e.g.::

    [project.entry-points."univg_plugin.rewards"]
    my_reward = "my_package.rewards:my_reward"

On a name collision the built-in wins (and a package loaded first wins over a later one), with a
warning that names both packages. ``univg plugins`` lists every name of every group and its package.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BUILTIN_PROVIDER", "Plugin", "Registry"]

#: The distribution that provides the built-ins.
BUILTIN_PROVIDER = "univg-plugin"


@dataclass(frozen=True)
class Plugin:
    """One registered name.

    Attributes:
        name: The name users write (``reward_funcs: iou``).
        target: Where it lives, ``"module:attribute"``; empty for an object registered at run time.
        provider: The distribution that provides it (``univg-plugin`` for the built-ins).
        value: The object itself when it was registered at run time (None: import ``target``).
    """

    name: str
    target: str
    provider: str
    value: Any = None

    def load(self) -> Any:
        """The registered object (imports its module on first use)."""
        if self.value is not None:
            return self.value
        module, _, attribute = self.target.partition(":")
        obj = importlib.import_module(module)
        for part in attribute.split("."):
            obj = getattr(obj, part)
        return obj


def _normalized(distribution: str) -> str:
    return distribution.lower().replace("_", "-").replace(".", "-")


class Registry:
    """The names of one plugin kind: built-ins, installed entry points and run-time registrations.

    Args:
        group: The entry-point group, e.g. ``univg_plugin.rewards``.
        kind: What one plugin is, for messages (``reward``, ``dataset format``, ...).
        builtins: ``name -> "module:attribute"`` of the plugins this package provides.

    Example:
        >>> registry = Registry("univg_plugin.examples", "example", {"pi": "math:pi"})
        >>> round(registry.load("pi"), 2), registry.provider("pi")
        (3.14, 'univg-plugin')
    """

    def __init__(self, group: str, kind: str, builtins: Mapping[str, str]):
        self.group = group
        self.kind = kind
        self.builtins = dict(builtins)
        self._plugins: dict[str, Plugin] | None = None
        self._registered: dict[str, Plugin] = {}

    def plugins(self) -> dict[str, Plugin]:
        """Every plugin by name (sorted): the built-ins, other packages' entry points and run-time registrations."""
        if self._plugins is None:
            self._plugins = self._discover()
        return dict(sorted({**self._plugins, **self._registered}.items()))

    def refresh(self) -> None:
        """Look for installed entry points again (after a package was installed in this process)."""
        self._plugins = None

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return list(self.plugins())

    def provider(self, name: str) -> str:
        """The distribution that provides ``name``."""
        return self._get(name).provider

    def load(self, name: str) -> Any:
        """The object registered under ``name``.

        Raises:
            KeyError: an unknown name (the message lists the known ones).
        """
        return self._get(name).load()

    def register(self, name: str, value: Any, provider: str = "(registered at run time)") -> Any:
        """Register ``value`` under ``name`` in this process (for code that cannot declare an entry point).

        Raises:
            ValueError: ``name`` is taken.
        """
        if name in self.plugins():
            raise ValueError(f"{self.kind} {name!r} already exists (provided by {self.provider(name)})")
        self._registered[name] = Plugin(name, "", provider, value)
        return value

    def __contains__(self, name: object) -> bool:
        return name in self.plugins()

    def _get(self, name: str) -> Plugin:
        plugins = self.plugins()
        if name not in plugins:
            raise KeyError(f"unknown {self.kind} {name!r}; known {self.kind}s: {', '.join(plugins) or '(none)'}")
        return plugins[name]

    def _discover(self) -> dict[str, Plugin]:
        found = {name: Plugin(name, target, BUILTIN_PROVIDER) for name, target in self.builtins.items()}
        entry_points = sorted(
            importlib.metadata.entry_points(group=self.group),
            key=lambda ep: (ep.name, _distribution(ep)),
        )
        for entry_point in entry_points:
            provider = _distribution(entry_point)
            if _normalized(provider) == BUILTIN_PROVIDER:
                continue  # our own metadata: the built-in table above is the declaration
            if entry_point.name in found:
                winner = found[entry_point.name]
                warnings.warn(
                    f"{self.kind} {entry_point.name!r} of package {provider!r} ({entry_point.value}) is ignored: "
                    f"the name is taken by package {winner.provider!r} ({winner.target}); register it under "
                    "another name to use it",
                    stacklevel=3,
                )
                continue
            found[entry_point.name] = Plugin(entry_point.name, entry_point.value, provider)
        return found


def _distribution(entry_point: importlib.metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    return dist.metadata["Name"] if dist is not None else "(unknown package)"

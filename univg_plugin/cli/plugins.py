"""``univg plugins``: every registered name of every plugin group, with the package that provides it."""

from __future__ import annotations

import importlib

import click

#: Each plugin group and where its registry lives (imported on use: the trainers' needs TRL).
REGISTRIES = {
    "univg_plugin.rewards": ("univg_plugin.rewards", "REWARDS"),
    "univg_plugin.formats": ("univg_plugin.data.formats", "FORMATS"),
    "univg_plugin.difficulty": ("univg_plugin.weighting", "WEIGHTING_METHODS"),
    "univg_plugin.trainers": ("univg_plugin.trainer", "TRAINERS"),
}


def _rows(group: str) -> list[tuple[str, str, str]]:
    """``(name, package, target)`` of every plugin of ``group``, or one row saying why there are none."""
    module, attribute = REGISTRIES[group]
    try:
        registry = getattr(importlib.import_module(module), attribute)
    except ImportError as error:
        return [("(unavailable)", "", f"{module} cannot be imported here: {error}")]
    plugins = registry.plugins().items()
    return [(name, plugin.provider, plugin.target or "(registered at run time)") for name, plugin in plugins]


@click.command("plugins")
@click.option("--group", type=click.Choice(sorted(REGISTRIES)), help="Only this entry-point group.")
def plugins(group: str | None) -> None:
    """List every plugin name: rewards, dataset formats, difficulty weighting methods and GRPO trainers.

    Built-ins come from univg-plugin; other installed packages add theirs with an entry point in the group,
    e.g. in their pyproject.toml:

    \b
        [project.entry-points."univg_plugin.rewards"]
        my_reward = "my_package.rewards:my_reward"
    """
    for name in [group] if group else sorted(REGISTRIES):
        click.echo(f"{name}:")
        rows = _rows(name)
        width = max(len(row[0]) for row in rows)
        provider_width = max(len(row[1]) for row in rows)
        for plugin, provider, target in rows:
            click.echo(f"  {plugin:<{width}}  {provider:<{provider_width}}  {target}")

"""``univg rewards``: the reward registry."""

from __future__ import annotations

import click


@click.group()
def rewards() -> None:
    """Grounding rewards: ours and those other installed packages register."""


@rewards.command("list")
def list_rewards() -> None:
    """Print every registered reward with a one-line description."""
    from ..rewards import available

    names = available()
    width = max(map(len, names))
    for name, summary in names.items():
        click.echo(f"{name:<{width}}  {summary}")

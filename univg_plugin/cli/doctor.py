"""``univg doctor``: which host-framework versions are installed and whether they work together."""

from __future__ import annotations

import click

from ..compat import support_report
from ..integrations.llamafactory.status import integration_status


@click.command()
def doctor() -> None:
    """Check the installed versions of python, torch, transformers, trl, datasets and llamafactory.

    Prints one line per package with its version and whether it is supported, then whether the
    LLaMA-Factory integration (the `stage: grpo` hook) is active. Exits 1 when something is
    unsupported, naming the versions that work.
    """
    checks = support_report()
    width = max(len(check.package) for check in checks)
    for check in checks:
        mark = "ok " if check.ok else "BAD"
        version = check.version or "-"
        click.echo(f"[{mark}] {check.package:<{width}}  {version:<14} {check.message}")
    hook_ok, hook_message = integration_status()
    click.echo(f"[{'ok ' if hook_ok else 'BAD'}] llamafactory integration: {hook_message}")
    failures = [check for check in checks if not check.ok] + ([] if hook_ok else ["integration"])
    if failures:
        click.echo(f"{len(failures)} problem(s): see the lines marked BAD above.", err=True)
        raise SystemExit(1)
    click.echo("all supported")

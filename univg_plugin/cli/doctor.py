"""``univg doctor``: which host-framework versions are installed and whether they work together."""

from __future__ import annotations

import click

from ..compat import FEATURES, feature_problems, support_report


@click.command()
def doctor() -> None:
    """Check the installed versions of python, torch, transformers, trl, datasets and llamafactory.

    Prints one line per package with its version and whether it is supported, whether the
    LLaMA-Factory integration (the `stage: grpo` hook) is active, then what works here beyond the core
    (rewards, boxes, weighting, data, eval scoring need none of these packages). Exits 1 when an
    installed package is unsupported, naming the versions that work.
    """
    from ..integrations.llamafactory.status import integration_status

    checks = support_report()
    width = max(len(check.package) for check in checks)
    for check in checks:
        mark = "ok " if check.ok else "BAD"
        version = check.version or "-"
        click.echo(f"[{mark}] {check.package:<{width}}  {version:<14} {check.message}")
    hook_ok, hook_message = integration_status()
    click.echo(f"[{'ok ' if hook_ok else 'BAD'}] llamafactory integration: {hook_message}")
    for name, feature in FEATURES.items():
        problems = feature_problems(name)
        verdict = f"{'; '.join(problems)} (pip install 'univg-plugin[{feature.extra}]')" if problems else "works"
        click.echo(f"[{'-- ' if problems else 'ok '}] {name} ({feature.description}): {verdict}")
    failures = [check for check in checks if not check.ok] + ([] if hook_ok else ["integration"])
    if failures:
        click.echo(f"{len(failures)} problem(s): see the lines marked BAD above.", err=True)
        raise SystemExit(1)
    click.echo("all supported")

"""``univg doctor``: which host-framework versions are installed and whether they work together."""

from __future__ import annotations

import click

from ..compat import FEATURES, feature_problems, installed_version, support_report
from ..qwen_vl import MODEL_FAMILIES, ModelFamily


def family_problems(family: ModelFamily) -> list[str]:
    """What the installed transformers and LLaMA-Factory lack for ``family`` (its model class, its template)."""
    import importlib.util

    problems = []
    if importlib.util.find_spec("transformers") is None:
        problems.append("transformers is not installed")
    else:
        problems += _model_class_problems(family.model_class)
    if installed_version("llamafactory"):
        problems += _template_problems(family.llamafactory_template)
    return problems


def _template_problems(template: str) -> list[str]:
    """Why the installed LLaMA-Factory cannot give ``template`` (none when it can); never raises."""
    version = installed_version("llamafactory")
    try:
        from llamafactory.data.template import TEMPLATES
    except Exception as error:
        return [f"LLaMA-Factory {version} cannot be imported ({type(error).__name__}: {error})"]
    return [] if template in TEMPLATES else [f"LLaMA-Factory {version} has no template {template!r}"]


def _model_class_problems(model_class: str) -> list[str]:
    """Why the installed transformers cannot give ``model_class`` (none when it can); never raises."""
    import transformers

    try:
        getattr(transformers, model_class)
    except AttributeError:
        return [f"transformers {transformers.__version__} has no {model_class}"]
    except Exception as error:  # a lazy module whose import fails raises RuntimeError, not AttributeError
        return [f"transformers {transformers.__version__} cannot import {model_class} ({type(error).__name__})"]
    return []


def _family_line(family: ModelFamily) -> str:
    """``[ok ] family qwen3_vl: ...``: what this environment can do with ``family``."""
    problems = family_problems(family)
    if problems:
        return f"[-- ] family {family.name}: {'; '.join(problems)}"
    template = f", LLaMA-Factory template {family.llamafactory_template}" if installed_version("llamafactory") else ""
    return f"[ok ] family {family.name}: transformers {family.model_class}{template}"


@click.command()
def doctor() -> None:
    """Check the installed versions of python, torch, transformers, trl, datasets and llamafactory.

    Prints one line per package with its version and whether it is supported, whether the
    LLaMA-Factory integration (the `stage: grpo` hook) is active, then what works here beyond the core
    (rewards, boxes, weighting, data, eval scoring need none of these packages), then which model families
    (Qwen2-VL, Qwen2.5-VL, Qwen3-VL) the installed transformers and LLaMA-Factory support: the model class and,
    where LLaMA-Factory is installed, its template. Exits 1 when an installed package is unsupported, naming the
    versions that work (a family the installed versions lack is not a failure).
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
    for family in MODEL_FAMILIES.values():
        click.echo(_family_line(family))
    failures = [check for check in checks if not check.ok] + ([] if hook_ok else ["integration"])
    if failures:
        click.echo(f"{len(failures)} problem(s): see the lines marked BAD above.", err=True)
        raise SystemExit(1)
    click.echo("all supported")

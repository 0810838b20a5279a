"""The ``univg`` command line: one click group, one module per command family.

Heavy imports (torch, transformers, LLaMA-Factory) happen inside the commands, so ``univg --help``
answers instantly.
"""

from __future__ import annotations

import click

from .. import __version__
from .data import data
from .demo import demo
from .doctor import doctor
from .eval import eval_group
from .plugins import plugins
from .predict import app, predict
from .rewards import rewards
from .tiny import tiny_model


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="univg")
def main() -> None:
    """UniVG-R1 for TRL and LLaMA-Factory: grounding rewards, difficulty-aware GRPO, data tools,
    evaluation and a laptop demo.

    Run `univg COMMAND --help` for the options of each command.
    """


main.add_command(doctor)
main.add_command(tiny_model)
main.add_command(rewards)
main.add_command(plugins)
main.add_command(data)
main.add_command(eval_group)
main.add_command(demo)
main.add_command(predict)
main.add_command(app)

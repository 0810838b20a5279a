"""Click pieces the ``univg`` command families share: path types, ``KEY=VALUE`` options, option groups."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

Command = TypeVar("Command", bound=Callable[..., Any])


class _RegularFile(click.Path):
    """An existing regular file: a pipe or a device is refused, since the readers seek in their input."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = super().convert(value, param, ctx)
        if not path.is_file():
            self.fail(f"{str(path)!r} is not a regular file (a pipe or a device); write it to a file first", param, ctx)
        return path


#: An existing file, given to the command as a :class:`~pathlib.Path`.
EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
#: An existing regular file holding data rows (jsonl or a JSON list), given as a :class:`~pathlib.Path`.
DATA_FILE = _RegularFile(exists=True, dir_okay=False, path_type=Path)
#: A directory (it need not exist yet), given as a :class:`~pathlib.Path`.
DIRECTORY = click.Path(file_okay=False, path_type=Path)


def parse_key_values(pairs: tuple[str, ...], flag: str) -> dict[str, Any]:
    """Options given as ``KEY=VALUE`` (dashes in keys become underscores, ``true`` / ``false`` booleans).

    Args:
        pairs: The option's values.
        flag: The option's name, for the error message.

    Raises:
        click.BadParameter: for a value without ``=`` or without a key.

    Example:
        >>> parse_key_values(("space=norm1", "dataset-info=true"), "--read-option")
        {'space': 'norm1', 'dataset_info': True}
    """
    options: dict[str, Any] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=flag)
        options[key.replace("-", "_")] = {"true": True, "false": False}.get(value.lower(), value)
    return options


def read_option(help_text: str) -> Callable[[Command], Command]:
    """``-r/--read-option KEY=VALUE``, repeatable, as ``read_options`` (parse it with :func:`parse_key_values`)."""
    return click.option("-r", "--read-option", "read_options", multiple=True, help=help_text)


def option_group(*options: Callable[[Command], Command]) -> Callable[[Command], Command]:
    """One decorator applying ``options`` in the order given (the first one is listed first in ``--help``)."""

    def apply(command: Command) -> Command:
        return functools.reduce(lambda wrapped, option: option(wrapped), reversed(options), command)

    return apply

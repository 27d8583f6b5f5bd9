"""Output formats of the OpenStack client: ``-f table|json|yaml|value``.

Commands build rows of plain data; this module only renders them, so every
command supports every format the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click
import yaml
from rich.console import Console
from rich.table import Table

FORMATS = ("table", "json", "yaml", "value")

#: Width for tables written to a pipe or file: wide enough that no cell is cut.
UNBOUNDED_WIDTH = 1_000_000


def format_option(function: Any) -> Any:
    return click.option(
        "-f",
        "--format",
        "output_format",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format, as in the OpenStack client.",
    )(function)


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, frozenset, set)):
        return [plain(item) for item in value]
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return value


def _cell(value: Any) -> str:
    value = plain(value)
    if value is None:
        return "None"
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2, sort_keys=True)
    return str(value)


def _console() -> Console:
    """A terminal fits tables to its width; a pipe gets every cell whole, as cliff does.

    Rich otherwise assumes 80 columns off a terminal and cuts cells with an
    ellipsis, so ``kiln stack list | grep`` would see truncated ids.
    """
    console = Console(highlight=False, soft_wrap=True)
    if console.is_terminal:
        return console
    return Console(highlight=False, soft_wrap=True, width=UNBOUNDED_WIDTH)


def print_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], output_format: str) -> None:
    """A list command's output: a table, or a list of objects keyed by column."""
    if output_format == "json":
        click.echo(
            json.dumps([dict(zip(columns, map(plain, row), strict=True)) for row in rows], indent=4)
        )
    elif output_format == "yaml":
        data = [dict(zip(columns, map(plain, row), strict=True)) for row in rows]
        click.echo(yaml.safe_dump(data, sort_keys=False, default_flow_style=False).rstrip())
    elif output_format == "value":
        for row in rows:
            click.echo(" ".join(_cell(value) for value in row))
    else:
        table = Table(*columns, show_lines=False)
        for row in rows:
            table.add_row(*(_cell(value) for value in row))
        _console().print(table)


def print_fields(fields: Sequence[tuple[str, Any]], output_format: str) -> None:
    """A show command's output: one object as Field/Value."""
    if output_format == "json":
        click.echo(json.dumps({k: plain(v) for k, v in fields}, indent=4))
    elif output_format == "yaml":
        data = {k: plain(v) for k, v in fields}
        click.echo(yaml.safe_dump(data, sort_keys=False, default_flow_style=False).rstrip())
    elif output_format == "value":
        for _, value in fields:
            click.echo(_cell(value))
    else:
        table = Table("Field", "Value", show_lines=False)
        for key, value in fields:
            table.add_row(key, _cell(value))
        _console().print(table)

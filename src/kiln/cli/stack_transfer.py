"""``kiln stack export|abandon|adopt``: a stack as data, and a stack taken over from data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from kiln.cli.backend import CreateOptions, stacks
from kiln.cli.formatting import format_option
from kiln.cli.stack import (
    _definition,
    _environment_option,
    _fail,
    _parameter_option,
    _start_and_show,
    stack,
)
from kiln.errors import KilnError

_output_file_option = click.option(
    "--output-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the data to this file instead of standard output.",
)


def _write(data: Any, output_file: Path | None) -> None:
    text = json.dumps(data, indent=2, sort_keys=True, default=str)
    if output_file is None:
        click.echo(text)
        return
    output_file.write_text(text + "\n", encoding="utf-8")
    click.echo(f"Data written to {output_file}", err=True)


@stack.command("export")
@click.argument("name_or_id")
@_output_file_option
def export(name_or_id: str, output_file: Path | None) -> None:
    """Print the stack's data (as abandon would) and leave the stack as it is."""
    try:
        data = stacks().transfer().export(name_or_id)
    except KilnError as error:
        raise click.ClickException(str(error)) from error
    _write(data, output_file)


@stack.command("abandon")
@click.argument("name_or_id")
@_output_file_option
def abandon(name_or_id: str, output_file: Path | None) -> None:
    """Forget the stack without deleting what it made, and print the data to adopt it again."""
    try:
        data = stacks().transfer().abandon(name_or_id)
    except KilnError as error:
        raise click.ClickException(str(error)) from error
    _write(data, output_file)


@stack.command("adopt")
@click.argument("name")
@click.option(
    "--adopt-file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The data abandon or export printed.",
)
@_environment_option
@_parameter_option
@click.option("--timeout", "timeout", type=int, help="Stack timeout in minutes.")
@click.option("--enable-rollback", is_flag=True, help="Roll back when adopting fails.")
@click.option("--wait", is_flag=True, help="Wait for the adoption to finish.")
@format_option
def adopt(
    name: str,
    adopt_file: Path,
    environments: tuple[Path, ...],
    parameters: tuple[str, ...],
    timeout: int | None,
    enable_rollback: bool,
    wait: bool,
    output_format: str,
) -> None:
    """Create stack NAME that takes over the resources an adopt file lists."""
    try:
        # Parsed where the API parses it, so that both modes say the same of bad data.
        text = adopt_file.read_text(encoding="utf-8")
    except (OSError, ValueError) as error:
        raise click.ClickException(f"{adopt_file}: cannot read the adopt data: {error}") from error
    using = stacks()
    try:
        definition = _definition(None, environments, parameters)
        options = CreateOptions(timeout, disable_rollback=not enable_rollback)
        record = using.transfer().adopt(name, text, definition, options)
    except KilnError as error:
        _fail(error)
        raise click.ClickException(str(error)) from error
    _start_and_show(using, record, wait, output_format)

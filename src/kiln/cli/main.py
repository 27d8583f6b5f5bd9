"""The ``kiln`` command: thin wrappers that read input, call Kiln, and print."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from kiln import __version__
from kiln.cli import (  # noqa: F401  (they add stack commands)
    stack_actions,
    stack_events,
    stack_inspect,
    stack_resources,
    stack_snapshot,
    stack_transfer,
)
from kiln.cli.environments import resolve_environments
from kiln.cli.files_map import gather_files
from kiln.cli.identity import add_identity_commands
from kiln.cli.output import print_diagnostics, print_functions
from kiln.cli.parameters import parse_parameters
from kiln.cli.serve import serve
from kiln.cli.software import software
from kiln.cli.stack import engine, stack
from kiln.config import limits_from_environment
from kiln.errors import Severity
from kiln.providers.registry import load_schema_registry
from kiln.template.dialects import HOT_ALIASES, HOT_VERSIONS
from kiln.template.render import render_resolved
from kiln.template.validate import SourceText, validate_template


@click.group()
@click.version_option(__version__, prog_name="kiln")
def main() -> None:
    """Kiln: cloud orchestration for Heat (HOT) and CloudFormation templates."""


main.add_command(stack)
main.add_command(engine)
main.add_command(software)
main.add_command(serve)
add_identity_commands(main)


@main.group()
def template() -> None:
    """Check and inspect templates without creating anything."""


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise click.FileError(str(path), hint=error.strerror or str(error)) from error


@template.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-e",
    "--environment",
    "environments",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    callback=resolve_environments,
    help="Environment file, or the name of one shipped with Kiln (local); repeat to merge "
    "several in order.",
)
@click.option(
    "-P",
    "--parameter",
    "parameters",
    multiple=True,
    metavar="KEY=VALUE",
    help="Parameter value; repeat, or separate several with ';'.",
)
@click.option("--lint", is_flag=True, help="Report unknown resource types as warnings, not errors.")
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option("--render", is_flag=True, help="Also print the resolved template when it is valid.")
def validate(
    file: Path,
    environments: tuple[Path, ...],
    parameters: tuple[str, ...],
    lint: bool,
    output_format: str,
    render: bool,
) -> None:
    """Validate FILE and print every problem as FILE:LINE:COL CODE path message."""
    try:
        limits = limits_from_environment(os.environ)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    files = gather_files(file, list(environments))
    result = validate_template(
        SourceText(str(file), _read(file)),
        registry=load_schema_registry(),
        environments=[SourceText(str(path), _read(path)) for path in environments],
        parameters=parse_parameters(parameters),
        files=files,
        lint=lint,
        limits=limits,
    )
    rendered: dict[str, Any] | None = render_resolved(result) if render and result.ok else None
    if output_format == "json":
        document: dict[str, Any] = {
            "valid": result.ok,
            "diagnostics": [d.to_dict() for d in result.diagnostics],
        }
        if rendered is not None:
            document["resolved"] = rendered
        click.echo(json.dumps(document, indent=2, default=str))
    else:
        print_diagnostics(str(file), result)
        if rendered is not None:
            click.echo(yaml.safe_dump(rendered, sort_keys=False, default_flow_style=False).rstrip())
    errors = sum(1 for d in result.diagnostics if d.severity is Severity.ERROR)
    sys.exit(1 if errors else 0)


@template.command("functions")
@click.option(
    "--version",
    "version",
    default="2021-04-16",
    show_default=True,
    type=click.Choice([*HOT_VERSIONS, *HOT_ALIASES, "cfn"]),
    help="A heat_template_version (date or release name), or 'cfn'.",
)
def functions(version: str) -> None:
    """List the intrinsic functions a template version has."""
    print_functions(version)

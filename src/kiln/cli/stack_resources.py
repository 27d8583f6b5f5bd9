"""``kiln stack resource list|show|signal``: a stack's resources."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kiln.cli.formatting import format_option, print_fields, print_rows
from kiln.cli.stack import _named_stack, stack
from kiln.cli.stack_events import nested_depth_option
from kiln.errors import KilnError


@stack.group("resource")
def resource() -> None:
    """Stack resources."""


@resource.command("list")
@click.argument("name_or_id")
@nested_depth_option
@format_option
def resource_list(name_or_id: str, nested_depth: int, output_format: str) -> None:
    using, stack_record = _named_stack(name_or_id)
    columns = (
        "resource_name",
        "physical_resource_id",
        "resource_type",
        "resource_status",
        "updated_time",
    )
    rows = [
        (r.name, r.physical_id or "", r.type, r.state, r.updated_at, stack_name)
        for stack_name, r in using.nested_resources(stack_record, nested_depth)
    ]
    if nested_depth:
        # As the OpenStack client does, a stack_name column says where each one lives.
        print_rows((*columns, "stack_name"), rows, output_format)
    else:
        print_rows(columns, [row[:-1] for row in rows], output_format)


@resource.command("signal")
@click.argument("name_or_id")
@click.argument("resource_name")
@click.option("--data", help="JSON data to send with the signal.")
@click.option(
    "--data-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A file holding the JSON data to send.",
)
def resource_signal(
    name_or_id: str, resource_name: str, data: str | None, data_file: Path | None
) -> None:
    """Send a signal to a resource (a wait condition handle, say)."""
    if data is not None and data_file is not None:
        raise click.UsageError("Should only specify one of data or data-file")
    text = data_file.read_text(encoding="utf-8") if data_file is not None else data
    try:
        details = json.loads(text) if text is not None else None
    except json.JSONDecodeError as error:
        raise click.ClickException(f"Data should be in JSON format: {error}") from error
    using, stack_record = _named_stack(name_or_id)
    try:
        using.signal(stack_record, resource_name, details)
    except KilnError as error:
        raise click.ClickException(str(error)) from error


@resource.command("show")
@click.argument("name_or_id")
@click.argument("resource_name")
@format_option
def resource_show(name_or_id: str, resource_name: str, output_format: str) -> None:
    using, stack_record = _named_stack(name_or_id)
    records = using.resource_records(stack_record)
    record = using.resource(stack_record, resource_name)
    if record is None:
        raise click.ClickException(
            f"The Resource ({resource_name}) could not be found in Stack {stack_record.name}."
        )
    print_fields(
        [
            ("resource_name", record.name),
            ("physical_resource_id", record.physical_id),
            ("resource_type", record.type),
            ("resource_status", record.state),
            ("resource_status_reason", record.status_reason),
            ("attributes", dict(record.attributes)),
            ("required_by", sorted(r.name for r in records if record.name in r.depends_on)),
            ("creation_time", record.created_at),
            ("updated_time", record.updated_at),
        ],
        output_format,
    )

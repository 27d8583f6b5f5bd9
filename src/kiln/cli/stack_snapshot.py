"""``kiln stack snapshot create|list|show|restore|delete``, as ``openstack stack snapshot``."""

from __future__ import annotations

import sys

import click

from kiln.cli.backend import stacks
from kiln.cli.formatting import format_option, print_fields, print_rows
from kiln.cli.stack import _start, _unsuccessful, stack
from kiln.errors import KilnError
from kiln.service.snapshots import shown


@stack.group("snapshot")
def snapshot() -> None:
    """Keep what a stack is, and return it there later."""


@snapshot.command("create")
@click.argument("name_or_id")
@click.option("--name", "snapshot_name", default="", help="A name for the snapshot.")
@click.option("--wait", is_flag=True, help="Wait until the snapshot is taken.")
@format_option
def snapshot_create(name_or_id: str, snapshot_name: str, wait: bool, output_format: str) -> None:
    """Take a snapshot of a stack (each resource that can keep a copy keeps one)."""
    using = stacks()
    snapshots = using.snapshots()
    try:
        record, taken = snapshots.create(name_or_id, snapshot_name)
    except KilnError as error:
        raise click.ClickException(str(error)) from error
    record = _start(using, record, wait)
    found = snapshots.get(record.id, taken.id) if wait else taken
    print_fields(
        [
            ("id", found.id),
            ("name", found.name or None),
            ("status", found.status.value),
            ("status_reason", found.status_reason),
            ("creation_time", found.created_at),
        ],
        output_format,
    )
    if wait and _unsuccessful(record):
        sys.exit(1)


@snapshot.command("list")
@click.argument("name_or_id")
@format_option
def snapshot_list(name_or_id: str, output_format: str) -> None:
    """List a stack's snapshots, oldest first."""
    try:
        found = stacks().snapshots().list(name_or_id)
    except KilnError as error:
        raise click.ClickException(str(error)) from error
    print_rows(
        ("id", "name", "status", "status_reason", "creation_time"),
        [(s.id, s.name or None, s.status.value, s.status_reason, s.created_at) for s in found],
        output_format,
    )


@snapshot.command("show")
@click.argument("name_or_id")
@click.argument("snapshot_id")
@format_option
def snapshot_show(name_or_id: str, snapshot_id: str, output_format: str) -> None:
    """Show a snapshot and the data it keeps."""
    try:
        found = stacks().snapshots().get(name_or_id, snapshot_id)
    except KilnError as error:
        raise click.ClickException(str(error)) from error
    # Times as every other command prints them (Heat's form).
    print_fields(list({**shown(found), "creation_time": found.created_at}.items()), output_format)


@snapshot.command("restore")
@click.argument("name_or_id")
@click.argument("snapshot_id")
@click.option("--wait", is_flag=True, help="Wait until the stack is restored.")
def snapshot_restore(name_or_id: str, snapshot_id: str, wait: bool) -> None:
    """Return a stack to a snapshot's template, environment and parameters."""
    using = stacks()
    try:
        record = using.snapshots().restore(name_or_id, snapshot_id)
    except KilnError as error:
        raise click.ClickException(str(error)) from error
    record = _start(using, record, wait)
    click.echo(f"{record.name} {record.state}")
    if wait and _unsuccessful(record):
        sys.exit(1)


@snapshot.command("delete")
@click.argument("name_or_id")
@click.argument("snapshot_id")
def snapshot_delete(name_or_id: str, snapshot_id: str) -> None:
    """Delete a snapshot."""
    try:
        left = stacks().snapshots().delete(name_or_id, snapshot_id)
    except KilnError as error:
        raise click.ClickException(str(error)) from error
    for line in left:
        click.echo(f"Warning: {line}", err=True)

"""``kiln stack event list``: what happened to a stack, its resources and nested stacks."""

from __future__ import annotations

from collections.abc import Sequence

import click

from kiln.cli.formatting import format_option, print_rows
from kiln.cli.stack import _named_stack, stack
from kiln.plan.state import EventRecord

nested_depth_option = click.option(
    "--nested-depth",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also list those of nested stacks, this many levels down.",
)


@stack.group("event")
def event() -> None:
    """Stack events."""


@event.command("list")
@click.argument("name_or_id")
@click.option("--resource", help="Only events of this resource.")
@click.option("--follow", is_flag=True, help="Keep printing new events until the operation ends.")
@nested_depth_option
@format_option
def event_list(
    name_or_id: str, resource: str | None, follow: bool, nested_depth: int, output_format: str
) -> None:
    using, stack_record = _named_stack(name_or_id)
    if follow:
        for events in using.follow_events(stack_record, resource):
            _print_events(events, "table")
    elif nested_depth:
        _print_nested_events(
            using.nested_events(stack_record, nested_depth, resource), output_format
        )
    else:
        _print_events(using.event_records(stack_record, resource), output_format)


def _print_nested_events(named: Sequence[tuple[str, EventRecord]], output_format: str) -> None:
    """Events of the stack and its nested stacks in time order, each with its stack's name."""
    if output_format == "table":
        for stack_name, item in named:
            time_text = f"{item.created_at:%Y-%m-%d %H:%M:%SZ}" if item.created_at else ""
            click.echo(
                f"{time_text} [{stack_name}/{item.resource_name}]: "
                f"{item.action}_{item.status}  {item.status_reason}"
            )
        return
    print_rows(
        (
            "id",
            "stack_name",
            "resource_name",
            "resource_status",
            "resource_status_reason",
            "event_time",
        ),
        [
            (
                e.id,
                stack_name,
                e.resource_name,
                f"{e.action}_{e.status}",
                e.status_reason,
                e.created_at,
            )
            for stack_name, e in named
        ],
        output_format,
    )


def _print_events(events: Sequence[EventRecord], output_format: str) -> None:
    if output_format == "table":
        for item in events:
            time_text = f"{item.created_at:%Y-%m-%d %H:%M:%SZ}" if item.created_at else ""
            click.echo(
                f"{time_text} [{item.resource_name}]: "
                f"{item.action}_{item.status}  {item.status_reason}"
            )
        return
    print_rows(
        ("id", "resource_name", "resource_status", "resource_status_reason", "event_time"),
        [
            (e.id, e.resource_name, f"{e.action}_{e.status}", e.status_reason, e.created_at)
            for e in events
        ],
        output_format,
    )

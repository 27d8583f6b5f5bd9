"""``kiln stack event list``: what happened to a stack, its resources and nested stacks."""

from __future__ import annotations

import dataclasses
import time

import click

from kiln.cli.embedded import Embedded
from kiln.cli.formatting import format_option, print_rows
from kiln.cli.stack import _embedded_stack, stack
from kiln.plan.state import Action, EventRecord, StackRecord, Status

#: How long ``event list --follow`` waits, once the operation has ended, for its closing event.
CLOSING_EVENT_GRACE_SECONDS = 2.0


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
    embedded, stack_record = _embedded_stack(name_or_id)
    if nested_depth and not follow:
        _print_nested_events(embedded, stack_record, nested_depth, resource, output_format)
        return
    last = 0
    follower = _Follower(stack_record.id)
    while True:
        events = embedded.service.event_records(stack_record, after=last, resource=resource)
        _print_events(events, "table" if follow else output_format)
        if events:
            last = events[-1].sequence
        current = embedded.service.stacks.get(stack_record.id, include_deleted=True)
        if not follow or current is None or follower.done(current, events):
            return
        time.sleep(0.5 if current.status is Status.IN_PROGRESS else 0.1)


@dataclasses.dataclass
class _Follower:
    """When ``event list --follow`` may stop: the operation it watched has ended and said so.

    The engine writes the final status, then the closing event, then (after a
    failure) starts the rollback, in separate steps; stopping at the first
    sign of the end could drop the closing event or the whole rollback.
    """

    stack_id: str
    #: The last stack-level event seen, as ACTION_STATUS.
    last_stack_state: str = ""
    was_running: bool = False
    ended_at: float | None = None

    def done(self, current: StackRecord, events: list[EventRecord]) -> bool:
        for item in events:
            if item.physical_id == self.stack_id:
                self.last_stack_state = f"{item.action}_{item.status}"
        if current.status is Status.IN_PROGRESS:
            self.was_running, self.ended_at = True, None
            return False
        if not self.was_running:
            return True
        self.ended_at = self.ended_at or time.monotonic()
        if time.monotonic() - self.ended_at > CLOSING_EVENT_GRACE_SECONDS:
            return True
        closed = self.last_stack_state == current.state
        may_roll_back = (
            current.status is Status.FAILED
            and current.action in (Action.CREATE, Action.UPDATE)
            and not current.disable_rollback
        )
        return closed and not may_roll_back


def _print_nested_events(
    embedded: Embedded,
    stack_record: StackRecord,
    nested_depth: int,
    resource: str | None,
    output_format: str,
) -> None:
    """Events of the stack and its nested stacks in time order, each with its stack's name."""
    named = [
        (member.name, item)
        for member in embedded.service.family(stack_record, nested_depth)
        for item in embedded.service.event_records(member, resource=resource)
    ]
    named.sort(key=lambda pair: (pair[1].created_at or 0, pair[1].sequence))
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


def _print_events(events: list[EventRecord], output_format: str) -> None:
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

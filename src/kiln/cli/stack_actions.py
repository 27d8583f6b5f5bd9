"""``kiln stack suspend|resume|check|drift``: looking at and acting on a stack as it stands."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from kiln.cli.backend import Stacks, stacks
from kiln.cli.formatting import format_option, print_rows
from kiln.cli.stack import _start, stack
from kiln.errors import KilnError
from kiln.plan.state import StackRecord, Status


def _action_command(name: str, summary: str, start: Callable[[Stacks, str], StackRecord]) -> None:
    @stack.command(name, help=summary)
    @click.argument("names", nargs=-1, required=True)
    @click.option("--wait", is_flag=True, help="Wait for the action to finish.")
    def command(names: tuple[str, ...], wait: bool) -> None:
        using = stacks()
        failed = False
        for name_or_id in names:
            try:
                record = start(using, name_or_id)
            except KilnError as error:
                click.echo(f"Error: {error}", err=True)
                failed = True
                continue
            record = _start(using, record, wait)
            click.echo(f"{record.name} {record.state}")
            failed = failed or record.status is Status.FAILED
        if failed:
            sys.exit(1)


_action_command(
    "suspend",
    "Suspend stacks: each resource, dependents first.",
    lambda using, name_or_id: using.suspend(name_or_id),
)
_action_command(
    "resume", "Resume suspended stacks.", lambda using, name_or_id: using.resume(name_or_id)
)
_action_command(
    "check",
    "Check that each resource of the stacks still exists.",
    lambda using, name_or_id: using.check(name_or_id),
)


@stack.command("drift")
@click.argument("name_or_id")
@format_option
def drift(name_or_id: str, output_format: str) -> None:
    """Compare each resource's real state with what Kiln recorded."""
    try:
        found = stacks().drift(name_or_id)
    except KilnError as error:
        raise click.ClickException(str(error)) from error
    print_rows(
        ("resource_name", "resource_type", "drift_status", "differences"),
        [
            (
                item.resource,
                item.type,
                item.status,
                "; ".join(f"{d.name}: {d.recorded!r} -> {d.actual!r}" for d in item.differences),
            )
            for item in found
        ],
        output_format,
    )

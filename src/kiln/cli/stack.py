"""``kiln stack ...``: the ``openstack stack`` verbs and options, run in embedded mode."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from kiln.cli.embedded import Embedded
from kiln.cli.files_map import gather_files
from kiln.cli.formatting import format_option, print_fields, print_rows
from kiln.cli.parameters import parse_parameters
from kiln.errors import DiagnosticError, KilnError
from kiln.persistence.listing import StackFilters
from kiln.plan.state import Action, EventRecord, StackRecord, Status
from kiln.service.preview import NestedPreview, preview_update
from kiln.service.stacks import StackDefinition

STACK_COLUMNS = ("ID", "Stack Name", "Stack Status", "Creation Time", "Updated Time")

#: The name the service gives the template text in diagnostics.
TEMPLATE_SOURCE = "template"

#: How long ``event list --follow`` waits, once the operation has ended, for its closing event.
CLOSING_EVENT_GRACE_SECONDS = 2.0


def _embedded() -> Embedded:
    return Embedded(dict(os.environ))


def _definition(
    template: Path | None, environments: tuple[Path, ...], parameters: tuple[str, ...]
) -> StackDefinition:
    files = gather_files(template, list(environments)) if template else {}
    return StackDefinition(
        template=template.read_text(encoding="utf-8") if template else "",
        files=files,
        environments=tuple((str(path), path.read_text(encoding="utf-8")) for path in environments),
        parameters=parse_parameters(parameters),
    )


def _fail(error: Exception, template: Path | None = None) -> None:
    """Print diagnostics as FILE:LINE:COL lines naming the user's file, or the error alone."""
    if isinstance(error, DiagnosticError):
        for diagnostic in error.diagnostics:
            if template is not None and diagnostic.source == TEMPLATE_SOURCE:
                diagnostic = dataclasses.replace(diagnostic, source=str(template))
            click.echo(diagnostic.render(), err=True)
        raise SystemExit(1)
    raise click.ClickException(str(error))


def _embedded_stack(name_or_id: str) -> tuple[Embedded, StackRecord]:
    """Embedded mode and the stack named; a command error when there is no such stack."""
    embedded = _embedded()
    try:
        return embedded, embedded.service.get(name_or_id)
    except KilnError as error:
        raise click.ClickException(str(error)) from error


def _unsuccessful(record: StackRecord) -> bool:
    """Failed, or rolled back: ``openstack stack create/update --wait`` exits 1 for both."""
    return record.status is Status.FAILED or record.action is Action.ROLLBACK


def _stack_row(stack: StackRecord) -> tuple[Any, ...]:
    return (stack.id, stack.name, stack.state, stack.created_at, stack.updated_at)


def _show_stack(embedded: Embedded, stack: StackRecord, output_format: str) -> None:
    outputs = embedded.service.outputs(stack) if stack.status is not Status.IN_PROGRESS else []
    fields: list[tuple[str, Any]] = [
        ("id", stack.id),
        ("stack_name", stack.name),
        ("creation_time", stack.created_at),
        ("updated_time", stack.updated_at),
        ("stack_status", stack.state),
        ("stack_status_reason", stack.status_reason),
        ("parameters", embedded.service.shown_parameters(stack)),
        ("outputs", [_output_entry(o) for o in outputs]),
        ("disable_rollback", stack.disable_rollback),
        ("timeout_mins", stack.timeout_mins),
        ("tags", list(stack.tags)),
    ]
    print_fields(fields, output_format)


def _output_entry(output: Any) -> dict[str, Any]:
    entry = {
        "output_key": output.key,
        "output_value": output.value,
        "description": output.description,
    }
    if output.error is not None:
        entry["output_error"] = output.error
    return entry


def _wait(embedded: Embedded, stack: StackRecord) -> StackRecord:
    """Run the operation here, showing resources in progress and done, and elapsed time."""
    started = time.monotonic()
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    live = (
        Live(console=console, transient=True, auto_refresh=False) if console.is_terminal else None
    )

    def progress() -> None:
        if live is None:
            return
        records = embedded.service.resource_records(stack)
        table = Table.grid(padding=(0, 2))
        busy = [r for r in records if r.status is Status.IN_PROGRESS]
        done = sum(1 for r in records if r.status is Status.COMPLETE)
        table.add_row(
            f"{stack.name}: {done} done, {len(busy)} in progress, {time.monotonic() - started:.1f}s"
        )
        for record in busy[:10]:
            table.add_row(f"  {record.name} {record.state}")
        live.update(table, refresh=True)

    if live is not None:
        live.start()
    try:
        final = _run_to_end(embedded, stack, progress)
    finally:
        if live is not None:
            live.stop()
    console.print(
        f"{final.name} {final.state} in {time.monotonic() - started:.1f}s: {final.status_reason}"
    )
    return final


def _run_to_end(embedded: Embedded, stack: StackRecord, progress: Any) -> StackRecord:
    """Run the operation here; while another engine holds the stack, watch it until it ends.

    The engine returns at once when another live engine (a detached run, say
    the one a cancel interrupts) holds the stack's lease; waiting means
    watching that one finish, or taking over if it dies and its lease expires.
    """
    while True:
        embedded.run_now(stack.id, progress)
        final = embedded.service.stacks.get(stack.id, include_deleted=True) or stack
        if final.status is not Status.IN_PROGRESS:
            return final
        progress()
        time.sleep(0.5)


def _start(embedded: Embedded, stack: StackRecord, wait: bool) -> StackRecord:
    if wait:
        return _wait(embedded, stack)
    embedded.run_detached(stack.id)
    return stack


def _start_and_show(embedded: Embedded, stack: StackRecord, wait: bool, output_format: str) -> None:
    """Start the operation, show the stack, and exit 1 when a waited-for operation failed."""
    record = _start(embedded, stack, wait)
    _show_stack(embedded, record, output_format)
    if wait and _unsuccessful(record):
        sys.exit(1)


@click.group()
def stack() -> None:
    """Create, update, delete and inspect stacks (embedded mode: a local database)."""


_template_option = click.option("-t", "--template", type=click.Path(dir_okay=False, path_type=Path))
_environment_option = click.option(
    "-e",
    "--environment",
    "environments",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
)
_parameter_option = click.option("--parameter", "parameters", multiple=True, metavar="KEY=VALUE")


@stack.command("create")
@click.argument("name")
@_template_option
@_environment_option
@_parameter_option
@click.option("--wait", is_flag=True, help="Wait for the operation and show its progress.")
@click.option("--timeout", "timeout", type=int, help="Stack timeout in minutes.")
@click.option("--disable-rollback", is_flag=True)
@click.option("--dry-run", is_flag=True, help="Show the plan without creating anything.")
@click.option("--tags", default="", help="Comma-separated tags.")
@format_option
def create(
    name: str,
    template: Path | None,
    environments: tuple[Path, ...],
    parameters: tuple[str, ...],
    wait: bool,
    timeout: int | None,
    disable_rollback: bool,
    dry_run: bool,
    tags: str,
    output_format: str,
) -> None:
    """Create a stack from a template."""
    if template is None:
        raise click.UsageError("a template is required (-t/--template)")
    embedded = _embedded()
    definition = _definition(template, environments, parameters)
    try:
        if dry_run:
            click.echo(embedded.service.preview(name, definition).render())
            return
        record = embedded.service.create(
            name,
            definition,
            timeout_mins=timeout,
            disable_rollback=disable_rollback,
            tags=[t for t in tags.split(",") if t],
        )
    except KilnError as error:
        _fail(error, template)
        return
    _start_and_show(embedded, record, wait, output_format)


@stack.command("update")
@click.argument("name_or_id")
@_template_option
@_environment_option
@_parameter_option
@click.option("--existing", is_flag=True, help="Reuse the stack's template and parameters (PATCH).")
@click.option("--clear-parameter", "clear", multiple=True)
@click.option("--wait", is_flag=True)
@click.option("--timeout", "timeout", type=int)
@click.option("--rollback", type=click.Choice(["enabled", "disabled", "keep"]), default="keep")
@click.option("--dry-run", is_flag=True, help="Show the plan without changing anything.")
@click.option(
    "--converge", is_flag=True, help="Read each resource's real state first and repair drift."
)
@click.option("--show-nested", is_flag=True, help="With --dry-run: also plan nested stacks.")
@format_option
def update(
    name_or_id: str,
    template: Path | None,
    environments: tuple[Path, ...],
    parameters: tuple[str, ...],
    existing: bool,
    clear: tuple[str, ...],
    wait: bool,
    timeout: int | None,
    rollback: str,
    dry_run: bool,
    converge: bool,
    show_nested: bool,
    output_format: str,
) -> None:
    """Update a stack (replace its definition, or patch it with --existing)."""
    embedded = _embedded()
    if template is None and not existing:
        raise click.UsageError("a template is required unless --existing is given")
    definition = _definition(template, environments, parameters)
    disable = {"enabled": False, "disabled": True}.get(rollback)
    try:
        current = embedded.service.get(name_or_id)
        if dry_run:
            merged = embedded.service.merged_definition(current, definition, existing, clear)
            if show_nested:
                _print_nested_preview(preview_update(embedded.service, current, merged))
            else:
                click.echo(embedded.service.preview(current.name, merged, current).render())
            return
        record = embedded.service.update(
            name_or_id,
            definition,
            existing=existing,
            clear_parameters=clear,
            timeout_mins=timeout,
            disable_rollback=disable,
            converge=converge,
        )
    except KilnError as error:
        _fail(error, template)
        return
    _start_and_show(embedded, record, wait, output_format)


def _print_nested_preview(previews: list[NestedPreview]) -> None:
    """The top plan as ``--dry-run`` prints it, then each nested stack's, indented."""
    for index, preview in enumerate(previews):
        indent = "  " * preview.path.count("/")
        if index:
            click.echo(f"{indent[:-2]}nested stack {preview.path} ({preview.stack_name}):")
        if preview.plan is None:
            click.echo(f"{indent}(no plan: {preview.note})")
            continue
        for line in preview.plan.render().splitlines():
            click.echo(f"{indent}{line}")


@stack.command("delete")
@click.argument("names", nargs=-1, required=True)
@click.option("--wait", is_flag=True)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(names: tuple[str, ...], wait: bool, yes: bool) -> None:
    """Delete stacks and everything they created."""
    if not yes and sys.stdin.isatty():
        click.confirm(f"Delete stack(s) {', '.join(names)}?", abort=True)
    embedded = _embedded()
    failed = False
    for name in names:
        try:
            record = embedded.service.delete(name)
        except KilnError as error:
            click.echo(str(error), err=True)
            failed = True
            continue
        record = _start(embedded, record, wait)
        failed = failed or record.status is Status.FAILED
    if failed:
        sys.exit(1)


@stack.command("cancel")
@click.argument("name_or_id")
@click.option("--no-rollback", is_flag=True, help="Stop without rolling back.")
@click.option("--wait", is_flag=True)
def cancel(name_or_id: str, no_rollback: bool, wait: bool) -> None:
    """Cancel the create or update in progress."""
    embedded = _embedded()
    try:
        record = embedded.service.cancel(name_or_id, rollback=not no_rollback)
    except KilnError as error:
        _fail(error)
        return
    if wait:
        record = _wait(embedded, record)
    click.echo(f"{record.name} {record.state}")


@stack.command("list")
@click.option("--property", "properties", multiple=True, help="Filter: name=x or status=y.")
@click.option("--tags", default="")
@click.option(
    "--sort", "sort", default="", help="key[:asc|desc],... (name, created_at, updated_at, status)."
)
@click.option("--limit", type=int)
@click.option("--marker")
@click.option("--deleted", is_flag=True)
@format_option
def list_stacks(
    properties: tuple[str, ...],
    tags: str,
    sort: str,
    limit: int | None,
    marker: str | None,
    deleted: bool,
    output_format: str,
) -> None:
    """List stacks."""
    embedded = _embedded()
    names = [p.split("=", 1)[1] for p in properties if p.startswith("name=")]
    statuses = [p.split("=", 1)[1] for p in properties if p.startswith("status=")]
    filters = StackFilters(
        names=names, statuses=statuses, tags=[t for t in tags.split(",") if t], show_deleted=deleted
    )
    keys = [item.split(":")[0] for item in sort.split(",") if item]
    direction = next((item.split(":")[1] for item in sort.split(",") if ":" in item), None)
    try:
        stacks = embedded.service.list_stacks(
            filters, sort_keys=keys, sort_dir=direction, limit=limit, marker=marker
        )
    except KilnError as error:
        _fail(error)
        return
    print_rows(STACK_COLUMNS, [_stack_row(s) for s in stacks], output_format)


@stack.command("show")
@click.argument("name_or_id")
@format_option
def show(name_or_id: str, output_format: str) -> None:
    """Show a stack, its parameters and outputs."""
    embedded = _embedded()
    try:
        record = embedded.service.get(name_or_id)
    except KilnError as error:
        _fail(error)
        return
    _show_stack(embedded, record, output_format)


@stack.group("output")
def output() -> None:
    """Stack outputs."""


@output.command("list")
@click.argument("name_or_id")
@format_option
def output_list(name_or_id: str, output_format: str) -> None:
    embedded, stack_record = _embedded_stack(name_or_id)
    outputs = embedded.service.outputs(stack_record)
    print_rows(
        ("output_key", "description"), [(o.key, o.description) for o in outputs], output_format
    )


@output.command("show")
@click.argument("name_or_id")
@click.argument("key")
@format_option
def output_show(name_or_id: str, key: str, output_format: str) -> None:
    embedded, stack_record = _embedded_stack(name_or_id)
    for item in embedded.service.outputs(stack_record):
        if item.key == key:
            print_fields(list(_output_entry(item).items()), output_format)
            return
    raise click.ClickException(f"Output {key} not found.")


@stack.group("event")
def event() -> None:
    """Stack events."""


_nested_depth_option = click.option(
    "--nested-depth",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also list those of nested stacks, this many levels down.",
)


@event.command("list")
@click.argument("name_or_id")
@click.option("--resource", help="Only events of this resource.")
@click.option("--follow", is_flag=True, help="Keep printing new events until the operation ends.")
@_nested_depth_option
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


@stack.group("resource")
def resource() -> None:
    """Stack resources."""


@resource.command("list")
@click.argument("name_or_id")
@_nested_depth_option
@format_option
def resource_list(name_or_id: str, nested_depth: int, output_format: str) -> None:
    embedded, stack_record = _embedded_stack(name_or_id)
    columns = (
        "resource_name",
        "physical_resource_id",
        "resource_type",
        "resource_status",
        "updated_time",
    )
    rows = [
        (r.name, r.physical_id or "", r.type, r.state, r.updated_at, member.name)
        for member in embedded.service.family(stack_record, nested_depth)
        for r in embedded.service.resource_records(member)
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
    embedded, stack_record = _embedded_stack(name_or_id)
    try:
        asyncio.run(embedded.service.signal(stack_record.id, resource_name, details))
    except KilnError as error:
        raise click.ClickException(str(error)) from error


@resource.command("show")
@click.argument("name_or_id")
@click.argument("resource_name")
@format_option
def resource_show(name_or_id: str, resource_name: str, output_format: str) -> None:
    embedded, stack_record = _embedded_stack(name_or_id)
    for record in embedded.service.resource_records(stack_record):
        if record.name == resource_name:
            print_fields(
                [
                    ("resource_name", record.name),
                    ("physical_resource_id", record.physical_id),
                    ("resource_type", record.type),
                    ("resource_status", record.state),
                    ("resource_status_reason", record.status_reason),
                    ("attributes", dict(record.attributes)),
                    (
                        "required_by",
                        sorted(
                            r.name
                            for r in embedded.service.resource_records(stack_record)
                            if record.name in r.depends_on
                        ),
                    ),
                    ("creation_time", record.created_at),
                    ("updated_time", record.updated_at),
                ],
                output_format,
            )
            return
    raise click.ClickException(
        f"The Resource ({resource_name}) could not be found in Stack {stack_record.name}."
    )


@stack.group("template")
def template_group() -> None:
    """A stack's template."""


@template_group.command("show")
@click.argument("name_or_id")
def template_show(name_or_id: str) -> None:
    _, stack_record = _embedded_stack(name_or_id)
    click.echo(stack_record.template.rstrip())


@click.group()
def engine() -> None:
    """Run stack operations (used by the CLI's background runs and for recovery)."""


@engine.command("run")
@click.argument("stack_id")
def engine_run(stack_id: str) -> None:
    """Drive one stack's operation to its end, resuming it if it was interrupted."""
    embedded = _embedded()
    embedded.run_now(stack_id)


@engine.command("recover")
def engine_recover() -> None:
    """Resume every operation whose engine died (its lease expired)."""
    embedded = _embedded()
    for record in embedded.recover():
        click.echo(f"{record.name} {record.state}")

"""``kiln stack ...``: the ``openstack stack`` verbs and options, in either mode.

Each command reads its input, calls the stack use cases of
:mod:`kiln.cli.backend` (the local database in embedded mode, a server in
client mode) and prints; the output is the same in both modes.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from kiln.cli.backend import (
    CreateOptions,
    ModeGroup,
    Stacks,
    UpdateOptions,
    embedded_only,
    stacks,
)
from kiln.cli.embedded import Embedded
from kiln.cli.environments import resolve_environments
from kiln.cli.files_map import gather_files
from kiln.cli.formatting import format_option, print_fields, print_rows
from kiln.cli.parameters import parse_parameters
from kiln.errors import DiagnosticError, KilnError
from kiln.persistence.listing import ListRequest, StackFilters
from kiln.plan.state import Action, ResourceRecord, StackRecord, Status
from kiln.service.preview import NestedPreview
from kiln.service.stacks import StackDefinition

STACK_COLUMNS = ("ID", "Stack Name", "Stack Status", "Creation Time", "Updated Time")

#: The name the service gives the template text in diagnostics.
TEMPLATE_SOURCE = "template"


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


def _named_stack(name_or_id: str) -> tuple[Stacks, StackRecord]:
    """The stack use cases and the stack named; a command error when there is no such stack."""
    found = stacks()
    try:
        return found, found.get(name_or_id)
    except KilnError as error:
        raise click.ClickException(str(error)) from error


def _unsuccessful(record: StackRecord) -> bool:
    """Failed, or rolled back: ``openstack stack create/update --wait`` exits 1 for both."""
    return record.status is Status.FAILED or record.action is Action.ROLLBACK


def _stack_row(stack: StackRecord) -> tuple[Any, ...]:
    return (stack.id, stack.name, stack.state, stack.created_at, stack.updated_at)


def _show_stack(using: Stacks, stack: StackRecord, output_format: str) -> None:
    outputs = using.outputs(stack) if stack.status is not Status.IN_PROGRESS else []
    fields: list[tuple[str, Any]] = [
        ("id", stack.id),
        ("stack_name", stack.name),
        ("creation_time", stack.created_at),
        ("updated_time", stack.updated_at),
        ("stack_status", stack.state),
        ("stack_status_reason", stack.status_reason),
        ("parameters", using.shown_parameters(stack)),
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


def _wait(using: Stacks, stack: StackRecord) -> StackRecord:
    """Wait for the operation, showing resources in progress and done, and elapsed time."""
    started = time.monotonic()
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    live = (
        Live(console=console, transient=True, auto_refresh=False) if console.is_terminal else None
    )

    def progress(records: Sequence[ResourceRecord]) -> None:
        if live is None:
            return
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
        final = using.wait(stack, progress if live is not None else None)
    finally:
        if live is not None:
            live.stop()
    console.print(
        f"{final.name} {final.state} in {time.monotonic() - started:.1f}s: {final.status_reason}"
    )
    return final


def _start(using: Stacks, stack: StackRecord, wait: bool) -> StackRecord:
    if wait:
        return _wait(using, stack)
    using.start(stack)
    return stack


def _start_and_show(using: Stacks, stack: StackRecord, wait: bool, output_format: str) -> None:
    """Start the operation, show the stack, and exit 1 when a waited-for operation failed."""
    record = _start(using, stack, wait)
    _show_stack(using, record, output_format)
    if wait and _unsuccessful(record):
        sys.exit(1)


@click.group(cls=ModeGroup)
def stack() -> None:
    """Create, update, delete and inspect stacks.

    On the local database (embedded mode), or on a kiln serve with --url
    or KILN_URL set (client mode).
    """


_template_option = click.option("-t", "--template", type=click.Path(dir_okay=False, path_type=Path))
_environment_option = click.option(
    "-e",
    "--environment",
    "environments",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    callback=resolve_environments,
    help="Environment file, or the name of one shipped with Kiln (local); repeatable.",
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
    using = stacks()
    definition = _definition(template, environments, parameters)
    try:
        if dry_run:
            click.echo(using.preview(name, definition).render())
            return
        options = CreateOptions(timeout, disable_rollback, [t for t in tags.split(",") if t])
        record = using.create(name, definition, options)
    except KilnError as error:
        _fail(error, template)
        return
    _start_and_show(using, record, wait, output_format)


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
@click.option(
    "--tags",
    default=None,
    help="Comma-separated tags to replace the stack's (without it, --existing keeps them).",
)
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
    tags: str | None,
    output_format: str,
) -> None:
    """Update a stack (replace its definition, or patch it with --existing)."""
    using = stacks()
    if template is None and not existing:
        raise click.UsageError("a template is required unless --existing is given")
    definition = _definition(template, environments, parameters)
    options = UpdateOptions(
        existing=existing,
        clear_parameters=clear,
        timeout_mins=timeout,
        disable_rollback={"enabled": False, "disabled": True}.get(rollback),
        converge=converge,
        tags=None if tags is None else [tag for tag in tags.split(",") if tag],
    )
    try:
        current = using.get(name_or_id)
        if dry_run:
            previews = using.update_preview(current, definition, options, show_nested=show_nested)
            if show_nested:
                _print_nested_preview(previews)
            else:
                click.echo(previews[0].plan.render() if previews[0].plan else "")
            return
        record = using.update(name_or_id, definition, options)
    except KilnError as error:
        _fail(error, template)
        return
    _start_and_show(using, record, wait, output_format)


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
    using = stacks()
    failed = False
    for name in names:
        try:
            record = using.delete(name)
        except KilnError as error:
            click.echo(str(error), err=True)
            failed = True
            continue
        record = _start(using, record, wait)
        failed = failed or record.status is Status.FAILED
    if failed:
        sys.exit(1)


@stack.command("cancel")
@click.argument("name_or_id")
@click.option("--no-rollback", is_flag=True, help="Stop without rolling back.")
@click.option("--wait", is_flag=True)
def cancel(name_or_id: str, no_rollback: bool, wait: bool) -> None:
    """Cancel the create or update in progress."""
    using = stacks()
    try:
        record = using.cancel(name_or_id, rollback=not no_rollback)
    except KilnError as error:
        _fail(error)
        return
    if wait:
        record = _wait(using, record)
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
    names = [p.split("=", 1)[1] for p in properties if p.startswith("name=")]
    statuses = [p.split("=", 1)[1] for p in properties if p.startswith("status=")]
    filters = StackFilters(
        names=names, statuses=statuses, tags=[t for t in tags.split(",") if t], show_deleted=deleted
    )
    keys = [item.split(":")[0] for item in sort.split(",") if item]
    direction = next((item.split(":")[1] for item in sort.split(",") if ":" in item), None)
    try:
        found = stacks().list_stacks(ListRequest(filters, keys, direction, limit, marker))
    except KilnError as error:
        _fail(error)
        return
    print_rows(STACK_COLUMNS, [_stack_row(s) for s in found], output_format)


@stack.command("show")
@click.argument("name_or_id")
@format_option
def show(name_or_id: str, output_format: str) -> None:
    """Show a stack, its parameters and outputs."""
    using = stacks()
    try:
        record = using.get(name_or_id)
    except KilnError as error:
        _fail(error)
        return
    _show_stack(using, record, output_format)


@stack.group("output")
def output() -> None:
    """Stack outputs."""


@output.command("list")
@click.argument("name_or_id")
@format_option
def output_list(name_or_id: str, output_format: str) -> None:
    using, stack_record = _named_stack(name_or_id)
    outputs = using.outputs(stack_record)
    print_rows(
        ("output_key", "description"), [(o.key, o.description) for o in outputs], output_format
    )


@output.command("show")
@click.argument("name_or_id")
@click.argument("key")
@format_option
def output_show(name_or_id: str, key: str, output_format: str) -> None:
    using, stack_record = _named_stack(name_or_id)
    for item in using.outputs(stack_record):
        if item.key == key:
            print_fields(list(_output_entry(item).items()), output_format)
            return
    raise click.ClickException(f"Output {key} not found.")


@stack.group("template")
def template_group() -> None:
    """A stack's template."""


@template_group.command("show")
@click.argument("name_or_id")
def template_show(name_or_id: str) -> None:
    using, stack_record = _named_stack(name_or_id)
    click.echo(using.template_text(stack_record).rstrip())


@click.group()
def engine() -> None:
    """Run stack operations (used by the CLI's background runs and for recovery).

    Embedded mode only: in client mode the server runs every operation.
    """


@engine.command("run")
@click.argument("stack_id")
def engine_run(stack_id: str) -> None:
    """Drive one stack's operation to its end, resuming it if it was interrupted."""
    embedded_only("kiln engine run")
    Embedded(dict(os.environ)).run_now(stack_id)


@engine.command("recover")
def engine_recover() -> None:
    """Resume every operation whose engine died (its lease expired)."""
    embedded_only("kiln engine recover")
    for record in Embedded(dict(os.environ)).recover():
        click.echo(f"{record.name} {record.state}")

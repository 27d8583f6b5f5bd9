"""``kiln stack environment|file`` and the resource commands that read or mark one resource."""

from __future__ import annotations

import click

from kiln.cli.backend import stacks
from kiln.cli.formatting import format_option, print_fields, print_rows
from kiln.cli.stack import _named_stack, stack
from kiln.cli.stack_resources import resource
from kiln.errors import KilnError


@stack.group("environment")
def environment() -> None:
    """The stack's environment."""


@environment.command("show")
@click.argument("name_or_id")
@format_option
def environment_show(name_or_id: str, output_format: str) -> None:
    """The environment the stack's files merge into (hidden values masked)."""
    try:
        merged = stacks().environment(name_or_id)
    except KilnError as error:
        raise click.ClickException(str(error)) from error
    print_fields(sorted(merged.items()), "yaml" if output_format == "table" else output_format)


@stack.group("file")
def file() -> None:
    """The files sent with the stack (get_file, provider templates)."""


@file.command("list")
@click.argument("name_or_id")
@format_option
def file_list(name_or_id: str, output_format: str) -> None:
    using, stack_record = _named_stack(name_or_id)
    print_rows(
        ("name", "size"),
        [(n, len(t)) for n, t in sorted(using.files(stack_record).items())],
        output_format,
    )


@file.command("show")
@click.argument("name_or_id")
@click.argument("name")
def file_show(name_or_id: str, name: str) -> None:
    using, stack_record = _named_stack(name_or_id)
    files = using.files(stack_record)
    if name not in files:
        raise click.ClickException(f"The file {name} is not in the stack's files.")
    click.echo(files[name], nl=False)


@resource.command("metadata")
@click.argument("name_or_id")
@click.argument("resource_name")
@format_option
def resource_metadata(name_or_id: str, resource_name: str, output_format: str) -> None:
    """The resource's metadata."""
    try:
        metadata = stacks().resource_metadata(name_or_id, resource_name)
    except KilnError as error:
        raise click.ClickException(str(error)) from error
    print_fields(sorted(metadata.items()), "json" if output_format == "table" else output_format)


@resource.group("mark")
def mark() -> None:
    """Mark a resource's health."""


@mark.command("unhealthy")
@click.argument("name_or_id")
@click.argument("resource_name")
@click.argument("reason", required=False, default="")
@click.option("--reset", is_flag=True, help="Mark it healthy again.")
def mark_unhealthy(name_or_id: str, resource_name: str, reason: str, reset: bool) -> None:
    """Mark a resource unhealthy (CHECK_FAILED): the next update replaces it."""
    try:
        stacks().mark_unhealthy(name_or_id, resource_name, reason, reset=reset)
    except KilnError as error:
        raise click.ClickException(str(error)) from error


@stack.group("hook")
def hook() -> None:
    """Hooks (breakpoints) set in the environment."""


@hook.command("poll")
@click.argument("name_or_id")
@format_option
def hook_poll(name_or_id: str, output_format: str) -> None:
    """Resources paused at a hook in the current operation."""
    try:
        pending = stacks().pending_hooks(name_or_id)
    except KilnError as error:
        raise click.ClickException(str(error)) from error
    print_rows(("resource_name", "hook"), pending, output_format)


@hook.command("clear")
@click.argument("name_or_id")
@click.argument("resource_names", nargs=-1, required=True)
@click.option("--pre-create", is_flag=True)
@click.option("--pre-update", is_flag=True)
@click.option("--pre-delete", is_flag=True)
def hook_clear(
    name_or_id: str,
    resource_names: tuple[str, ...],
    pre_create: bool,
    pre_update: bool,
    pre_delete: bool,
) -> None:
    """Let resources paused at a hook go on (the hooks they wait at, unless some are named)."""
    named = [
        hook_type
        for hook_type, chosen in (
            ("pre-create", pre_create),
            ("pre-update", pre_update),
            ("pre-delete", pre_delete),
        )
        if chosen
    ]
    using = stacks()
    try:
        pending = using.pending_hooks(name_or_id)
        for resource_name in resource_names:
            hooks = named or [h for r, h in pending if r == resource_name]
            using.clear_hooks(name_or_id, resource_name, hooks)
    except KilnError as error:
        raise click.ClickException(str(error)) from error

"""What the ``kiln stack`` and ``kiln software`` commands need, and where it comes from.

The commands are written once against the protocols here. Embedded mode
(:mod:`kiln.cli.embedded`) answers them from the local database and runs
operations in this machine's processes; client mode (:mod:`kiln.cli.remote`)
answers them from a ``kiln serve`` over Heat's API, whose engine runs them.
Client mode is on when a server URL is given: ``--url`` on the command
group, or ``KILN_URL``; ``--token``/``KILN_TOKEN`` is sent as
``X-Auth-Token`` and ``--project``/``KILN_PROJECT`` names the project
(``default`` unless told).
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import click

from kiln.engine.observe import ResourceDrift
from kiln.engine.outputs import Output
from kiln.errors import KilnError
from kiln.persistence.listing import ListRequest
from kiln.persistence.snapshots import SnapshotRecord
from kiln.plan.state import EventRecord, ResourceRecord, StackRecord
from kiln.plan.steps import Plan
from kiln.service.preview import NestedPreview
from kiln.service.stacks import StackDefinition

DEFAULT_PROJECT = "default"

#: Called while an operation runs with the state of each resource, to show progress.
Progress = Callable[[Sequence[ResourceRecord]], None]


@dataclass(frozen=True)
class Connection:
    """Where the commands work: a server (``url``), or the local database when None."""

    url: str | None = None
    token: str | None = None
    project: str = DEFAULT_PROJECT

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Connection:
        return cls(
            environ.get("KILN_URL") or None,
            environ.get("KILN_TOKEN") or None,
            environ.get("KILN_PROJECT") or DEFAULT_PROJECT,
        )


@dataclass(frozen=True)
class CreateOptions:
    """How a create (or adopt) runs."""

    timeout_mins: int | None = None
    disable_rollback: bool = False
    tags: Sequence[str] = ()


@dataclass(frozen=True)
class UpdateOptions:
    """How an update runs: ``existing`` keeps what is not given (Heat's PATCH), a None
    ``disable_rollback`` keeps the stack's, ``converge`` repairs drift first; ``tags``
    replace the stack's (None: kept by ``existing``, else cleared, as in Heat)."""

    existing: bool = False
    clear_parameters: Sequence[str] = ()
    timeout_mins: int | None = None
    disable_rollback: bool | None = None
    converge: bool = False
    tags: Sequence[str] | None = None


class Snapshots(Protocol):
    def create(self, name_or_id: str, name: str = "") -> tuple[StackRecord, SnapshotRecord]: ...
    def list(self, name_or_id: str) -> list[SnapshotRecord]: ...
    def get(self, name_or_id: str, snapshot: str) -> SnapshotRecord: ...
    def restore(self, name_or_id: str, snapshot: str) -> StackRecord: ...

    def delete(self, name_or_id: str, snapshot: str) -> builtins.list[str]:
        """Delete the snapshot; what it kept that could not be removed (warnings)."""
        ...


class Transfer(Protocol):
    def export(self, name_or_id: str) -> dict[str, Any]: ...
    def abandon(self, name_or_id: str) -> dict[str, Any]: ...

    def adopt(
        self, name: str, data: Any, definition: StackDefinition, options: CreateOptions
    ) -> StackRecord:
        """A stack taking over what ``data`` (an object, or its JSON text) lists
        (``definition``: environments, parameters)."""
        ...


class Stacks(Protocol):
    """The stack use cases the commands call, by name or id within one project."""

    # -- reading -----------------------------------------------------------------
    def get(self, name_or_id: str) -> StackRecord: ...

    def list_stacks(self, request: ListRequest) -> list[StackRecord]: ...

    def outputs(self, stack: StackRecord) -> list[Output]: ...
    def shown_parameters(self, stack: StackRecord) -> dict[str, Any]: ...
    def template_text(self, stack: StackRecord) -> str: ...
    def files(self, stack: StackRecord) -> Mapping[str, str]: ...
    def environment(self, name_or_id: str) -> dict[str, Any]: ...

    def resource_records(self, stack: StackRecord) -> list[ResourceRecord]:
        """The live resources by name, each with the names it depends on."""
        ...

    def resource(self, stack: StackRecord, name: str) -> ResourceRecord | None:
        """One live resource with its recorded attributes, or None."""
        ...

    def nested_resources(
        self, stack: StackRecord, nested_depth: int
    ) -> list[tuple[str, ResourceRecord]]:
        """(stack name, resource) of the stack and its nested stacks, parents first."""
        ...

    def resource_metadata(self, name_or_id: str, resource: str) -> Any: ...

    def event_records(self, stack: StackRecord, resource: str | None = None) -> list[EventRecord]:
        """The stack's events, oldest first."""
        ...

    def nested_events(
        self, stack: StackRecord, nested_depth: int, resource: str | None
    ) -> list[tuple[str, EventRecord]]:
        """(stack name, event) of the stack and its nested stacks, in time order."""
        ...

    def follow_events(
        self, stack: StackRecord, resource: str | None
    ) -> Iterator[Sequence[EventRecord]]:
        """Every event, then new ones as they come, until the operation running has ended."""
        ...

    def drift(self, name_or_id: str) -> list[ResourceDrift]: ...
    def pending_hooks(self, name_or_id: str) -> list[tuple[str, str]]: ...

    # -- previews ----------------------------------------------------------------
    def preview(self, name: str, definition: StackDefinition) -> Plan: ...

    def update_preview(
        self,
        stack: StackRecord,
        definition: StackDefinition,
        options: UpdateOptions,
        *,
        show_nested: bool,
    ) -> list[NestedPreview]:
        """The update's plan, then (with ``show_nested``) each nested stack's."""
        ...

    # -- operations: each gives the stack as it stands once started ---------------
    def create(
        self, name: str, definition: StackDefinition, options: CreateOptions
    ) -> StackRecord: ...

    def update(
        self, name_or_id: str, definition: StackDefinition, options: UpdateOptions
    ) -> StackRecord: ...

    def delete(self, name_or_id: str) -> StackRecord: ...
    def cancel(self, name_or_id: str, *, rollback: bool) -> StackRecord: ...
    def suspend(self, name_or_id: str) -> StackRecord: ...
    def resume(self, name_or_id: str) -> StackRecord: ...
    def check(self, name_or_id: str) -> StackRecord: ...
    def signal(self, stack: StackRecord, resource: str, details: Any) -> None: ...

    def mark_unhealthy(
        self, name_or_id: str, resource: str, reason: str, *, reset: bool
    ) -> None: ...

    def clear_hooks(self, name_or_id: str, resource: str, hooks: Sequence[str]) -> None: ...

    # -- running operations ------------------------------------------------------
    def start(self, stack: StackRecord) -> None:
        """See that the operation just started runs without waiting for it."""
        ...

    def wait(self, stack: StackRecord, progress: Progress | None) -> StackRecord:
        """Wait until the stack's operation has ended (calling ``progress`` meanwhile)."""
        ...

    # -- factories -----------------------------------------------------------------
    def snapshots(self) -> Snapshots: ...
    def transfer(self) -> Transfer: ...


class Software(Protocol):
    """Software configs and deployments, as Heat's API documents them (plain dicts)."""

    def list_configs(self, *, limit: int | None, marker: str | None) -> list[dict[str, Any]]: ...
    def show_config(self, config_id: str) -> dict[str, Any]: ...

    def create_config(self, name: str, definition: Mapping[str, Any]) -> dict[str, Any]:
        """A new config: ``definition`` has its group, config, inputs, outputs and options."""
        ...

    def delete_config(self, config_id: str) -> None: ...
    def list_deployments(self, server_id: str | None) -> list[dict[str, Any]]: ...
    def show_deployment(self, deployment_id: str) -> dict[str, Any]: ...
    def output(self, deployment_id: str, name: str) -> Any: ...
    def metadata(self, server_id: str) -> Any: ...
    def delete_deployment(self, deployment_id: str) -> None: ...


def connection() -> Connection:
    """The connection the command's group options (or the environment) give."""
    context = click.get_current_context(silent=True)
    found = context.find_object(Connection) if context is not None else None
    return found or Connection.from_environment(os.environ)


def stacks() -> Stacks:
    """The stack use cases, from the server in client mode or from the local database."""
    using = connection()
    if using.url is not None:
        from kiln.cli.remote import RemoteStacks

        return RemoteStacks.connect(using)
    from kiln.cli.embedded import Embedded, EmbeddedStacks

    return EmbeddedStacks(Embedded(dict(os.environ), using.project))


def software() -> Software:
    """Software configs and deployments, from the server or from the local database."""
    using = connection()
    if using.url is not None:
        from kiln.cli.remote import RemoteSoftware

        return RemoteSoftware.connect(using)
    from kiln.cli.embedded import Embedded, EmbeddedSoftware

    return EmbeddedSoftware(Embedded(dict(os.environ), using.project))


class ModeGroup(click.Group):
    """A command group whose commands work in either mode.

    Its ``--url``, ``--token`` and ``--project`` options choose the mode for
    every command below it, and a Kiln error no command caught (a server
    that cannot be reached, say) ends the command with its message.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params += [
            click.Option(
                ["--url"],
                envvar="KILN_URL",
                metavar="URL",
                help="A kiln serve to work with (client mode), e.g. http://127.0.0.1:8004.",
            ),
            click.Option(
                ["--token"],
                envvar="KILN_TOKEN",
                metavar="TOKEN",
                help="API token sent as X-Auth-Token (kiln token create makes one).",
            ),
            click.Option(
                ["--project"],
                envvar="KILN_PROJECT",
                default=DEFAULT_PROJECT,
                show_default=True,
                help="The project the stacks belong to.",
            ),
        ]

    def invoke(self, ctx: click.Context) -> Any:
        params = ctx.params
        ctx.obj = Connection(
            params.pop("url", None) or None,
            params.pop("token", None) or None,
            params.pop("project", None) or DEFAULT_PROJECT,
        )
        try:
            return super().invoke(ctx)
        except KilnError as error:
            raise click.ClickException(str(error)) from error


def embedded_only(what: str) -> None:
    """Refuse a command that works on the local database only while client mode is on."""
    url = Connection.from_environment(os.environ).url
    if url is not None:
        raise click.ClickException(
            f"{what} works on the local database only; KILN_URL is set, and the server at "
            f"{url} runs its operations itself."
        )

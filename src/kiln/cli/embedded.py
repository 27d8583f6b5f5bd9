"""Embedded mode: the database, plugins, service and engine in this process.

Operations started without ``--wait`` are run by a detached ``kiln engine
run`` process, so the command returns at once as Heat's does; if that
process dies, ``kiln engine recover`` (or the next ``--wait``) resumes the
work from the database once its lease has expired. :class:`EmbeddedStacks`
and :class:`EmbeddedSoftware` give the commands what
:mod:`kiln.cli.backend` asks for, from the service layer.
"""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from kiln.cli.backend import DEFAULT_PROJECT, CreateOptions, Progress, UpdateOptions
from kiln.clients import cloud_clients
from kiln.config import api_url_from_environment, local_settings_from_environment
from kiln.engine.observe import ResourceDrift
from kiln.engine.operation import Engine
from kiln.engine.outputs import Output
from kiln.persistence.database import Database, database_url, kiln_home
from kiln.persistence.listing import ListRequest
from kiln.persistence.secrets import SecretBox
from kiln.persistence.snapshots import SnapshotRecord
from kiln.plan.state import Action, EventRecord, ResourceRecord, StackRecord, Status
from kiln.plan.steps import Plan
from kiln.providers.registry import PluginRegistry, load_plugin_registry
from kiln.service.preview import NestedPreview, preview_update
from kiln.service.snapshots import StackSnapshots
from kiln.service.software_config import (
    SoftwareConfigService,
    config_document,
    deployment_document,
)
from kiln.service.stacks import StackDefinition, StackService
from kiln.service.transfer import StackTransfer

#: How long ``event list --follow`` waits, once the operation has ended, for its closing event.
CLOSING_EVENT_GRACE_SECONDS = 2.0


@dataclass
class Embedded:
    environ: dict[str, str]
    project_id: str = DEFAULT_PROJECT

    @cached_property
    def database(self) -> Database:
        database = Database.open(database_url(self.environ))
        database.migrate()
        return database

    @cached_property
    def plugins(self) -> PluginRegistry:
        return load_plugin_registry()

    @cached_property
    def secrets(self) -> SecretBox:
        return SecretBox.from_environment(self.environ)

    @cached_property
    def service(self) -> StackService:
        return StackService(
            self.database,
            self.plugins,
            self.secrets,
            project_id=self.project_id,
            launch=self.run_detached,
            clients=self.clients,
        )

    @cached_property
    def clients(self) -> dict[str, Any]:
        """The configured cloud clients (the Local cloud under ``$KILN_HOME/local``)."""
        return cloud_clients(
            local_settings_from_environment(self.environ),
            kiln_home(self.environ),
            api_url=self.api_url,
        )

    @property
    def api_url(self) -> str:
        """``KILN_API_URL`` or the default: where servers send their signals."""
        return api_url_from_environment(self.environ)

    def engine(self) -> Engine:
        concurrency = self.environ.get("KILN_ENGINE_CONCURRENCY")
        lease = self.environ.get("KILN_ENGINE_LEASE_SECONDS")
        return Engine(
            self.database,
            self.plugins,
            self.secrets,
            concurrency=int(concurrency) if concurrency else None,
            lease_seconds=float(lease) if lease else 30.0,
            clients=self.clients,
            api_url=self.api_url,
        )

    def run_now(
        self, stack_id: str, progress: Callable[[], None] | None = None
    ) -> StackRecord | None:
        """Run the stack's operation in this process, calling ``progress`` while it runs."""

        async def main() -> StackRecord | None:
            task = asyncio.ensure_future(self.engine().run(stack_id))
            while not task.done():
                if progress is not None:
                    progress()
                await asyncio.wait({task}, timeout=0.2)
            return task.result()

        return asyncio.run(main())

    def run_detached(self, stack_id: str) -> None:
        """Start ``kiln engine run STACK_ID`` in its own session, logging to KILN_HOME/logs."""
        logs = kiln_home(self.environ) / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = (logs / f"engine-{stack_id}.log").open("ab")
        subprocess.Popen(
            [sys.executable, "-m", "kiln.cli", "engine", "run", stack_id],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env={**os.environ, **self.environ},
        )

    def recover(self) -> list[StackRecord]:
        """Resume every operation whose engine stopped renewing its lease."""
        from datetime import UTC, datetime

        stalled = self.service.stacks.orphaned_operations(datetime.now(UTC))
        finished: list[StackRecord] = []
        for stack in stalled:
            record = asyncio.run(self.engine().run(stack.id))
            if record is not None:
                finished.append(record)
        return finished


def log_directory(environ: dict[str, str]) -> Path:
    return kiln_home(environ) / "logs"


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@dataclass
class EmbeddedStacks:
    """The commands' stack use cases on the local database (see :class:`backend.Stacks`)."""

    embedded: Embedded

    @property
    def service(self) -> StackService:
        return self.embedded.service

    # -- reading -----------------------------------------------------------------

    def get(self, name_or_id: str) -> StackRecord:
        return self.service.get(name_or_id)

    def list_stacks(self, request: ListRequest) -> list[StackRecord]:
        return self.service.list_stacks(
            request.filters,
            sort_keys=request.sort_keys,
            sort_dir=request.sort_dir,
            limit=request.limit,
            marker=request.marker,
        )

    def outputs(self, stack: StackRecord) -> list[Output]:
        return self.service.outputs(stack)

    def shown_parameters(self, stack: StackRecord) -> dict[str, Any]:
        return self.service.shown_parameters(stack)

    def template_text(self, stack: StackRecord) -> str:
        return stack.template

    def files(self, stack: StackRecord) -> Mapping[str, str]:
        return stack.files

    def environment(self, name_or_id: str) -> dict[str, Any]:
        return self.service.environment(name_or_id)

    def resource_records(self, stack: StackRecord) -> list[ResourceRecord]:
        return self.service.resource_records(stack)

    def resource(self, stack: StackRecord, name: str) -> ResourceRecord | None:
        return next((r for r in self.service.resource_records(stack) if r.name == name), None)

    def nested_resources(
        self, stack: StackRecord, nested_depth: int
    ) -> list[tuple[str, ResourceRecord]]:
        return [
            (member.name, record)
            for member in self.service.family(stack, nested_depth)
            for record in self.service.resource_records(member)
        ]

    def resource_metadata(self, name_or_id: str, resource: str) -> Any:
        return self.service.resource_metadata(name_or_id, resource)

    def event_records(self, stack: StackRecord, resource: str | None = None) -> list[EventRecord]:
        return self.service.event_records(stack, resource=resource)

    def nested_events(
        self, stack: StackRecord, nested_depth: int, resource: str | None
    ) -> list[tuple[str, EventRecord]]:
        named = [
            (member.name, item)
            for member in self.service.family(stack, nested_depth)
            for item in self.service.event_records(member, resource=resource)
        ]
        named.sort(key=lambda pair: (pair[1].created_at or 0, pair[1].sequence))
        return named

    def follow_events(
        self, stack: StackRecord, resource: str | None
    ) -> Iterator[Sequence[EventRecord]]:
        last = 0
        follower = _Follower(stack.id)
        while True:
            events = self.service.event_records(stack, after=last, resource=resource)
            yield events
            if events:
                last = events[-1].sequence
            current = self.service.stacks.get(stack.id, include_deleted=True)
            if current is None or follower.done(current, events):
                return
            time.sleep(0.5 if current.status is Status.IN_PROGRESS else 0.1)

    def drift(self, name_or_id: str) -> list[ResourceDrift]:
        return asyncio.run(self.service.drift(name_or_id))

    def pending_hooks(self, name_or_id: str) -> list[tuple[str, str]]:
        return self.service.pending_hooks(name_or_id)

    # -- previews ----------------------------------------------------------------

    def preview(self, name: str, definition: StackDefinition) -> Plan:
        return self.service.preview(name, definition)

    def update_preview(
        self,
        stack: StackRecord,
        definition: StackDefinition,
        options: UpdateOptions,
        *,
        show_nested: bool,
    ) -> list[NestedPreview]:
        merged = self.service.merged_definition(
            stack, definition, options.existing, options.clear_parameters
        )
        if show_nested:
            return preview_update(self.service, stack, merged)
        return [
            NestedPreview(stack.name, stack.name, self.service.preview(stack.name, merged, stack))
        ]

    # -- operations ----------------------------------------------------------------

    def create(self, name: str, definition: StackDefinition, options: CreateOptions) -> StackRecord:
        return self.service.create(name, definition, **dataclasses.asdict(options))

    def update(
        self, name_or_id: str, definition: StackDefinition, options: UpdateOptions
    ) -> StackRecord:
        return self.service.update(name_or_id, definition, **dataclasses.asdict(options))

    def delete(self, name_or_id: str) -> StackRecord:
        return self.service.delete(name_or_id)

    def cancel(self, name_or_id: str, *, rollback: bool) -> StackRecord:
        return self.service.cancel(name_or_id, rollback=rollback)

    def suspend(self, name_or_id: str) -> StackRecord:
        return self.service.suspend(name_or_id)

    def resume(self, name_or_id: str) -> StackRecord:
        return self.service.resume(name_or_id)

    def check(self, name_or_id: str) -> StackRecord:
        return self.service.check(name_or_id)

    def signal(self, stack: StackRecord, resource: str, details: Any) -> None:
        asyncio.run(self.service.signal(stack.id, resource, details))

    def mark_unhealthy(self, name_or_id: str, resource: str, reason: str, *, reset: bool) -> None:
        self.service.mark_unhealthy(name_or_id, resource, reason, reset=reset)

    def clear_hooks(self, name_or_id: str, resource: str, hooks: Sequence[str]) -> None:
        self.service.clear_hooks(name_or_id, resource, hooks)

    # -- running operations ------------------------------------------------------

    def start(self, stack: StackRecord) -> None:
        self.embedded.run_detached(stack.id)

    def wait(self, stack: StackRecord, progress: Progress | None) -> StackRecord:
        """Run the operation here; while another engine holds the stack, watch it until it ends.

        The engine returns at once when another live engine (a detached run, say
        the one a cancel interrupts) holds the stack's lease; waiting means
        watching that one finish, or taking over if it dies and its lease expires.
        """

        def tick() -> None:
            if progress is not None:
                progress(self.service.resource_records(stack))

        while True:
            self.embedded.run_now(stack.id, tick)
            final = self.service.stacks.get(stack.id, include_deleted=True) or stack
            if final.status is not Status.IN_PROGRESS:
                return final
            tick()
            time.sleep(0.5)

    # -- factories -----------------------------------------------------------------

    def snapshots(self) -> EmbeddedSnapshots:
        return EmbeddedSnapshots(StackSnapshots(self.service))

    def transfer(self) -> EmbeddedTransfer:
        return EmbeddedTransfer(StackTransfer(self.service))


@dataclass
class EmbeddedTransfer:
    transfer: StackTransfer

    def export(self, name_or_id: str) -> dict[str, Any]:
        return self.transfer.export(name_or_id)

    def abandon(self, name_or_id: str) -> dict[str, Any]:
        return self.transfer.abandon(name_or_id)

    def adopt(
        self, name: str, data: Any, definition: StackDefinition, options: CreateOptions
    ) -> StackRecord:
        return self.transfer.adopt(
            name,
            data,
            environments=definition.environments,
            parameters=definition.parameters,
            timeout_mins=options.timeout_mins,
            disable_rollback=options.disable_rollback,
            files=definition.files,
            tags=options.tags,
        )


@dataclass
class EmbeddedSnapshots:
    snapshots: StackSnapshots

    def create(self, name_or_id: str, name: str = "") -> tuple[StackRecord, SnapshotRecord]:
        return self.snapshots.create(name_or_id, name)

    def list(self, name_or_id: str) -> list[SnapshotRecord]:
        return self.snapshots.list(name_or_id)

    def get(self, name_or_id: str, snapshot: str) -> SnapshotRecord:
        return self.snapshots.get(name_or_id, snapshot)

    def restore(self, name_or_id: str, snapshot: str) -> StackRecord:
        return self.snapshots.restore(name_or_id, snapshot)

    def delete(self, name_or_id: str, snapshot: str) -> builtins.list[str]:
        return asyncio.run(self.snapshots.delete(name_or_id, snapshot))


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

    def done(self, current: StackRecord, events: Sequence[EventRecord]) -> bool:
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


@dataclass
class EmbeddedSoftware:
    """Software configs and deployments on the local database (see :class:`backend.Software`)."""

    embedded: Embedded

    @cached_property
    def service(self) -> SoftwareConfigService:
        embedded = self.embedded
        return SoftwareConfigService(
            embedded.database, embedded.plugins, project_id=embedded.project_id
        )

    def list_configs(self, *, limit: int | None, marker: str | None) -> list[dict[str, Any]]:
        return [config_document(c) for c in self.service.list_configs(limit=limit, marker=marker)]

    def show_config(self, config_id: str) -> dict[str, Any]:
        return config_document(self.service.show_config(config_id))

    def create_config(self, name: str, definition: Mapping[str, Any]) -> dict[str, Any]:
        return config_document(self.service.create_config(name, **definition))

    def delete_config(self, config_id: str) -> None:
        self.service.delete_config(config_id)

    def list_deployments(self, server_id: str | None) -> list[dict[str, Any]]:
        return [deployment_document(d) for d in self.service.list_deployments(server_id)]

    def show_deployment(self, deployment_id: str) -> dict[str, Any]:
        return deployment_document(self.service.show_deployment(deployment_id))

    def output(self, deployment_id: str, name: str) -> Any:
        return self.service.output(deployment_id, name)

    def metadata(self, server_id: str) -> Any:
        return self.service.metadata(server_id)

    def delete_deployment(self, deployment_id: str) -> None:
        self.service.delete_deployment(deployment_id)

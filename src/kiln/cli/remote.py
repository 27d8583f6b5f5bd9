"""Client mode: the commands' use cases over Heat's Orchestration API of a ``kiln serve``.

Requests are what python-heatclient sends (template text, the files map,
environment files named in ``environment_files``), answers are turned back
into Kiln's records (:mod:`kiln.cli.remote_shapes`), and errors into the
Kiln errors embedded mode raises (:mod:`kiln.cli.remote_http`). The server's
engine runs every operation; waiting for one, or following its events,
reads the server's live event stream until it says the operation has ended.
A few answers come from Kiln's additions to the API, asked for explicitly:
a preview's plan (``with_plan``), recorded attributes, a template as sent
(``Accept: text/plain``) and drift.
"""

from __future__ import annotations

import builtins
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiln.cli import remote_shapes as shapes
from kiln.cli.backend import Connection, CreateOptions, Progress, UpdateOptions
from kiln.cli.remote_http import Server, ServerUnreachable, segment
from kiln.engine.hooks import paused_hook
from kiln.engine.observe import ResourceDrift
from kiln.engine.outputs import Output
from kiln.errors import KilnError, NotFoundError
from kiln.persistence.listing import ListRequest, StackFilters
from kiln.persistence.snapshots import SnapshotRecord
from kiln.plan.state import Action, EventRecord, ResourceRecord, StackRecord
from kiln.plan.steps import Plan
from kiln.service.preview import NestedPreview
from kiln.service.stacks import StackDefinition

#: How often, and how soon, a dropped event stream is opened again where it stopped.
RECONNECT_ATTEMPTS = 5
RECONNECT_SECONDS = 1.0
#: What a cleared hook's event says (as the service writes it).
CLEARED_HOOK = "Hook {} is cleared"


def definition_body(definition: StackDefinition) -> dict[str, Any]:
    """A definition as python-heatclient sends one: environment files go in the files map."""
    files = dict(definition.files)
    for name, text in definition.environments:
        files[name] = text
    body: dict[str, Any] = {
        "files": files,
        "environment_files": [name for name, _ in definition.environments],
        "parameters": dict(definition.parameters),
    }
    if definition.template:
        body["template"] = definition.template
    return body


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _filter_params(filters: StackFilters) -> dict[str, str | list[str]]:
    params: dict[str, str | list[str]] = {
        "name": list(filters.names),
        "status": list(filters.statuses),
        "action": list(filters.actions),
    }
    for key in ("tags", "tags_any", "not_tags", "not_tags_any"):
        values = getattr(filters, key)
        if values:
            params[key] = ",".join(values)
    if filters.show_deleted:
        params["show_deleted"] = "true"
    if filters.show_nested:
        params["show_nested"] = "true"
    return params


def live_events(server: Server, stack: StackRecord, path: str) -> Iterator[EventRecord]:
    """The stack's events from its live stream at ``path``, until it says the operation ended.

    A stream that drops is opened again after the last event read; a stack
    deleted meanwhile ends it.
    """
    last, attempts = 0, 0
    while True:
        try:
            for message in server.events(path, last):
                if message.kind == "end":
                    return
                if message.kind == "event":
                    last, attempts = int(message.ident), 0
                    yield shapes.event_record(stack.id, json.loads(message.data), last)
        except NotFoundError:
            return
        except ServerUnreachable:
            if attempts >= RECONNECT_ATTEMPTS:
                raise
        else:
            if attempts >= RECONNECT_ATTEMPTS:
                raise KilnError(f"The event stream of stack {stack.name} ended too soon.")
        attempts += 1
        time.sleep(RECONNECT_SECONDS)


def paused_and_not_cleared(
    stack: StackRecord, events: Sequence[EventRecord]
) -> list[tuple[str, str]]:
    """(resource, hook) paused at since the stack's last event and not let go since
    (python-heatclient's ``hook poll`` reads the events the same way)."""
    started = max((i for i, e in enumerate(events) if e.physical_id == stack.id), default=-1)
    current = events[started + 1 :]
    cleared = {
        (item.resource_name, item.status_reason) for item in current if item.action is Action.SIGNAL
    }
    pending = []
    for item in current:
        hook = paused_hook(item.status_reason)
        if hook is not None and (item.resource_name, CLEARED_HOOK.format(hook)) not in cleared:
            pending.append((item.resource_name, hook))
    return pending


@dataclass
class RemoteStacks:
    """The commands' stack use cases on a server (see :class:`backend.Stacks`)."""

    server: Server
    #: The last stack show of each stack (its outputs and parameters), by id.
    details: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def connect(cls, connection: Connection) -> RemoteStacks:
        return cls(Server(connection))

    # -- finding stacks ----------------------------------------------------------

    @staticmethod
    def path(stack: StackRecord, *rest: str) -> str:
        """The stack's canonical path, and what follows it."""
        return "/".join(["/stacks", segment(stack.name), segment(stack.id), *rest])

    def _remember(self, detail: dict[str, Any]) -> StackRecord:
        record = shapes.stack_record(detail)
        self.details[record.id] = detail
        return record

    def get(self, name_or_id: str) -> StackRecord:
        return self._remember(
            self.server.get(f"/stacks/{segment(name_or_id)}", follow=True)["stack"]
        )

    def current(self, stack: StackRecord) -> StackRecord:
        """The stack as it is now, deleted or not."""
        try:
            return self._remember(self.server.get(self.path(stack))["stack"])
        except NotFoundError:
            pass
        listed = self.server.get("/stacks", params={"name": stack.name, "show_deleted": "true"})
        for entry in listed["stacks"]:
            if entry["id"] == stack.id:
                return shapes.stack_record(entry)
        return stack

    def list_stacks(self, request: ListRequest) -> list[StackRecord]:
        params: dict[str, str | int | list[str]] = {
            **_filter_params(request.filters),
            "sort_keys": list(request.sort_keys),
        }
        for key, value in (
            ("sort_dir", request.sort_dir),
            ("limit", request.limit),
            ("marker", request.marker),
        ):
            if value is not None:
                params[key] = value
        listed = self.server.get("/stacks", params=params)
        return [shapes.stack_record(entry) for entry in listed["stacks"]]

    # -- reading a stack ---------------------------------------------------------

    def _detail(self, stack: StackRecord) -> dict[str, Any]:
        if stack.id not in self.details:
            self.current(stack)
        return self.details.get(stack.id, {})

    def outputs(self, stack: StackRecord) -> list[Output]:
        shown = self._detail(stack).get("outputs")
        if shown is not None:
            return [shapes.output(entry) for entry in shown]
        listed = self.server.get(self.path(stack, "outputs"))["outputs"]
        return [
            shapes.output(self.server.get(self.path(stack, "outputs", segment(key)))["output"])
            for key in (entry["output_key"] for entry in listed)
        ]

    def _template(self, stack: StackRecord) -> Any:
        return self.server.get(self.path(stack, "template"))

    def shown_parameters(self, stack: StackRecord) -> dict[str, Any]:
        types = shapes.parameter_types(self._template(stack))
        return shapes.typed_parameters(self._detail(stack).get("parameters") or {}, types)

    def template_text(self, stack: StackRecord) -> str:
        answer = self.server.call(
            "GET", self.path(stack, "template"), headers={"Accept": "text/plain"}
        )
        return answer.text

    def files(self, stack: StackRecord) -> Mapping[str, str]:
        found: dict[str, str] = self.server.get(self.path(stack, "files"))
        return found

    def environment(self, name_or_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.server.get(self.path(self.get(name_or_id), "environment"))
        return found

    def resource_records(self, stack: StackRecord) -> list[ResourceRecord]:
        listed = self.server.get(self.path(stack, "resources"))["resources"]
        return shapes.resource_records(stack.id, listed)

    def resource(self, stack: StackRecord, name: str) -> ResourceRecord | None:
        try:
            shown = self.server.get(
                self.path(stack, "resources", segment(name)), params={"attributes": "recorded"}
            )
        except NotFoundError:
            return None
        return shapes.resource_record(stack.id, shown["resource"])

    def nested_resources(
        self, stack: StackRecord, nested_depth: int
    ) -> list[tuple[str, ResourceRecord]]:
        if not nested_depth:
            return [(stack.name, record) for record in self.resource_records(stack)]
        listed = self.server.get(
            self.path(stack, "resources"), params={"nested_depth": nested_depth}
        )["resources"]
        return [
            (shapes.linked_stack_name(entry), shapes.resource_record(stack.id, entry))
            for entry in listed
        ]

    def resource_metadata(self, name_or_id: str, resource: str) -> Any:
        stack = self.get(name_or_id)
        return self.server.get(self.path(stack, "resources", segment(resource), "metadata"))[
            "metadata"
        ]

    def _events(self, stack: StackRecord, params: dict[str, str | int]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.server.get(self.path(stack, "events"), params=params)[
            "events"
        ]
        return found

    def event_records(self, stack: StackRecord, resource: str | None = None) -> list[EventRecord]:
        params: dict[str, str | int] = {"resource_name": resource} if resource else {}
        return [
            shapes.event_record(stack.id, entry, number)
            for number, entry in enumerate(self._events(stack, params), start=1)
        ]

    def nested_events(
        self, stack: StackRecord, nested_depth: int, resource: str | None
    ) -> list[tuple[str, EventRecord]]:
        params: dict[str, str | int] = {"nested_depth": nested_depth}
        if resource:
            params["resource_name"] = resource
        return [
            (shapes.linked_stack_name(entry), shapes.event_record(stack.id, entry, number))
            for number, entry in enumerate(self._events(stack, params), start=1)
        ]

    def stream(self, stack: StackRecord) -> Iterator[EventRecord]:
        return live_events(self.server, stack, self.path(stack, "events", "stream"))

    def follow_events(
        self, stack: StackRecord, resource: str | None
    ) -> Iterator[Sequence[EventRecord]]:
        for item in self.stream(stack):
            if resource is None or item.resource_name == resource:
                yield [item]

    def drift(self, name_or_id: str) -> list[ResourceDrift]:
        found = self.server.get(self.path(self.get(name_or_id), "drift"))["resources"]
        return [shapes.drift(entry) for entry in found]

    def pending_hooks(self, name_or_id: str) -> list[tuple[str, str]]:
        stack = self.get(name_or_id)
        return paused_and_not_cleared(stack, self.event_records(stack))

    # -- previews ----------------------------------------------------------------

    def preview(self, name: str, definition: StackDefinition) -> Plan:
        body = {"stack_name": name, **definition_body(definition)}
        answer = self.server.send("POST", "/stacks/preview", body, params={"with_plan": "true"})
        return shapes.plan(answer["plan"])

    def update_preview(
        self,
        stack: StackRecord,
        definition: StackDefinition,
        options: UpdateOptions,
        *,
        show_nested: bool,
    ) -> list[NestedPreview]:
        body = {**definition_body(definition), "clear_parameters": list(options.clear_parameters)}
        answer = self.server.send(
            "PATCH" if options.existing else "PUT",
            self.path(stack, "preview"),
            body,
            params={"with_plan": "true", "show_nested": _flag(show_nested)},
        )
        return [shapes.nested_preview(entry) for entry in answer["plans"]]

    # -- operations ----------------------------------------------------------------

    def create(self, name: str, definition: StackDefinition, options: CreateOptions) -> StackRecord:
        return self.created(name, {"tags": list(options.tags)}, definition, options)

    def created(
        self,
        name: str,
        extra: Mapping[str, Any],
        definition: StackDefinition,
        options: CreateOptions,
    ) -> StackRecord:
        """Create (or, with ``adopt_stack_data`` in ``extra``, adopt) a stack; as it is now."""
        body = {
            "stack_name": name,
            **extra,
            **definition_body(definition),
            "disable_rollback": options.disable_rollback,
        }
        if options.timeout_mins is not None:
            body["timeout_mins"] = options.timeout_mins
        answer = self.server.send("POST", "/stacks", body)
        return self.current(StackRecord(id=answer["stack"]["id"], name=name))

    def update(
        self, name_or_id: str, definition: StackDefinition, options: UpdateOptions
    ) -> StackRecord:
        stack = self.get(name_or_id)
        body = {**definition_body(definition), "clear_parameters": list(options.clear_parameters)}
        for key, value in (
            ("timeout_mins", options.timeout_mins),
            ("disable_rollback", options.disable_rollback),
        ):
            if value is not None:
                body[key] = value
        if options.converge:
            body["converge"] = True
        if options.tags is not None:
            body["tags"] = list(options.tags)
        self.server.send("PATCH" if options.existing else "PUT", self.path(stack), body)
        return self.current(stack)

    def delete(self, name_or_id: str) -> StackRecord:
        stack = self.get(name_or_id)
        self.server.send("DELETE", self.path(stack))
        return self.current(stack)

    def _act(self, name_or_id: str, action: str) -> StackRecord:
        stack = self.get(name_or_id)
        self.server.send("POST", self.path(stack, "actions"), {action: None})
        return self.current(stack)

    def cancel(self, name_or_id: str, *, rollback: bool) -> StackRecord:
        return self._act(name_or_id, "cancel_update" if rollback else "cancel_without_rollback")

    def suspend(self, name_or_id: str) -> StackRecord:
        return self._act(name_or_id, "suspend")

    def resume(self, name_or_id: str) -> StackRecord:
        return self._act(name_or_id, "resume")

    def check(self, name_or_id: str) -> StackRecord:
        return self._act(name_or_id, "check")

    def signal(self, stack: StackRecord, resource: str, details: Any) -> None:
        self.server.send(
            "POST", self.path(stack, "resources", segment(resource), "signal"), details
        )

    def mark_unhealthy(self, name_or_id: str, resource: str, reason: str, *, reset: bool) -> None:
        stack = self.get(name_or_id)
        body = {"mark_unhealthy": not reset, "resource_status_reason": reason}
        self.server.send("PATCH", self.path(stack, "resources", segment(resource)), body)

    def clear_hooks(self, name_or_id: str, resource: str, hooks: Sequence[str]) -> None:
        """Each hook cleared by the signal that clears it; with none, the resource must exist."""
        stack = self.get(name_or_id)
        if not hooks:
            template = self._template(stack)
            declared = template.get("resources", template.get("Resources")) or {}
            if resource not in declared:
                raise NotFoundError(f"The Resource ({resource}) could not be found.")
        for hook in hooks:
            self.signal(stack, resource, {"unset_hook": hook})

    # -- running operations ------------------------------------------------------

    def start(self, stack: StackRecord) -> None:
        """Nothing to do: the server runs what it started."""

    def wait(self, stack: StackRecord, progress: Progress | None) -> StackRecord:
        """Follow the stack's live events until its operation has ended, and read it again."""
        states: dict[str, ResourceRecord] = {}
        if progress is not None:
            progress([])
        for item in self.stream(stack):
            if progress is None or item.physical_id == stack.id:
                continue
            states[item.resource_name] = ResourceRecord(
                id="",
                stack_id=stack.id,
                name=item.resource_name,
                type=item.resource_type,
                action=item.action,
                status=item.status,
            )
            progress(list(states.values()))
        return self.current(stack)

    # -- factories -----------------------------------------------------------------

    def snapshots(self) -> RemoteSnapshots:
        return RemoteSnapshots(self)

    def transfer(self) -> RemoteTransfer:
        return RemoteTransfer(self)


@dataclass
class RemoteSnapshots:
    stacks: RemoteStacks

    def _path(self, stack: StackRecord, *rest: str) -> str:
        return self.stacks.path(stack, "snapshots", *rest)

    def create(self, name_or_id: str, name: str = "") -> tuple[StackRecord, SnapshotRecord]:
        stack = self.stacks.get(name_or_id)
        taken = self.stacks.server.send("POST", self._path(stack), {"name": name})
        return self.stacks.current(stack), shapes.snapshot_record(stack.id, taken)

    def list(self, name_or_id: str) -> list[SnapshotRecord]:
        stack = self.stacks.get(name_or_id)
        listed = self.stacks.server.get(self._path(stack))["snapshots"]
        return [shapes.snapshot_record(stack.id, entry) for entry in listed]

    def get(self, name_or_id: str, snapshot: str) -> SnapshotRecord:
        stack = self.stacks.get(name_or_id)
        shown = self.stacks.server.get(self._path(stack, segment(snapshot)))["snapshot"]
        return shapes.snapshot_record(stack.id, shown)

    def restore(self, name_or_id: str, snapshot: str) -> StackRecord:
        stack = self.stacks.get(name_or_id)
        self.stacks.server.send("POST", self._path(stack, segment(snapshot), "restore"))
        return self.stacks.current(stack)

    def delete(self, name_or_id: str, snapshot: str) -> builtins.list[str]:
        stack = self.stacks.get(name_or_id)
        self.stacks.server.send("DELETE", self._path(stack, segment(snapshot)))
        return []


@dataclass
class RemoteTransfer:
    stacks: RemoteStacks

    def export(self, name_or_id: str) -> dict[str, Any]:
        stack = self.stacks.get(name_or_id)
        found: dict[str, Any] = self.stacks.server.get(self.stacks.path(stack, "export"))
        return found

    def abandon(self, name_or_id: str) -> dict[str, Any]:
        stack = self.stacks.get(name_or_id)
        found: dict[str, Any] = self.stacks.server.send(
            "DELETE", self.stacks.path(stack, "abandon")
        )
        return found

    def adopt(
        self, name: str, data: Any, definition: StackDefinition, options: CreateOptions
    ) -> StackRecord:
        extra = {"adopt_stack_data": data, "tags": list(options.tags)}
        return self.stacks.created(name, extra, definition, options)


@dataclass
class RemoteSoftware:
    """Software configs and deployments on a server (see :class:`backend.Software`)."""

    server: Server

    @classmethod
    def connect(cls, connection: Connection) -> RemoteSoftware:
        return cls(Server(connection))

    def _read(self, key: str, *path: str, params: dict[str, str | int] | None = None) -> Any:
        """The ``key`` of the answer to ``GET /software_...``."""
        return self.server.get("/".join(["", *map(segment, path)]), params=params)[key]

    def list_configs(self, *, limit: int | None, marker: str | None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("limit", limit), ("marker", marker)) if v is not None}
        found: list[dict[str, Any]] = self._read(
            "software_configs", "software_configs", params=params
        )
        return found

    def show_config(self, config_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._read("software_config", "software_configs", config_id)
        return found

    def create_config(self, name: str, definition: Mapping[str, Any]) -> dict[str, Any]:
        body = {"name": name, **definition}
        created: dict[str, Any] = self.server.send("POST", "/software_configs", body)[
            "software_config"
        ]
        return created

    def delete_config(self, config_id: str) -> None:
        self.server.send("DELETE", f"/software_configs/{segment(config_id)}")

    def list_deployments(self, server_id: str | None) -> list[dict[str, Any]]:
        params: dict[str, str | int] = {"server_id": server_id} if server_id else {}
        found: list[dict[str, Any]] = self._read(
            "software_deployments", "software_deployments", params=params
        )
        return found

    def show_deployment(self, deployment_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._read(
            "software_deployment", "software_deployments", deployment_id
        )
        return found

    def output(self, deployment_id: str, name: str) -> Any:
        values = self.show_deployment(deployment_id).get("output_values") or {}
        if name not in values:
            raise KilnError(f"Output {name} does not exist in deployment {deployment_id}")
        return values[name]

    def metadata(self, server_id: str) -> Any:
        return self._read("metadata", "software_deployments", "metadata", server_id)

    def delete_deployment(self, deployment_id: str) -> None:
        self.server.send("DELETE", f"/software_deployments/{segment(deployment_id)}")

"""Heat's JSON shapes, as ``kiln serve`` answers them, turned back into Kiln's records.

``"CREATE_COMPLETE"`` becomes an action and a status, Heat's timestamps
aware datetimes, a resource list's ``required_by`` each resource's
``depends_on`` again, and parameter values (Heat shows them all as strings)
the typed values the template declares, so that the commands print the
same thing in both modes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from kiln.engine.observe import PropertyDrift, ResourceDrift
from kiln.engine.outputs import Output
from kiln.errors import KilnError
from kiln.persistence.snapshots import SnapshotRecord
from kiln.plan.state import Action, EventRecord, ResourceRecord, StackRecord, Status
from kiln.plan.steps import Operation, Phase, Plan, Step, StepKey
from kiln.service.preview import NestedPreview

#: Parameter types whose values are text; the others are shown as JSON text by Heat.
_TEXT_TYPES = ("string",)


def time_of(text: Any) -> datetime | None:
    """A Heat timestamp (``2024-05-01T10:00:00Z``) as an aware datetime."""
    if not isinstance(text, str) or not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def state_of(text: str) -> tuple[Action, Status]:
    """``CREATE_IN_PROGRESS`` as (CREATE, IN_PROGRESS)."""
    for status in Status:
        action, separator, rest = text.rpartition(f"_{status.value}")
        if separator and not rest and action in Action.__members__:
            return Action(action), status
    raise KilnError(f"The server sent an unknown state {text!r}.")


def stack_record(entry: Mapping[str, Any]) -> StackRecord:
    """A stack from Heat's stack list or stack show."""
    action, status = state_of(entry["stack_status"])
    timeout = entry.get("timeout_mins")
    return StackRecord(
        id=entry["id"],
        name=entry["stack_name"],
        project_id=entry.get("stack_user_project_id") or entry.get("project") or "",
        action=action,
        status=status,
        status_reason=entry.get("stack_status_reason") or "",
        tags=tuple(entry.get("tags") or ()),
        timeout_mins=int(timeout) if timeout is not None else None,
        disable_rollback=bool(entry.get("disable_rollback", False)),
        parent_id=entry.get("parent"),
        created_at=time_of(entry.get("creation_time")),
        updated_at=time_of(entry.get("updated_time")),
        deleted_at=time_of(entry.get("deletion_time")),
    )


def linked_stack_name(entry: Mapping[str, Any]) -> str:
    """The name of the stack a resource or event belongs to, from its ``stack`` link."""
    for link in entry.get("links") or ():
        if link.get("rel") == "stack":
            return unquote(str(link["href"]).rstrip("/").split("/")[-2])
    raise KilnError("The server sent a resource or event without its stack's link.")


def resource_record(
    stack_id: str, entry: Mapping[str, Any], depends_on: frozenset[str] = frozenset()
) -> ResourceRecord:
    """A resource from Heat's resource list or show."""
    action, status = state_of(entry["resource_status"])
    return ResourceRecord(
        id="",
        stack_id=stack_id,
        name=entry["resource_name"],
        type=entry["resource_type"],
        physical_id=entry.get("physical_resource_id") or None,
        action=action,
        status=status,
        status_reason=entry.get("resource_status_reason") or "",
        attributes=dict(entry.get("attributes") or {}),
        depends_on=depends_on,
        created_at=time_of(entry.get("creation_time")),
        updated_at=time_of(entry.get("updated_time")),
    )


def resource_records(stack_id: str, entries: Sequence[Mapping[str, Any]]) -> list[ResourceRecord]:
    """One stack's resources, each depending on the resources that say they require it."""
    depends_on: dict[str, set[str]] = {entry["resource_name"]: set() for entry in entries}
    for entry in entries:
        for dependent in entry.get("required_by") or ():
            depends_on.setdefault(dependent, set()).add(entry["resource_name"])
    return [
        resource_record(stack_id, entry, frozenset(depends_on[entry["resource_name"]]))
        for entry in entries
    ]


def event_record(stack_id: str, entry: Mapping[str, Any], sequence: int) -> EventRecord:
    action, status = state_of(entry["resource_status"])
    return EventRecord(
        stack_id=stack_id,
        sequence=sequence,
        resource_name=entry["resource_name"],
        action=action,
        status=status,
        status_reason=entry.get("resource_status_reason") or "",
        physical_id=entry.get("physical_resource_id") or None,
        resource_type=entry.get("resource_type") or "",
        id=entry["id"],
        created_at=time_of(entry.get("event_time")),
    )


def output(entry: Mapping[str, Any]) -> Output:
    return Output(
        key=entry["output_key"],
        value=entry.get("output_value"),
        description=entry.get("description") or "",
        error=entry.get("output_error"),
    )


def snapshot_record(stack_id: str, entry: Mapping[str, Any]) -> SnapshotRecord:
    return SnapshotRecord(
        id=entry["id"],
        stack_id=stack_id,
        name=entry.get("name") or "",
        status=Status(entry["status"]),
        status_reason=entry.get("status_reason") or "",
        data=dict(entry.get("data") or {}),
        created_at=time_of(entry.get("creation_time")),
    )


def drift(entry: Mapping[str, Any]) -> ResourceDrift:
    return ResourceDrift(
        resource=entry["resource_name"],
        type=entry["resource_type"],
        status=entry["drift_status"],
        differences=tuple(
            PropertyDrift(item["property"], item.get("recorded"), item.get("actual"))
            for item in entry.get("differences") or ()
        ),
        reason=entry.get("reason") or "",
    )


def _step_key(entry: Mapping[str, Any]) -> StepKey:
    return StepKey(entry["resource"], Phase(entry["phase"]), entry.get("incarnation") or "")


def plan(steps: Sequence[Mapping[str, Any]]) -> Plan:
    """A plan from a preview's ``with_plan`` steps."""
    found = {}
    for entry in steps:
        key = _step_key(entry)
        found[key] = Step(
            key=key,
            operation=Operation(entry["operation"]),
            type=entry["type"],
            changed=frozenset(entry.get("changed") or ()),
            reason=entry.get("reason") or "",
            requires=frozenset(_step_key(item) for item in entry.get("requires") or ()),
            decided_at_apply=bool(entry.get("decided_at_apply")),
            snapshot=bool(entry.get("snapshot")),
        )
    return Plan(found)


def nested_preview(entry: Mapping[str, Any]) -> NestedPreview:
    steps = entry.get("steps")
    return NestedPreview(
        path=entry["path"],
        stack_name=entry["stack_name"],
        plan=plan(steps) if steps is not None else None,
        note=entry.get("note") or "",
    )


def parameter_types(template: Any) -> dict[str, str]:
    """Each declared parameter's type, lower case, from a template's JSON (HOT or CFN)."""
    if not isinstance(template, Mapping):
        return {}
    section = template.get("parameters", template.get("Parameters"))
    if not isinstance(section, Mapping):
        return {}
    return {
        str(name): str(body.get("type", body.get("Type", ""))).lower()
        for name, body in section.items()
        if isinstance(body, Mapping)
    }


def typed_parameters(shown: Mapping[str, str], types: Mapping[str, str]) -> dict[str, Any]:
    """Heat's parameter strings as the values they stand for.

    Numbers, booleans, lists and maps come back from the JSON text Heat shows
    them as; text, CloudFormation's ``AWS::`` types, masked hidden values and
    values the template does not declare stay as they are.
    """
    values: dict[str, Any] = {}
    for name, text in shown.items():
        kind = types.get(name)
        if kind is None or kind in _TEXT_TYPES or kind.startswith("aws::"):
            values[name] = text
            continue
        try:
            values[name] = json.loads(text)
        except (TypeError, ValueError):
            values[name] = text
    return values

"""Kiln's records in the JSON shapes Heat's API gives them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from kiln.engine.outputs import Output
from kiln.persistence.snapshots import SnapshotRecord
from kiln.plan.state import EventRecord, ResourceRecord, StackRecord
from kiln.service.snapshots import shown as shown_snapshot

#: Heat's timestamps: ISO 8601, seconds, UTC, with a Z.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def iso_time(value: datetime | None) -> str | None:
    """``value`` in :data:`TIME_FORMAT` (as written, whatever its zone: records hold UTC).

    Cut from ``isoformat``, which is several times cheaper than ``strftime``: a
    list of a thousand stacks or events formats thousands of these.
    """
    if value is None:
        return None
    return value.isoformat(timespec="seconds")[:19] + "Z"


def stack_url(base_url: str, stack: StackRecord) -> str:
    """The canonical URL of a stack: ``.../v1/{project}/stacks/{name}/{id}``."""
    return f"{base_url.rstrip('/')}/v1/{stack.project_id}/stacks/{stack.name}/{stack.id}"


def stack_link(base_url: str, stack: StackRecord) -> dict[str, str]:
    return {"href": stack_url(base_url, stack), "rel": "self"}


def stack_summary(
    base_url: str, stack: StackRecord, *, include_project: bool = False
) -> dict[str, Any]:
    """A stack as Heat's stack list gives it."""
    summary: dict[str, Any] = {
        "id": stack.id,
        "links": [stack_link(base_url, stack)],
        "stack_name": stack.name,
        "description": "",
        "stack_status": stack.state,
        "stack_status_reason": stack.status_reason,
        "creation_time": iso_time(stack.created_at),
        "deletion_time": iso_time(stack.deleted_at),
        "updated_time": iso_time(stack.updated_at),
        "stack_owner": None,
        "parent": stack.parent_id,
        "stack_user_project_id": stack.project_id,
        "tags": list(stack.tags) or None,
    }
    if include_project:
        summary["project"] = stack.project_id
    return summary


def output_entry(output: Output) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "output_key": output.key,
        "output_value": output.value,
        "description": output.description,
    }
    if output.error is not None:
        entry["output_error"] = output.error
    return entry


def stack_detail(
    base_url: str,
    stack: StackRecord,
    *,
    description: str,
    parameters: dict[str, Any],
    outputs: list[Output] | None,
) -> dict[str, Any]:
    """A stack as Heat's stack show gives it (outputs left out when not resolved)."""
    detail = stack_summary(base_url, stack)
    detail.update(
        {
            "description": description,
            "template_description": description,
            "parameters": {name: _text(value) for name, value in parameters.items()},
            "notification_topics": [],
            "capabilities": [],
            "disable_rollback": stack.disable_rollback,
            "timeout_mins": stack.timeout_mins,
        }
    )
    if outputs is not None:
        detail["outputs"] = [output_entry(output) for output in outputs]
    return detail


def _text(value: Any) -> str:
    """Heat shows parameter values as strings (JSON values as JSON text)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict | list):
        import json

        return json.dumps(value)
    return str(value)


def resource_entry(
    base_url: str,
    stack: StackRecord,
    record: ResourceRecord,
    required_by: list[str],
    nested: StackRecord | None = None,
) -> dict[str, Any]:
    """A resource as Heat's resource list and show give it; ``nested`` is the stack
    the resource stands for, if any, and a nested stack's resources name their parent."""
    resource_url = f"{stack_url(base_url, stack)}/resources/{record.name}"
    links = [
        {"href": resource_url, "rel": "self"},
        {"href": stack_url(base_url, stack), "rel": "stack"},
    ]
    if nested is not None:
        links.append({"href": stack_url(base_url, nested), "rel": "nested"})
    entry: dict[str, Any] = {
        "resource_name": record.name,
        "logical_resource_id": record.name,
        "physical_resource_id": record.physical_id or "",
        "resource_type": record.type,
        "resource_status": record.state,
        "resource_status_reason": record.status_reason,
        "creation_time": iso_time(record.created_at),
        "updated_time": iso_time(record.updated_at or record.created_at),
        "required_by": required_by,
        "links": links,
    }
    if stack.parent_resource:
        entry["parent_resource"] = stack.parent_resource
    return entry


def event_entry(
    base_url: str, stack: StackRecord, event: EventRecord, root: StackRecord | None = None
) -> dict[str, Any]:
    """An event as Heat's event list and show give it; ``root`` is the stack whose
    nested stacks were listed too (Heat's ``root_stack`` link)."""
    return event_entries(base_url, [(stack, event)], root)[0]


def event_entries(
    base_url: str,
    events: Iterable[tuple[StackRecord, EventRecord]],
    root: StackRecord | None = None,
) -> list[dict[str, Any]]:
    """Each (stack, event) pair as :func:`event_entry` gives it.

    Each stack's URL and each distinct time is formatted once, not once per event:
    a stack's event list is thousands long, and the engine records the events of
    steps that end together with one time.
    """
    root_link = None if root is None else {"href": stack_url(base_url, root), "rel": "root_stack"}
    urls: dict[str, str] = {}
    times: dict[datetime | None, str | None] = {}
    entries = []
    for stack, event in events:
        url = urls.get(stack.id)
        if url is None:
            url = urls[stack.id] = stack_url(base_url, stack)
        created = event.created_at
        if created in times:
            event_time = times[created]
        else:
            event_time = times[created] = iso_time(created)
        resource_url = f"{url}/resources/{event.resource_name}"
        links = [
            {"href": f"{resource_url}/events/{event.id}", "rel": "self"},
            {"href": resource_url, "rel": "resource"},
            {"href": url, "rel": "stack"},
        ]
        if root_link is not None:
            links.append(dict(root_link))
        entries.append(
            {
                "id": event.id,
                "event_time": event_time,
                "resource_name": event.resource_name,
                "logical_resource_id": event.resource_name,
                "physical_resource_id": event.physical_id or "",
                "resource_type": event.resource_type,
                "resource_status": f"{event.action}_{event.status}",
                "resource_status_reason": event.status_reason,
                "links": links,
            }
        )
    return entries


def snapshot_entry(snapshot: SnapshotRecord) -> dict[str, Any]:
    """A snapshot as Heat's snapshot create, list and show give it."""
    shown = shown_snapshot(snapshot)
    return {**shown, "action": "SNAPSHOT", "creation_time": iso_time(snapshot.created_at)}

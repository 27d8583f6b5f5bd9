"""Plans in the shapes of Heat's preview responses."""

from __future__ import annotations

from typing import Any

from kiln.plan.steps import Operation, Plan
from kiln.service.preview import NestedPreview

#: Heat's ``resource_changes`` keys, by the plan operation that puts a resource there.
_CHANGE_KEYS = {
    Operation.CREATE: "added",
    Operation.UPDATE: "updated",
    Operation.CREATE_REPLACEMENT: "replaced",
    Operation.DELETE: "deleted",
    Operation.RETAIN: "deleted",
    Operation.SAME: "unchanged",
}


def _entry(name: str, type_name: str, parent: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource_name": name,
        "resource_type": type_name,
        "resource_action": "INIT",
        "resource_status": "COMPLETE",
        "resource_status_reason": "",
        "physical_resource_id": "",
        "required_by": [],
    }
    if parent is not None:
        entry["parent_resource"] = parent
    return entry


def created_resources(plan: Plan) -> list[dict[str, Any]]:
    """What a create preview lists: the resources the plan would create."""
    return [
        _entry(step.key.resource, step.type, None) for step in plan.by_operation(Operation.CREATE)
    ]


def resource_changes(previews: list[NestedPreview]) -> dict[str, list[dict[str, Any]]]:
    """Heat's ``resource_changes``: each resource of each plan under what happens to it;
    a nested stack's resources name their parent resource."""
    changes: dict[str, list[dict[str, Any]]] = {
        key: [] for key in ("added", "deleted", "replaced", "unchanged", "updated")
    }
    for preview in previews:
        if preview.plan is None:
            continue
        parent = preview.path.rsplit("/", 1)[-1] if "/" in preview.path else None
        seen: set[tuple[str, str]] = set()
        for step in preview.plan:
            key = _CHANGE_KEYS.get(step.operation)
            if key is None or (key, step.key.resource) in seen:
                continue
            seen.add((key, step.key.resource))
            changes[key].append(_entry(step.key.resource, step.type, parent))
    return changes

"""Plans in the shapes of Heat's preview responses, and as steps for Kiln's own client.

Asked ``with_plan=true``, a preview also answers with the plan itself (each
step with its operation, reason and the steps it waits for), which ``kiln
stack create|update --dry-run`` prints in client mode exactly as in
embedded mode. Heat's clients never ask, so Heat's shapes stay as they are.
"""

from __future__ import annotations

from typing import Any

from kiln.plan.steps import Operation, Plan, StepKey
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


def _key(key: StepKey) -> dict[str, str]:
    return {"resource": key.resource, "phase": key.phase.value, "incarnation": key.incarnation}


def plan_steps(plan: Plan) -> list[dict[str, Any]]:
    """The plan's steps as data (``with_plan=true``); record ids stay on the server."""
    return [
        {
            **_key(step.key),
            "operation": step.operation.value,
            "type": step.type,
            "changed": sorted(step.changed),
            "reason": step.reason,
            "requires": [_key(key) for key in sorted(step.requires)],
            "decided_at_apply": step.decided_at_apply,
            "snapshot": step.snapshot,
        }
        for step in plan
    ]


def preview_plans(previews: list[NestedPreview]) -> list[dict[str, Any]]:
    """Each stack's plan in an update preview (``with_plan=true``), parents first."""
    return [
        {
            "path": preview.path,
            "stack_name": preview.stack_name,
            "steps": plan_steps(preview.plan) if preview.plan is not None else None,
            "note": preview.note,
        }
        for preview in previews
    ]

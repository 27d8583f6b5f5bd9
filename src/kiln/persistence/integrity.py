"""Consistency rules for recorded state, checked after every operation in tests.

Pure: it reads records and returns problems, so it runs the same on records
loaded from any backend or built by hand. It imports no SQLAlchemy (nor does
the package initialiser), so planner and property tests may use it freely.

The rules are what recovery relies on: exactly one live incarnation per
name except while a replacement is linked, links that agree in both
directions, dependencies that name real resources, a physical id for
everything created, and no work in flight on a stack that says it is idle.
Given the ids of the stack's stored software deployments, resources that
hold one and the stored rows must also match one to one (a delete that
forgot a row, or a resource whose row went missing).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from kiln.persistence.records import Lease
from kiln.plan.state import Action, ResourceRecord, StackRecord, Status
from kiln.providers.software_config import DEPLOYMENT_MARK

_NEEDS_PHYSICAL_ID = frozenset({Action.CREATE, Action.UPDATE, Action.ADOPT})


def check_integrity(
    stack: StackRecord,
    resources: Sequence[ResourceRecord],
    leases: Sequence[Lease] = (),
    deployments: Collection[str] | None = None,
) -> list[str]:
    """Every rule ``stack`` and its ``resources`` break, as sentences; empty when consistent.

    ``deployments``: the ids of the software deployments stored for the stack, if checked.
    """
    by_id = {record.id: record for record in resources}
    problems: list[str] = []
    problems += _foreign_records(stack, resources)
    problems += _duplicate_live_names(resources)
    problems += _broken_links(resources, by_id)
    problems += _dangling_dependencies(resources)
    problems += _missing_physical_ids(resources)
    problems += _work_on_idle_stack(stack, resources, leases, by_id)
    if deployments is not None:
        problems += _unmatched_deployments(resources, deployments)
    return problems


def _label(record: ResourceRecord) -> str:
    return f"resource {record.name!r} (generation {record.generation})"


def _foreign_records(stack: StackRecord, resources: Sequence[ResourceRecord]) -> list[str]:
    return [
        f"{_label(record)} belongs to stack {record.stack_id!r}, not {stack.id!r}"
        for record in resources
        if record.stack_id != stack.id
    ]


def _duplicate_live_names(resources: Sequence[ResourceRecord]) -> list[str]:
    """More than one unreplaced incarnation of a name means a replacement was forgotten."""
    unreplaced: dict[str, list[ResourceRecord]] = {}
    for record in resources:
        if record.replaced_by is None:
            unreplaced.setdefault(record.name, []).append(record)
    return [
        f"resource {name!r} has {len(records)} live records not linked as replacements "
        f"(generations {', '.join(str(record.generation) for record in records)})"
        for name, records in sorted(unreplaced.items())
        if len(records) > 1
    ]


def _broken_links(
    resources: Sequence[ResourceRecord], by_id: dict[str, ResourceRecord]
) -> list[str]:
    problems: list[str] = []
    for record in resources:
        if record.replaced_by is not None:
            successor = by_id.get(record.replaced_by)
            if successor is None:
                problems.append(f"{_label(record)} is replaced by a missing record")
            elif successor.replaces != record.id or successor.name != record.name:
                problems.append(
                    f"{_label(record)} is replaced by {_label(successor)}, "
                    "which does not point back"
                )
        if record.replaces is not None:
            predecessor = by_id.get(record.replaces)
            if predecessor is None:
                problems.append(f"{_label(record)} replaces a missing record")
            elif predecessor.replaced_by != record.id or predecessor.name != record.name:
                problems.append(
                    f"{_label(record)} replaces {_label(predecessor)}, which does not point forward"
                )
    return problems


def _dangling_dependencies(resources: Sequence[ResourceRecord]) -> list[str]:
    names = {record.name for record in resources}
    return [
        f"{_label(record)} depends on {missing!r}, which is not a resource of the stack"
        for record in resources
        for missing in sorted(record.depends_on - names)
    ]


def _missing_physical_ids(resources: Sequence[ResourceRecord]) -> list[str]:
    return [
        f"{_label(record)} is {record.state} without a physical id"
        for record in resources
        if record.action in _NEEDS_PHYSICAL_ID
        and record.status is Status.COMPLETE
        and not record.physical_id
    ]


def _work_on_idle_stack(
    stack: StackRecord,
    resources: Sequence[ResourceRecord],
    leases: Sequence[Lease],
    by_id: dict[str, ResourceRecord],
) -> list[str]:
    """A stack that is not IN_PROGRESS must have no resource in flight and no lease held."""
    if stack.status is Status.IN_PROGRESS:
        return []
    problems = [
        f"{_label(record)} is {record.state} while the stack is {stack.state}"
        for record in resources
        if record.status is Status.IN_PROGRESS
    ]
    for lease in leases:
        record = by_id.get(lease.resource_id)
        holder = _label(record) if record else f"resource id {lease.resource_id!r}"
        problems.append(f"{holder} is leased by {lease.owner!r} while the stack is {stack.state}")
    return problems


def _unmatched_deployments(
    resources: Sequence[ResourceRecord], deployments: Collection[str]
) -> list[str]:
    """Each resource holding a software deployment has its row, and each row its resource."""
    holders = {
        record.physical_id: record
        for record in resources
        if record.physical_id and record.provider_data.get(DEPLOYMENT_MARK)
    }
    problems = [
        f"{_label(record)} holds software deployment {physical_id!r}, which is not stored"
        for physical_id, record in holders.items()
        if physical_id not in deployments
    ]
    problems += [
        f"software deployment {deployment!r} belongs to no resource of the stack"
        for deployment in sorted(set(deployments) - set(holders))
    ]
    return problems

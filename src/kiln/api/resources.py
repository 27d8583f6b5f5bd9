"""Heat's resource routes: list (with nested stacks and filters), show, metadata,
signal (hooks are cleared this way too) and mark unhealthy; and Kiln's drift.

Two additions for Kiln's own client, which Heat's clients never ask for:
``GET .../resources/{name}?attributes=recorded`` shows the attributes as
recorded when the resource was last applied (what ``kiln stack resource
show`` prints) instead of reading them live, and ``GET .../drift`` compares
each resource's real state with its record (``kiln stack drift``).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from kiln.api.errors import ApiError
from kiln.api.params import int_param
from kiln.api.shapes import resource_entry
from kiln.api.stacks import State, _bool_param, identified, service_for
from kiln.engine.validation import validate_stack
from kiln.plan.state import ResourceRecord, StackRecord
from kiln.service.queries import ResourceFilters, list_resources
from kiln.service.stacks import ResourceNotFoundError, StackService
from kiln.template.conditions import is_enabled
from kiln.template.functions.base import Resolver

router = APIRouter(prefix="/v1/{project_id}/stacks/{stack_name}/{stack_id}", tags=["resources"])

#: Query parameters the resource list takes: its filters, then its options.
FILTERS = ("name", "status", "action", "type", "id", "physical_resource_id")
OPTIONS = ("nested_depth", "with_detail")


def _base(request: Request) -> str:
    return str(request.base_url)


def required_by(records: list[ResourceRecord]) -> dict[str, list[str]]:
    """For each resource, the resources of the same stack that depend on it."""
    found: dict[str, list[str]] = {record.name: [] for record in records}
    for record in records:
        for name in sorted(record.depends_on):
            found.setdefault(name, []).append(record.name)
    return found


def _entries(
    base: str, service: StackService, pairs: list[tuple[StackRecord, ResourceRecord]]
) -> list[dict[str, Any]]:
    """Each resource as Heat lists it, with its dependents and its nested stack's link."""
    dependents: dict[str, dict[str, list[str]]] = {}
    children: dict[str, dict[str, StackRecord]] = {}
    entries = []
    for stack, record in pairs:
        if stack.id not in dependents:
            dependents[stack.id] = required_by(service.resource_records(stack))
            children[stack.id] = {child.id: child for child in service.stacks.children(stack.id)}
        nested = children[stack.id].get(record.physical_id or "")
        needed_by = dependents[stack.id].get(record.name, [])
        entries.append(resource_entry(base, stack, record, needed_by, nested))
    return entries


def _record(service: StackService, stack: StackRecord, name: str) -> ResourceRecord:
    for record in service.resource_records(stack):
        if record.name == name:
            return record
    # As in Heat, a resource of the template that was never acted on (its create
    # never started because one it depends on failed) is INIT_COMPLETE.
    result = validate_stack(stack, service.plugins, service.limits)
    declaration = result.template.resources.get(name) if result.template is not None else None
    resolver = Resolver(result.scope, result.limits) if result.scope is not None else None
    if (
        declaration is None
        or resolver is None
        or is_enabled(resolver, declaration.condition, declaration.path) is False
    ):
        raise ResourceNotFoundError(name)
    return ResourceRecord(id="", stack_id=stack.id, name=name, type=declaration.type)


@router.get("/resources", summary="List a stack's resources")
async def list_stack_resources(
    request: Request, project_id: str, stack_name: str, stack_id: str, state: State
) -> dict[str, Any]:
    """Heat's resource list; ``with_detail`` adds each description and attributes (live)."""
    query = request.query_params
    unknown = sorted(set(query) - {*FILTERS, *OPTIONS})
    if unknown:
        raise ApiError(400, "Invalid", f"Invalid filter parameters {unknown}")
    filters = ResourceFilters(
        names=query.getlist("name"),
        statuses=query.getlist("status"),
        actions=query.getlist("action"),
        types=query.getlist("type"),
        ids=query.getlist("id"),
        physical_ids=query.getlist("physical_resource_id"),
    )
    depth = int_param("nested_depth", query.get("nested_depth"))
    detail = _bool_param("with_detail", query.get("with_detail"))
    service = service_for(state, project_id)

    def read() -> tuple[list[tuple[StackRecord, ResourceRecord]], list[dict[str, Any]]]:
        stack = identified(service, stack_name, stack_id)
        pairs = list_resources(service, stack, depth, filters)
        return pairs, _entries(_base(request), service, pairs)

    pairs, entries = await asyncio.to_thread(read)
    if detail:
        for entry, (member, record) in zip(entries, pairs, strict=True):
            await _add_detail(service, member, record, entry)
    return {"resources": entries}


async def _add_detail(
    service: StackService,
    stack: StackRecord,
    record: ResourceRecord,
    entry: dict[str, Any],
    with_attr: list[str] | None = None,
) -> None:
    """What Heat's detailed form adds: the resource's description and its attributes."""
    entry["description"] = await asyncio.to_thread(service.resource_description, stack, record.name)
    entry["attributes"] = await service.resource_attributes(stack, record, with_attr or ())


@router.get("/resources/{resource_name}", summary="Show a resource")
async def show_resource(
    request: Request,
    project_id: str,
    stack_name: str,
    stack_id: str,
    resource_name: str,
    state: State,
    with_attr: Annotated[list[str] | None, Query()] = None,
    attributes: str = "live",
) -> dict[str, Any]:
    """Heat's resource show: the list's keys, the description and every attribute, read live
    (or, with ``attributes=recorded``, as recorded; hidden values masked either way)."""
    if attributes not in ("live", "recorded"):
        raise ApiError(
            400,
            "Invalid",
            f"Invalid value '{attributes}' for 'attributes': "
            "acceptable values are 'live' and 'recorded'",
        )
    service = service_for(state, project_id)

    def read() -> tuple[StackRecord, ResourceRecord, dict[str, Any]]:
        stack = identified(service, stack_name, stack_id)
        record = _record(service, stack, resource_name)
        (entry,) = _entries(_base(request), service, [(stack, record)])
        return stack, record, entry

    stack, record, entry = await asyncio.to_thread(read)
    if attributes == "recorded":
        await asyncio.to_thread(_add_recorded, service, stack, record, entry)
    else:
        await _add_detail(service, stack, record, entry, with_attr)
    return {"resource": entry}


def _add_recorded(
    service: StackService, stack: StackRecord, record: ResourceRecord, entry: dict[str, Any]
) -> None:
    redactor = validate_stack(stack, service.plugins, service.limits).redactor
    entry["description"] = service.resource_description(stack, record.name)
    entry["attributes"] = redactor.value(dict(record.attributes))


@router.get("/drift", summary="Compare each resource's real state with its record (Kiln)")
async def stack_drift(
    project_id: str, stack_name: str, stack_id: str, state: State
) -> dict[str, Any]:
    """Each live resource: IN_SYNC, MODIFIED (with each property that differs), DELETED or
    NOT_CHECKED, as ``kiln stack drift`` reports it; hidden values masked."""
    service = service_for(state, project_id)
    stack = await asyncio.to_thread(identified, service, stack_name, stack_id)
    found = await service.drift(stack.id)
    return {
        "resources": [
            {
                "resource_name": item.resource,
                "resource_type": item.type,
                "drift_status": item.status,
                "reason": item.reason,
                "differences": [
                    {"property": d.name, "recorded": d.recorded, "actual": d.actual}
                    for d in item.differences
                ],
            }
            for item in found
        ]
    }


@router.get("/resources/{resource_name}/metadata", summary="A resource's metadata")
def resource_metadata(
    project_id: str, stack_name: str, stack_id: str, resource_name: str, state: State
) -> dict[str, Any]:
    service = service_for(state, project_id)
    stack = identified(service, stack_name, stack_id)
    return {"metadata": service.resource_metadata(stack.id, resource_name)}


@router.post("/resources/{resource_name}/signal", summary="Signal a resource (or clear a hook)")
async def signal_resource(
    project_id: str,
    stack_name: str,
    stack_id: str,
    resource_name: str,
    state: State,
    body: Annotated[Any, Body()] = None,
) -> JSONResponse:
    """Heat's resource signal: the details go to the resource's plugin; an
    ``{"unset_hook": HOOK}`` body clears that hook instead. The answer is what was kept."""
    service = service_for(state, project_id)
    stack = await asyncio.to_thread(identified, service, stack_name, stack_id)
    kept = await service.signal(stack.id, resource_name, body)
    return JSONResponse(dict(kept))


@router.patch("/resources/{resource_name}", summary="Mark a resource unhealthy (or healthy)")
def mark_unhealthy(
    project_id: str,
    stack_name: str,
    stack_id: str,
    resource_name: str,
    state: State,
    body: Annotated[dict[str, Any], Body()],
) -> Response:
    invalid = sorted(set(body) - {"mark_unhealthy", "resource_status_reason"})
    if invalid:
        raise ApiError(400, "Invalid", f"Invalid keys in resource mark unhealthy {invalid}")
    if "mark_unhealthy" not in body:
        raise ApiError(
            400, "Invalid", "Missing mandatory (mark_unhealthy) key from mark unhealthy request"
        )
    value = body["mark_unhealthy"]
    unhealthy = value if isinstance(value, bool) else _bool_param("mark_unhealthy", str(value))
    reason = body.get("resource_status_reason") or ""
    if not isinstance(reason, str):
        raise ApiError(400, "Invalid", "resource_status_reason must be a string.")
    service = service_for(state, project_id)
    stack = identified(service, stack_name, stack_id)
    service.mark_unhealthy(stack.id, resource_name, reason, reset=not unhealthy)
    return Response(status_code=200)

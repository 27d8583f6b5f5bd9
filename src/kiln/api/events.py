"""Heat's event routes: a stack's events (with its nested stacks' if asked), a
resource's events, and one event."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from kiln.api.errors import ApiError
from kiln.api.params import int_param
from kiln.api.shapes import event_entries
from kiln.api.stacks import State, identified, service_for
from kiln.service.queries import EventQuery, list_events

router = APIRouter(prefix="/v1/{project_id}/stacks/{stack_name}/{stack_id}", tags=["events"])

Values = Annotated[list[str] | None, Query()]


def event_query(
    resource_action: Values = None,
    resource_status: Values = None,
    resource_name: Values = None,
    resource_type: Values = None,
    sort_keys: Values = None,
    sort_dir: str = "asc",
    limit: str | None = None,
    marker: str | None = None,
    nested_depth: str | None = None,
) -> EventQuery:
    """The filters, order and page an event list's query asks for."""
    return EventQuery(
        names=resource_name or (),
        statuses=resource_status or (),
        actions=resource_action or (),
        types=resource_type or (),
        sort_keys=sort_keys or (),
        sort_dir=sort_dir.lower(),
        limit=None if limit is None else int_param("limit", limit),
        marker=marker,
        nested_depth=int_param("nested_depth", nested_depth),
    )


Asked = Annotated[EventQuery, Depends(event_query)]


@router.get("/events", summary="List a stack's events")
def list_stack_events(
    request: Request, project_id: str, stack_name: str, stack_id: str, state: State, query: Asked
) -> JSONResponse:
    # Plain JSON: a thousand events need no per-field encoding by the framework.
    events = _events(request, state, project_id, stack_name, stack_id, query)
    return JSONResponse({"events": events})


@router.get("/resources/{resource}/events", summary="List a resource's events")
def list_resource_events(
    request: Request,
    project_id: str,
    stack_name: str,
    stack_id: str,
    resource: str,
    state: State,
    query: Asked,
) -> JSONResponse:
    only = replace(query, names=[resource])
    events = _events(request, state, project_id, stack_name, stack_id, only)
    if not events:
        raise ApiError(404, "NotFound", f"No events found for resource {resource}")
    return JSONResponse({"events": events})


@router.get("/resources/{resource}/events/{event_id}", summary="Show an event")
def show_event(
    request: Request,
    project_id: str,
    stack_name: str,
    stack_id: str,
    resource: str,
    event_id: str,
    state: State,
) -> dict[str, Any]:
    query = EventQuery(names=[resource])
    for event in _events(request, state, project_id, stack_name, stack_id, query):
        if event["id"] == event_id:
            return {"event": event}
    raise ApiError(404, "NotFound", f"No event {event_id} found")


def _events(
    request: Request,
    state: State,
    project_id: str,
    stack_name: str,
    stack_id: str,
    query: EventQuery,
) -> list[dict[str, Any]]:
    service = service_for(state, project_id)
    stack = identified(service, stack_name, stack_id)
    root = stack if query.nested_depth else None
    return event_entries(str(request.base_url), list_events(service, stack, query), root)

"""Heat's stack snapshot routes: take, list, show, delete, and restore a stack to one."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response

from kiln.api.errors import ApiError
from kiln.api.shapes import snapshot_entry
from kiln.api.stacks import JsonBody, State, identified, service_for
from kiln.service.snapshots import StackSnapshots

router = APIRouter(
    prefix="/v1/{project_id}/stacks/{stack_name}/{stack_id}/snapshots", tags=["snapshots"]
)


@router.post("", summary="Take a snapshot of a stack")
def create_snapshot(
    project_id: str, stack_name: str, stack_id: str, state: State, body: JsonBody
) -> dict[str, Any]:
    """Heat's answer is the snapshot being taken (IN_PROGRESS); the engine takes it."""
    name = body.get("name") or ""
    if not isinstance(name, str):
        raise ApiError(400, "Invalid", "The snapshot name must be a string.")
    service = service_for(state, project_id)
    stack = identified(service, stack_name, stack_id)
    snapshotting, snapshot = StackSnapshots(service).create(stack.id, name)
    state.runner.launch(snapshotting.id)
    return snapshot_entry(snapshot)


@router.get("", summary="List a stack's snapshots")
def list_snapshots(project_id: str, stack_name: str, stack_id: str, state: State) -> dict[str, Any]:
    service = service_for(state, project_id)
    stack = identified(service, stack_name, stack_id)
    return {"snapshots": [snapshot_entry(s) for s in StackSnapshots(service).list(stack.id)]}


@router.get("/{snapshot_id}", summary="Show a snapshot")
def show_snapshot(
    project_id: str, stack_name: str, stack_id: str, snapshot_id: str, state: State
) -> dict[str, Any]:
    service = service_for(state, project_id)
    stack = identified(service, stack_name, stack_id)
    return {"snapshot": snapshot_entry(StackSnapshots(service).get(stack.id, snapshot_id))}


@router.delete("/{snapshot_id}", status_code=204, summary="Delete a snapshot")
async def delete_snapshot(
    project_id: str, stack_name: str, stack_id: str, snapshot_id: str, state: State
) -> Response:
    """The snapshot goes with the backend snapshots it kept."""
    service = service_for(state, project_id)
    stack = await asyncio.to_thread(identified, service, stack_name, stack_id)
    await StackSnapshots(service).delete(stack.id, snapshot_id)
    return Response(status_code=204)


@router.post(
    "/{snapshot_id}/restore",
    status_code=202,
    response_class=Response,
    summary="Restore a stack to a snapshot",
)
def restore_snapshot(
    project_id: str, stack_name: str, stack_id: str, snapshot_id: str, state: State
) -> Response:
    service = service_for(state, project_id)
    stack = identified(service, stack_name, stack_id)
    restoring = StackSnapshots(service).restore(stack.id, snapshot_id)
    state.runner.launch(restoring.id)
    return Response(status_code=202)

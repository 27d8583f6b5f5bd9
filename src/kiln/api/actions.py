"""Heat's stack actions: suspend, resume, check, and cancelling an update."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from kiln.api.errors import ApiError
from kiln.api.stacks import REDIRECT_RESPONSES, State, _redirect, identified, service_for
from kiln.plan.state import StackRecord
from kiln.service.stacks import StackService

router = APIRouter(prefix="/v1/{project_id}/stacks/{stack_name}", tags=["actions"])

#: Each action Heat takes, by the one key of its body.
ACTIONS: dict[str, Callable[[StackService, str], StackRecord]] = {
    "suspend": lambda service, stack_id: service.suspend(stack_id),
    "resume": lambda service, stack_id: service.resume(stack_id),
    "check": lambda service, stack_id: service.check(stack_id),
    "cancel_update": lambda service, stack_id: service.cancel(stack_id),
    "cancel_without_rollback": lambda service, stack_id: service.cancel(stack_id, rollback=False),
}


@router.post(
    "/{stack_id}/actions",
    response_class=Response,
    summary="Suspend, resume, check or cancel an update",
)
def stack_action(
    project_id: str,
    stack_name: str,
    stack_id: str,
    state: State,
    body: Annotated[Any, Body()] = None,
) -> Response:
    """The body holds exactly one action, ``{"suspend": null}``; the engine then runs it."""
    if body is None or body == {}:
        raise ApiError(400, "Invalid", "No action specified")
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid", "The request body must be a JSON object.")
    if len(body) > 1:
        raise ApiError(400, "Invalid", "Multiple actions specified")
    (name,) = body
    action = ACTIONS.get(name)
    if action is None:
        raise ApiError(400, "Invalid", f"Invalid action {name} specified")
    service = service_for(state, project_id)
    stack = identified(service, stack_name, stack_id)
    started = action(service, stack.id)
    state.runner.launch(started.id)
    return Response(status_code=200)


@router.post(
    "/actions",
    summary="Find a stack by name (redirect)",
    status_code=302,
    response_class=Response,
    responses=REDIRECT_RESPONSES,
)
def lookup_actions(request: Request, project_id: str, stack_name: str, state: State) -> Response:
    """As Heat does, a name alone redirects to the stack's URL (clients post actions there)."""
    return _redirect(request, service_for(state, project_id).get(stack_name), "actions")

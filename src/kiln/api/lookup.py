"""Heat's lookup: a stack named without its id redirects to its canonical URL, for every
method (clients send updates, deletes and actions to ``/stacks/NAME`` and follow the
302 with the same method, as python-heatclient does)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from kiln.api.stacks import State, _redirect, service_for

router = APIRouter(prefix="/v1/{project_id}", tags=["stacks"])

#: Subpaths a POST may name after a stack's name alone (Heat's list).
POST_LOOKUP_PATHS = frozenset({"resources", "events", "template"})


@router.api_route(
    "/stacks/{stack_name}",
    methods=["POST", "PUT", "PATCH", "DELETE"],
    summary="Find a stack by name (redirect)",
    status_code=302,
)
def lookup_any_method(
    request: Request, project_id: str, stack_name: str, state: State
) -> RedirectResponse:
    return _redirect(request, service_for(state, project_id).get(stack_name), "")


@router.post(
    "/stacks/{stack_name}/{path}",
    summary="Find a stack by name (redirect)",
    status_code=302,
    include_in_schema=False,
)
def lookup_post(
    request: Request, project_id: str, stack_name: str, path: str, state: State
) -> RedirectResponse:
    if path not in POST_LOOKUP_PATHS:
        from kiln.api.errors import ApiError

        raise ApiError(404, "NotFound", "The resource could not be found.")
    return _redirect(request, service_for(state, project_id).get(stack_name), path)

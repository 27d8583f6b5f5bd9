"""Heat's lookup: a stack named without its id redirects to its canonical URL, for every
method (clients send updates, deletes and actions to ``/stacks/NAME`` and follow the
302 with the same method, as python-heatclient does)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kiln.api.stacks import REDIRECT_RESPONSES, State, _redirect, service_for

router = APIRouter(prefix="/v1/{project_id}", tags=["stacks"])

#: Subpaths a POST may name after a stack's name alone (Heat's list).
POST_LOOKUP_PATHS = frozenset({"resources", "events", "template"})


def lookup_any_method(
    request: Request, project_id: str, stack_name: str, state: State
) -> RedirectResponse:
    return _redirect(request, service_for(state, project_id).get(stack_name), "")


for _method in ("POST", "PUT", "PATCH", "DELETE"):
    # One route per method, so that each has an operation id of its own.
    router.add_api_route(
        "/stacks/{stack_name}",
        lookup_any_method,
        methods=[_method],
        summary="Find a stack by name (redirect)",
        status_code=302,
        response_class=Response,
        responses=REDIRECT_RESPONSES,
        operation_id=f"lookup_stack_{_method.lower()}",
    )


@router.post(
    "/stacks/{stack_name}/{path}",
    summary="Find a stack by name (redirect)",
    status_code=302,
    response_class=Response,
    responses=REDIRECT_RESPONSES,
    include_in_schema=False,
)
def lookup_post(
    request: Request, project_id: str, stack_name: str, path: str, state: State
) -> RedirectResponse:
    if path not in POST_LOOKUP_PATHS:
        from kiln.api.errors import ApiError

        raise ApiError(404, "NotFound", "The resource could not be found.")
    return _redirect(request, service_for(state, project_id).get(stack_name), path)


@router.api_route(
    "/stacks/arn:{identity:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    summary="Find a stack by its ARN (redirect)",
    status_code=302,
    response_class=Response,
    responses=REDIRECT_RESPONSES,
    include_in_schema=False,
)
def lookup_arn(request: Request, project_id: str, identity: str, state: State) -> RedirectResponse:
    """Heat's lookup by ARN (``arn:openstack:heat::PROJECT:stacks/NAME/ID[/PATH]``, what
    ``get_resource`` of a nested stack gives): a redirect to the stack's URL, path kept."""
    from kiln.api.errors import ApiError

    fields = identity.split(":", 4)
    parts = fields[-1].split("/", 3)
    if fields[:2] != ["openstack", "heat"] or len(parts) < 3 or parts[0] != "stacks":
        raise ApiError(404, "NotFound", "The resource could not be found.")
    stack = service_for(state, project_id).get(parts[2])
    return _redirect(request, stack, parts[3] if len(parts) > 3 else "")

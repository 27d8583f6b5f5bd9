"""Heat's stack routes: list, create (and adopt), preview, show, update, delete, abandon,
export, template, environment, files and outputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse

from kiln.api import bodies
from kiln.api.app import ServerState, server_state
from kiln.api.auth import Caller, caller
from kiln.api.errors import ApiError
from kiln.api.params import MAX_QUERY_INTEGER
from kiln.api.preview_changes import (
    created_resources,
    plan_steps,
    preview_plans,
    resource_changes,
)
from kiln.api.shapes import output_entry, stack_detail, stack_summary, stack_url
from kiln.engine.validation import validate_stack
from kiln.persistence.listing import StackFilters
from kiln.plan.state import Action, StackRecord
from kiln.service.preview import preview_update
from kiln.service.stack_limits import InvalidStackName
from kiln.service.stacks import StackNotFoundError, StackService
from kiln.service.transfer import StackTransfer
from kiln.template.source import parse_document

router = APIRouter(prefix="/v1/{project_id}", tags=["stacks"])

#: What may follow a stack's name alone; Heat redirects these to the stack's URL.
LOOKUP_PATHS = frozenset({"resources", "events", "template", "actions", "environment", "files"})

#: How the OpenAPI document describes a lookup: an empty 302 whose ``Location`` is the
#: stack's canonical URL (with the same subpath and query).
REDIRECT_RESPONSES: dict[int | str, dict[str, Any]] = {
    302: {
        "description": "Found: the stack's canonical URL is in Location.",
        "headers": {
            "Location": {
                "description": "/v1/{project_id}/stacks/{stack_name}/{stack_id}[/subpath][?query]",
                "schema": {"type": "string"},
            }
        },
    }
}

JsonBody = Annotated[dict[str, Any], Body(default_factory=dict)]
State = Annotated[ServerState, Depends(server_state)]


def service_for(state: ServerState, project_id: str) -> StackService:
    return state.service(project_id)


def identified(service: StackService, stack_name: str, stack_id: str) -> StackRecord:
    """The stack a canonical URL names; its name and id must agree, as in Heat."""
    stack = service.get(stack_id)
    if stack.id != stack_id or stack_name not in (stack.name, stack.id):
        raise StackNotFoundError(stack_name)
    return stack


def _base(request: Request) -> str:
    return str(request.base_url)


def _tags_param(value: str | None) -> list[str]:
    return [tag for tag in (value or "").split(",") if tag]


def _bool_param(name: str, value: str | None) -> bool:
    if value is None:
        return False
    lowered = value.lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off", ""):
        return False
    raise ApiError(
        400,
        "Invalid",
        f"Unrecognized value '{value}' for '{name}', acceptable values are: 'true', 'false'",
    )


@router.get("/stacks", summary="List stacks")
def list_stacks(
    request: Request,
    project_id: str,
    state: State,
    calling: Annotated[Caller, Depends(caller)],
    name: Annotated[list[str] | None, Query()] = None,
    status: Annotated[list[str] | None, Query()] = None,
    action: Annotated[list[str] | None, Query()] = None,
    tags: str | None = None,
    tags_any: str | None = None,
    not_tags: str | None = None,
    not_tags_any: str | None = None,
    sort_keys: Annotated[list[str] | None, Query()] = None,
    sort_dir: str | None = None,
    limit: int | None = Query(default=None, ge=0, le=MAX_QUERY_INTEGER),
    marker: str | None = None,
    show_deleted: str | None = None,
    show_nested: str | None = None,
    with_count: str | None = None,
    global_tenant: str | None = None,
) -> JSONResponse:
    service = service_for(state, project_id)
    filters = StackFilters(
        names=name or (),
        statuses=status or (),
        actions=action or (),
        tags=_tags_param(tags),
        tags_any=_tags_param(tags_any),
        not_tags=_tags_param(not_tags),
        not_tags_any=_tags_param(not_tags_any),
        show_deleted=_bool_param("show_deleted", show_deleted),
        show_nested=_bool_param("show_nested", show_nested),
    )
    every_project = _bool_param("global_tenant", global_tenant)
    if every_project and not calling.is_admin:
        raise ApiError(403, "Forbidden", "Only an admin may list the stacks of every project.")
    stacks = service.list_stacks(
        filters,
        every_project=every_project,
        sort_keys=sort_keys or (),
        sort_dir=sort_dir,
        limit=limit,
        marker=marker,
    )
    result: dict[str, Any] = {
        "stacks": [
            stack_summary(_base(request), s, include_project=calling.is_admin) for s in stacks
        ]
    }
    if _bool_param("with_count", with_count):
        result["count"] = service.stacks.count(None if every_project else project_id, filters)
    # Plain JSON: a thousand entries need no per-field encoding by the framework.
    return JSONResponse(result)


@router.post(
    "/stacks",
    status_code=201,
    summary="Create (or adopt) a stack",
    openapi_extra=bodies.request_body(bodies.CREATE_FIELDS),
)
def create_stack(request: Request, project_id: str, state: State, body: JsonBody) -> JSONResponse:
    service = service_for(state, project_id)
    bodies.known_fields(body, bodies.CREATE_FIELDS)
    name = _stack_name(body)
    if body.get("adopt_stack_data") is not None:
        stack = _adopt(service, name, body)
    else:
        stack = service.create(
            name,
            bodies.definition(body),
            timeout_mins=bodies.timeout_mins(body),
            disable_rollback=bool(bodies.flag(body, "disable_rollback", True)),
            tags=bodies.tags(body),
        )
    state.runner.launch(stack.id)
    location = stack_url(_base(request), stack)
    content = {"stack": {"id": stack.id, "links": [{"href": location, "rel": "self"}]}}
    return JSONResponse(content, status_code=201, headers={"Location": location})


def _stack_name(body: dict[str, Any]) -> str:
    """The body's ``stack_name``; Heat's own check of it comes with the other checks."""
    name = body.get("stack_name")
    if name is None or name == "":
        raise ApiError(400, "Invalid", "No stack name specified")
    if not isinstance(name, str):
        raise InvalidStackName(name)
    return name


def _adopt(service: StackService, name: str, body: dict[str, Any]) -> StackRecord:
    """As in Heat, the adopt data's template is the stack's: the body's own is not looked at."""
    rest = {key: value for key, value in body.items() if key not in ("template", "template_url")}
    definition = bodies.definition(rest, template_required=False)
    return StackTransfer(service).adopt(
        name,
        body["adopt_stack_data"],
        environments=definition.environments,
        parameters=definition.parameters,
        timeout_mins=bodies.timeout_mins(body),
        disable_rollback=bool(bodies.flag(body, "disable_rollback", True)),
        files=definition.files,
        tags=bodies.tags(body),
    )


@router.post(
    "/stacks/preview",
    summary="Preview a stack create",
    openapi_extra=bodies.request_body(bodies.PREVIEW_FIELDS),
)
def preview_create(
    request: Request,
    project_id: str,
    state: State,
    body: JsonBody,
    with_plan: str | None = None,
) -> dict[str, Any]:
    service = service_for(state, project_id)
    bodies.known_fields(body, bodies.PREVIEW_FIELDS)
    name = _stack_name(body)
    definition = bodies.definition(body)
    preview = StackRecord(
        id="None",
        name=name,
        project_id=project_id,
        tags=tuple(bodies.tags(body)),
        timeout_mins=bodies.timeout_mins(body),
        disable_rollback=bool(bodies.flag(body, "disable_rollback", False)),
    )
    plan = service.preview(name, definition)
    result = service.validate(name, definition)
    template = result.template
    description = template.description if template and isinstance(template.description, str) else ""
    shown = stack_detail(
        _base(request), preview, description=description, parameters={}, outputs=None
    )
    for key in ("stack_status", "stack_status_reason"):
        shown.pop(key, None)
    shown["resources"] = created_resources(plan)
    if _bool_param("with_plan", with_plan):
        return {"stack": shown, "plan": plan_steps(plan)}
    return {"stack": shown}


@router.get(
    "/stacks/{stack_name}/{path}",
    summary="Find a stack by name (redirect)",
    status_code=302,
    response_class=Response,
    responses=REDIRECT_RESPONSES,
    include_in_schema=False,
)
def lookup_or_show(
    request: Request, project_id: str, stack_name: str, path: str, state: State
) -> Response:
    service = service_for(state, project_id)
    if path in LOOKUP_PATHS:
        return _redirect(request, service.get(stack_name), path)
    return _show(request, service, stack_name, path)


@router.get(
    "/stacks/{stack_name}",
    summary="Find a stack by name (redirect)",
    status_code=302,
    response_class=Response,
    responses=REDIRECT_RESPONSES,
)
def lookup(request: Request, project_id: str, stack_name: str, state: State) -> Response:
    return _redirect(request, service_for(state, project_id).get(stack_name), "")


def _redirect(request: Request, stack: StackRecord, path: str) -> RedirectResponse:
    location = stack_url(_base(request), stack) + (f"/{path}" if path else "")
    if request.url.query:
        location += f"?{request.url.query}"
    return RedirectResponse(location, status_code=302)


def _show(request: Request, service: StackService, stack_name: str, stack_id: str) -> Response:
    stack = identified(service, stack_name, stack_id)
    result = validate_stack(stack, service.plugins, service.limits)
    template = result.template
    description = template.description if template and isinstance(template.description, str) else ""
    deleted = stack.action is Action.DELETE and stack.status.value == "COMPLETE"
    outputs = None if deleted or stack.status.value == "IN_PROGRESS" else service.outputs(stack)
    shown = stack_detail(
        _base(request),
        stack,
        description=description,
        parameters=service.shown_parameters(stack),
        outputs=outputs,
    )
    return JSONResponse({"stack": shown})


@dataclass(frozen=True)
class _UpdateKind:
    """One of Heat's two kinds of update and its preview: PUT replaces the stack's
    definition, PATCH (``existing``) keeps what the body leaves out."""

    method: str
    existing: bool
    update_name: str
    update_summary: str
    preview_name: str
    preview_summary: str


_UPDATE_KINDS = (
    _UpdateKind(
        "PUT",
        False,
        "update_stack",
        "Update a stack",
        "preview_update_put",
        "Preview a stack update",
    ),
    _UpdateKind(
        "PATCH",
        True,
        "patch_stack",
        "Update a stack (patch)",
        "preview_update_patch",
        "Preview a stack update (patch)",
    ),
)


def _updating(existing: bool) -> Callable[..., Response]:
    """The update endpoint of one kind (PUT, or PATCH with ``existing``)."""

    def update(
        project_id: str, stack_name: str, stack_id: str, state: State, body: JsonBody
    ) -> Response:
        service = service_for(state, project_id)
        asked = bodies.update_body(body, existing=existing)
        stack = identified(service, stack_name, stack_id)
        updated = service.update(
            stack.id,
            asked.definition,
            existing=existing,
            clear_parameters=asked.clear_parameters,
            timeout_mins=asked.timeout_mins,
            disable_rollback=asked.disable_rollback,
            converge=asked.converge,
            tags=asked.tags,
        )
        state.runner.launch(updated.id)
        return Response(status_code=202)

    return update


def _previewing(existing: bool) -> Callable[..., dict[str, Any]]:
    """The update preview endpoint of one kind: what that update would change."""

    def preview(
        project_id: str,
        stack_name: str,
        stack_id: str,
        state: State,
        body: JsonBody,
        show_nested: str | None = None,
        with_plan: str | None = None,
    ) -> dict[str, Any]:
        service = service_for(state, project_id)
        # The update's options are checked as the update itself would check them.
        asked = bodies.update_body(body, existing=existing)
        stack = identified(service, stack_name, stack_id)
        definition = service.merged_definition(
            stack, asked.definition, existing, asked.clear_parameters
        )
        depth = None if _bool_param("show_nested", show_nested) else 0
        previews = preview_update(service, stack, definition, depth)
        answer: dict[str, Any] = {"resource_changes": resource_changes(previews)}
        if _bool_param("with_plan", with_plan):
            answer["plans"] = preview_plans(previews)
        return answer

    return preview


def _add_update_routes(kind: _UpdateKind) -> None:
    """The kind's update and update preview, under the operation names and summaries
    they have always had in the OpenAPI document."""
    router.add_api_route(
        "/stacks/{stack_name}/{stack_id}",
        _updating(kind.existing),
        methods=[kind.method],
        name=kind.update_name,
        status_code=202,
        response_class=Response,
        summary=kind.update_summary,
        openapi_extra=bodies.request_body(bodies.UPDATE_FIELDS),
    )
    router.add_api_route(
        "/stacks/{stack_name}/{stack_id}/preview",
        _previewing(kind.existing),
        methods=[kind.method],
        name=kind.preview_name,
        summary=kind.preview_summary,
        openapi_extra=bodies.request_body(bodies.UPDATE_FIELDS),
    )


for _kind in _UPDATE_KINDS:
    _add_update_routes(_kind)


@router.delete("/stacks/{stack_name}/{stack_id}", status_code=204, summary="Delete a stack")
def delete_stack(project_id: str, stack_name: str, stack_id: str, state: State) -> Response:
    service = service_for(state, project_id)
    stack = identified(service, stack_name, stack_id)
    deleting = service.delete(stack.id)
    state.runner.launch(deleting.id)
    return Response(status_code=204)


@router.delete("/stacks/{stack_name}/{stack_id}/abandon", summary="Abandon a stack")
def abandon_stack(project_id: str, stack_name: str, stack_id: str, state: State) -> Any:
    service = service_for(state, project_id)
    stack = identified(service, stack_name, stack_id)
    return StackTransfer(service).abandon(stack.id)


@router.get("/stacks/{stack_name}/{stack_id}/export", summary="Export a stack's data")
def export_stack(project_id: str, stack_name: str, stack_id: str, state: State) -> Any:
    service = service_for(state, project_id)
    return StackTransfer(service).export(identified(service, stack_name, stack_id).id)


@router.get("/stacks/{stack_name}/{stack_id}/template", summary="A stack's template")
def stack_template(
    request: Request, project_id: str, stack_name: str, stack_id: str, state: State
) -> Any:
    """Heat's answer is the template as JSON; ``Accept: text/plain`` gets the text as sent."""
    service = service_for(state, project_id)
    stack = identified(service, stack_name, stack_id)
    if _first_media_type(request) == "text/plain":
        return PlainTextResponse(stack.template)
    return parse_document(stack.template, "template").data


def _first_media_type(request: Request) -> str:
    accept = request.headers.get("accept", "")
    return accept.split(",", 1)[0].split(";", 1)[0].strip().lower()


@router.get("/stacks/{stack_name}/{stack_id}/environment", summary="A stack's environment")
def stack_environment(project_id: str, stack_name: str, stack_id: str, state: State) -> Any:
    service = service_for(state, project_id)
    return service.environment(identified(service, stack_name, stack_id).id)


@router.get("/stacks/{stack_name}/{stack_id}/files", summary="A stack's files")
def stack_files(project_id: str, stack_name: str, stack_id: str, state: State) -> Any:
    service = service_for(state, project_id)
    return dict(identified(service, stack_name, stack_id).files)


@router.get("/stacks/{stack_name}/{stack_id}/outputs", summary="List a stack's outputs")
def list_outputs(project_id: str, stack_name: str, stack_id: str, state: State) -> Any:
    service = service_for(state, project_id)
    stack = identified(service, stack_name, stack_id)
    outputs = service.outputs(stack)
    return {
        "outputs": [
            {"output_key": output.key, "description": output.description} for output in outputs
        ]
    }


@router.get("/stacks/{stack_name}/{stack_id}/outputs/{output_key}", summary="Show a stack's output")
def show_output(
    project_id: str, stack_name: str, stack_id: str, output_key: str, state: State
) -> Any:
    service = service_for(state, project_id)
    stack = identified(service, stack_name, stack_id)
    for output in service.outputs(stack):
        if output.key == output_key:
            return {"output": output_entry(output)}
    raise ApiError(404, "NotFound", f"Specified output key {output_key} not found.")

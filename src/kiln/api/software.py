"""Heat's software config and software deployment routes.

A server's agent reports through ``PUT /software_deployments/{id}``: a
status of COMPLETE or FAILED there ends the deployment resource waiting on
it, as a signal with that outcome would (the resource watches the stored
deployment, whichever way its outcome arrives).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Response

from kiln.api.app import ServerState
from kiln.api.errors import ApiError
from kiln.api.params import int_param
from kiln.api.stacks import JsonBody, State
from kiln.providers.software_config import DEFAULT_GROUP, DeploymentChange
from kiln.service.software_config import (
    SoftwareConfigService,
    config_document,
    deployment_document,
)

router = APIRouter(prefix="/v1/{project_id}", tags=["software"])


def _service(state: ServerState, project_id: str) -> SoftwareConfigService:
    return SoftwareConfigService(state.database, state.plugins, project_id=project_id)


def _field(body: Mapping[str, Any], name: str, kind: type, what: str) -> Any:
    """``body[name]`` when it is of ``kind``, None when absent; 400 otherwise."""
    value = body.get(name)
    if value is not None and not isinstance(value, kind):
        raise ApiError(400, "Invalid", f"{name} must be {what}.")
    return value


# -- configs ------------------------------------------------------------------------------


@router.get("/software_configs", summary="List software configs")
def list_configs(
    project_id: str, state: State, limit: str | None = None, marker: str | None = None
) -> dict[str, Any]:
    configs = _service(state, project_id).list_configs(
        limit=None if limit is None else int_param("limit", limit), marker=marker
    )
    summary = ("id", "name", "group", "creation_time")
    return {
        "software_configs": [
            {key: value for key, value in config_document(c).items() if key in summary}
            for c in configs
        ]
    }


@router.post("/software_configs", summary="Create a software config")
def create_config(project_id: str, state: State, body: JsonBody) -> dict[str, Any]:
    created = _service(state, project_id).create_config(
        _field(body, "name", str, "a string") or "",
        group=_field(body, "group", str, "a string") or DEFAULT_GROUP,
        config=body.get("config") if body.get("config") is not None else "",
        inputs=_field(body, "inputs", list, "a list") or [],
        outputs=_field(body, "outputs", list, "a list") or [],
        options=_field(body, "options", dict, "an object") or {},
    )
    return {"software_config": config_document(created)}


@router.get("/software_configs/{config_id}", summary="Show a software config")
def show_config(project_id: str, config_id: str, state: State) -> dict[str, Any]:
    return {"software_config": config_document(_service(state, project_id).show_config(config_id))}


@router.delete("/software_configs/{config_id}", status_code=204, summary="Delete a config")
def delete_config(project_id: str, config_id: str, state: State) -> Response:
    _service(state, project_id).delete_config(config_id)
    return Response(status_code=204)


# -- deployments --------------------------------------------------------------------------


@router.get("/software_deployments", summary="List software deployments")
def list_deployments(project_id: str, state: State, server_id: str | None = None) -> dict[str, Any]:
    deployments = _service(state, project_id).list_deployments(server_id)
    return {"software_deployments": [deployment_document(d) for d in deployments]}


@router.get("/software_deployments/metadata/{server_id}", summary="A server's deployed configs")
def deployment_metadata(project_id: str, server_id: str, state: State) -> dict[str, Any]:
    return {"metadata": _service(state, project_id).metadata(server_id)}


@router.post("/software_deployments", summary="Create a software deployment")
def create_deployment(project_id: str, state: State, body: JsonBody) -> dict[str, Any]:
    server_id = _field(body, "server_id", str, "a string")
    config_id = _field(body, "config_id", str, "a string")
    if not server_id or not config_id:
        raise ApiError(400, "Invalid", "server_id and config_id are required.")
    created = _service(state, project_id).create_deployment(
        server_id,
        config_id,
        input_values=_field(body, "input_values", dict, "an object") or {},
        action=_field(body, "action", str, "a string") or "INIT",
        status=_field(body, "status", str, "a string") or "COMPLETE",
        status_reason=_field(body, "status_reason", str, "a string") or "",
    )
    return {"software_deployment": deployment_document(created)}


@router.get("/software_deployments/{deployment_id}", summary="Show a software deployment")
def show_deployment(project_id: str, deployment_id: str, state: State) -> dict[str, Any]:
    shown = _service(state, project_id).show_deployment(deployment_id)
    return {"software_deployment": deployment_document(shown)}


@router.put("/software_deployments/{deployment_id}", summary="Update a software deployment")
def update_deployment(
    project_id: str, deployment_id: str, state: State, body: JsonBody
) -> dict[str, Any]:
    """What is given (and not null) changes; a server reports its outcome this way."""
    change = DeploymentChange(
        config_id=_field(body, "config_id", str, "a string"),
        input_values=_field(body, "input_values", dict, "an object"),
        output_values=_field(body, "output_values", dict, "an object"),
        action=_field(body, "action", str, "a string"),
        status=_field(body, "status", str, "a string"),
        status_reason=_field(body, "status_reason", str, "a string"),
    )
    updated = _service(state, project_id).update_deployment(deployment_id, change)
    return {"software_deployment": deployment_document(updated)}


@router.delete("/software_deployments/{deployment_id}", status_code=204, summary="Delete one")
def delete_deployment(project_id: str, deployment_id: str, state: State) -> Response:
    _service(state, project_id).delete_deployment(deployment_id)
    return Response(status_code=204)

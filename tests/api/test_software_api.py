"""Heat's software config and deployment routes over real HTTP against a real ``kiln serve``."""

from __future__ import annotations

from typing import Any

from api_support import Api, error_of, until

CONFIG = {
    "name": "install",
    "group": "script",
    "config": "#!/bin/sh\necho installed\n",
    "inputs": [{"name": "package", "default": "web"}],
    "outputs": [{"name": "result"}],
    "options": {"retries": 2},
}

CONFIG_KEYS = {"id", "name", "group", "config", "inputs", "outputs", "options", "creation_time"}
DEPLOYMENT_KEYS = {
    *("id", "server_id", "config_id", "creation_time", "updated_time"),
    *("status", "status_reason", "input_values", "output_values", "action"),
}


def _config(api: Api, **changes: Any) -> dict[str, Any]:
    created = api.post("/software_configs", {**CONFIG, **changes})
    assert created.status_code == 200, created.text
    config: dict[str, Any] = created.json()["software_config"]
    return config


def _deployment(api: Api, config_id: str, server_id: str = "server-1") -> dict[str, Any]:
    body = {"config_id": config_id, "server_id": server_id, "action": "CREATE"}
    created = api.post("/software_deployments", {**body, "status": "IN_PROGRESS"})
    assert created.status_code == 200, created.text
    deployment: dict[str, Any] = created.json()["software_deployment"]
    return deployment


def test_configs_create_list_show_and_delete(api: Api) -> None:
    config = _config(api)
    assert set(config) == CONFIG_KEYS
    assert (config["name"], config["group"], config["config"]) == (
        "install",
        "script",
        CONFIG["config"],
    )
    assert config["inputs"][0]["name"] == "package"
    assert config["options"] == {"retries": 2}
    second = _config(api, name="second")

    listed = api.get("/software_configs").json()["software_configs"]
    assert [c["id"] for c in listed] == [config["id"], second["id"]]
    assert set(listed[0]) == {"id", "name", "group", "creation_time"}
    page = api.get("/software_configs", params={"limit": 1, "marker": config["id"]}).json()
    assert [c["id"] for c in page["software_configs"]] == [second["id"]]
    shown = api.get(f"/software_configs/{config['id']}")
    assert shown.json() == {"software_config": config}

    deleted = api.delete(f"/software_configs/{config['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    error_of(api.get(f"/software_configs/{config['id']}"), 404)
    error_of(api.delete(f"/software_configs/{config['id']}"), 404)


def test_bad_configs_are_refused(api: Api) -> None:
    error_of(api.post("/software_configs", {**CONFIG, "inputs": "package"}), 400)
    error_of(api.post("/software_configs", {**CONFIG, "options": ["retries"]}), 400)
    error_of(api.post("/software_configs", {**CONFIG, "inputs": [{"type": "String"}]}), 400)
    error_of(api.get("/software_configs", params={"limit": "some"}), 400)
    assert api.get("/software_configs").json() == {"software_configs": []}


def test_deployments_and_server_metadata(api: Api) -> None:
    config = _config(api)
    deployment = _deployment(api, config["id"])
    assert set(deployment) == DEPLOYMENT_KEYS
    assert (deployment["status"], deployment["action"]) == ("IN_PROGRESS", "CREATE")
    _deployment(api, _config(api, name="other")["id"], server_id="server-2")

    mine = api.get("/software_deployments", params={"server_id": "server-1"}).json()
    assert [d["id"] for d in mine["software_deployments"]] == [deployment["id"]]
    everything = api.get("/software_deployments").json()["software_deployments"]
    assert len(everything) == 2
    metadata = api.get("/software_deployments/metadata/server-1").json()["metadata"]
    assert [(m["id"], m["name"], m["config"]) for m in metadata] == [
        (config["id"], "install", CONFIG["config"])
    ]

    updated = api.put(
        f"/software_deployments/{deployment['id']}",
        {"status": "COMPLETE", "status_reason": "done", "output_values": {"result": "ok"}},
    )
    assert updated.status_code == 200, updated.text
    shown = api.get(f"/software_deployments/{deployment['id']}").json()["software_deployment"]
    assert updated.json()["software_deployment"] == shown
    assert (shown["status"], shown["status_reason"], shown["output_values"]) == (
        "COMPLETE",
        "done",
        {"result": "ok"},
    )
    assert shown["action"] == "CREATE" and shown["updated_time"] is not None

    in_use = error_of(api.delete(f"/software_configs/{config['id']}"), 400)
    assert "referenced" in in_use["message"]
    gone = api.delete(f"/software_deployments/{deployment['id']}")
    assert (gone.status_code, gone.content) == (204, b"")
    error_of(api.get(f"/software_deployments/{deployment['id']}"), 404)
    error_of(api.put(f"/software_deployments/{deployment['id']}", {"status": "FAILED"}), 404)
    error_of(api.delete(f"/software_deployments/{deployment['id']}"), 404)
    assert api.get("/software_deployments/metadata/server-1").json() == {"metadata": []}


def test_bad_deployments_are_refused(api: Api) -> None:
    config = _config(api)
    error_of(api.post("/software_deployments", {"config_id": config["id"]}), 400)
    error_of(
        api.post("/software_deployments", {"config_id": config["id"], "server_id": 7}),
        400,
    )
    missing = api.post("/software_deployments", {"config_id": "nope", "server_id": "server-1"})
    assert error_of(missing, 404)["type"] == "EntityNotFound"
    deployment = _deployment(api, config["id"])
    bad = api.put(f"/software_deployments/{deployment['id']}", {"output_values": "ok"})
    error_of(bad, 400)
    error_of(api.put(f"/software_deployments/{deployment['id']}", {"config_id": "nope"}), 404)


def _deploying(server: str) -> dict[str, Any]:
    return {
        "heat_template_version": "2018-08-31",
        "resources": {
            "config": {
                "type": "OS::Heat::SoftwareConfig",
                "properties": {
                    "group": "script",
                    "config": "echo",
                    "outputs": [{"name": "result"}],
                },
            },
            "deployment": {
                "type": "OS::Heat::SoftwareDeployment",
                "properties": {
                    "config": {"get_resource": "config"},
                    "server": server,
                    "signal_transport": "HEAT_SIGNAL",
                },
            },
        },
        "outputs": {"result": {"value": {"get_attr": ["deployment", "result"]}}},
    }


def _waiting_deployment(api: Api, name: str, server: str) -> dict[str, Any]:
    created = api.post("/stacks", {"stack_name": name, "template": _deploying(server)})
    assert created.status_code == 201, created.text

    def waiting() -> dict[str, Any] | None:
        found = api.get("/software_deployments", params={"server_id": server}).json()
        deployments = found["software_deployments"]
        return deployments[0] if deployments and deployments[0]["status"] == "IN_PROGRESS" else None

    deployment: dict[str, Any] = until(waiting)
    assert api.stack(name)["stack_status"] == "CREATE_IN_PROGRESS"
    metadata = api.get(f"/software_deployments/metadata/{server}").json()["metadata"]
    assert [m["group"] for m in metadata] == ["script"]
    return deployment


def test_a_server_reporting_success_completes_the_deployment_resource(api: Api) -> None:
    deployment = _waiting_deployment(api, "deploys", "server-ok")
    reported = api.put(
        f"/software_deployments/{deployment['id']}",
        {
            "status": "COMPLETE",
            "status_reason": "Outputs received",
            "output_values": {"result": "installed", "deploy_status_code": 0},
        },
    )
    assert reported.status_code == 200, reported.text
    shown = api.wait("deploys")
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    assert shown["outputs"][0]["output_value"] == "installed"


def test_a_server_reporting_failure_fails_the_deployment_resource(api: Api) -> None:
    deployment = _waiting_deployment(api, "breaks", "server-bad")
    reported = api.put(
        f"/software_deployments/{deployment['id']}",
        {"status": "FAILED", "status_reason": "disk full"},
    )
    assert reported.status_code == 200, reported.text
    shown = api.wait("breaks")
    assert shown["stack_status"] == "CREATE_FAILED"
    base = f"/stacks/breaks/{shown['id']}"
    resource = api.get(f"{base}/resources/deployment").json()["resource"]
    assert resource["resource_status"] == "CREATE_FAILED"
    assert "Deployment to server failed: disk full" in resource["resource_status_reason"]

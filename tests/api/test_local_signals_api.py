"""Local servers signal back to a live ``kiln serve``: the API URL Kiln hands out is the
one it really listens at, and a server's user_data reaches it with ``curl_cli``."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_support import Api, Server

from kiln.clients.local import LocalCloud
from kiln.persistence.database import Database
from kiln.service.identity import IdentityService


def local_server(home: Any, auth: str = "none") -> Server:
    network = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.0/28"
    return Server(
        home=home,
        auth=auth,
        environ={"KILN_LOCAL_ADDRESS_RANGE": network, "KILN_LOCAL_STOP_GRACE_SECONDS": "0.5"},
    )


def serving(running: Server) -> Iterator[Server]:
    """The server while the tests use it; then it stops, and so does every Local server
    a failed test left behind."""
    running.start()
    try:
        yield running
    finally:
        running.stop()
        cloud = LocalCloud(running.home / "local", stop_grace_seconds=0.5)
        if cloud.servers_directory.is_dir():
            for directory in cloud.servers_directory.iterdir():
                cloud.delete_server(directory.name)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serving(local_server(tmp_path_factory.mktemp("kiln-serve")))


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serving(local_server(tmp_path_factory.mktemp("kiln-token"), auth="token"))


def member_of(server: Server, project: str) -> Api:
    """A client with a member's token of ``project``, made in the server's database."""
    database = Database.open(f"sqlite:///{server.home / 'kiln.db'}")
    try:
        identities = IdentityService(database)
        user = identities.ensure_user(f"member-of-{project}")
        where = identities.ensure_project(project)
        identities.assign_role(user.id, where.id, "member")
        secret = identities.create_token(user.id, where.id, "member", None).secret
    finally:
        database.dispose()
    return server.client(project, secret)


def handle_template() -> dict[str, Any]:
    return {
        "heat_template_version": "2018-08-31",
        "resources": {"handle": {"type": "OS::Heat::WaitConditionHandle"}},
        "outputs": {
            "curl_cli": {"value": {"get_attr": ["handle", "curl_cli"]}},
            "endpoint": {"value": {"get_attr": ["handle", "endpoint"]}},
        },
    }


def signalling_server(status: str) -> dict[str, Any]:
    """A server whose user_data runs the handle's curl_cli, as Heat's templates do."""
    script = (
        "#!/bin/sh\n"
        "set -e\n"
        f'wc_notify --data-binary \'{{"status": "{status}", "reason": "booted", '
        '"data": "ready"}\'\n'
    )
    return {
        "heat_template_version": "2018-08-31",
        "resources": {
            "handle": {"type": "OS::Heat::WaitConditionHandle"},
            "server": {
                "type": "Local::Server",
                "properties": {
                    "name": "signaller",
                    "user_data": {
                        "str_replace": {
                            "template": script,
                            "params": {"wc_notify": {"get_attr": ["handle", "curl_cli"]}},
                        }
                    },
                },
            },
            "wait": {
                "type": "OS::Heat::WaitCondition",
                "depends_on": "server",
                "properties": {"handle": {"get_resource": "handle"}, "timeout": 60},
            },
        },
        "outputs": {"data": {"value": {"get_attr": ["wait", "data"]}}},
    }


def outputs(api: Api, name: str) -> dict[str, Any]:
    stack = api.stack(name)
    return {output["output_key"]: output["output_value"] for output in stack["outputs"]}


def deleted(api: Api, path: str) -> None:
    answer = api.delete(path)
    assert answer.status_code == 204, answer.text


def test_signal_urls_name_the_port_the_server_listens_on(server: Server, api: Api) -> None:
    path = api.created("handles", handle_template())
    found = outputs(api, "handles")
    assert found["endpoint"].startswith(f"{server.url}/v1/{api.project}/stacks/handles/")
    assert found["endpoint"].endswith("/resources/handle/signal")
    assert found["curl_cli"].endswith(found["endpoint"])
    assert f"127.0.0.1:{server.port}/" in found["curl_cli"]
    deleted(api, path)


def test_a_server_signals_its_wait_condition_through_the_api(api: Api) -> None:
    path = api.created("signalled", signalling_server("SUCCESS"))
    stack = api.wait("signalled", timeout=60)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(api, "signalled")["data"] == '{"1": "ready"}'
    deleted(api, path)


def test_a_failure_signal_from_a_server_fails_the_wait_condition(api: Api) -> None:
    path = api.created("refused", signalling_server("FAILURE"))
    stack = api.wait("refused", timeout=60)
    assert stack["stack_status"] == "CREATE_FAILED"
    assert "booted" in stack["stack_status_reason"]
    deleted(api, path)


def deployed(script: str) -> dict[str, Any]:
    """A script config deployed onto a server whose agent applies it."""
    return {
        "heat_template_version": "2018-08-31",
        "resources": {
            "config": {
                "type": "OS::Heat::SoftwareConfig",
                "properties": {
                    "group": "script",
                    "inputs": [{"name": "greeting"}],
                    "outputs": [{"name": "result"}],
                    "config": script,
                },
            },
            "server": {
                "type": "Local::Server",
                "properties": {
                    "user_data_format": "SOFTWARE_CONFIG",
                    "software_config_transport": "POLL_SERVER_HEAT",
                },
            },
            "deployment": {
                "type": "OS::Heat::SoftwareDeployment",
                "properties": {
                    "config": {"get_resource": "config"},
                    "server": {"get_resource": "server"},
                    "input_values": {"greeting": "hello"},
                },
            },
        },
        "outputs": {
            "result": {"value": {"get_attr": ["deployment", "result"]}},
            "stdout": {"value": {"get_attr": ["deployment", "deploy_stdout"]}},
            "status_code": {"value": {"get_attr": ["deployment", "deploy_status_code"]}},
        },
    }


GREETER = """#!/bin/sh
echo "$greeting from $deploy_resource_name"
printf '%s world' "$greeting" > "$heat_outputs_path.result"
"""

FAILING = """#!/bin/sh
echo "cannot reach the database" >&2
exit 3
"""


def test_the_agent_runs_a_script_deployment_and_signals_its_outputs(api: Api) -> None:
    path = api.created("deployed", deployed(GREETER))
    stack = api.wait("deployed", timeout=60)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(api, "deployed") == {
        "result": "hello world",
        "stdout": "hello from deployment\n",
        "status_code": 0,
    }
    deleted(api, path)


def test_a_failing_script_fails_the_deployment(api: Api) -> None:
    path = api.created("broken", deployed(FAILING))
    stack = api.wait("broken", timeout=60)
    assert stack["stack_status"] == "CREATE_FAILED"
    assert "Deployment exited with non-zero status code: 3" in stack["stack_status_reason"]
    found = api.get("/software_deployments").json()["software_deployments"]
    assert [d["output_values"]["deploy_stderr"] for d in found] == ["cannot reach the database\n"]
    assert [d["status"] for d in found] == ["FAILED"]
    deleted(api, path)


def test_with_token_auth_the_agent_reads_only_its_own_metadata(token_server: Server) -> None:
    api = member_of(token_server, "p-agent")
    path = api.created("deployed", deployed(GREETER))
    stack = api.wait("deployed", timeout=60)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(api, "deployed")["result"] == "hello world"
    [spec_file] = (token_server.home / "local" / "servers").glob("*/spec.json")
    agent = json.loads(spec_file.read_text())["agent"]
    as_server = httpx.Client(headers={"X-Auth-Token": agent["credential"]}, timeout=30)
    own = as_server.get(agent["metadata_url"])
    assert own.status_code == 200
    assert [entry["group"] for entry in own.json()["metadata"]] == ["script"]
    elsewhere = agent["metadata_url"].rsplit("/", 1)[0] + "/0f5e2c9a-7d3b-4a61-b8e4-3c2d9a1f6e57"
    assert as_server.get(elsewhere).status_code == 401
    assert as_server.get(f"{token_server.url}/v1/p-agent/stacks").status_code == 401
    deleted(api, path)


COUNTING = GREETER + 'echo "$deploy_action $greeting" >> "$HOME/runs"\n'


def test_a_deployment_runs_once_and_again_only_when_its_inputs_change(
    server: Server, api: Api
) -> None:
    path = api.created("counted", deployed(COUNTING))
    assert api.wait("counted", timeout=60)["stack_status"] == "CREATE_COMPLETE"
    [server_id] = [
        r["physical_resource_id"]
        for r in api.get(f"{path}/resources").json()["resources"]
        if r["resource_name"] == "server"
    ]
    runs = server.home / "local" / "servers" / server_id / "work" / "runs"
    time.sleep(3)  # several polls of the agent
    assert runs.read_text() == "CREATE hello\n"
    changed = deployed(COUNTING)
    changed["resources"]["deployment"]["properties"]["input_values"] = {"greeting": "goodbye"}
    answer = api.put(path, {"template": changed})
    assert answer.status_code == 202, answer.text
    stack = api.wait("counted", timeout=60)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(api, "counted")["result"] == "goodbye world"
    assert runs.read_text() == "CREATE hello\nUPDATE goodbye\n"
    deleted(api, path)

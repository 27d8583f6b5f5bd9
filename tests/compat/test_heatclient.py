"""python-heatclient (the ``heat`` command and the library) and ``openstack stack`` against Kiln.

Each client runs from the Heat venv in a process of its own and talks to a real ``kiln serve
--auth none``; the tests read what the clients print, and check the stack through the API.
"""

from __future__ import annotations

import json
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from api_support import Api, Server
from compat_support import HeatVenv

TEMPLATE = """\
heat_template_version: 2018-08-31
description: A greeting, kept in a value
parameters:
  greeting:
    type: string
    default: hello
resources:
  word:
    type: OS::Heat::Value
    properties:
      value: {get_param: greeting}
outputs:
  said:
    description: What was said
    value: {get_attr: [word, value]}
"""


@pytest.fixture
def project() -> str:
    return f"compat-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def api(server: Server, project: str) -> Api:
    return server.client(project)


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "greeting.yaml"
    path.write_text(TEMPLATE)
    return path


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def wait_gone(api: Api, name: str, timeout: float = 30) -> None:
    """Until looking the stack up by name finds nothing (its delete is over)."""
    deadline = time.monotonic() + timeout
    while api.get(f"/stacks/{name}").status_code != 404:
        assert time.monotonic() < deadline, f"{name} is still there"
        time.sleep(0.05)


class HeatCommand:
    """The deprecated but still shipped ``heat`` command, without Keystone."""

    def __init__(self, venv: HeatVenv, server: Server, project: str) -> None:
        self.venv = venv
        self.options = ["--os-no-client-auth", "--os-auth-token", "unused"]
        self.options += ["--heat-url", f"{server.url}/v1/{project}"]

    def __call__(self, *arguments: str) -> str:
        return self.venv.run("heat", *self.options, *arguments)

    def attempt(self, *arguments: str) -> tuple[int, str]:
        finished = self.venv.attempt("heat", *self.options, *arguments)
        return finished.returncode, finished.stdout + finished.stderr


class OpenstackCommand:
    """``openstack`` with osc-lib's ``none`` auth plugin and the endpoint given outright."""

    def __init__(self, venv: HeatVenv, server: Server, project: str) -> None:
        self.venv = venv
        self.options = ["--os-auth-type", "none", "--os-endpoint", f"{server.url}/v1/{project}"]

    def __call__(self, *arguments: str) -> str:
        return self.venv.run("openstack", *self.options, *arguments)

    def json(self, *arguments: str) -> Any:
        return json.loads(self(*arguments, "-f", "json"))


def table_rows(output: str) -> list[list[str]]:
    """The cells of a prettytable, row by row (the header included, the rules left out)."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in output.splitlines()
        if line.startswith("|")
    ]


def properties(output: str) -> dict[str, str]:
    """A ``Property | Value`` table, with values that span lines joined up."""
    found: dict[str, str] = {}
    key = ""
    for name, value in table_rows(output)[1:]:
        key = name or key
        found[key] = (found.get(key, "") + "\n" + value).strip()
    return found


def test_heat_command_creates_shows_updates_and_deletes_a_stack(
    heat_venv: HeatVenv, server: Server, project: str, api: Api, template: Path
) -> None:
    heat = HeatCommand(heat_venv, server, project)
    name = unique("heat-cli")

    created = heat("stack-create", "-f", str(template), "-P", "greeting=hi", name)
    assert name in [row[1] for row in table_rows(created)[1:]]
    stack = api.wait(name)
    assert stack["stack_status"] == "CREATE_COMPLETE"

    listed = table_rows(heat("stack-list"))
    header, rows = listed[0], listed[1:]
    assert header[:3] == ["id", "stack_name", "stack_status"]
    assert [stack["id"], name, "CREATE_COMPLETE"] in [row[:3] for row in rows]

    shown = properties(heat("stack-show", name))
    assert shown["id"] == stack["id"]
    assert shown["stack_name"] == name
    assert shown["stack_status"] == "CREATE_COMPLETE"
    assert shown["description"] == "A greeting, kept in a value"
    assert json.loads(shown["parameters"])["greeting"] == "hi"
    assert json.loads(shown["outputs"]) == [
        {"output_key": "said", "output_value": "hi", "description": "What was said"}
    ]
    assert shown["links"] == f"{server.url}/v1/{project}/stacks/{name}/{stack['id']} (self)"

    assert heat("output-show", name, "said").strip() == "hi"
    outputs = table_rows(heat("output-list", name))
    assert outputs == [["output_key", "description"], ["said", "What was said"]]

    identifier = f"{name}/{stack['id']}"
    heat("stack-update", "-f", str(template), "-P", "greeting=bye", identifier)
    assert api.wait(name)["stack_status"] == "UPDATE_COMPLETE"
    assert heat("output-show", name, "said").strip() == "bye"
    assert json.loads(properties(heat("stack-show", name))["parameters"])["greeting"] == "bye"

    deleted = heat("stack-delete", identifier)
    assert f"Request to delete stack {identifier} has been accepted." in deleted
    wait_gone(api, name)
    assert name not in heat("stack-list")


def test_heat_command_updates_and_deletes_a_stack_by_name(
    heat_venv: HeatVenv, server: Server, project: str, api: Api, template: Path
) -> None:
    heat = HeatCommand(heat_venv, server, project)
    name = unique("heat-by-name")
    heat("stack-create", "-f", str(template), name)
    api.wait(name)

    status, output = heat.attempt("stack-update", "-f", str(template), "-P", "greeting=yo", name)
    assert status == 0, output
    assert api.wait(name)["stack_status"] == "UPDATE_COMPLETE"
    status, output = heat.attempt("stack-delete", name)
    assert status == 0, output
    wait_gone(api, name)


def test_heat_command_reports_kiln_errors(
    heat_venv: HeatVenv, server: Server, project: str, tmp_path: Path
) -> None:
    heat = HeatCommand(heat_venv, server, project)
    broken = tmp_path / "broken.yaml"
    broken.write_text(TEMPLATE.replace("get_param: greeting", "get_param: greting"))

    status, output = heat.attempt("stack-create", "-f", str(broken), unique("broken"))
    assert status == 1
    assert "greting" in output
    status, output = heat.attempt("stack-show", "no-such-stack")
    assert status == 1
    assert "Stack not found: no-such-stack" in output


def test_openstack_stack_commands(
    heat_venv: HeatVenv, server: Server, project: str, api: Api, template: Path
) -> None:
    openstack = OpenstackCommand(heat_venv, server, project)
    name = unique("osc")

    created = openstack.json(
        "stack", "create", "-t", str(template), "--parameter", "greeting=hi", name
    )
    assert created["stack_name"] == name
    assert created["stack_status"] in {"CREATE_IN_PROGRESS", "CREATE_COMPLETE"}
    assert api.wait(name)["stack_status"] == "CREATE_COMPLETE"

    listed = openstack.json("stack", "list")
    assert [(s["ID"], s["Stack Name"], s["Stack Status"]) for s in listed] == [
        (created["id"], name, "CREATE_COMPLETE")
    ]

    shown = openstack.json("stack", "show", name)
    assert (shown["id"], shown["stack_name"]) == (created["id"], name)
    assert shown["stack_status"] == "CREATE_COMPLETE"
    assert shown["parameters"]["greeting"] == "hi"
    assert shown["parameters"]["OS::stack_name"] == name
    assert shown["outputs"] == [
        {"output_key": "said", "output_value": "hi", "description": "What was said"}
    ]
    output = openstack.json("stack", "output", "show", name, "said")
    assert output == {"output_key": "said", "output_value": "hi", "description": "What was said"}

    identifier = f"{name}/{created['id']}"
    updated = openstack.json(
        "stack", "update", "-t", str(template), "--parameter", "greeting=bye", identifier
    )
    assert updated["id"] == created["id"]
    assert api.wait(name)["stack_status"] == "UPDATE_COMPLETE"
    value = openstack("stack", "output", "show", name, "said", "-f", "value", "-c", "output_value")
    assert value.strip() == "bye"

    openstack("stack", "delete", "--yes", identifier)
    wait_gone(api, name)
    assert openstack.json("stack", "list") == []


LIBRARY_SCRIPT = textwrap.dedent(
    """\
    import json, sys, time
    from heatclient import client, exc

    url, name, template = sys.argv[1:]
    heat = client.Client("1", endpoint=url, token="unused")

    def settled(identifier):
        for _ in range(300):
            stack = heat.stacks.get(identifier)
            if not stack.stack_status.endswith("IN_PROGRESS"):
                return stack
            time.sleep(0.1)
        raise SystemExit(f"{identifier} is still {stack.stack_status}")

    report = {}
    created = heat.stacks.create(
        stack_name=name, template=template, parameters={"greeting": "hi"}
    )
    identifier = f"{name}/{created['stack']['id']}"
    stack = settled(name)
    report["created"] = [stack.stack_name, stack.stack_status, stack.id == created["stack"]["id"]]
    report["listed"] = [[s.stack_name, s.stack_status] for s in heat.stacks.list()]
    report["output"] = heat.stacks.output_show(identifier, "said")
    report["outputs"] = heat.stacks.output_list(identifier)
    report["template"] = heat.stacks.template(identifier)
    heat.stacks.update(identifier, template=template, parameters={"greeting": "bye"})
    stack = settled(identifier)
    report["updated"] = [stack.stack_status, stack.outputs]
    heat.stacks.delete(identifier)
    for _ in range(300):
        try:
            heat.stacks.get(name)
        except exc.HTTPNotFound as error:
            report["after delete"] = type(error).__name__
            break
        time.sleep(0.1)
    print(json.dumps(report))
    """
)


def test_heatclient_library(
    heat_venv: HeatVenv, server: Server, project: str, tmp_path: Path
) -> None:
    script = tmp_path / "drive_heatclient.py"
    script.write_text(LIBRARY_SCRIPT)
    name = unique("library")
    url = f"{server.url}/v1/{project}"

    report = json.loads(heat_venv.run("python", str(script), url, name, TEMPLATE))

    assert report["created"] == [name, "CREATE_COMPLETE", True]
    assert report["listed"] == [[name, "CREATE_COMPLETE"]]
    assert report["output"] == {
        "output": {"output_key": "said", "output_value": "hi", "description": "What was said"}
    }
    assert report["outputs"] == {
        "outputs": [{"output_key": "said", "description": "What was said"}]
    }
    assert report["template"]["heat_template_version"] == "2018-08-31"
    assert report["template"]["outputs"]["said"]["value"] == {"get_attr": ["word", "value"]}
    status, outputs = report["updated"]
    assert status == "UPDATE_COMPLETE"
    assert [(o["output_key"], o["output_value"]) for o in outputs] == [("said", "bye")]
    assert report["after delete"] == "HTTPNotFound"

"""Stacks of Local::Servers: real processes created, checked, converged and deleted."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import tarfile
import time

from lifecycle_support import Harness, local_clients, run_local

from kiln.clients.local import LocalCloud
from kiln.providers.context import ProviderContext
from kiln.providers.protocol import CheckRequest
from kiln.providers.software_config import SERVER_SECRET_KEY, server_credential
from kiln.resources.local.server import LocalServer
from kiln.service.stacks import StackDefinition, StackService

TEMPLATE = """\
heat_template_version: 2018-08-31
resources:
  web:
    type: Local::Server
    properties:
      user_data: |
        #!/bin/sh
        echo "web at $KILN_SERVER_ADDRESS"
      command: sleep 600
      metadata: {role: web}
  worker:
    type: Local::Server
    properties:
      command: sleep 600
      environment: {WEB: {get_attr: [web, first_address]}}
outputs:
  web_address: {value: {get_attr: [web, first_address]}}
  worker_networks: {value: {get_attr: [worker, networks]}}
"""


def server_processes(cloud: LocalCloud) -> dict[str, list[int]]:
    """Each recorded server's running processes, from the process table."""
    if not cloud.servers_directory.is_dir():
        return {}
    return {d.name: cloud.processes(d.name) for d in cloud.servers_directory.iterdir()}


def marked(server_ids: list[str]) -> list[int]:
    """Running processes that carry one of the servers' ids, straight from /proc."""
    markers = {f"KILN_SERVER_ID={server_id}".encode() for server_id in server_ids}
    found = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            with open(f"/proc/{name}/environ", "rb") as environ:
                if markers & set(environ.read().split(b"\0")):
                    found.append(int(name))
        except (OSError, IndexError):
            continue
    return found


def test_two_servers_are_checked_converged_and_deleted(harness: Harness, cloud: LocalCloud) -> None:
    stack = run_local(harness, cloud, harness.service.create("local", StackDefinition(TEMPLATE)))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    live = harness.live(stack)
    web_id, worker_id = live["web"].physical_id or "", live["worker"].physical_id or ""
    web, worker = cloud.server(web_id), cloud.server(worker_id)
    assert web is not None and worker is not None
    assert (web.status, worker.status) == ("ACTIVE", "ACTIVE")
    outputs = {o.key: o.value for o in harness.service.outputs(stack)}
    assert outputs == {"web_address": web.address, "worker_networks": {"local": [worker.address]}}
    assert f"web at {web.address}" in cloud.console_log(web_id)
    assert all(server_processes(cloud).values())
    for server in (web, worker):
        assert {server.pid, server.command_pid} <= set(marked([server.id]))

    stack = run_local(harness, cloud, harness.service.check(stack.id))
    assert stack.state == "CHECK_COMPLETE", stack.status_reason

    assert worker.pid is not None
    os.killpg(worker.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while cloud.processes(worker_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    # Drift and resource show read the servers live, through the same cloud client.
    service = StackService(
        harness.database, harness.plugins, harness.secrets, clients=local_clients(cloud)
    )
    drift = {d.resource: d.status for d in asyncio.run(service.drift(stack.id))}
    assert drift == {"web": "IN_SYNC", "worker": "DELETED"}
    shown = asyncio.run(service.resource_attributes(stack, harness.live(stack)["web"]))
    assert (shown["status"], shown["pid"]) == ("ACTIVE", web.pid)
    stack = run_local(harness, cloud, harness.service.check(stack.id))
    assert stack.state == "CHECK_FAILED"
    checked = harness.live(stack)["worker"]
    assert checked.status_reason == (
        f"ResourceFailed: resources.worker: {worker_id} does not exist any more"
    )

    definition = StackDefinition("", parameters={})
    stack = run_local(
        harness,
        cloud,
        harness.service.update(stack.id, definition, existing=True, converge=True),
    )
    assert stack.state == "UPDATE_COMPLETE", stack.status_reason
    live = harness.live(stack)
    assert live["web"].physical_id == web_id
    new_worker_id = live["worker"].physical_id or ""
    assert new_worker_id != worker_id
    recreated = cloud.server(new_worker_id)
    assert recreated is not None and recreated.status == "ACTIVE"
    assert cloud.server(worker_id) is None
    assert sorted(server_processes(cloud)) == sorted([web_id, new_worker_id])

    stack = run_local(harness, cloud, harness.service.delete(stack.id))
    assert stack.state == "DELETE_COMPLETE", stack.status_reason
    assert server_processes(cloud) == {}
    assert marked([web_id, worker_id, new_worker_id]) == []
    assert list((cloud.root / "addresses").iterdir()) == []


POLICIES = """\
heat_template_version: 2018-08-31
resources:
  kept:
    type: Local::Server
    deletion_policy: Retain
    properties: {command: sleep 600}
  archived:
    type: Local::Server
    deletion_policy: Snapshot
    properties:
      user_data: |
        #!/bin/sh
        echo state > data.txt
      command: sleep 600
"""


def test_deletion_policies_retain_a_server_or_archive_it(
    harness: Harness, cloud: LocalCloud
) -> None:
    stack = run_local(harness, cloud, harness.service.create("policies", StackDefinition(POLICIES)))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    live = harness.live(stack)
    kept_id, archived_id = live["kept"].physical_id or "", live["archived"].physical_id or ""

    stack = run_local(harness, cloud, harness.service.delete(stack.id))
    assert stack.state == "DELETE_COMPLETE", stack.status_reason
    kept = cloud.server(kept_id)
    assert kept is not None and kept.status == "ACTIVE"
    assert cloud.server(archived_id) is None and marked([archived_id]) == []
    (archive,) = cloud.snapshots_directory.iterdir()
    with tarfile.open(archive) as opened:
        data = opened.extractfile("./data.txt")
        assert data is not None and data.read() == b"state\n"


def test_a_stack_suspend_stops_its_servers_and_resume_restarts_them(
    harness: Harness, cloud: LocalCloud
) -> None:
    template = "heat_template_version: 2018-08-31\nresources:\n  web:\n"
    template += "    type: Local::Server\n    properties: {command: sleep 600}\n"
    stack = run_local(harness, cloud, harness.service.create("pausing", StackDefinition(template)))
    server_id = harness.live(stack)["web"].physical_id or ""

    stack = run_local(harness, cloud, harness.service.suspend(stack.id))
    assert stack.state == "SUSPEND_COMPLETE", stack.status_reason
    suspended = cloud.server(server_id)
    assert suspended is not None and suspended.status == "SUSPENDED"

    stack = run_local(harness, cloud, harness.service.resume(stack.id))
    assert stack.state == "RESUME_COMPLETE", stack.status_reason
    resumed = cloud.server(server_id)
    assert resumed is not None and resumed.status == "ACTIVE"


AGENT_TEMPLATE = """\
heat_template_version: 2018-08-31
resources:
  configured:
    type: Local::Server
    properties:
      user_data_format: SOFTWARE_CONFIG
"""


def test_a_software_config_server_keeps_the_secret_its_agent_reads_metadata_with(
    harness: Harness, cloud: LocalCloud
) -> None:
    stack = run_local(
        harness, cloud, harness.service.create("agent", StackDefinition(AGENT_TEMPLATE))
    )
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    record = harness.live(stack)["configured"]
    server_id = record.physical_id or ""
    credential = cloud.agent_credential(server_id)
    secret = record.provider_data[SERVER_SECRET_KEY]
    assert credential == server_credential(stack.id, "configured", secret)
    spec = json.loads((cloud.servers_directory / server_id / "spec.json").read_text())
    assert spec["agent"]["metadata_url"] == (
        f"http://127.0.0.1:8004/v1/{stack.project_id}/software_deployments/metadata/{server_id}"
    )
    agents = [p for p in marked([server_id]) if b"kiln.clients.local.agent" in cmdline(p)]
    assert len(agents) == 1

    # A create that found the server again (its first attempt recorded nothing) learns
    # the secret when it checks the server.
    check = CheckRequest(name="configured", physical_id=server_id, properties=record.properties)
    context = ProviderContext.create("Local::Server", "configured", clients=local_clients(cloud))
    progress = asyncio.run(LocalServer().check_create(context, check))
    assert progress.done and progress.provider_data == {SERVER_SECRET_KEY: secret}

    stack = run_local(harness, cloud, harness.service.delete(stack.id))
    assert stack.state == "DELETE_COMPLETE"
    assert marked([server_id]) == []


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as command:
            return command.read().replace(b"\0", b" ")
    except OSError:
        return b""

"""The Local examples end to end: a real ``kiln serve``, real servers, real traffic.

Every test runs its own server with its own KILN_HOME and a loopback range
of its own, and leaves no process, directory or listening socket behind,
even when it fails.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from api_support import Api, Server, until

from kiln.clients.local import LocalCloud

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "local"
LOCAL_ENVIRONMENT = ROOT / "src" / "kiln" / "environments" / "local.yaml"
#: The files a Heat client sends along with the example templates.
FILES = {
    name: (EXAMPLES / name).read_text(encoding="utf-8")
    for name in ("web-server.yaml", "content.html")
}
#: Seconds a stack of real servers may take to settle.
SLOW = 90


@dataclass
class Local:
    """A ``kiln serve`` whose Local provider owns ``network`` and ``root``."""

    server: Server
    api: Api
    network: ipaddress.IPv4Network
    root: Path

    def cloud(self) -> LocalCloud:
        return LocalCloud(self.root, address_range=str(self.network), stop_grace_seconds=0.5)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    network = ipaddress.IPv4Network(f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.0/27")
    home = tmp_path / "home"
    environ = {
        "KILN_LOCAL_ADDRESS_RANGE": str(network),
        "KILN_LOCAL_STOP_GRACE_SECONDS": "0.5",
    }
    server = Server(home, environ=environ)
    server.start()
    context = Local(server, server.client(), network, home / "local")
    try:
        yield context
    finally:
        server.stop()
        _clean_up(context)


def _clean_up(context: Local) -> None:
    """Delete what the Local provider still has; kill any process of ours that outlived it."""
    cloud = context.cloud()
    balancers = cloud.load_balancers
    if balancers.directory.is_dir():
        for directory in balancers.directory.iterdir():
            balancers.delete_load_balancer(directory.name)
    if cloud.servers_directory.is_dir():
        for directory in cloud.servers_directory.iterdir():
            cloud.delete_server(directory.name)
    for pid in _our_processes(context):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _environ(pid: str) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/environ", "rb") as environ:
            entries = environ.read().split(b"\0")
    except OSError:
        return {}
    pairs = (entry.decode(errors="replace").partition("=") for entry in entries if entry)
    return {name: value for name, _, value in pairs}


def _our_processes(context: Local) -> list[int]:
    """Servers and balancers of this test: their address is in its range or they run in its root."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        environ = _environ(pid)
        address = environ.get("KILN_SERVER_ADDRESS")
        if address and ipaddress.IPv4Address(address) in context.network:
            found.append(int(pid))
            continue
        if "KILN_SERVER_ID" in environ or "KILN_BALANCER_ID" in environ:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if str(context.root).encode() in command:
                found.append(int(pid))
    return found


def _listening(network: ipaddress.IPv4Network) -> list[str]:
    """``ADDRESS:PORT`` of every TCP socket listening on an address of ``network``."""
    sockets = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_address, state = fields[1], fields[3]
        host, port = local_address.split(":")
        address = ipaddress.IPv4Address(bytes.fromhex(host)[::-1])
        if state == "0A" and address in network:
            sockets.append(f"{address}:{int(port, 16)}")
    return sockets


def _leftovers(context: Local) -> dict[str, Any]:
    directories = [
        str(path)
        for parent in ("servers", "load_balancers", "volumes", "attachments")
        if (context.root / parent).is_dir()
        for path in (context.root / parent).iterdir()
    ]
    return {
        "processes": _our_processes(context),
        "directories": directories,
        "listening": _listening(context.network),
    }


def _outputs(api: Api, base: str) -> dict[str, Any]:
    stack = api.get(base).json()["stack"]
    return {output["output_key"]: output["output_value"] for output in stack["outputs"]}


def _page(url: str) -> str | None:
    try:
        answer = httpx.get(url, timeout=2, trust_env=False)
    except httpx.HTTPError:
        return None
    return answer.text if answer.status_code == 200 else None


def _served_by(url: str, names: list[str], tries: int = 40) -> set[str]:
    """The servers (by the name on their page) that answered ``tries`` requests to ``url``."""
    seen: set[str] = set()
    for _ in range(tries):
        page = _page(url + "index.html") or ""
        seen.update(name for name in names if f"<h1>{name}</h1>" in page)
    return seen


def _serving_all(url: str, names: list[str]) -> bool:
    return _served_by(url, names) == set(names)


def _create(api: Api, name: str, template: str, **extra: Any) -> str:
    body = {"stack_name": name, "template": template, "files": FILES, **extra}
    answer = api.post("/stacks", body)
    assert answer.status_code == 201, answer.text
    stack = api.wait(name, timeout=SLOW)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    return f"/stacks/{name}/{answer.json()['stack']['id']}"


def _update(api: Api, base: str, **body: Any) -> None:
    answer = api.patch(base, body)
    assert answer.status_code == 202, answer.text
    stack = api.wait(base.split("/")[2], timeout=SLOW)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]


def _delete(context: Local, base: str) -> None:
    answer = context.api.delete(base)
    assert answer.status_code == 204, answer.text

    def status() -> str:
        shown = context.api.get(base)
        return "gone" if shown.status_code == 404 else str(shown.json()["stack"]["stack_status"])

    assert until(lambda: status() != "DELETE_IN_PROGRESS" and status(), timeout=SLOW) in (
        "gone",
        "DELETE_COMPLETE",
    )
    assert _leftovers(context) == {"processes": [], "directories": [], "listening": []}


def _kill_server(name: str) -> None:
    """Kill every process of the server named ``name``, as a crash would."""
    victims = [
        int(pid)
        for pid in filter(str.isdigit, os.listdir("/proc"))
        if _environ(pid).get("KILN_SERVER_NAME") == name
    ]
    assert victims
    for pid in victims:
        os.kill(pid, signal.SIGKILL)


def test_web_cluster_serves_scales_heals_and_leaves_nothing(local: Local) -> None:
    api = local.api
    template = (EXAMPLES / "web-cluster.yaml").read_text()
    base = _create(api, "web", template)

    outputs = _outputs(api, base)
    url, names = outputs["url"], outputs["server_names"]
    assert names == ["web-0", "web-1"]
    assert ipaddress.IPv4Address(url.split("/")[2].split(":")[0]) in local.network
    page = until(lambda: _page(url + "index.html"))
    assert "comes from content.html" in page
    assert until(lambda: _serving_all(url, names), timeout=SLOW)

    _update(api, base, parameters={"count": 3})
    names = _outputs(api, base)["server_names"]
    assert names == ["web-0", "web-1", "web-2"]
    assert until(lambda: _serving_all(url, names), timeout=SLOW)

    _update(api, base, parameters={"count": 1})
    names = _outputs(api, base)["server_names"]
    assert names == ["web-0"]
    assert until(lambda: _served_by(url, names, tries=10) == set(names), timeout=SLOW)
    assert len(_listening(local.network)) == 2  # the balancer and the one server left

    _kill_server(names[0])
    answer = api.post(f"{base}/actions", {"check": None})
    assert answer.status_code == 200, answer.text
    checked = api.wait("web", timeout=SLOW)
    assert checked["stack_status"] == "CHECK_FAILED", checked["stack_status_reason"]
    assert "does not exist any more" in checked["stack_status_reason"]

    _update(api, base, existing=True, converge=True)
    assert _outputs(api, base)["server_names"] == ["web-0"]
    assert until(lambda: _serving_all(url, names), timeout=SLOW)
    assert len(_listening(local.network)) == 2  # a new server in place of the dead one

    _delete(local, base)


def test_scaling_policies_add_and_remove_servers_behind_the_balancer(local: Local) -> None:
    api = local.api
    template = (EXAMPLES / "scaling.yaml").read_text()
    base = _create(api, "scaling", template)
    outputs = _outputs(api, base)
    url = outputs["url"]
    assert "/signal" in outputs["scale_up_signal_url"]
    names = outputs["server_names"]
    assert len(names) == 1
    assert until(lambda: _serving_all(url, names), timeout=SLOW)

    def settled_with(count: int) -> list[str] | None:
        stack = api.stack("scaling")
        if stack["stack_status"].endswith("IN_PROGRESS"):
            return None
        found = list(_outputs(api, base)["server_names"])
        return found if len(found) == count else None

    answer = httpx.post(outputs["scale_up_url"], trust_env=False)
    assert answer.status_code in (200, 202), answer.text
    grown = until(lambda: settled_with(2), timeout=SLOW)
    assert until(lambda: _serving_all(url, grown), timeout=SLOW)

    answer = httpx.post(outputs["scale_down_url"], trust_env=False)
    assert answer.status_code in (200, 202), answer.text
    shrunk = until(lambda: settled_with(1), timeout=SLOW)
    assert until(lambda: _served_by(url, grown, tries=10) == set(shrunk), timeout=SLOW)

    _delete(local, base)


def test_the_local_environment_runs_openstack_types_on_the_local_provider(local: Local) -> None:
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "server": {
                "type": "OS::Nova::Server",
                "properties": {"command": "exec sleep 600"},
            },
            "volume": {"type": "OS::Cinder::Volume", "properties": {"size": 1}},
            "attachment": {
                "type": "OS::Cinder::VolumeAttachment",
                "properties": {
                    "instance_uuid": {"get_resource": "server"},
                    "volume_id": {"get_resource": "volume"},
                    "mountpoint": "data",
                },
            },
            "lb": {"type": "OS::Octavia::LoadBalancer", "properties": {"protocol_port": 8000}},
            "pool": {
                "type": "OS::Octavia::Pool",
                "properties": {"loadbalancer": {"get_resource": "lb"}},
            },
            "member": {
                "type": "OS::Octavia::PoolMember",
                "properties": {
                    "pool": {"get_resource": "pool"},
                    "address": {"get_attr": ["server", "first_address"]},
                    "protocol_port": 8080,
                },
            },
            "monitor": {
                "type": "OS::Octavia::HealthMonitor",
                "properties": {
                    "pool": {"get_resource": "pool"},
                    "type": "TCP",
                    "delay": 1,
                    "timeout": 1,
                    "max_retries": 1,
                },
            },
        },
        "outputs": {
            "vip": {"value": {"get_attr": ["lb", "vip_address"]}},
            "server": {"value": {"get_attr": ["server", "first_address"]}},
        },
    }
    environment = yaml.safe_load(LOCAL_ENVIRONMENT.read_text())
    base = _create(local.api, "mapped", yaml.safe_dump(template), environment=environment)
    resources = local.api.get(f"{base}/resources").json()["resources"]
    assert {r["resource_status"] for r in resources} == {"CREATE_COMPLETE"}
    addresses = _outputs(local.api, base)
    assert {ipaddress.IPv4Address(address) in local.network for address in addresses.values()} == {
        True
    }
    assert set(_listening(local.network)) == {f"{addresses['vip']}:8000"}
    assert len(_our_processes(local)) >= 2
    _delete(local, base)


def _resources(**resources: Any) -> dict[str, Any]:
    return {"heat_template_version": "2018-08-31", "resources": resources}


def _failed_create(context: Local, name: str, template: dict[str, Any]) -> list[str]:
    """Create a stack that fails: it rolls back, and gives the reasons its resources failed."""
    body = {"stack_name": name, "template": template, "disable_rollback": False}
    answer = context.api.post("/stacks", body)
    assert answer.status_code == 201, answer.text
    stack = context.api.wait(name, timeout=SLOW)
    assert stack["stack_status"] == "ROLLBACK_COMPLETE", stack["stack_status_reason"]
    events = context.api.get(f"/stacks/{name}/{stack['id']}/events").json()["events"]
    return [
        event["resource_status_reason"]
        for event in events
        if event["resource_status"] == "CREATE_FAILED" and event["resource_name"] != name
    ]


SLEEPER = {"type": "Local::Server", "properties": {"command": "exec sleep 600"}}


def test_a_balancer_port_already_taken_fails_and_rolls_back(local: Local) -> None:
    address = str(local.network[30])
    taken = {
        "type": "Local::LoadBalancer",
        "properties": {"address": address, "protocol_port": 8000},
    }
    base = _create(local.api, "holder", yaml.safe_dump(_resources(lb=taken)))
    held = _leftovers(local)

    template = _resources(web=SLEEPER, lb={**taken, "depends_on": "web"})
    reasons = _failed_create(local, "clash", template)
    assert len(reasons) == 1 and address in reasons[0], reasons
    assert _leftovers(local) == held
    _delete(local, base)


def test_an_address_outside_the_range_fails_and_rolls_back(local: Local) -> None:
    outside = {
        "type": "Local::Server",
        "properties": {"address": "127.0.0.2", "command": "sleep 9"},
    }
    reasons = _failed_create(local, "outside", _resources(web=SLEEPER, stray=outside))
    assert len(reasons) == 1 and "outside the Local address range" in reasons[0], reasons
    assert _leftovers(local) == {"processes": [], "directories": [], "listening": []}


VOLUME_STACK = """\
heat_template_version: 2018-08-31
parameters:
  size: {type: number}
resources:
  volume:
    type: Local::Volume
    properties: {size: {get_param: size}}
  server:
    type: Local::Server
    properties: {command: exec sleep 600}
  attachment:
    type: Local::VolumeAttachment
    properties:
      instance_uuid: {get_resource: server}
      volume_id: {get_resource: volume}
      mountpoint: data
outputs:
  size: {value: {get_attr: [volume, size]}}
  path: {value: {get_attr: [attachment, path]}}
"""


def test_a_volume_over_its_size_fails_its_check_and_a_shrink_rolls_back(local: Local) -> None:
    api = local.api
    base = _create(api, "disk", VOLUME_STACK, parameters={"size": 2})

    answer = api.patch(base, {"parameters": {"size": 1}, "disable_rollback": False})
    assert answer.status_code == 202, answer.text
    stack = api.wait("disk", timeout=SLOW)
    assert stack["stack_status"] == "ROLLBACK_COMPLETE", stack["stack_status_reason"]
    events = api.get(f"{base}/events").json()["events"]
    failures = [
        e["resource_status_reason"] for e in events if e["resource_status"] == "UPDATE_FAILED"
    ]
    assert any("size can only grow" in reason for reason in failures), failures
    assert _outputs(api, base)["size"] == 2

    big = Path(_outputs(api, base)["path"]) / "big"
    with big.open("wb") as file:
        file.truncate(3 * 2**30)  # sparse: over the quota without using the disk
    answer = api.post(f"{base}/actions", {"check": None})
    assert answer.status_code == 200, answer.text
    checked = api.wait("disk", timeout=SLOW)
    assert checked["stack_status"] == "CHECK_FAILED"
    resources = api.get(f"{base}/resources").json()["resources"]
    reasons = {r["resource_name"]: r["resource_status_reason"] for r in resources}
    assert "more than its size of 2 GiB" in reasons["volume"], reasons

    big.unlink()
    answer = api.post(f"{base}/actions", {"check": None})
    assert api.wait("disk", timeout=SLOW)["stack_status"] == "CHECK_COMPLETE"
    _delete(local, base)

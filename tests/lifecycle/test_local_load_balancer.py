"""A stack of Local::Servers behind a Local::LoadBalancer: real processes, real traffic."""

from __future__ import annotations

import http.client
import socket
import statistics
import subprocess
import time

from lifecycle_support import Harness, run_local

from kiln.clients.local import LocalCloud, processes
from kiln.service.stacks import StackDefinition

WEB = """\
    type: Local::Server
    properties:
      user_data: |
        #!/bin/sh
        echo -n "{name}" > index.html
      command: exec python3 -m http.server --bind "$KILN_SERVER_ADDRESS" 8080
"""
MEMBER = """\
    type: Local::PoolMember
    properties:
      pool: {{get_resource: pool}}
      address: {{get_attr: [{server}, first_address]}}
      protocol_port: 8080
"""
BALANCER = """\
  lb:
    type: Local::LoadBalancer
    properties: {protocol_port: 8080}
  pool:
    type: Local::Pool
    properties: {loadbalancer: {get_resource: lb}, lb_algorithm: ROUND_ROBIN}
  monitor:
    type: Local::HealthMonitor
    properties:
      pool: {get_resource: pool}
      type: HTTP
      delay: 1
      timeout: 1
      max_retries: 2
      url_path: /index.html
outputs:
  url: {value: {get_attr: [lb, url]}}
"""


def template(*members: str) -> str:
    text = "heat_template_version: 2018-08-31\nresources:\n"
    for name in ("web1", "web2"):
        text += f"  {name}:\n" + WEB.format(name=name)
    for server in members:
        text += f"  member_{server}:\n" + MEMBER.format(server=server)
    return text + BALANCER


def curl(url: str) -> str:
    result = subprocess.run(
        ["curl", "-sS", "--max-time", "10", url], capture_output=True, text=True, check=True
    )
    return result.stdout


def answers(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


def median_milliseconds(address: str, port: int, count: int = 100) -> float:
    durations = []
    for _ in range(count):
        started = time.perf_counter()
        connection = http.client.HTTPConnection(address, port, timeout=10)
        connection.request("GET", "/index.html")
        connection.getresponse().read()
        connection.close()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations) * 1000


def listening(address: str, port: int) -> bool:
    wanted = f"{socket.inet_aton(address)[::-1].hex().upper()}:{port:04X}"
    with open("/proc/net/tcp") as table:
        return any(row[1] == wanted and row[3] == "0A" for row in (line.split() for line in table))


def test_servers_behind_a_load_balancer_are_reached_changed_and_deleted(
    harness: Harness, cloud: LocalCloud
) -> None:
    definition = StackDefinition(template("web1", "web2"))
    stack = run_local(harness, cloud, harness.service.create("balanced", definition))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    live = harness.live(stack)
    servers = [cloud.server(live[name].physical_id or "") for name in ("web1", "web2")]
    addresses = [server.address for server in servers if server is not None]
    for address in addresses:
        deadline = time.monotonic() + 15
        while not answers(address, 8080) and time.monotonic() < deadline:
            time.sleep(0.05)
    outputs = {o.key: o.value for o in harness.service.outputs(stack)}
    balancer = cloud.load_balancers.load_balancer(live["lb"].physical_id or "")
    assert balancer is not None and balancer.status == "ACTIVE"
    assert outputs == {"url": f"http://{balancer.address}:8080/"}
    assert balancer.pools == [live["pool"].physical_id]
    url = f"{outputs['url']}index.html"
    assert sorted(curl(url) for _ in range(4)) == ["web1", "web1", "web2", "web2"]

    direct = median_milliseconds(addresses[0], 8080)
    through = median_milliseconds(balancer.address, 8080)
    print(f"\nmedian latency: direct {direct:.2f} ms, through Local::LoadBalancer {through:.2f} ms")

    # Taking a member out by a stack update reloads the balancer: same process.
    stack = run_local(
        harness, cloud, harness.service.update(stack.id, StackDefinition(template("web1")))
    )
    assert stack.state == "UPDATE_COMPLETE", stack.status_reason
    assert [curl(url) for _ in range(3)] == ["web1"] * 3
    after = cloud.load_balancers.load_balancer(balancer.id)
    assert after is not None and after.pid == balancer.pid

    server_ids = [server.id for server in servers if server is not None]
    stack = run_local(harness, cloud, harness.service.delete(stack.id))
    assert stack.state == "DELETE_COMPLETE", stack.status_reason
    assert balancer.pid is not None and processes.start_ticks(balancer.pid) is None
    assert all(cloud.processes(server_id) == [] for server_id in server_ids)
    assert not listening(balancer.address, 8080)
    assert not any(listening(address, 8080) for address in addresses)
    for kind in ("load_balancers", "pools", "pool_members", "health_monitors", "addresses"):
        directory = cloud.root / kind
        assert not directory.is_dir() or list(directory.iterdir()) == [], kind

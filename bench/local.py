"""The Local provider at cluster size: a real ``kiln serve``, real processes, real traffic.

Writes ``bench/results/local.json``:

- seconds from the create request to CREATE_COMPLETE of a 20-server cluster
  (an OS::Heat::ResourceGroup of Local::Servers, each running
  ``python3 -m http.server --protocol HTTP/1.1``, each a member of one
  Local::LoadBalancer's pool), of scaling it out to 25 servers and back in to
  20 (stack updates of the ``count`` parameter), and of deleting it; all
  through the API, as users drive it;
- the latency of a GET of a small page through the load balancer and straight
  to the members (the same servers, taken in turn), one request at a time:
  a new connection per request (the headline figure: Heat and Octavia users
  compare new connections) and over one kept-alive connection;
- requests per second, median and p99 under concurrent clients in a second
  process, new connection per request, through the balancer and direct.

The timing client acknowledges what it reads at once (TCP_QUICKACK): Python's
``http.server`` writes headers and body in two sends, and a client that delays
its acknowledgement makes every kept-alive answer wait about 40 ms for Nagle's
algorithm, direct or not, which would hide what the balancer costs.

Target: the balancer adds under 20% to the median latency of a new-connection
request. The members are Python's own ``http.server`` (HTTP/1.1, so that keep-alive
is possible), the server a Local::Server user would most likely start; the
overhead is relative to it. Every process is cleaned up, even on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from harness import free_port, wait_until_serving, write_report
from kiln.clients.local import LocalCloud

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "local.json"
PORT = 8080
TARGET_PERCENT = 20.0

CLUSTER = """\
heat_template_version: 2018-08-31
parameters:
  count: {type: number, default: 20}
resources:
  lb:
    type: Local::LoadBalancer
    properties: {protocol_port: 8080}
  pool:
    type: Local::Pool
    properties: {loadbalancer: {get_resource: lb}, lb_algorithm: ROUND_ROBIN}
  web:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: count}
      resource_def:
        type: member.yaml
        properties: {pool: {get_resource: pool}, index: "%index%"}
outputs:
  url: {value: {get_attr: [lb, url]}}
  addresses: {value: {get_attr: [web, address]}}
"""
MEMBER = """\
heat_template_version: 2018-08-31
parameters:
  pool: {type: string}
  index: {type: string}
resources:
  server:
    type: Local::Server
    properties:
      user_data:
        str_replace:
          template: "#!/bin/sh\\necho -n web$index > index.html\\n"
          params: {$index: {get_param: index}}
      command: exec python3 -m http.server --protocol HTTP/1.1 --bind "$KILN_SERVER_ADDRESS" 8080
  member:
    type: Local::PoolMember
    properties:
      pool: {get_param: pool}
      address: {get_attr: [server, first_address]}
      protocol_port: 8080
outputs:
  address: {value: {get_attr: [server, first_address]}}
"""

NEW = b"GET /index.html HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
KEPT = b"GET /index.html HTTP/1.1\r\nHost: bench\r\n\r\n"

#: The load: workers in one asyncio process, each a new connection per request.
LOAD = """
import asyncio, json, sys, time
targets = json.loads(sys.argv[1]); seconds = float(sys.argv[2]); workers = int(sys.argv[3])
REQUEST = b"GET /index.html HTTP/1.1\\r\\nHost: bench\\r\\nConnection: close\\r\\n\\r\\n"
async def worker(index, deadline, samples, failures):
    turn = index
    while time.perf_counter() < deadline:
        address, port = targets[turn % len(targets)]
        turn += workers
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection(address, port)
            writer.write(REQUEST)
            answer = await reader.read()
            writer.close()
            ok = answer.startswith(b"HTTP/1.") and answer[9:12] == b"200"
        except OSError:
            ok = False
        if ok:
            samples.append(time.perf_counter() - started)
        else:
            failures.append(1)
async def main():
    samples, failures = [], []
    deadline = time.perf_counter() + seconds
    await asyncio.gather(*(worker(i, deadline, samples, failures) for i in range(workers)))
    print(json.dumps({"samples": samples, "failed": len(failures)}))
asyncio.run(main())
"""


def _figures(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
        "requests": len(ordered),
    }


def _acknowledge(connection: socket.socket) -> None:
    if hasattr(socket, "TCP_QUICKACK"):
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def _read_answer(connection: socket.socket, buffered: bytes = b"") -> bytes:
    """One response with a Content-Length body; what follows it stays unread."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        assert chunk, "connection closed before the answer"
        _acknowledge(connection)
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lengths = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")]
    length = int(lengths[0].split(b":")[1])
    while len(body) < length:
        chunk = connection.recv(65536)
        assert chunk, "connection closed in the body"
        _acknowledge(connection)
        body += chunk
    assert head.startswith(b"HTTP/1.") and head[9:12] == b"200", head
    return body


def _new_connection(target: tuple[str, int]) -> float:
    started = time.perf_counter()
    with socket.create_connection(target, timeout=10) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.sendall(NEW)
        _read_answer(connection)
    return time.perf_counter() - started


def _sequential(targets: list[tuple[str, int]], count: int) -> list[float]:
    return [_new_connection(targets[index % len(targets)]) for index in range(count)]


def _kept_alive(targets: list[tuple[str, int]], count: int) -> list[float]:
    connections = []
    samples = []
    try:
        for target in targets:
            connection = socket.create_connection(target, timeout=10)
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connections.append(connection)
        for index in range(count):
            connection = connections[index % len(connections)]
            started = time.perf_counter()
            connection.sendall(KEPT)
            _read_answer(connection)
            samples.append(time.perf_counter() - started)
    finally:
        for connection in connections:
            connection.close()
    return samples


def _compare(
    measure: Callable[[list[tuple[str, int]], int], list[float]],
    balancer: list[tuple[str, int]],
    members: list[tuple[str, int]],
    count: int,
) -> dict[str, Any]:
    """Alternate blocks through the balancer and direct, so that drift hits both alike."""
    measure(balancer, 50), measure(members, 50)  # warm up
    through: list[float] = []
    direct: list[float] = []
    for _ in range(10):
        through += measure(balancer, count // 10)
        direct += measure(members, count // 10)
    result: dict[str, Any] = {"direct": _figures(direct), "through_balancer": _figures(through)}
    added = result["through_balancer"]["median_ms"] / result["direct"]["median_ms"] - 1
    result["added_at_median_percent"] = round(added * 100, 1)
    return result


def _load(targets: list[tuple[str, int]], seconds: float, workers: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", LOAD, json.dumps(targets), str(seconds), str(workers)],
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(done.stdout)
    return {
        "requests_per_second": round(len(answer["samples"]) / seconds, 1),
        **_figures(answer["samples"]),
        "failed": answer["failed"],
        "seconds": seconds,
        "concurrent_clients": workers,
    }


class Cluster:
    """The stack through the API: create, update the count, delete, each timed to its end."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.stack_id = ""

    def _wait(self, action: str) -> float:
        started = time.perf_counter()
        while True:
            answer = self.client.get(f"/stacks/cluster/{self.stack_id}")
            if answer.status_code == 404 and action == "DELETE":
                return time.perf_counter() - started  # deleted stacks are not shown
            stack = answer.json()["stack"]
            if stack["stack_status"] != f"{action}_IN_PROGRESS":
                assert stack["stack_status"] == f"{action}_COMPLETE", stack
                return time.perf_counter() - started
            time.sleep(0.05)

    def create(self, count: int) -> float:
        started = time.perf_counter()
        body = self._body(count)
        created = self.client.post("/stacks", json={"stack_name": "cluster", **body})
        assert created.status_code == 201, created.text
        self.stack_id = created.json()["stack"]["id"]
        self._wait("CREATE")
        return round(time.perf_counter() - started, 2)

    def scale(self, count: int) -> float:
        started = time.perf_counter()
        updated = self.client.put(f"/stacks/cluster/{self.stack_id}", json=self._body(count))
        assert updated.status_code == 202, updated.text
        self._wait("UPDATE")
        return round(time.perf_counter() - started, 2)

    def delete(self) -> float:
        started = time.perf_counter()
        deleted = self.client.delete(f"/stacks/cluster/{self.stack_id}")
        assert deleted.status_code == 204, deleted.text
        self._wait("DELETE")
        self.stack_id = ""
        return round(time.perf_counter() - started, 2)

    def outputs(self) -> dict[str, Any]:
        stack = self.client.get(f"/stacks/cluster/{self.stack_id}").json()["stack"]
        return {output["output_key"]: output["output_value"] for output in stack["outputs"]}

    def _body(self, count: int) -> dict[str, Any]:
        return {
            "template": CLUSTER,
            "files": {"member.yaml": MEMBER},
            "parameters": {"count": count},
        }


def _wait_serving(targets: list[tuple[str, int]]) -> None:
    deadline = time.monotonic() + 60
    for target in targets:
        while True:
            try:
                _new_connection(target)
                break
            except (OSError, AssertionError):
                assert time.monotonic() < deadline, f"{target} does not answer"
                time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--servers", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--load-seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        figures = _run(Path(scratch), options)
    write_report(RESULTS, figures)


def _run(home: Path, options: Any) -> dict[str, Any]:
    network = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24"
    port = free_port()
    env = {
        **os.environ,
        "KILN_HOME": str(home),
        "KILN_DATABASE_URL": f"sqlite:///{home / 'bench.db'}",
        "KILN_LOCAL_ADDRESS_RANGE": network,
        "KILN_LOCAL_STOP_GRACE_SECONDS": "1",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
        ),
    }
    command = [sys.executable, "-m", "kiln.cli", "serve", "--auth", "none", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base)
        with httpx.Client(base_url=f"{base}/v1/default", timeout=60) as client:
            cluster = Cluster(client)
            try:
                figures = _exercise(cluster, options)
            finally:
                if cluster.stack_id:
                    try:
                        cluster.delete()
                    except (AssertionError, httpx.HTTPError) as error:
                        print(f"the cluster's delete failed: {error}", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=60)
        _clean_up(home / "local", network)
    figures["machine_cores"] = os.cpu_count()
    return figures


def _exercise(cluster: Cluster, options: Any) -> dict[str, Any]:
    count = options.servers
    create = cluster.create(count)
    outputs = cluster.outputs()
    url = httpx.URL(outputs["url"])
    balancer = [(str(url.host), int(url.port or 80))]
    members = [(str(address), PORT) for address in outputs["addresses"]]
    assert len(members) == count, outputs
    _wait_serving(members + balancer)
    new = _compare(_sequential, balancer, members, options.requests)
    # One kept-alive connection per member either way: round robin gives each of
    # the balancer's connections its own member, as the direct ones have.
    kept = _compare(_kept_alive, balancer * len(members), members, options.requests)
    load_through = _load(balancer, options.load_seconds, options.clients)
    load_direct = _load(members, options.load_seconds, options.clients)
    more = count + max(count // 4, 1)
    scale_out = cluster.scale(more)
    scale_in = cluster.scale(count)
    delete = cluster.delete()
    added = new["added_at_median_percent"]
    return {
        "cluster": {
            "servers": count,
            "create_seconds": create,
            f"scale_{count}_to_{more}_seconds": scale_out,
            f"scale_{more}_to_{count}_seconds": scale_in,
            "delete_seconds": delete,
        },
        "backend": "python3 -m http.server --protocol HTTP/1.1 (one per Local::Server)",
        "latency_new_connection": new,
        "latency_kept_alive": kept,
        "load_new_connections_through_balancer": load_through,
        "load_new_connections_direct": load_direct,
        "target": {
            "added_latency_at_median_percent_below": TARGET_PERCENT,
            "measured_percent": added,
            "met": added < TARGET_PERCENT,
        },
    }


def _clean_up(root: Path, network: str) -> None:
    """Whatever a failed run left: its load balancers' and servers' processes."""
    if not root.is_dir():
        return
    cloud = LocalCloud(root, address_range=network, stop_grace_seconds=1.0)
    balancers = cloud.load_balancers
    for directory in balancers.directory.iterdir() if balancers.directory.is_dir() else []:
        balancers.delete_load_balancer(directory.name)
    if cloud.servers_directory.is_dir():
        for directory in cloud.servers_directory.iterdir():
            cloud.delete_server(directory.name)


if __name__ == "__main__":
    main()

"""Local load balancers through their plugins, with real balancer processes and backends."""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from local_support import wait_until

from kiln.clients.local import LocalCloud, processes
from kiln.clients.local.balancer import listen
from kiln.providers.context import ProviderContext
from kiln.providers.errors import InvalidInput
from kiln.providers.protocol import (
    AttributeRequest,
    CreateRequest,
    DeleteRequest,
    ReadRequest,
    ResourcePlugin,
    UpdateRequest,
)
from kiln.providers.testing import ContractCase, ContractResult, run_contract
from kiln.resources.local.load_balancer import (
    LocalHealthMonitor,
    LocalLoadBalancer,
    LocalPool,
    LocalPoolMember,
)
from kiln.schema.properties import validate_properties
from kiln.schema.registry import SchemaRegistry

#: Large enough that a slow reader keeps the transfer in progress through an update.
DOWNLOAD_BYTES = 16 * 1024 * 1024


@pytest.fixture
def balanced(cloud: LocalCloud) -> Iterator[LocalCloud]:
    """The Local cloud, with every load balancer deleted afterwards."""
    try:
        yield cloud
    finally:
        directory = cloud.load_balancers.directory
        for balancer in directory.iterdir() if directory.is_dir() else []:
            cloud.load_balancers.delete_load_balancer(balancer.name)


class Backend:
    """``python3 -m http.server`` on 127.0.0.1, serving ``name`` and a large file."""

    def __init__(self, root: Path, name: str, protocol: str = "HTTP/1.0") -> None:
        self.name = name
        self.protocol = protocol
        self.directory = root / name
        self.directory.mkdir(parents=True)
        (self.directory / "index.html").write_text(name)
        (self.directory / "big.bin").write_bytes(name[0].encode() * DOWNLOAD_BYTES)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        arguments = ["--protocol", self.protocol, "--bind", "127.0.0.1", str(self.port)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "http.server", *arguments],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: connects("127.0.0.1", self.port))

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def backends(tmp_path: Path) -> Iterator[list[Backend]]:
    started = [Backend(tmp_path / "backends", name) for name in ("alpha", "bravo", "charlie")]
    try:
        yield started
    finally:
        for backend in started:
            backend.stop()


def connects(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


def listening(address: str, port: int) -> bool:
    """Whether the kernel's TCP table has a listening socket at address:port."""
    wanted = f"{socket.inet_aton(address)[::-1].hex().upper()}:{port:04X}"
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in list(table)[1:]]
    return any(row[1] == wanted and row[3] == "0A" for row in rows)


def fetch(url_address: str, port: int, path: str = "/index.html") -> tuple[int, str]:
    connection = http.client.HTTPConnection(url_address, port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def context(cloud: LocalCloud) -> ProviderContext:
    return ProviderContext.create("Local::LoadBalancer", "lb", clients={"local": cloud})


def converted(plugin: type[ResourcePlugin], values: Mapping[str, Any]) -> dict[str, Any]:
    result, diagnostics = validate_properties(plugin.schema, values, SchemaRegistry(), live=True)
    assert diagnostics == []
    return dict(result)


def create(cloud: LocalCloud, plugin: type[ResourcePlugin], values: Mapping[str, Any]) -> str:
    request = CreateRequest(
        name="r",
        properties=converted(plugin, values),
        idempotency_token=str(uuid.uuid4()),
        physical_name="stack-r-abc",
    )
    progress = asyncio.run(plugin().create(context(cloud), request))
    assert progress.done and progress.physical_id is not None
    return progress.physical_id


def update(
    cloud: LocalCloud,
    plugin: type[ResourcePlugin],
    physical_id: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
) -> None:
    old, new = converted(plugin, old), converted(plugin, new)
    changed = frozenset(k for k in {*old, *new} if old.get(k) != new.get(k))
    request = UpdateRequest(
        name="r", physical_id=physical_id, old_properties=old, new_properties=new, changed=changed
    )
    assert asyncio.run(plugin().update(context(cloud), request)).done


def delete(cloud: LocalCloud, plugin: type[ResourcePlugin], physical_id: str) -> None:
    request = DeleteRequest(name="r", physical_id=physical_id, properties={})
    assert asyncio.run(plugin().delete(context(cloud), request)).done


def attributes(
    cloud: LocalCloud, plugin: type[ResourcePlugin], physical_id: str, *names: str
) -> dict[str, Any]:
    request = AttributeRequest(
        name="r", physical_id=physical_id, properties={}, names=frozenset(names)
    )
    return dict(asyncio.run(plugin().attributes(context(cloud), request)))


def contract(
    cloud: LocalCloud,
    plugin: type[ResourcePlugin],
    values: Mapping[str, Any],
    updated: Mapping[str, Any],
) -> ContractResult:
    """The provider contract for ``plugin``, reading every attribute its schema declares."""
    case = ContractCase(plugin, values, updated, frozenset(plugin.schema.attributes))
    return asyncio.run(run_contract(case, lambda: context(cloud)))


class Setup:
    """A load balancer with one pool over some backends, made through the plugins."""

    def __init__(
        self, cloud: LocalCloud, backends: list[Backend], algorithm: str = "ROUND_ROBIN"
    ) -> None:
        self.cloud = cloud
        self.balancer = create(cloud, LocalLoadBalancer, {"protocol_port": 8080})
        shown = attributes(cloud, LocalLoadBalancer, self.balancer, "vip_address", "pid")
        self.address, self.pid = shown["vip_address"], shown["pid"]
        self.pool = create(
            cloud, LocalPool, {"loadbalancer": self.balancer, "lb_algorithm": algorithm}
        )
        self.members = {backend.name: self.add(backend) for backend in backends}

    def add(self, backend: Backend, weight: int = 1) -> str:
        values = {"pool": self.pool, "address": "127.0.0.1", "protocol_port": backend.port}
        return create(self.cloud, LocalPoolMember, {**values, "weight": weight})

    def names(self, count: int, pause: float = 0.0) -> list[str]:
        answers = []
        for _ in range(count):
            answers.append(fetch(self.address, 8080))
            time.sleep(pause)
        assert {status for status, _ in answers} == {200}
        return [body for _, body in answers]

    def member_status(self, name: str) -> str:
        member = self.members[name]
        return str(
            attributes(self.cloud, LocalPoolMember, member, "operating_status")["operating_status"]
        )


def test_the_plugins_pass_the_provider_contract(balanced: LocalCloud) -> None:
    balancer_names = frozenset(LocalLoadBalancer.schema.attributes)
    case = ContractCase(
        LocalLoadBalancer,
        {"name": "front", "protocol_port": 8080},
        {"name": "front2", "protocol_port": 8080},
        balancer_names,
    )
    result = asyncio.run(run_contract(case, lambda: context(balanced)))
    shown = result.attributes
    address = shown["vip_address"]
    assert (shown["name"], shown["url"], shown["status"], shown["operating_status"]) == (
        "front",
        f"http://{address}:8080/",
        "ACTIVE",
        "ONLINE",
    )
    assert result.updated_attributes["name"] == "front2"
    assert result.updated_attributes["pid"] == shown["pid"]
    assert processes.start_ticks(shown["pid"]) is None
    assert list(balanced.load_balancers.directory.iterdir()) == []

    balancer = create(balanced, LocalLoadBalancer, {"protocol_port": 8080})
    pools = contract(
        balanced,
        LocalPool,
        {"loadbalancer": balancer, "name": "web"},
        {"loadbalancer": balancer, "name": "web", "lb_algorithm": "LEAST_CONNECTIONS"},
    )
    assert pools.attributes["loadbalancer"] == balancer
    assert pools.updated_attributes["show"]["lb_algorithm"] == "LEAST_CONNECTIONS"

    pool = create(balanced, LocalPool, {"loadbalancer": balancer})
    member = {"pool": pool, "address": "127.0.0.1", "protocol_port": 9}
    members = contract(balanced, LocalPoolMember, member, {**member, "weight": 3})
    assert (members.attributes["pool_id"], members.attributes["operating_status"]) == (
        pool,
        "NO_MONITOR",
    )
    assert members.updated_attributes["show"]["weight"] == 3

    monitor = {"pool": pool, "type": "TCP", "delay": 5, "timeout": 2, "max_retries": 3}
    monitors = contract(balanced, LocalHealthMonitor, monitor, {**monitor, "delay": 7})
    assert monitors.attributes["pools"] == [{"id": pool}]
    assert monitors.updated_attributes["show"]["delay"] == 7
    pools_now = attributes(balanced, LocalLoadBalancer, balancer, "pools")["pools"]
    assert pools_now == [{"id": pool}]


def test_round_robin_alternates_and_follows_the_weights(
    balanced: LocalCloud, backends: list[Backend]
) -> None:
    setup = Setup(balanced, backends[:2])
    assert setup.names(6) == ["alpha", "bravo"] * 3
    member = setup.members["alpha"]
    old = {"pool": setup.pool, "address": "127.0.0.1", "protocol_port": backends[0].port}
    update(balanced, LocalPoolMember, member, old, {**old, "weight": 2})
    assert sorted(setup.names(6)) == ["alpha"] * 4 + ["bravo"] * 2
    update(balanced, LocalPoolMember, member, old, {**old, "admin_state_up": False})
    assert setup.names(4) == ["bravo"] * 4
    assert setup.member_status("alpha") == "OFFLINE"


def test_least_connections_prefers_the_member_without_an_open_connection(
    balanced: LocalCloud, backends: list[Backend]
) -> None:
    setup = Setup(balanced, backends[:2], "LEAST_CONNECTIONS")
    with socket.create_connection((setup.address, 8080), timeout=10) as held:
        held.sendall(b"GET /index.html HTTP/1.0\r\n")  # the request is not finished yet
        time.sleep(0.5)
        # Each request has ended before the next (least connections counts open ones).
        answers = setup.names(6, pause=0.1)
        assert len(set(answers)) == 1
        held.sendall(b"\r\n")
        response = b""
        while chunk := held.recv(65536):
            response += chunk
    held_by = response.rsplit(b"\r\n\r\n", 1)[1].decode()
    assert {held_by, answers[0]} == {"alpha", "bravo"}


def test_a_health_monitor_takes_a_dead_member_out_and_puts_it_back(
    balanced: LocalCloud, backends: list[Backend]
) -> None:
    setup = Setup(balanced, backends[:2])
    monitor = {
        "pool": setup.pool,
        "type": "HTTP",
        "delay": 1,
        "timeout": 1,
        "max_retries": 1,
        "url_path": "/index.html",
        "expected_codes": "200-204",
    }
    create(balanced, LocalHealthMonitor, monitor)
    wait_until(lambda: setup.member_status("alpha") == "ONLINE")
    assert sorted(setup.names(4)) == ["alpha", "alpha", "bravo", "bravo"]

    backends[0].stop()
    wait_until(lambda: setup.member_status("alpha") == "ERROR")
    operating = attributes(balanced, LocalLoadBalancer, setup.balancer, "operating_status")
    assert operating == {"operating_status": "DEGRADED"}
    assert setup.names(6) == ["bravo"] * 6

    backends[0].start()
    wait_until(lambda: setup.member_status("alpha") == "ONLINE")
    assert sorted(setup.names(4)) == ["alpha", "alpha", "bravo", "bravo"]
    assert attributes(balanced, LocalLoadBalancer, setup.balancer, "pid")["pid"] == setup.pid


def test_a_failing_http_check_takes_the_member_out(
    balanced: LocalCloud, backends: list[Backend]
) -> None:
    setup = Setup(balanced, backends[:2])
    (backends[1].directory / "health").write_text("ok")
    monitor = {"pool": setup.pool, "type": "HTTP", "delay": 1, "timeout": 1, "max_retries": 2}
    checking = {**monitor, "url_path": "/health"}
    monitor_id = create(balanced, LocalHealthMonitor, checking)
    wait_until(lambda: setup.member_status("alpha") == "ERROR")  # alpha answers 404
    assert setup.member_status("bravo") == "ONLINE"
    assert setup.names(3) == ["bravo"] * 3

    # Accepting 404 too, in place, brings alpha back.
    accepting = {**checking, "expected_codes": "200,404"}
    update(balanced, LocalHealthMonitor, monitor_id, checking, accepting)
    wait_until(lambda: setup.member_status("alpha") == "ONLINE")
    assert sorted(setup.names(2)) == ["alpha", "bravo"]


def test_members_change_without_a_restart_or_a_broken_download(
    balanced: LocalCloud, backends: list[Backend]
) -> None:
    alpha, bravo, charlie = backends
    setup = Setup(balanced, [alpha, bravo])
    with socket.create_connection((setup.address, 8080), timeout=10) as download:
        download.sendall(b"GET /big.bin HTTP/1.0\r\n\r\n")
        received = download.recv(1024 * 1024)
        while b"\r\n\r\n" not in received or received.endswith(b"\r\n\r\n"):
            received += download.recv(1024 * 1024)
        header, _, body = received.partition(b"\r\n\r\n")
        assert header.startswith(b"HTTP/1.0 200")
        serving = "alpha" if body[:1] == b"a" else "bravo"

        # Mid-download: a member joins and the serving one leaves.
        setup.members["charlie"] = setup.add(charlie)
        delete(balanced, LocalPoolMember, setup.members.pop(serving))
        remaining = {"alpha", "bravo", "charlie"} - {serving}
        assert set(setup.names(4)) == remaining

        while chunk := download.recv(1024 * 1024):
            body += chunk
    assert body == serving[0].encode() * DOWNLOAD_BYTES
    assert attributes(balanced, LocalLoadBalancer, setup.balancer, "pid")["pid"] == setup.pid


def test_kept_alive_answers_are_not_held_back_by_delayed_acknowledgements(
    balanced: LocalCloud, tmp_path: Path
) -> None:
    # HTTP/1.1 http.server writes the headers and the body in two sends, under Nagle's
    # algorithm: the body leaves only once the balancer has acknowledged the headers.
    backend = Backend(tmp_path / "kept", "delta", protocol="HTTP/1.1")
    try:
        setup = Setup(balanced, [backend])
        durations = []
        with socket.create_connection((setup.address, 8080), timeout=10) as connection:
            for _ in range(10):
                started = time.perf_counter()
                connection.sendall(b"GET /index.html HTTP/1.1\r\nHost: lb\r\n\r\n")
                answer = b""
                while not answer.endswith(b"\r\n\r\ndelta"):
                    chunk = connection.recv(65536)
                    assert chunk, answer
                    # The client acknowledges at once, so any wait is the balancer's.
                    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                    answer += chunk
                durations.append(time.perf_counter() - started)
                assert answer.startswith(b"HTTP/1.1 200")
    finally:
        backend.stop()
    # Held back, each answer waits out the delayed-ACK timer (40 ms on Linux).
    assert statistics.median(durations) < 0.02, durations


def test_delete_leaves_no_process_and_no_listening_socket(
    balanced: LocalCloud, backends: list[Backend]
) -> None:
    setup = Setup(balanced, backends[:1])
    assert listening(setup.address, 8080)
    assert setup.pid in balanced.load_balancers.processes(setup.balancer)
    assert setup.names(1) == ["alpha"]

    delete(balanced, LocalLoadBalancer, setup.balancer)
    wait_until(lambda: processes.start_ticks(setup.pid) is None)
    assert not listening(setup.address, 8080)
    assert not connects(setup.address, 8080)
    assert list(balanced.load_balancers.directory.iterdir()) == []
    assert balanced.addresses.owner(setup.address) is None
    # Its pool and member now read as gone, and deleting them still succeeds.
    pool_read = ReadRequest(name="r", physical_id=setup.pool, properties={})
    assert asyncio.run(LocalPool().read(context(balanced), pool_read)) is None
    delete(balanced, LocalPoolMember, setup.members["alpha"])
    delete(balanced, LocalPool, setup.pool)
    delete(balanced, LocalLoadBalancer, setup.balancer)


def test_a_retried_create_finds_the_balancer_instead_of_starting_another(
    balanced: LocalCloud,
) -> None:
    balancers = balanced.load_balancers
    first = balancers.create_load_balancer("token", "lb", "TCP", 8080, None)
    running = balancers.processes(first)
    assert balancers.create_load_balancer("token", "lb", "TCP", 8080, None) == first
    assert balancers.processes(first) == running and len(running) == 1
    assert balancers.find_load_balancer("token") == first
    assert balancers.find_load_balancer("other") is None


def test_a_killed_balancer_reads_as_gone(balanced: LocalCloud) -> None:
    balancer = create(balanced, LocalLoadBalancer, {"protocol_port": 8080})
    pid = attributes(balanced, LocalLoadBalancer, balancer, "pid")["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: processes.start_ticks(pid) is None)
    request = ReadRequest(name="r", physical_id=balancer, properties={})
    assert asyncio.run(LocalLoadBalancer().read(context(balanced), request)) is None
    shown = attributes(balanced, LocalLoadBalancer, balancer, "status", "operating_status", "pid")
    assert shown == {"status": "ERROR", "operating_status": "OFFLINE", "pid": None}
    # Its configuration still changes (the records are kept), with nothing to signal.
    pool = create(balanced, LocalPool, {"loadbalancer": balancer})
    assert attributes(balanced, LocalLoadBalancer, balancer, "pools")["pools"] == [{"id": pool}]


def test_without_members_http_answers_503_and_tcp_closes(balanced: LocalCloud) -> None:
    http_balancer = create(balanced, LocalLoadBalancer, {"protocol_port": 8080})
    address = attributes(balanced, LocalLoadBalancer, http_balancer, "vip_address")
    assert fetch(address["vip_address"], 8080) == (503, "no pool member is available.\n")

    tcp_balancer = create(balanced, LocalLoadBalancer, {"protocol": "TCP", "protocol_port": 81})
    address = attributes(balanced, LocalLoadBalancer, tcp_balancer, "vip_address")
    with socket.create_connection((address["vip_address"], 81), timeout=10) as connection:
        assert connection.recv(100) == b""  # closed at once, without an answer


def test_a_port_in_use_names_the_property(balanced: LocalCloud) -> None:
    address = str(list(balanced.addresses.network.hosts())[-1])
    with socket.socket() as taken:
        taken.bind((address, 8080))
        taken.listen()
        with pytest.raises(InvalidInput) as failure:
            create(balanced, LocalLoadBalancer, {"address": address, "protocol_port": 8080})
    assert str(failure.value) == (
        f"protocol_port: cannot listen on {address}:8080: the port is already in use"
    )
    assert list(balanced.load_balancers.directory.iterdir()) == []
    assert balanced.addresses.owner(address) is None


def test_a_port_below_1024_without_the_privilege_fails_clearly(balanced: LocalCloud) -> None:
    with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as setting:
        if int(setting.read()) <= 80:
            pytest.skip("this machine lets any user listen on port 80")
    address = str(next(balanced.addresses.network.hosts()))
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # a process of an unprivileged user, as the balancer would be
        message = "listening"
        try:
            if os.getuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            listen(address, 80).close()
        except OSError as error:
            message = str(error.strerror)
        os.write(writing, message.encode())
        os._exit(0)
    os.close(writing)
    os.waitpid(child, 0)
    with os.fdopen(reading, "rb") as answer:
        message = answer.read().decode()
    assert message == (
        f"cannot listen on {address}:80: "
        "ports below 1024 need root or the CAP_NET_BIND_SERVICE capability"
    )


def test_parents_that_do_not_exist_and_a_second_monitor_are_refused(
    balanced: LocalCloud,
) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(InvalidInput) as failure:
        create(balanced, LocalPool, {"loadbalancer": missing})
    assert str(failure.value) == f"loadbalancer: load balancer {missing} does not exist"
    with pytest.raises(InvalidInput) as failure:
        create(
            balanced,
            LocalPoolMember,
            {"pool": missing, "address": "127.0.0.1", "protocol_port": 80},
        )
    assert str(failure.value) == f"pool: pool {missing} does not exist"

    balancer = create(balanced, LocalLoadBalancer, {"protocol_port": 8080})
    pool = create(balanced, LocalPool, {"loadbalancer": balancer})
    monitor = {"pool": pool, "type": "TCP", "delay": 5, "timeout": 2, "max_retries": 3}
    create(balanced, LocalHealthMonitor, monitor)
    with pytest.raises(InvalidInput) as failure:
        create(balanced, LocalHealthMonitor, monitor)
    assert str(failure.value) == f"pool: pool {pool} already has a health monitor"


def test_a_monitor_validates_its_timings_path_and_codes() -> None:
    values = {
        "pool": "p",
        "type": "HTTP",
        "delay": 2,
        "timeout": 5,
        "max_retries": 3,
        "url_path": "health",
        "expected_codes": "200-",
    }
    problems = LocalHealthMonitor().validate(converted(LocalHealthMonitor, values))
    assert [(d.code, str(d.path), d.message) for d in problems] == [
        ("L1002", "timeout", "timeout (5) must not exceed delay (2)"),
        ("L1002", "url_path", "url_path 'health' must begin with /"),
        (
            "L1002",
            "expected_codes",
            "expected_codes '200-' must be a code, a list (200,202) or a range (200-204)",
        ),
    ]
    good = {**values, "timeout": 2, "url_path": "/", "expected_codes": "200,202"}
    assert LocalHealthMonitor().validate(converted(LocalHealthMonitor, good)) == []


def test_update_policies_follow_octavia() -> None:
    in_place = {
        plugin.type_name: sorted(
            name for name, schema in plugin.schema.properties.items() if schema.update_allowed
        )
        for plugin in (LocalLoadBalancer, LocalPool, LocalPoolMember, LocalHealthMonitor)
    }
    assert in_place == {
        "Local::LoadBalancer": ["name"],
        "Local::Pool": ["lb_algorithm", "name"],
        "Local::PoolMember": ["admin_state_up", "weight"],
        "Local::HealthMonitor": [
            "admin_state_up",
            "delay",
            "expected_codes",
            "http_method",
            "max_retries",
            "timeout",
            "url_path",
        ],
    }

"""The process that is a Local::LoadBalancer: ``python -m kiln.clients.local.balancer DIR``.

A TCP proxy on the balancer's own loopback address. It binds the listening
socket first, so a port it may not use fails the start at once with a clear
message on standard error; then it detaches (fork, new session) and serves
with asyncio. Whoever started it reads one line (its pid) from its standard
output, written once it accepts connections and has loaded its configuration.

What it balances over lives in ``DIR/config.json``, which Kiln rewrites
atomically and then signals with SIGHUP: the balancer reloads it without
closing its listening socket, so open connections keep flowing and new ones
go to the new member set. After each load, and whenever a health check
changes a member's state, it writes ``DIR/status.json`` (the configuration
generation it runs and each member's operating status), which is how Kiln
knows a change has been applied. SIGTERM (a delete) ends it.

Standard library only, plus :mod:`kiln.clients.local.processes`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import json
import os
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiln.clients.local.processes import start_ticks

SPEC_FILE = "spec.json"
CONFIG_FILE = "config.json"
STATE_FILE = "state.json"
STATUS_FILE = "status.json"
LOG_FILE = "balancer.log"

#: Member operating statuses, as Octavia names them.
ONLINE, ERROR, OFFLINE, NO_MONITOR = "ONLINE", "ERROR", "OFFLINE", "NO_MONITOR"
ROUND_ROBIN, LEAST_CONNECTIONS = "ROUND_ROBIN", "LEAST_CONNECTIONS"
#: Seconds to wait for a member to accept a proxied connection before trying the next.
CONNECT_TIMEOUT = 3.0
#: Linux's TCP_QUICKACK (None elsewhere): see :func:`_acknowledge`.
QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
UNAVAILABLE = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 29\r\nConnection: close\r\n\r\nno pool member is available.\n"
)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` atomically: a reader sees the old content or the new, never half."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps(data, sort_keys=True))
    os.replace(temporary, path)


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def listen(address: str, port: int) -> socket.socket:
    """The listening socket; OSError with a message that says what to change."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((address, port))
        listener.listen(512)
    except OSError as error:
        listener.close()
        where = f"cannot listen on {address}:{port}"
        if error.errno in (errno.EACCES, errno.EPERM):
            raise OSError(
                error.errno,
                f"{where}: ports below 1024 need root or the CAP_NET_BIND_SERVICE capability",
            ) from None
        if error.errno == errno.EADDRINUSE:
            raise OSError(error.errno, f"{where}: the port is already in use") from None
        raise OSError(error.errno, f"{where}: {error.strerror}") from None
    listener.setblocking(False)
    return listener


def expected_codes(text: str) -> frozenset[int]:
    """``200``, ``200,202`` or ``200-204`` as the set of codes it names."""
    codes: set[int] = set()
    for part in text.replace(" ", "").split(","):
        low, _, high = part.partition("-")
        codes.update(range(int(low), int(high or low) + 1))
    return frozenset(codes)


@dataclass
class Member:
    id: str
    address: str
    port: int
    weight: int = 1
    admin_state_up: bool = True
    healthy: bool = True
    failures: int = 0
    #: Open proxied connections (least connections), and smooth weighted round robin's credit.
    active: int = 0
    credit: int = 0

    @property
    def eligible(self) -> bool:
        return self.admin_state_up and self.healthy and self.weight > 0


class Balancer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.spec = read_json(directory / SPEC_FILE)
        self.members: dict[str, Member] = {}
        self.algorithm = ROUND_ROBIN
        self.monitor: dict[str, Any] | None = None
        self.monitor_task: asyncio.Task[None] | None = None
        self.generation = 0
        self.turn = 0

    # Configuration -----------------------------------------------------------

    def reload(self) -> None:
        """Load ``config.json``; members that stay keep their health and open connections.

        The listener serves its default pool: the first in the configuration
        (the oldest pool of the load balancer).
        """
        config = read_json(self.directory / CONFIG_FILE)
        pools = config.get("pools") or [{}]
        pool = pools[0]
        members: dict[str, Member] = {}
        for entry in pool.get("members", []):
            key = str(entry["id"])
            member = self.members.get(key)
            if member is None or (member.address, member.port) != (
                entry["address"],
                int(entry["protocol_port"]),
            ):
                member = Member(key, str(entry["address"]), int(entry["protocol_port"]))
            member.weight = int(entry.get("weight", 1))
            member.admin_state_up = bool(entry.get("admin_state_up", True))
            members[key] = member
        self.members = members
        self.algorithm = str(pool.get("lb_algorithm") or ROUND_ROBIN)
        monitor = pool.get("monitor")
        if monitor is not None and not monitor.get("admin_state_up", True):
            monitor = None
        if monitor != self.monitor:
            self._start_monitor(monitor)
        self.generation = int(config.get("generation", 0))
        self.write_status()
        log(f"configuration {self.generation}: {len(members)} members, {self.algorithm}")

    def _start_monitor(self, monitor: dict[str, Any] | None) -> None:
        if self.monitor_task is not None:
            self.monitor_task.cancel()
            self.monitor_task = None
        self.monitor = monitor
        if monitor is None:
            for member in self.members.values():
                member.healthy, member.failures = True, 0
            return
        self.monitor_task = asyncio.get_running_loop().create_task(self._monitor(monitor))

    def write_status(self) -> None:
        statuses = {member.id: self._status(member) for member in self.members.values()}
        write_json(
            self.directory / STATUS_FILE,
            {"generation": self.generation, "pid": os.getpid(), "members": statuses},
        )

    def _status(self, member: Member) -> str:
        if not member.admin_state_up:
            return OFFLINE
        if self.monitor is None:
            return NO_MONITOR
        return ONLINE if member.healthy else ERROR

    # Choosing a member ---------------------------------------------------------

    def choose(self, tried: set[str]) -> Member | None:
        """The member for a new connection, among those not tried yet for it."""
        candidates = [m for m in self.members.values() if m.eligible and m.id not in tried]
        if not candidates:
            return None
        if self.algorithm == LEAST_CONNECTIONS:
            least = min(m.active / m.weight for m in candidates)
            tied = [m for m in candidates if m.active / m.weight == least]
            self.turn += 1
            return tied[self.turn % len(tied)]
        # Smooth weighted round robin: each member earns its weight, the richest is
        # chosen and pays the total, so weights 2:1 give A, B, A rather than A, A, B.
        for member in candidates:
            member.credit += member.weight
        chosen = max(candidates, key=lambda m: m.credit)
        chosen.credit -= sum(m.weight for m in candidates)
        return chosen

    # Proxying ------------------------------------------------------------------

    async def connect(self, client: ClientSide) -> None:
        """Give ``client`` a member: the chosen one, or the next while members refuse."""
        loop = asyncio.get_running_loop()
        tried: set[str] = set()
        while (member := self.choose(tried)) is not None and not client.closed:
            tried.add(member.id)
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    # An address literal: asyncio connects without a name lookup.
                    await loop.create_connection(
                        functools.partial(MemberSide, client, member), member.address, member.port
                    )
            except (OSError, TimeoutError):
                continue  # this member is down: the next one takes the connection
            return
        client.unavailable(self.spec.get("protocol") == "HTTP")

    # Health monitoring -----------------------------------------------------------

    async def _monitor(self, monitor: dict[str, Any]) -> None:
        delay = max(float(monitor.get("delay", 5)), 0.1)
        retries = max(int(monitor.get("max_retries", 3)), 1)
        while True:
            members = list(self.members.values())
            results = await asyncio.gather(*(self._probe(m, monitor) for m in members))
            changed = False
            for member, healthy in zip(members, results, strict=True):
                member.failures = 0 if healthy else member.failures + 1
                now = healthy or (member.healthy and member.failures < retries)
                if now != member.healthy:
                    member.healthy, changed = now, True
                    log(f"member {member.id} is {'back' if now else 'out of rotation'}")
            if changed:
                self.write_status()
            await asyncio.sleep(delay)

    async def _probe(self, member: Member, monitor: dict[str, Any]) -> bool:
        try:
            async with asyncio.timeout(max(float(monitor.get("timeout", 5)), 0.1)):
                reader, writer = await asyncio.open_connection(member.address, member.port)
                try:
                    if monitor.get("type") != "HTTP":
                        return True
                    method = monitor.get("http_method") or "GET"
                    path = monitor.get("url_path") or "/"
                    writer.write(
                        f"{method} {path} HTTP/1.0\r\nHost: {member.address}\r\n"
                        "User-Agent: kiln-health-monitor\r\n\r\n".encode()
                    )
                    await writer.drain()
                    status = (await reader.readline()).split()
                    codes = expected_codes(str(monitor.get("expected_codes") or "200"))
                    return len(status) >= 2 and status[1].isdigit() and int(status[1]) in codes
                finally:
                    _close(writer)
        except (OSError, TimeoutError, ValueError):
            return False

    # Running ---------------------------------------------------------------------

    async def serve(self, listener: socket.socket, ready: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        stopped = loop.create_future()
        loop.add_signal_handler(signal.SIGHUP, self.reload)

        def stop() -> None:
            if not stopped.done():
                stopped.set_result(None)

        loop.add_signal_handler(signal.SIGTERM, stop)
        self.reload()
        server = await loop.create_server(lambda: ClientSide(self), sock=listener)
        ready()
        await stopped
        server.close()
        log("stopped")


class ClientSide(asyncio.Protocol):
    """One proxied connection as its client sees it.

    Protocols rather than streams: bytes go from one transport's
    ``data_received`` straight into the other's ``write`` (which sends at once
    when it can), with no task, await or intermediate buffer per chunk. What
    the client sends before the member has accepted waits in ``pending``.
    """

    def __init__(self, balancer: Balancer) -> None:
        self.balancer = balancer
        self.transport: asyncio.Transport | None = None
        self.member: MemberSide | None = None
        self.pending: list[bytes] = []
        self.ended = False  # the client has sent everything (end of stream)
        self.closed = False
        self.connecting: asyncio.Task[None] | None = None
        self.socket: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.socket = transport.get_extra_info("socket")
        self.connecting = asyncio.get_running_loop().create_task(self.balancer.connect(self))

    def attach(self, member: MemberSide) -> None:
        """The member has accepted: send it what the client said meanwhile."""
        if self.closed:
            member.close()
            return
        self.member = member
        if self.pending:
            member.write(b"".join(self.pending))
            self.pending.clear()
        if self.ended:
            member.write_eof()

    def unavailable(self, http: bool) -> None:
        if self.transport is not None and not self.closed:
            if http:
                self.transport.write(UNAVAILABLE)
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        _acknowledge(self.socket)
        if self.member is not None:
            self.member.write(data)
        else:
            self.pending.append(data)

    def eof_received(self) -> bool:
        self.ended = True
        if self.member is not None:
            self.member.write_eof()
            self.member.finish_if_done()
        return True  # half-closed: the member's answer still flows back

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def write_eof(self) -> None:
        if self.transport is not None and self.transport.can_write_eof():
            with contextlib.suppress(OSError, RuntimeError):
                self.transport.write_eof()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # Flow control: a slow client holds back reading from the member, and the other way round.

    def pause_writing(self) -> None:
        if self.member is not None and self.member.transport is not None:
            self.member.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.member is not None and self.member.transport is not None:
            self.member.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.member is not None:
            self.member.close()


class MemberSide(asyncio.Protocol):
    """The same connection towards the member; the member counts it until it ends its side."""

    def __init__(self, client: ClientSide, member: Member) -> None:
        self.client = client
        self.member = member
        self.transport: asyncio.Transport | None = None
        self.ended = False
        self.released = True
        self.socket: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.socket = transport.get_extra_info("socket")
        self.member.active += 1
        self.released = False
        self.client.attach(self)

    def write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def write_eof(self) -> None:
        if self.transport is not None and self.transport.can_write_eof():
            with contextlib.suppress(OSError, RuntimeError):
                self.transport.write_eof()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def finish_if_done(self) -> None:
        """Both sides have ended their streams: the connection is over."""
        if self.ended and self.client.ended:
            self.close()
            self.client.close()

    def _release(self) -> None:
        if not self.released:
            self.member.active -= 1
            self.released = True

    def data_received(self, data: bytes) -> None:
        _acknowledge(self.socket)
        self.client.write(data)

    def eof_received(self) -> bool:
        self.ended = True
        self._release()
        self.client.write_eof()
        self.finish_if_done()
        return True

    def pause_writing(self) -> None:
        if self.client.transport is not None:
            self.client.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.client.transport is not None:
            self.client.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        self.client.close()


def _acknowledge(connection: Any) -> None:
    """Acknowledge what was just read now rather than when the delayed-ACK timer fires.

    A peer that writes one answer in two sends (Python's ``http.server`` sends
    the headers, then the body) under Nagle's algorithm holds the second part
    until the first is acknowledged. A proxy that only reads has nothing to
    carry that acknowledgement, so without this every answer on a kept-alive
    connection waits out the timer (about 40 ms on Linux).
    """
    if QUICKACK is not None and connection is not None:
        with contextlib.suppress(OSError):
            connection.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, RuntimeError):
        writer.close()


def log(message: str) -> None:
    sys.stderr.write(f"{message}\n")
    sys.stderr.flush()


def main(arguments: list[str]) -> None:
    directory = Path(arguments[0])
    spec = read_json(directory / SPEC_FILE)
    try:
        listener = listen(str(spec["address"]), int(spec["protocol_port"]))
    except OSError as error:
        sys.stderr.write(f"{error.strerror}\n")
        sys.exit(2)
    # Until the event loop takes SIGHUP, a reload request must not end the process;
    # the first load reads the newest configuration anyway.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if os.fork() > 0:
        os._exit(0)
    os.setsid()

    def ready() -> None:
        pid = os.getpid()
        write_json(directory / STATE_FILE, {"pid": pid, "start": start_ticks(pid)})
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()
        output = os.open(directory / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)

    asyncio.run(Balancer(directory).serve(listener, ready))


if __name__ == "__main__":
    main(sys.argv[1:])

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
CHUNK = 64 * 1024
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

    async def handle(self, client: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tried: set[str] = set()
        while (member := self.choose(tried)) is not None:
            tried.add(member.id)
            try:
                upstream, upstream_writer = await asyncio.wait_for(
                    asyncio.open_connection(member.address, member.port), CONNECT_TIMEOUT
                )
            except (OSError, TimeoutError):
                continue  # this member is down: the next one takes the connection
            await self._proxy(member, (client, writer), (upstream, upstream_writer))
            return
        with contextlib.suppress(OSError):
            if self.spec.get("protocol") == "HTTP":
                writer.write(UNAVAILABLE)
                await writer.drain()
        _close(writer)

    async def _proxy(
        self,
        member: Member,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        """Copy both ways; the member counts the connection until it has finished its side."""
        member.active += 1
        released = False

        async def from_member() -> None:
            nonlocal released
            try:
                await _pipe(upstream[0], client[1], upstream[1])
            finally:
                member.active, released = member.active - 1, True

        try:
            await asyncio.gather(_pipe(client[0], upstream[1], client[1]), from_member())
        finally:
            if not released:
                member.active -= 1
            _close(upstream[1])
            _close(client[1])

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
        server = await asyncio.start_server(self.handle, sock=listener, limit=CHUNK)
        ready()
        await stopped
        server.close()
        log("stopped")


async def _pipe(
    source: asyncio.StreamReader, target: asyncio.StreamWriter, source_writer: asyncio.StreamWriter
) -> None:
    """Copy until end of stream, then half-close the other side; on an error close both."""
    try:
        while data := await source.read(CHUNK):
            target.write(data)
            await target.drain()
        if target.can_write_eof():
            target.write_eof()
    except OSError:
        _close(target)
        _close(source_writer)


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

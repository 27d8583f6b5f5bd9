"""Local load balancers: a balancer process per load balancer, pools, members and monitors.

Shaped like Octavia, with the listener folded into the load balancer (its
``protocol`` and ``protocol_port``): a Local load balancer listens on one
port of its own loopback address, and serves its default pool, the oldest
pool created for it. A load balancer is a directory ``ROOT/load_balancers/ID``
(its spec, the running process's identity, the configuration it balances by
and the status it reports); pools, members and health monitors are records
``ROOT/pools/ID.json``, ``ROOT/pool_members/ID.json`` and
``ROOT/health_monitors/ID.json`` that name their parent. Every change to a
record rebuilds the load balancer's configuration from the records under its
lock, writes it atomically and signals the process (SIGHUP), which reloads it
without closing a connection; the call returns once the process reports the
new configuration applied. Ids come from idempotency tokens, as for servers.
Calls block: run them off the event loop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiln.clients.local import processes
from kiln.clients.local.addresses import AddressError, AddressPool
from kiln.clients.local.balancer import (
    CONFIG_FILE,
    ONLINE,
    SPEC_FILE,
    STATE_FILE,
    STATUS_FILE,
)
from kiln.clients.local.files import is_id, launch, locked, read_json, write_json

__all__ = [
    "HealthMonitorSpec",
    "LoadBalancerError",
    "LoadBalancerInfo",
    "LoadBalancers",
    "MemberSpec",
    "PoolSpec",
]

_NAMESPACE = uuid.UUID("0b6f4a52-93d1-4c1e-8a57-2f5c7d9e1b34")
#: Record kinds, each a directory of ``ID.json`` files under the Local root.
POOLS, MEMBERS, MONITORS = "pools", "pool_members", "health_monitors"
#: The longest wait for a running balancer to apply a change.
RELOAD_TIMEOUT = 10.0
#: Variables of Kiln's environment the balancer process inherits.
INHERITED = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")


class LoadBalancerError(Exception):
    """A request the Local cloud cannot carry out; ``property_name`` names the culprit."""

    def __init__(self, message: str, property_name: str | None = None) -> None:
        super().__init__(message)
        self.property_name = property_name


@dataclasses.dataclass(frozen=True)
class PoolSpec:
    loadbalancer: str
    lb_algorithm: str = "ROUND_ROBIN"
    name: str = ""


@dataclasses.dataclass(frozen=True)
class MemberSpec:
    pool: str
    address: str
    protocol_port: int
    weight: int = 1
    admin_state_up: bool = True


@dataclasses.dataclass(frozen=True)
class HealthMonitorSpec:
    pool: str
    type: str
    delay: int
    timeout: int
    max_retries: int
    url_path: str = "/"
    expected_codes: str = "200"
    http_method: str = "GET"
    admin_state_up: bool = True


@dataclasses.dataclass(frozen=True)
class LoadBalancerInfo:
    id: str
    name: str
    address: str
    protocol: str
    protocol_port: int
    #: ACTIVE while the balancer process runs, ERROR once it is gone.
    status: str
    reason: str
    pid: int | None
    pools: list[str]
    #: Each member's operating status as the balancer last reported it.
    members: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.protocol_port}/"

    @property
    def operating_status(self) -> str:
        """Octavia's: OFFLINE without a process, ERROR or DEGRADED when members are down."""
        if self.status != "ACTIVE":
            return "OFFLINE"
        down = [s for s in self.members.values() if s == "ERROR"]
        if down and len(down) == len(self.members):
            return "ERROR"
        return "DEGRADED" if down else ONLINE


class LoadBalancers:
    def __init__(self, root: Path, addresses: AddressPool, stop_grace_seconds: float) -> None:
        self.root = root
        self.addresses = addresses
        self.stop_grace_seconds = stop_grace_seconds

    @property
    def directory(self) -> Path:
        return self.root / "load_balancers"

    def _identifier(self, kind: str, token: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"{kind}:{token}"))

    def _balancer_directory(self, balancer_id: str) -> Path:
        _check_id(balancer_id, "load balancer")
        return self.directory / balancer_id

    # Load balancers ------------------------------------------------------------

    def create_load_balancer(
        self, token: str, name: str, protocol: str, protocol_port: int, address: str | None
    ) -> str:
        """Start the balancer (once per token) and return its id once it serves."""
        balancer_id = self._identifier("load_balancer", token)
        directory = self._balancer_directory(balancer_id)
        directory.mkdir(parents=True, exist_ok=True)
        with self._locked(balancer_id):
            if (directory / STATE_FILE).exists():
                return balancer_id
            try:
                allocated = self.addresses.allocate(balancer_id, address)
            except AddressError as error:
                self._remove(balancer_id)
                raise LoadBalancerError(str(error), error.property_name) from None
            spec = {
                "id": balancer_id,
                "name": name,
                "address": allocated,
                "protocol": protocol,
                "protocol_port": protocol_port,
            }
            write_json(directory / SPEC_FILE, spec)
            write_json(directory / CONFIG_FILE, self._configuration(balancer_id, 1))
            failure = self._launch(directory)
            if failure is not None:
                self._remove(balancer_id)
                raise failure
        return balancer_id

    def _launch(self, directory: Path) -> LoadBalancerError | None:
        marker = ("KILN_BALANCER_ID", directory.name)
        detail = launch("kiln.clients.local.balancer", directory, INHERITED, marker)
        if detail is None:
            return None
        if "cannot listen on" in detail:
            return LoadBalancerError(detail, "protocol_port")
        return LoadBalancerError(f"the load balancer's process did not start: {detail}")

    def load_balancer(self, balancer_id: str) -> LoadBalancerInfo | None:
        """The load balancer as it is now, or None when it does not exist."""
        directory = self._balancer_directory(balancer_id)
        spec = read_json(directory / SPEC_FILE)
        if not spec:
            return None
        state = read_json(directory / STATE_FILE)
        running = "pid" in state and processes.alive(state["pid"], state["start"])
        status = read_json(directory / STATUS_FILE) if running else {}
        return LoadBalancerInfo(
            id=balancer_id,
            name=spec["name"],
            address=spec["address"],
            protocol=spec["protocol"],
            protocol_port=spec["protocol_port"],
            status="ACTIVE" if running else "ERROR",
            reason="" if running else "the load balancer's process is gone",
            pid=state["pid"] if running else None,
            pools=[pool["id"] for pool in self._pools_of(balancer_id)],
            members=dict(status.get("members") or {}),
        )

    def find_load_balancer(self, token: str) -> str | None:
        balancer_id = self._identifier("load_balancer", token)
        return balancer_id if (self.directory / balancer_id / STATE_FILE).exists() else None

    def rename_load_balancer(self, balancer_id: str, name: str) -> None:
        directory = self._balancer_directory(balancer_id)
        with self._locked(balancer_id):
            spec = read_json(directory / SPEC_FILE)
            if not spec:
                raise LoadBalancerError(f"load balancer {balancer_id} does not exist")
            write_json(directory / SPEC_FILE, {**spec, "name": name})

    def processes(self, balancer_id: str) -> list[int]:
        """The balancer's running processes (one, while it serves)."""
        state = read_json(self._balancer_directory(balancer_id) / STATE_FILE)
        if "pid" not in state:
            return []
        return processes.members(state["pid"], state["start"], _marker(balancer_id))

    def delete_load_balancer(self, balancer_id: str) -> bool:
        """Stop the process (TERM, then KILL), release the address, remove the directory."""
        directory = self._balancer_directory(balancer_id)
        existed = directory.is_dir()
        if existed:
            with self._locked(balancer_id):
                state = read_json(directory / STATE_FILE)
                if "pid" in state and not processes.stop(
                    state["pid"], state["start"], _marker(balancer_id), self.stop_grace_seconds
                ):
                    raise LoadBalancerError(f"load balancer {balancer_id} would not stop")
        self._remove(balancer_id)
        return existed

    def _remove(self, balancer_id: str) -> None:
        self.addresses.release(balancer_id)
        shutil.rmtree(self.directory / balancer_id, ignore_errors=True)
        (self.root / "locks" / balancer_id).unlink(missing_ok=True)

    # Pools, members and monitors -------------------------------------------------

    def create_pool(self, token: str, spec: PoolSpec) -> str:
        if self.load_balancer(spec.loadbalancer) is None:
            raise LoadBalancerError(
                f"load balancer {spec.loadbalancer} does not exist", "loadbalancer"
            )
        return self._create(POOLS, token, spec.loadbalancer, _fields(spec))

    def create_member(self, token: str, spec: MemberSpec) -> str:
        return self._create(MEMBERS, token, self._balancer_of_pool(spec.pool), _fields(spec))

    def create_health_monitor(self, token: str, spec: HealthMonitorSpec) -> str:
        monitor_id = self._identifier(MONITORS, token)
        taken = [m for m in self._records(MONITORS) if m["pool"] == spec.pool]
        if any(monitor["id"] != monitor_id for monitor in taken):
            raise LoadBalancerError(f"pool {spec.pool} already has a health monitor", "pool")
        return self._create(MONITORS, token, self._balancer_of_pool(spec.pool), _fields(spec))

    def record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        """A pool, member or monitor record; None when it, or its load balancer, is gone."""
        record = read_json(self._record_path(kind, record_id))
        if not record or self._balancer_of(kind, record) is None:
            return None
        return record

    def find(self, kind: str, token: str) -> str | None:
        record_id = self._identifier(kind, token)
        return record_id if self._record_path(kind, record_id).exists() else None

    def update(self, kind: str, record_id: str, changes: Mapping[str, Any]) -> None:
        """Change a record's updatable fields and apply the change to its load balancer."""
        path = self._record_path(kind, record_id)
        record = read_json(path)
        if not record:
            raise LoadBalancerError(f"{_NOUNS[kind]} {record_id} does not exist")
        balancer_id = self._balancer_of(kind, record)
        write_json(path, {**record, **changes})
        if balancer_id is not None:
            self.apply(balancer_id)

    def delete(self, kind: str, record_id: str) -> bool:
        """Remove a record (False if it was gone) and apply that to its load balancer."""
        path = self._record_path(kind, record_id)
        record = read_json(path)
        path.unlink(missing_ok=True)
        balancer_id = self._balancer_of(kind, record) if record else None
        if balancer_id is not None:
            self.apply(balancer_id)
        return bool(record)

    def members_of(self, pool_id: str) -> list[str]:
        return [m["id"] for m in self._ordered(self._records(MEMBERS)) if m["pool"] == pool_id]

    def monitor_of(self, pool_id: str) -> str | None:
        found = [m["id"] for m in self._records(MONITORS) if m["pool"] == pool_id]
        return found[0] if found else None

    def _create(self, kind: str, token: str, balancer_id: str, fields: dict[str, Any]) -> str:
        record_id = self._identifier(kind, token)
        path = self._record_path(kind, record_id)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json(path, {**fields, "id": record_id, "created": time.time()})
        self.apply(balancer_id)
        return record_id

    def _record_path(self, kind: str, record_id: str) -> Path:
        _check_id(record_id, _NOUNS[kind])
        return self.root / kind / f"{record_id}.json"

    def _records(self, kind: str) -> list[dict[str, Any]]:
        directory = self.root / kind
        if not directory.is_dir():
            return []
        found = (read_json(path) for path in directory.glob("*.json"))
        return [record for record in found if record]

    @staticmethod
    def _ordered(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(records, key=lambda r: (r.get("created", 0), r["id"]))

    def _pools_of(self, balancer_id: str) -> list[dict[str, Any]]:
        pools = self._records(POOLS)
        return self._ordered([p for p in pools if p["loadbalancer"] == balancer_id])

    def _balancer_of_pool(self, pool_id: str) -> str:
        pool = read_json(self._record_path(POOLS, pool_id))
        if not pool or self.load_balancer(pool["loadbalancer"]) is None:
            raise LoadBalancerError(f"pool {pool_id} does not exist", "pool")
        return str(pool["loadbalancer"])

    def _balancer_of(self, kind: str, record: Mapping[str, Any]) -> str | None:
        """The id of the existing load balancer a record belongs to, if any."""
        if kind == POOLS:
            balancer_id = str(record["loadbalancer"])
        else:
            pool = read_json(self._record_path(POOLS, str(record["pool"])))
            balancer_id = str(pool.get("loadbalancer", ""))
        exists = balancer_id and (self.directory / balancer_id / SPEC_FILE).exists()
        return balancer_id if exists else None

    # Applying the configuration ----------------------------------------------------

    def apply(self, balancer_id: str) -> None:
        """Rebuild the balancer's configuration from the records, and have it reload."""
        directory = self._balancer_directory(balancer_id)
        with self._locked(balancer_id):
            current = read_json(directory / CONFIG_FILE)
            if not current:
                return  # deleted meanwhile
            generation = int(current.get("generation", 0)) + 1
            write_json(directory / CONFIG_FILE, self._configuration(balancer_id, generation))
            state = read_json(directory / STATE_FILE)
            if "pid" not in state or not processes.alive(state["pid"], state["start"]):
                return  # a balancer that is gone is reported so; its records stay
            os.kill(state["pid"], signal.SIGHUP)
            deadline = time.monotonic() + RELOAD_TIMEOUT
            while read_json(directory / STATUS_FILE).get("generation", 0) < generation:
                if time.monotonic() > deadline:
                    raise LoadBalancerError(
                        f"load balancer {balancer_id} did not apply its new configuration"
                    )
                time.sleep(0.01)

    def _configuration(self, balancer_id: str, generation: int) -> dict[str, Any]:
        members = self._ordered(self._records(MEMBERS))
        monitors = self._records(MONITORS)
        pools = []
        for pool in self._pools_of(balancer_id):
            monitor = next((m for m in monitors if m["pool"] == pool["id"]), None)
            pools.append(
                {
                    "id": pool["id"],
                    "lb_algorithm": pool["lb_algorithm"],
                    "members": [m for m in members if m["pool"] == pool["id"]],
                    "monitor": monitor,
                }
            )
        return {"generation": generation, "pools": pools}

    def _locked(self, balancer_id: str) -> contextlib.AbstractContextManager[None]:
        """One change to a load balancer at a time, across Kiln processes."""
        return locked(self.root / "locks" / balancer_id)


_NOUNS = {POOLS: "pool", MEMBERS: "pool member", MONITORS: "health monitor"}


def _fields(spec: PoolSpec | MemberSpec | HealthMonitorSpec) -> dict[str, Any]:
    return dataclasses.asdict(spec)


def _check_id(identifier: str, noun: str) -> None:
    if not is_id(identifier):
        raise LoadBalancerError(f"{identifier!r} is not a Local {noun} id")


def _marker(balancer_id: str) -> bytes:
    return f"KILN_BALANCER_ID={balancer_id}".encode()

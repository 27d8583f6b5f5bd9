"""LocalCloud: servers that are supervised process groups on this machine.

Everything about a server lives in ``ROOT/servers/ID`` (its spec, the
supervisor's recorded state, the working directory with the console log),
so any Kiln process finds it again, whichever process started it. The id
comes from the create's idempotency token, so a retried create finds the
server an earlier attempt made instead of starting a second one. Calls
block (they touch files and processes): run them off the event loop.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tarfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiln.clients.local import processes
from kiln.clients.local.addresses import AddressError, AddressPool
from kiln.clients.local.files import (
    STATE_FILE,
    archive,
    launch,
    locked,
    read_json,
    write_json,
)
from kiln.clients.local.load_balancers import LoadBalancers
from kiln.clients.local.supervisor import (
    BOOTING,
    CONSOLE_LOG,
    FAILED,
    RUNNING,
    SPEC_FILE,
    WORK_DIRECTORY,
)
from kiln.config import DEFAULT_API_URL

__all__ = ["AgentSpec", "LocalCloud", "LocalCloudError", "ServerInfo", "ServerSpec"]

#: Server statuses, as Nova names them.
BUILD, ACTIVE, SHUTOFF, ERROR = "BUILD", "ACTIVE", "SHUTOFF", "ERROR"
SUSPENDED = "SUSPENDED"
METADATA_FILE = "metadata.json"
#: Present while the server's processes are stopped (SIGSTOP) by a suspend.
SUSPENDED_FILE = "suspended"
#: Variables of Kiln's own environment that a server's processes inherit; nothing
#: else (Kiln's database URL and keys stay out of user scripts' reach).
INHERITED = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME", "SHELL", "TMPDIR")
#: What a server's ``no_proxy`` always names: its own side of the machine.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "127.0.0.0/8")
_NAMESPACE = uuid.UUID("6c1e3b7a-2f0d-4c59-9a7e-4b1f6f3d2a10")


class LocalCloudError(Exception):
    """A request the Local cloud cannot carry out; ``property_name`` names the culprit."""

    def __init__(self, message: str, property_name: str | None = None) -> None:
        super().__init__(message)
        self.property_name = property_name


@dataclass(frozen=True)
class AgentSpec:
    """The software-config agent a server runs (Heat's ``user_data_format: SOFTWARE_CONFIG``):
    the URL of the server's deployment metadata, and the credential it reads it with."""

    metadata_url: str
    credential: str


@dataclass(frozen=True)
class ServerSpec:
    name: str
    user_data: str = ""
    command: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)
    address: str | None = None
    agent: AgentSpec | None = None


@dataclass(frozen=True)
class ServerInfo:
    id: str
    name: str
    address: str
    status: str
    reason: str
    pid: int | None
    command_pid: int | None
    directory: Path
    metadata: Mapping[str, Any]

    @property
    def work(self) -> Path:
        return self.directory / WORK_DIRECTORY


class LocalCloud:
    def __init__(
        self,
        root: Path,
        *,
        address_range: str = "127.77.0.0/16",
        stop_grace_seconds: float = 5.0,
        api_url: str = DEFAULT_API_URL,
        agent_poll_seconds: float = 1.0,
    ) -> None:
        self.root = Path(root)
        #: Kiln's API as servers reach it (``KILN_API_URL`` in their environment).
        self.api_url = api_url.rstrip("/")
        #: How often a server's software-config agent asks for its deployments.
        self.agent_poll_seconds = agent_poll_seconds
        self.addresses = AddressPool(self.root / "addresses", address_range)
        self.stop_grace_seconds = stop_grace_seconds
        #: Load balancers, their pools, members and health monitors.
        self.load_balancers = LoadBalancers(self.root, self.addresses, stop_grace_seconds)

    @property
    def servers_directory(self) -> Path:
        return self.root / "servers"

    @property
    def snapshots_directory(self) -> Path:
        return self.root / "snapshots"

    def server_id(self, token: str) -> str:
        """The id a create with this idempotency token gives (the same on every attempt)."""
        return str(uuid.uuid5(_NAMESPACE, token))

    def _directory(self, server_id: str) -> Path:
        if str(uuid.UUID(server_id)) != server_id:
            raise LocalCloudError(f"{server_id!r} is not a Local server id")
        return self.servers_directory / server_id

    # Servers -----------------------------------------------------------------

    def create_server(self, token: str, spec: ServerSpec) -> str:
        """Start the server (once per token) and return its id; it may still be booting."""
        server_id = self.server_id(token)
        directory = self._directory(server_id)
        directory.mkdir(parents=True, exist_ok=True)
        with _locked(directory):
            if (directory / STATE_FILE).exists():
                return server_id
            try:
                address = self.addresses.allocate(server_id, spec.address)
            except AddressError as error:
                self._remove(server_id, directory)
                raise LocalCloudError(str(error), error.property_name) from None
            work = directory / WORK_DIRECTORY
            work.mkdir(exist_ok=True)
            write_json(work / METADATA_FILE, dict(spec.metadata))
            write_json(directory / SPEC_FILE, self._spec(server_id, spec, address, work))
            self._launch(directory)
        return server_id

    def _spec(self, server_id: str, spec: ServerSpec, address: str, work: Path) -> dict[str, Any]:
        environment = {name: os.environ[name] for name in INHERITED if name in os.environ}
        environment.setdefault("PATH", os.defpath)
        environment.update({str(k): str(v) for k, v in spec.environment.items()})
        environment.update(
            HOME=str(work),
            KILN_SERVER_ID=server_id,
            KILN_SERVER_NAME=spec.name,
            KILN_SERVER_ADDRESS=address,
            KILN_SERVER_DIR=str(work),
            KILN_METADATA_FILE=str(work / METADATA_FILE),
            KILN_API_URL=self.api_url,
        )
        # Proxies are not inherited, and loopback (Kiln's API, other servers) never
        # goes through one even when the server's own environment names a proxy.
        for variable in ("no_proxy", "NO_PROXY"):
            environment[variable] = _with_loopback(environment.get(variable, ""))
        return {
            "id": server_id,
            "name": spec.name,
            "address": address,
            "user_data": spec.user_data,
            "command": spec.command,
            "environment": environment,
            "stop_grace_seconds": self.stop_grace_seconds,
            "agent": None
            if spec.agent is None
            else {
                "metadata_url": spec.agent.metadata_url,
                "credential": spec.agent.credential,
                "poll_seconds": self.agent_poll_seconds,
            },
        }

    def _launch(self, directory: Path) -> None:
        marker = ("KILN_SERVER_ID", directory.name)
        failure = launch("kiln.clients.local.supervisor", directory, INHERITED, marker)
        if failure is not None:
            raise LocalCloudError(f"the server's supervisor did not start: {failure}")

    def server(self, server_id: str) -> ServerInfo | None:
        """The server as it is now, or None when it does not exist."""
        directory = self._directory(server_id)
        try:
            spec = json.loads((directory / SPEC_FILE).read_text())
        except FileNotFoundError:
            return None
        state = read_json(directory / STATE_FILE)
        status, reason = _status(state)
        if status == ACTIVE and (directory / SUSPENDED_FILE).exists():
            status = SUSPENDED
        work = directory / WORK_DIRECTORY
        return ServerInfo(
            id=server_id,
            name=spec["name"],
            address=spec["address"],
            status=status,
            reason=reason,
            pid=state.get("pid") if status in (BUILD, ACTIVE, SUSPENDED) else None,
            command_pid=state.get("command_pid") if status in (ACTIVE, SUSPENDED) else None,
            directory=directory,
            metadata=read_json(work / METADATA_FILE),
        )

    def agent_credential(self, server_id: str) -> str | None:
        """The credential the server's software-config agent was started with, if any."""
        spec = read_json(self._directory(server_id) / SPEC_FILE)
        agent = spec.get("agent")
        return str(agent["credential"]) if isinstance(agent, dict) else None

    def find_server(self, token: str) -> str | None:
        """The id of the server a create with this token started, if it exists.

        A server whose first attempt stopped before the supervisor ran is not
        found: creating it again with the same token finishes the job.
        """
        server_id = self.server_id(token)
        return server_id if (self._directory(server_id) / STATE_FILE).exists() else None

    def update_server(self, server_id: str, name: str, metadata: Mapping[str, Any]) -> None:
        """Rename the server and rewrite its metadata file (processes keep running)."""
        directory = self._directory(server_id)
        with _locked(directory):
            spec = read_json(directory / SPEC_FILE)
            if not spec:
                raise LocalCloudError(f"server {server_id} does not exist")
            spec["name"] = name
            write_json(directory / SPEC_FILE, spec)
            write_json(directory / WORK_DIRECTORY / METADATA_FILE, dict(metadata))

    def console_log(self, server_id: str, limit: int = 64 * 1024) -> str:
        """The end of what the server's user_data and command wrote (at most ``limit`` bytes)."""
        path = self._directory(server_id) / WORK_DIRECTORY / CONSOLE_LOG
        try:
            with open(path, "rb") as log:
                log.seek(max(log.seek(0, os.SEEK_END) - limit, 0))
                return log.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def processes(self, server_id: str) -> list[int]:
        """The pids of every process of the server that still runs."""
        state = read_json(self._directory(server_id) / STATE_FILE)
        if "pid" not in state:
            return []
        return processes.members(state["pid"], state["start"], _marker(server_id))

    def suspend_server(self, server_id: str) -> None:
        """Stop every process of a running server in its tracks (SIGSTOP), as Nova suspends."""
        directory = self._directory(server_id)
        with _locked(directory):
            server = self.server(server_id)
            if server is None or server.status not in (ACTIVE, SUSPENDED):
                status = "gone" if server is None else server.status
                raise LocalCloudError(f"server {server_id} cannot be suspended: it is {status}")
            (directory / SUSPENDED_FILE).touch()
            processes.signal_all(self.processes(server_id), signal.SIGSTOP)

    def resume_server(self, server_id: str) -> None:
        """Let a suspended server's processes run again (SIGCONT)."""
        directory = self._directory(server_id)
        with _locked(directory):
            if self.server(server_id) is None:
                raise LocalCloudError(f"server {server_id} cannot be resumed: it is gone")
            processes.signal_all(self.processes(server_id), signal.SIGCONT)
            (directory / SUSPENDED_FILE).unlink(missing_ok=True)

    def stop_server(self, server_id: str) -> None:
        """Stop every process of the server (SIGTERM, SIGKILL after the grace period)."""
        directory = self._directory(server_id)
        state = read_json(directory / STATE_FILE)
        if "pid" in state and not processes.stop(
            state["pid"], state["start"], _marker(server_id), self.stop_grace_seconds
        ):
            raise LocalCloudError(f"processes of server {server_id} would not stop")

    def delete_server(self, server_id: str) -> bool:
        """Stop the server, release its address, remove its directory; False if it was gone."""
        directory = self._directory(server_id)
        existed = directory.is_dir()
        if existed:
            with _locked(directory):
                self.stop_server(server_id)
        self._remove(server_id, directory)
        return existed

    def _remove(self, server_id: str, directory: Path) -> None:
        self.addresses.release(server_id)
        shutil.rmtree(directory, ignore_errors=True)
        (self.root / "locks" / server_id).unlink(missing_ok=True)

    # Snapshots ---------------------------------------------------------------

    def snapshot_path(self, snapshot_id: str) -> Path:
        if str(uuid.UUID(snapshot_id)) != snapshot_id:
            raise LocalCloudError(f"{snapshot_id!r} is not a Local snapshot id")
        return self.snapshots_directory / f"{snapshot_id}.tar.gz"

    def snapshot_server(self, server_id: str, token: str) -> str:
        """Archive the working directory (once per token); the snapshot's id."""
        snapshot_id = str(uuid.uuid5(_NAMESPACE, f"snapshot:{token}"))
        target = self.snapshot_path(snapshot_id)
        if target.exists():
            return snapshot_id
        work = self._directory(server_id) / WORK_DIRECTORY
        if not work.is_dir():
            raise LocalCloudError(f"server {server_id} does not exist")
        archive(work, target)
        return snapshot_id

    def restore_server(self, server_id: str, snapshot_id: str) -> None:
        """Put a snapshot's files back into the server's working directory."""
        work = self._directory(server_id) / WORK_DIRECTORY
        with tarfile.open(self.snapshot_path(snapshot_id), "r:gz") as snapshot:
            snapshot.extractall(work, filter="data")

    def delete_snapshot(self, snapshot_id: str) -> None:
        self.snapshot_path(snapshot_id).unlink(missing_ok=True)


def _with_loopback(no_proxy: str) -> str:
    """``no_proxy`` with the loopback names added."""
    names = [name for name in no_proxy.split(",") if name.strip()]
    names += [name for name in LOOPBACK_NAMES if name not in names]
    return ",".join(names)


def _marker(server_id: str) -> bytes:
    return f"KILN_SERVER_ID={server_id}".encode()


def _status(state: Mapping[str, Any]) -> tuple[str, str]:
    """What the recorded phase and the supervisor's liveness say about the server."""
    if "pid" not in state:
        return SHUTOFF, "the server was never started"
    phase = state.get("phase")
    if processes.alive(state["pid"], state["start"]):
        return (ACTIVE, "") if phase == RUNNING else (BUILD, "")
    if phase == FAILED:
        return ERROR, str(state.get("reason") or "the server failed")
    if phase in (BOOTING, RUNNING):
        return SHUTOFF, "the server's supervisor is gone"
    return SHUTOFF, str(state.get("reason") or "the server stopped")


def _locked(directory: Path) -> contextlib.AbstractContextManager[None]:
    """Hold the server's lock: one create, update or delete at a time across processes."""
    return locked(directory.parent.parent / "locks" / directory.name)

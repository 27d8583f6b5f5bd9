"""Local::Server test helpers: a Local cloud in a temporary directory, driven like the engine."""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kiln.clients.local import LocalCloud
from kiln.providers.context import ProviderContext
from kiln.providers.protocol import (
    AttributeRequest,
    CheckRequest,
    CreateRequest,
    DeleteRequest,
    ReadRequest,
    ReadResult,
)
from kiln.resources.local.server import SCHEMA, LocalServer
from kiln.schema.properties import validate_properties
from kiln.schema.registry import SchemaRegistry


def address_range(prefix: int = 29) -> str:
    """A loopback range of its own, so concurrent test runs never share an address."""
    return f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.0/{prefix}"


def new_cloud(root: Path, network: str | None = None) -> LocalCloud:
    return LocalCloud(root, address_range=network or address_range(), stop_grace_seconds=0.5)


def clean_up(cloud: LocalCloud) -> None:
    """Delete every server the cloud still has (a failed test leaves no process behind)."""
    if cloud.servers_directory.is_dir():
        for directory in cloud.servers_directory.iterdir():
            cloud.delete_server(directory.name)


def wait_until(condition: Any, seconds: float = 15.0) -> None:
    """Wait for ``condition()`` to hold; a test failure when it does not in time."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def marked_processes(server_id: str) -> list[int]:
    """Every running process of this user that carries the server's id in its environment,
    read straight from the process table."""
    marker = f"KILN_SERVER_ID={server_id}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            with open(f"/proc/{name}/environ", "rb") as environ:
                if marker in environ.read().split(b"\0"):
                    found.append(int(name))
        except (OSError, IndexError):
            continue
    return found


def context(cloud: LocalCloud) -> ProviderContext:
    return ProviderContext.create("Local::Server", "server", clients={"local": cloud})


def properties(values: Mapping[str, Any]) -> dict[str, Any]:
    converted, diagnostics = validate_properties(SCHEMA, values, SchemaRegistry(), live=True)
    assert diagnostics == []
    return dict(converted)


class Driver:
    """Calls the plugin as the engine does: create, then check until done."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.plugin = LocalServer()

    def create(self, values: Mapping[str, Any], token: str | None = None) -> str:
        return asyncio.run(self._create(properties(values), token or str(uuid.uuid4())))

    async def _create(self, values: Mapping[str, Any], token: str) -> str:
        request = CreateRequest(
            name="server", properties=values, idempotency_token=token, physical_name="srv-1"
        )
        progress = await self.plugin.create(context(self.cloud), request)
        physical_id = progress.physical_id
        assert physical_id is not None and not progress.done
        while not progress.done:
            await asyncio.sleep(progress.poll_after)
            progress = await self.plugin.check_create(
                context(self.cloud),
                CheckRequest(name="server", physical_id=physical_id, properties=values),
            )
        return physical_id

    def read(self, physical_id: str, values: Mapping[str, Any]) -> ReadResult | None:
        request = ReadRequest(name="server", physical_id=physical_id, properties=properties(values))
        return asyncio.run(self.plugin.read(context(self.cloud), request))

    def attributes(self, physical_id: str, *names: str) -> dict[str, Any]:
        request = AttributeRequest(
            name="server", physical_id=physical_id, properties={}, names=frozenset(names)
        )
        return dict(asyncio.run(self.plugin.attributes(context(self.cloud), request)))

    def delete(self, physical_id: str) -> None:
        request = DeleteRequest(name="server", physical_id=physical_id, properties={})
        progress = asyncio.run(self.plugin.delete(context(self.cloud), request))
        assert progress.done


def all_files(root: Path) -> Iterator[Path]:
    return (path for path in root.rglob("*") if path.is_file())

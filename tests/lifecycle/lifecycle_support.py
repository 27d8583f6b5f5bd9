"""Drives stacks through the service and engine exactly as the CLI does, and checks state."""

from __future__ import annotations

import asyncio
import random
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiln.clients.local import LocalCloud
from kiln.engine.operation import Engine
from kiln.persistence.database import Database
from kiln.persistence.integrity import check_integrity
from kiln.persistence.secrets import SecretBox
from kiln.persistence.software_config import SoftwareConfigRepository
from kiln.plan.state import ResourceRecord, StackRecord
from kiln.providers.registry import load_plugin_registry
from kiln.service.stacks import StackDefinition, StackService


class Harness:
    def __init__(self, url: str, home: Path) -> None:
        self.url = url
        self.home = home
        self.database = Database.open(url)
        self.database.migrate()
        self.plugins = load_plugin_registry()
        key = SecretBox.generate_key()
        #: What a separate engine process needs (KILN_SECRET_KEY) to read this database.
        self.secret_key = key.decode()
        self.secrets = SecretBox(key)
        self.service = StackService(self.database, self.plugins, self.secrets)

    def close(self) -> None:
        self.database.dispose()

    def engine(self, **options: Any) -> Engine:
        return Engine(self.database, self.plugins, self.secrets, **options)

    def run(self, stack: StackRecord, **options: Any) -> StackRecord:
        """Run the stack's current operation to its end, then check recorded state."""
        asyncio.run(self.engine(**options).run(stack.id))
        final = self.stack(stack.id)
        self.assert_consistent(final)
        return final

    def stack(self, stack_id: str) -> StackRecord:
        record = self.service.stacks.get(stack_id, include_deleted=True)
        assert record is not None
        return record

    def create(self, name: str, template: str, **options: Any) -> StackRecord:
        parameters = options.pop("parameters", {})
        definition = StackDefinition(textwrap.dedent(template), parameters=parameters)
        return self.run(self.service.create(name, definition, **options))

    def update(self, stack: StackRecord, template: str, **options: Any) -> StackRecord:
        parameters = options.pop("parameters", {})
        definition = StackDefinition(
            textwrap.dedent(template) if template else "", parameters=parameters
        )
        return self.run(self.service.update(stack.id, definition, **options))

    def delete(self, stack: StackRecord) -> StackRecord:
        return self.run(self.service.delete(stack.id))

    def records(self, stack: StackRecord) -> list[ResourceRecord]:
        return self.service.resources.by_stack(stack.id)

    def live(self, stack: StackRecord) -> dict[str, ResourceRecord]:
        return {r.name: r for r in self.service.resource_records(stack)}

    def events(self, stack: StackRecord) -> list[tuple[str, str]]:
        return [
            (e.resource_name, f"{e.action}_{e.status}") for e in self.service.event_records(stack)
        ]

    def assert_consistent(self, stack: StackRecord) -> None:
        deployments = SoftwareConfigRepository(self.database).stack_deployment_ids(stack.id)
        problems = check_integrity(stack, self.records(stack), deployments=deployments)
        assert problems == [], problems
        sequences = [e.sequence for e in self.service.event_records(stack)]
        assert sequences == list(range(1, len(sequences) + 1)), "event sequence has gaps"


def new_local_cloud(root: Path) -> LocalCloud:
    """A Local cloud with a small loopback range of its own (test runs never share one)."""
    network = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.0/29"
    return LocalCloud(root, address_range=network, stop_grace_seconds=0.5)


def remove_local_resources(cloud: LocalCloud) -> None:
    """Delete every load balancer and server the cloud still has: no process stays behind."""
    balancers = cloud.load_balancers
    for directory in balancers.directory.iterdir() if balancers.directory.is_dir() else []:
        balancers.delete_load_balancer(directory.name)
    if cloud.servers_directory.is_dir():
        for directory in cloud.servers_directory.iterdir():
            cloud.delete_server(directory.name)


def local_clients(cloud: LocalCloud) -> dict[str, Any]:
    return {"local": cloud}


def run_local(harness: Harness, cloud: LocalCloud, stack: StackRecord) -> StackRecord:
    """Run the stack's operation with the Local cloud as the engine's ``local`` client."""
    return harness.run(stack, clients=local_clients(cloud))


def wait_until(condition: Callable[[], object], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")

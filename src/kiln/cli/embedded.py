"""Embedded mode: the database, plugins, service and engine in this process.

Operations started without ``--wait`` are run by a detached ``kiln engine
run`` process, so the command returns at once as Heat's does; if that
process dies, ``kiln engine recover`` (or the next ``--wait``) resumes the
work from the database once its lease has expired.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from kiln.engine.operation import Engine
from kiln.persistence.database import Database, database_url, kiln_home
from kiln.persistence.secrets import SecretBox
from kiln.plan.state import StackRecord
from kiln.providers.registry import PluginRegistry, load_plugin_registry
from kiln.service.stacks import StackService


@dataclass
class Embedded:
    environ: dict[str, str]

    @cached_property
    def database(self) -> Database:
        database = Database.open(database_url(self.environ))
        database.migrate()
        return database

    @cached_property
    def plugins(self) -> PluginRegistry:
        return load_plugin_registry()

    @cached_property
    def secrets(self) -> SecretBox:
        return SecretBox.from_environment(self.environ)

    @cached_property
    def service(self) -> StackService:
        return StackService(self.database, self.plugins, self.secrets, launch=self.run_detached)

    def engine(self) -> Engine:
        concurrency = self.environ.get("KILN_ENGINE_CONCURRENCY")
        lease = self.environ.get("KILN_ENGINE_LEASE_SECONDS")
        return Engine(
            self.database,
            self.plugins,
            self.secrets,
            concurrency=int(concurrency) if concurrency else None,
            lease_seconds=float(lease) if lease else 30.0,
        )

    def run_now(
        self, stack_id: str, progress: Callable[[], None] | None = None
    ) -> StackRecord | None:
        """Run the stack's operation in this process, calling ``progress`` while it runs."""

        async def main() -> StackRecord | None:
            task = asyncio.ensure_future(self.engine().run(stack_id))
            while not task.done():
                if progress is not None:
                    progress()
                await asyncio.wait({task}, timeout=0.2)
            return task.result()

        return asyncio.run(main())

    def run_detached(self, stack_id: str) -> None:
        """Start ``kiln engine run STACK_ID`` in its own session, logging to KILN_HOME/logs."""
        logs = kiln_home(self.environ) / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = (logs / f"engine-{stack_id}.log").open("ab")
        subprocess.Popen(
            [sys.executable, "-m", "kiln.cli", "engine", "run", stack_id],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env={**os.environ, **self.environ},
        )

    def recover(self) -> list[StackRecord]:
        """Resume every operation whose engine stopped renewing its lease."""
        from datetime import UTC, datetime

        stalled = self.service.stacks.orphaned_operations(datetime.now(UTC))
        finished: list[StackRecord] = []
        for stack in stalled:
            record = asyncio.run(self.engine().run(stack.id))
            if record is not None:
                finished.append(record)
        return finished


def log_directory(environ: dict[str, str]) -> Path:
    return kiln_home(environ) / "logs"


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()

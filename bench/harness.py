"""What the benchmarks share: a fresh SQLite database, the service, and a timed engine run."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from kiln.config import TemplateLimits
from kiln.engine.operation import Engine
from kiln.persistence.database import Database
from kiln.persistence.secrets import SecretBox
from kiln.plan.state import StackRecord
from kiln.providers.registry import load_plugin_registry
from kiln.service.stacks import StackService


class Bench:
    def __init__(self, directory: Path, limits: TemplateLimits) -> None:
        self.limits = limits
        self.database = Database.open(f"sqlite:///{directory / 'bench.db'}")
        self.database.migrate()
        self.plugins = load_plugin_registry()
        self.secrets = SecretBox(SecretBox.generate_key())
        self.service = StackService(self.database, self.plugins, self.secrets, limits=limits)

    def run(self, stack: StackRecord) -> tuple[float, StackRecord]:
        """Run the stack's operation to its end in this process; seconds taken, final record."""
        engine = Engine(self.database, self.plugins, self.secrets, limits=self.limits)
        started = time.perf_counter()
        asyncio.run(engine.run(stack.id))
        elapsed = time.perf_counter() - started
        final = self.service.stacks.get(stack.id, include_deleted=True)
        assert final is not None
        return elapsed, final

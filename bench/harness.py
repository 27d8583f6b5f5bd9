"""What the benchmarks share: a fresh SQLite database, the service, and a timed engine run."""

from __future__ import annotations

import asyncio
import json
import platform
import resource
import socket
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from kiln.config import TemplateLimits
from kiln.engine.operation import Engine
from kiln.persistence.database import Database
from kiln.persistence.secrets import SecretBox
from kiln.plan.state import StackRecord
from kiln.providers.registry import load_plugin_registry
from kiln.service.stacks import StackService


class Bench:
    def __init__(
        self, directory: Path, limits: TemplateLimits, secret_key: bytes | None = None
    ) -> None:
        self.limits = limits
        self.database = Database.open(f"sqlite:///{directory / 'bench.db'}")
        self.database.migrate()
        self.plugins = load_plugin_registry()
        self.secrets = SecretBox(secret_key or SecretBox.generate_key())
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


def write_report(path: Path, figures: dict[str, Any]) -> None:
    """Write ``figures`` with the machine and peak RSS to ``path`` as JSON, and say so."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
        "database": "sqlite",
        **figures,
        "peak_rss_mib": round(peak, 1),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"peak RSS {peak:.0f} MiB; written to {path}")


def free_port() -> int:
    """A loopback port nothing listens on, for a `kiln serve` of the benchmark's own."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_serving(base: str) -> None:
    """Until `kiln serve` at ``base`` answers its version document (Heat's 300)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/", timeout=1).status_code == 300:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "kiln serve did not start"
        time.sleep(0.1)

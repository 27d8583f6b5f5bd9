"""A real database and engine per test: SQLite always, servers when KILN_TEST_DATABASES asks.

For PostgreSQL and MariaDB each test gets its own uniquely named database,
dropped afterwards, so runs never see each other's stacks.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from lifecycle_support import Harness, new_local_cloud, remove_local_resources
from sqlalchemy import make_url, text

from kiln.clients.local import LocalCloud
from kiln.persistence.database import create_engine_for

SERVER_URLS = {
    "postgresql": os.environ.get(
        "KILN_TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("KILN_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
}
REQUESTED = [n.strip() for n in os.environ.get("KILN_TEST_DATABASES", "").split(",") if n.strip()]
BACKENDS = ["sqlite", *(name for name in SERVER_URLS if name in REQUESTED)]


def _server_database(backend: str) -> Iterator[str]:
    admin = create_engine_for(SERVER_URLS[backend], isolation_level="AUTOCOMMIT")
    name = f"kiln_life_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    suffix = " CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci" if backend == "mysql" else ""
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}{suffix}"))
    try:
        yield (
            make_url(SERVER_URLS[backend]).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        force = " WITH (FORCE)" if backend == "postgresql" else ""
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kiln.db'}"
        return
    yield from _server_database(request.param)


@pytest.fixture
def harness(database_url: str, tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(database_url, tmp_path)
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    """A Local cloud in the test's directory, emptied of servers and load balancers after."""
    cloud = new_local_cloud(tmp_path / "local")
    try:
        yield cloud
    finally:
        remove_local_resources(cloud)

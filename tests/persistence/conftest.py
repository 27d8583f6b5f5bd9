"""Real databases for the persistence tests.

SQLite (a file per test) always; PostgreSQL and MariaDB/MySQL when
``KILN_TEST_DATABASES`` names them (``postgresql,mysql``). For a server, the
session creates one uniquely named database, migrates it, empties its tables
after every test and drops it at the end; tests that need an empty database
get their own, dropped after the test. Nothing touches other databases on the
server, so concurrent runs do not interfere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from persistence_support import Clock
from sqlalchemy import Engine, make_url, text

from kiln.persistence.database import Database, create_engine_for
from kiln.persistence.events import EventRepository
from kiln.persistence.locks import LockRepository
from kiln.persistence.resources import ResourceRepository
from kiln.persistence.secrets import SecretBox
from kiln.persistence.stacks import StackRepository

SERVER_URLS = {
    "postgresql": os.environ.get(
        "KILN_TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("KILN_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
}
REQUESTED = [
    name.strip() for name in os.environ.get("KILN_TEST_DATABASES", "").split(",") if name.strip()
]
_UNKNOWN = sorted(set(REQUESTED) - set(SERVER_URLS))
if _UNKNOWN:
    raise pytest.UsageError(f"KILN_TEST_DATABASES names unknown backends: {_UNKNOWN}")
BACKENDS = ["sqlite", *(name for name in SERVER_URLS if name in REQUESTED)]
SERVERS = [name for name in BACKENDS if name != "sqlite"]
#: Children first, so that emptying tables never trips a foreign key.
TABLES = ("stack_locks", "events", "resources", "stack_tags", "stacks")


class ServerDatabases:
    """Creates and drops uniquely named databases on one server."""

    def __init__(self, backend: str, admin_url: str) -> None:
        self.backend = backend
        self.admin_url = admin_url
        self.admin: Engine = create_engine_for(admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []
        self._shared: Database | None = None

    def create(self) -> str:
        name = f"kiln_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        statement = f"CREATE DATABASE {name}"
        if self.backend == "mysql":
            statement += " CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
        with self.admin.connect() as connection:
            connection.execute(text(statement))
        self.created.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        force = " WITH (FORCE)" if self.backend == "postgresql" else ""
        with self.admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        if name in self.created:
            self.created.remove(name)

    def shared(self) -> Database:
        """One migrated database reused by every test of the session."""
        if self._shared is None:
            self._shared = Database.open(self.create())
            self._shared.migrate()
        return self._shared

    def close(self) -> None:
        if self._shared is not None:
            self._shared.dispose()
        for name in list(self.created):
            url = make_url(self.admin_url).set(database=name)
            self.drop(url.render_as_string(hide_password=False))
        self.admin.dispose()


@pytest.fixture(scope="session")
def servers() -> Iterator[dict[str, ServerDatabases]]:
    managed = {name: ServerDatabases(name, SERVER_URLS[name]) for name in SERVERS}
    try:
        yield managed
    finally:
        for server in managed.values():
            server.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def fresh_url(backend: str, servers: dict[str, ServerDatabases], tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (no tables), removed after the test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    url = servers[backend].create()
    try:
        yield url
    finally:
        servers[backend].drop(url)


@pytest.fixture
def database(
    backend: str, servers: dict[str, ServerDatabases], tmp_path: Path
) -> Iterator[Database]:
    """A migrated database with empty tables."""
    if backend == "sqlite":
        sqlite = Database.open(f"sqlite:///{tmp_path / 'kiln.db'}")
        sqlite.migrate()
        try:
            yield sqlite
        finally:
            sqlite.dispose()
        return
    shared = servers[backend].shared()
    try:
        yield shared
    finally:
        with shared.engine.begin() as connection:
            for table in TABLES:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def secret_box() -> SecretBox:
    return SecretBox([SecretBox.generate_key()])


@pytest.fixture
def stacks(database: Database, secret_box: SecretBox, clock: Clock) -> StackRepository:
    return StackRepository(database, secret_box, clock)


@pytest.fixture
def resources(database: Database, secret_box: SecretBox, clock: Clock) -> ResourceRepository:
    return ResourceRepository(database, secret_box, clock)


@pytest.fixture
def events(database: Database, clock: Clock) -> EventRepository:
    return EventRepository(database, clock)


@pytest.fixture
def locks(database: Database) -> LockRepository:
    return LockRepository(database)

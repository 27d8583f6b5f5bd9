"""URL resolution, engine settings, the retry helper and migrations, on real databases."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from kiln.persistence.database import (
    HEAD_REVISION,
    Database,
    RetryPolicy,
    alembic_config,
    create_engine_for,
    database_url,
    is_retryable,
    migrate,
    normalize_url,
    retry_on_conflict,
)
from kiln.persistence.models import Base
from kiln.persistence.secrets import SecretBox
from kiln.persistence.stacks import StackRepository
from kiln.plan.state import StackRecord

TABLES = [
    "alembic_version",
    "api_tokens",
    "events",
    "projects",
    "resource_signals",
    "resources",
    "role_assignments",
    "software_configs",
    "software_deployments",
    "stack_locks",
    "stack_snapshots",
    "stack_tags",
    "stacks",
    "users",
]


# -- URL resolution -----------------------------------------------------------------


def test_database_url_prefers_the_variable(tmp_path: Path) -> None:
    environ = {"KILN_DATABASE_URL": "postgresql://db/kiln", "KILN_HOME": str(tmp_path / "home")}
    assert database_url(environ) == "postgresql://db/kiln"
    assert not (tmp_path / "home").exists()


def test_database_url_defaults_to_sqlite_in_kiln_home(tmp_path: Path) -> None:
    home = tmp_path / "a" / "kiln"
    assert database_url({"KILN_HOME": str(home)}) == f"sqlite:///{home / 'kiln.db'}"
    assert home.is_dir()
    assert home.stat().st_mode & 0o777 == 0o700


def test_kiln_home_defaults_under_home(tmp_path: Path) -> None:
    expected = tmp_path / ".local" / "share" / "kiln"
    assert database_url({"HOME": str(tmp_path)}) == f"sqlite:///{expected / 'kiln.db'}"
    assert expected.is_dir()


def test_empty_variable_means_unset(tmp_path: Path) -> None:
    environ = {"KILN_DATABASE_URL": "", "KILN_HOME": str(tmp_path)}
    assert database_url(environ) == f"sqlite:///{tmp_path / 'kiln.db'}"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(
            "postgresql://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d", id="postgresql"
        ),
        pytest.param("postgres://h/d", "postgresql+psycopg://h/d", id="postgres-alias"),
        pytest.param(
            "postgresql+psycopg://h/d", "postgresql+psycopg://h/d", id="postgresql-explicit"
        ),
        pytest.param(
            "mysql://root@h:3306/d", "mysql+pymysql://root@h:3306/d?charset=utf8mb4", id="mysql"
        ),
        pytest.param("mariadb://h/d", "mariadb+pymysql://h/d?charset=utf8mb4", id="mariadb"),
        pytest.param(
            "mysql://h/d?charset=latin1",
            "mysql+pymysql://h/d?charset=latin1",
            id="mysql-charset-kept",
        ),
        pytest.param("sqlite:///x.db", "sqlite:///x.db", id="sqlite"),
    ],
)
def test_normalize_url_picks_the_shipped_driver(given: str, expected: str) -> None:
    assert normalize_url(given).render_as_string(hide_password=False) == expected


def test_sqlite_engine_pragmas(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            }
    finally:
        engine.dispose()
    assert pragmas == {
        "journal_mode": "wal",
        "busy_timeout": 5000,
        "foreign_keys": 1,
        "synchronous": 1,
    }


def test_in_memory_sqlite_keeps_one_database(tmp_path: Path) -> None:
    database = Database.open("sqlite://")
    try:
        database.migrate()
        assert database.revision() == HEAD_REVISION
        assert sorted(inspect(database.engine).get_table_names()) == TABLES
    finally:
        database.dispose()


# -- retries ----------------------------------------------------------------------------


def _sqlite_error(message: str) -> OperationalError:
    return OperationalError("UPDATE stacks", {}, sqlite3.OperationalError(message))


def test_retry_reruns_transient_conflicts() -> None:
    calls: list[int] = []

    def work() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _sqlite_error("database is locked")
        return "done"

    assert retry_on_conflict(work, RetryPolicy(attempts=5, first_delay=0)) == "done"
    assert len(calls) == 3


def test_retry_gives_up_after_the_bound() -> None:
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        raise _sqlite_error("database is locked")

    with pytest.raises(OperationalError, match="database is locked"):
        retry_on_conflict(work, RetryPolicy(attempts=3, first_delay=0))
    assert len(calls) == 3


def test_retry_leaves_other_errors_alone() -> None:
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        raise _sqlite_error("no such table: stacks")

    with pytest.raises(OperationalError, match="no such table"):
        retry_on_conflict(work, RetryPolicy(attempts=5, first_delay=0))
    assert len(calls) == 1


def test_a_real_sqlite_lock_is_retryable(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        with engine.connect() as connection, pytest.raises(DBAPIError) as caught:
            connection.exec_driver_sql("PRAGMA busy_timeout=0")
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert is_retryable(caught.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()


def test_deadlocks_are_retried_until_both_transactions_commit(database: Database) -> None:
    """Two writers lock two rows in opposite orders; the server kills one, the retry saves it."""
    if database.backend == "sqlite":
        pytest.skip("SQLite serialises writers, so it cannot deadlock")
    repository = StackRepository(database, SecretBox([SecretBox.generate_key()]))
    for stack_id in ("a", "b"):
        repository.create(StackRecord(id=stack_id, name=stack_id))
    barrier = threading.Barrier(2, timeout=10)
    attempts = {"a": 0, "b": 0}
    errors: list[BaseException] = []

    def writer(first: str, second: str) -> None:
        def work(session: Session) -> None:
            attempts[first] += 1
            connection = session.connection()
            bump = "UPDATE stacks SET event_sequence = event_sequence + 1 WHERE id = :id"
            connection.execute(text(bump), {"id": first})
            if attempts[first] == 1:
                barrier.wait()
            connection.execute(text(bump), {"id": second})

        try:
            database.write(work)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=pair) for pair in (("a", "b"), ("b", "a"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(attempts.values()) == [1, 2]
    with database.engine.connect() as connection:
        values = connection.execute(text("SELECT event_sequence FROM stacks ORDER BY id")).all()
    assert [value for (value,) in values] == [2, 2]


# -- migrations -------------------------------------------------------------------------


def test_migrate_creates_every_table_from_empty(fresh_url: str) -> None:
    migrate(fresh_url)
    database = Database.open(fresh_url)
    try:
        assert database.revision() == HEAD_REVISION
        assert sorted(inspect(database.engine).get_table_names()) == TABLES
        migrate(fresh_url)
        assert database.revision() == HEAD_REVISION
    finally:
        database.dispose()


def test_migrated_schema_matches_the_models(fresh_url: str) -> None:
    migrate(fresh_url)
    engine = create_engine_for(fresh_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_downgrade_removes_everything(fresh_url: str) -> None:
    database = Database.open(fresh_url)
    try:
        database.migrate()
        config = alembic_config()
        with database.engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert inspect(database.engine).get_table_names() == ["alembic_version"]
        assert database.revision() is None
    finally:
        database.dispose()


def test_unique_constraints_and_indexes_exist(database: Database) -> None:
    inspector = inspect(database.engine)
    unique = {
        table: sorted(
            tuple(item["column_names"]) for item in inspector.get_unique_constraints(table)
        )
        for table in ("stacks", "resources", "events")
    }
    assert unique == {
        "stacks": [("project_id", "active_name")],
        "resources": [("stack_id", "idempotency_token"), ("stack_id", "name", "generation")],
        "events": [("stack_id", "sequence")],
    }
    stack_indexes = {index["name"] for index in inspector.get_indexes("stacks")}
    assert {
        "ix_stacks_project_id_name",
        "ix_stacks_project_id_status",
        "ix_stacks_project_id_created_at",
        "ix_stacks_status_deadline_at",
    } <= stack_indexes
    event_indexes = {index["name"] for index in inspector.get_indexes("events")}
    assert "ix_events_stack_id_resource_name_sequence" in event_indexes

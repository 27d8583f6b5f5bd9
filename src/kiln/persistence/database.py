"""Where the database is, how to connect to it, and how to run one transaction.

A :class:`Database` is created once by whoever starts Kiln and handed to the
repositories; there is no module-level engine, so tests and embedded use can
open as many independent databases as they like.

Transactions are functions: :meth:`Database.write` runs ``work(session)`` in a
fresh transaction and runs it again, from the start, when the backend reports
a deadlock or serialization failure. Work functions therefore must not have
side effects outside the session.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, column, create_engine, event, inspect, make_url, select, table
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

if TYPE_CHECKING:
    from alembic.config import Config

T = TypeVar("T")

logger = logging.getLogger(__name__)

DEFAULT_HOME = Path("~/.local/share/kiln")
DATABASE_FILE = "kiln.db"
SQLITE_BUSY_TIMEOUT_MS = 5000
#: The Alembic revision a fully migrated database is at (the newest script's).
HEAD_REVISION = "0008"
#: Where Alembic records the revision a database is at.
VERSION_TABLE = "alembic_version"

#: SQLSTATEs (PostgreSQL) and error numbers (MySQL/MariaDB) worth one more try.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
_RETRYABLE_MYSQL_ERRORS = frozenset({1205, 1213})
_RETRYABLE_SQLITE_MESSAGES = ("database is locked", "database is busy")

#: Drivers Kiln ships with, chosen when a URL names only the backend.
_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
_DRIVERS |= {"mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def kiln_home(environ: Mapping[str, str]) -> Path:
    """``$KILN_HOME``, else ``~/.local/share/kiln``; created (0700) when missing."""
    configured = environ.get("KILN_HOME")
    if configured:
        home = Path(configured).expanduser()
    elif environ.get("HOME"):
        home = Path(environ["HOME"]) / ".local" / "share" / "kiln"
    else:
        home = DEFAULT_HOME.expanduser()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home


def database_url(environ: Mapping[str, str]) -> str:
    """``$KILN_DATABASE_URL`` if set, else a SQLite file in :func:`kiln_home`."""
    configured = environ.get("KILN_DATABASE_URL")
    if configured:
        return configured
    return f"sqlite:///{kiln_home(environ) / DATABASE_FILE}"


def normalize_url(url: str) -> URL:
    """Pick the shipped driver for a bare ``postgresql://`` or ``mysql://`` URL.

    MySQL connections also get ``charset=utf8mb4`` unless the URL says
    otherwise, because the server default may be a three-byte ``utf8``.
    """
    parsed = make_url(url)
    driver = _DRIVERS.get(parsed.drivername)
    if driver is not None:
        parsed = parsed.set(drivername=driver)
    if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def create_engine_for(url: str, **engine_options: Any) -> Engine:
    """An engine with the settings Kiln relies on for the backend ``url`` names."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, engine_options)
    engine_options.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **engine_options)


def _sqlite_engine(url: URL, engine_options: dict[str, Any]) -> Engine:
    """SQLite in WAL mode, waiting on locks, with foreign keys, under our transaction control.

    pysqlite's own transaction handling is switched off so that write
    transactions can start with ``BEGIN IMMEDIATE``: a deferred transaction
    that reads first and writes later fails at once with "database is locked"
    when another writer got in between, instead of waiting.
    """
    connect_args = engine_options.pop("connect_args", {})
    connect_args.setdefault("check_same_thread", False)
    in_memory = url.database in (None, "", ":memory:")
    if in_memory:
        engine_options.setdefault("poolclass", StaticPool)
    engine = create_engine(url, connect_args=connect_args, **engine_options)

    @event.listens_for(engine, "connect")
    def configure_connection(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def begin_transaction(connection: Any) -> None:
        immediate = connection.get_execution_options().get("kiln_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@dataclass(frozen=True)
class RetryPolicy:
    """Short and bounded: a conflict that persists after this is a real problem."""

    attempts: int = 5
    first_delay: float = 0.01
    max_delay: float = 0.25


def is_retryable(error: BaseException) -> bool:
    """Deadlocks, serialization failures and busy SQLite files; nothing else."""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    arguments = getattr(original, "args", ())
    if arguments and isinstance(arguments[0], int):
        return arguments[0] in _RETRYABLE_MYSQL_ERRORS
    message = str(original).lower()
    return any(text in message for text in _RETRYABLE_SQLITE_MESSAGES)


def retry_on_conflict(work: Callable[[], T], policy: RetryPolicy = RetryPolicy()) -> T:
    """Run ``work`` again after a short, jittered pause when it hit a transient conflict."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return work()
        except DBAPIError as error:
            if attempt == policy.attempts or not is_retryable(error):
                raise
            delay = min(policy.max_delay, policy.first_delay * 2 ** (attempt - 1))
            logger.debug("transient database conflict, attempt %d; retrying", attempt)
            time.sleep(delay * random.uniform(0.5, 1.0))
    raise AssertionError("unreachable: the loop returns or raises")


class Database:
    """One engine plus the two ways to run a transaction on it."""

    def __init__(self, engine: Engine, retry: RetryPolicy = RetryPolicy()) -> None:
        self.engine = engine
        self.retry = retry
        self._readers = sessionmaker(engine, expire_on_commit=False)
        writer_engine = engine.execution_options(kiln_write=True)
        self._writers = sessionmaker(writer_engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, **engine_options: Any) -> Database:
        return cls(create_engine_for(url, **engine_options))

    @property
    def backend(self) -> str:
        """``sqlite``, ``postgresql`` or ``mysql`` (MariaDB reports ``mysql`` or ``mariadb``)."""
        return self.engine.dialect.name

    def read(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a transaction that is expected not to write."""
        with self._transaction(self._readers) as session:
            return work(session)

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a write transaction, committed on return, retried on conflicts."""

        def attempt() -> T:
            with self._transaction(self._writers) as session:
                return work(session)

        return retry_on_conflict(attempt, self.retry)

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to ``revision``; only a quick read when it is at head already."""
        if revision == "head" and recorded_revisions(self.engine) == {HEAD_REVISION}:
            return
        upgrade(self.engine, revision)

    def revision(self) -> str | None:
        return current_revision(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _transaction(self, sessions: sessionmaker[Session]) -> Iterator[Session]:
        with sessions() as session, session.begin():
            yield session


def alembic_config() -> Config:
    """Alembic settings built in code: the scripts ship inside this package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "kiln.persistence:migrations")
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision``; a no-op when it is there already."""
    from alembic import command

    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def recorded_revisions(engine: Engine) -> set[str]:
    """The revisions the version table records; none for a database never migrated.

    Read with SQLAlchemy alone: importing Alembic takes longer than the whole check.
    """
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return set()
        version = table(VERSION_TABLE, column("version_num"))
        return set(connection.execute(select(version.c.version_num)).scalars())


def migrate(url: str) -> None:
    """Upgrade the database at ``url`` to the newest schema."""
    engine = create_engine_for(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()

"""Alembic environment: runs the migrations on a connection Kiln hands over.

:func:`kiln.persistence.database.upgrade` passes its connection through
``config.attributes["connection"]``; the ``alembic`` command line (for writing
new revisions) passes ``sqlalchemy.url`` instead. Batch mode is always on so
that ALTERs work on SQLite, which rebuilds tables to change them.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from kiln.persistence.database import create_engine_for
from kiln.persistence.models import Base


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        run_on(given)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection to run migrations")
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("Kiln migrations run against a live database only")
run_online()

"""Column types that behave the same on SQLite, PostgreSQL and MariaDB/MySQL.

Each backend has a trap these types close:

* MySQL's ``DATETIME`` keeps whole seconds and no zone, SQLite keeps text;
  :class:`UtcDateTime` stores UTC with microseconds everywhere and always
  hands back timezone-aware values.
* MySQL's ``TEXT`` stops at 64 KiB while templates may be 512 KiB or more.
* MySQL compares strings case-insensitively by default, which would make
  ``Web`` and ``web`` the same stack name there and different elsewhere.

The migrations spell out the same database types inline (a migration must not
change meaning when this module evolves); ``test_models_match_migrations``
keeps the two in step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, String, Text
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeDecorator, TypeEngine

MYSQL_DIALECTS = ("mysql", "mariadb")


def identifier(length: int) -> TypeEngine[str]:
    """A short string compared byte for byte on every backend (names, ids, tokens)."""
    variant = mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin")
    result: TypeEngine[str] = String(length)
    for name in MYSQL_DIALECTS:
        result = result.with_variant(variant, name)
    return result


def long_text() -> TypeEngine[str]:
    """Text without MySQL's 64 KiB ``TEXT`` ceiling."""
    result: TypeEngine[str] = Text()
    for name in MYSQL_DIALECTS:
        result = result.with_variant(mysql.LONGTEXT(), name)
    return result


def json_document() -> TypeEngine[Any]:
    """JSON on every backend; JSONB on PostgreSQL, where it is the better-behaved type."""
    return JSON().with_variant(postgresql.JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, microseconds kept.

    Naive datetimes are refused: their meaning depends on the machine that made
    them, and a lease compared across two machines must not depend on that.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in MYSQL_DIALECTS:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise TypeError("naive datetime given where an aware one is required")
        in_utc = value.astimezone(UTC)
        if dialect.name == "postgresql":
            return in_utc
        return in_utc.replace(tzinfo=None)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """On SQLite, the stored text read straight into an aware value.

        Parsing to a naive value and then replacing its zone costs several times
        more, and a long event or stack list reads thousands of timestamps.
        """
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or general is None:
            return general
        parse = datetime.fromisoformat

        def process(value: Any) -> datetime | None:
            if isinstance(value, str):
                try:
                    return parse(value + "+00:00")
                except ValueError:
                    pass
            result: datetime | None = general(value)
            return result

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

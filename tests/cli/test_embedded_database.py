"""Embedded mode's database: migrated when it is new or old, only read when it is current."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import kiln.persistence.database as database_module
from kiln.cli.embedded import Embedded
from kiln.persistence.database import HEAD_REVISION, Database, alembic_config, recorded_revisions


def embedded_database(home: Path) -> Database:
    return Embedded({"KILN_HOME": str(home)}).database


def test_head_revision_is_the_newest_migration() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [HEAD_REVISION]


def assert_migrated(database: Database) -> None:
    assert database.revision() == HEAD_REVISION
    assert {"stacks", "resources", "events"} <= set(inspect(database.engine).get_table_names())


def test_a_new_database_is_migrated(tmp_path: Path) -> None:
    database = embedded_database(tmp_path)
    try:
        assert_migrated(database)
    finally:
        database.dispose()


def test_an_old_database_is_migrated(tmp_path: Path) -> None:
    old = embedded_database(tmp_path)
    try:
        config = alembic_config()
        with old.engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert recorded_revisions(old.engine) == set()
    finally:
        old.dispose()
    database = embedded_database(tmp_path)
    try:
        assert_migrated(database)
    finally:
        database.dispose()


def test_a_current_database_is_only_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    embedded_database(tmp_path).dispose()

    def no_upgrade(*arguments: object) -> None:
        raise AssertionError("a database at head was upgraded again")

    monkeypatch.setattr(database_module, "upgrade", no_upgrade)
    database = embedded_database(tmp_path)
    try:
        assert recorded_revisions(database.engine) == {HEAD_REVISION}
    finally:
        database.dispose()

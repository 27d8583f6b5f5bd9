"""Two engines over one database file hand a stack over without waiting for recovery.

The moment that matters is narrow: an operation is recorded just after the
engine holding the stack took its last look, and before it gave the lease
back. The operation's own engine finds the lease held and steps aside. Here
that moment is produced exactly: the request and the other engine run just
before the first engine starts the write transaction that gives the lease back.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from lifecycle_support import Harness
from sqlalchemy import event

from kiln.api.runner import EngineRunner
from kiln.engine.operation import Engine
from kiln.persistence.database import Database
from kiln.persistence.locks import LockRepository
from kiln.plan.state import StackRecord
from kiln.service.stacks import StackDefinition

TEMPLATE = """\
heat_template_version: 2018-08-31
resources:
  only:
    type: OS::Heat::TestResource
    properties: {{value: {value}}}
"""


def _in_own_thread(engine: Engine, stack_id: str) -> StackRecord | None:
    """Run ``engine`` as another process would: its own thread and event loop."""
    found: list[StackRecord | None] = []
    thread = threading.Thread(target=lambda: found.append(asyncio.run(engine.run(stack_id))))
    thread.start()
    thread.join(timeout=30)
    return found[0]


def test_an_operation_recorded_while_the_engine_gives_the_lease_back_runs_at_once(
    harness: Harness,
) -> None:
    if not harness.url.startswith("sqlite"):
        # The moment is found by SQLite's BEGIN IMMEDIATE, which opens exactly the
        # write that gives the lease back; the other databases announce no such
        # statement, and the hand-off code is the same on all of them.
        pytest.skip("this interleaving is produced on SQLite only")
    first_database = Database.open(harness.url)
    first = Engine(first_database, harness.plugins, harness.secrets)
    stack = harness.service.create("handoff", StackDefinition(TEMPLATE.format(value="one")))
    moments: dict[str, Any] = {}

    def before_statement(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "recorded" in moments or statement != "BEGIN IMMEDIATE":
            return
        if harness.stack(stack.id).state != "CREATE_COMPLETE":
            return
        # The create is recorded as complete: this write gives the lease back.
        update = StackDefinition(TEMPLATE.format(value="two"))
        harness.service.update(stack.id, update)
        moments["recorded"] = time.monotonic()
        moments["second"] = _in_own_thread(harness.engine(), stack.id)

    event.listen(first_database.engine, "before_cursor_execute", before_statement)
    try:
        final = asyncio.run(first.run(stack.id))
    finally:
        event.remove(first_database.engine, "before_cursor_execute", before_statement)
        first_database.dispose()
    finished = time.monotonic()

    # The other engine stepped aside: the lease was still held.
    stepped_aside = moments["second"]
    assert stepped_aside is not None and stepped_aside.state == "UPDATE_IN_PROGRESS"
    # The first engine looked again once it had given the lease back, and ran the update.
    assert final is not None and final.state == "UPDATE_COMPLETE", final
    assert finished - moments["recorded"] < 2.0
    harness.assert_consistent(final)
    assert harness.live(final)["only"].properties["value"] == "two"
    assert LockRepository(harness.database).holder(stack.id, datetime.now(UTC)) is None


def test_recovery_leaves_a_live_lease_alone_and_resumes_once_it_is_given_back(
    harness: Harness,
) -> None:
    stack = harness.service.create("leased", StackDefinition(TEMPLATE.format(value="one")))
    locks = LockRepository(harness.database)
    # Another engine (a live one: its lease has long to run) holds the stack.
    assert locks.acquire(stack.id, "engine-elsewhere", 60, datetime.now(UTC))

    async def scenario() -> tuple[str | None, float]:
        runner = EngineRunner(harness.engine, harness.service.stacks, recover_every=0.1)
        runner.start()
        try:
            await asyncio.sleep(0.5)  # several recovery passes
            holder = locks.holder(stack.id, datetime.now(UTC))
            assert harness.stack(stack.id).state == "CREATE_IN_PROGRESS"
            locks.release(stack.id, "engine-elsewhere")
            released = time.monotonic()
            while harness.stack(stack.id).state != "CREATE_COMPLETE":
                await asyncio.sleep(0.02)
            return holder, time.monotonic() - released
        finally:
            await runner.shutdown(grace_seconds=5)

    holder, resumed_after = asyncio.run(scenario())
    assert holder == "engine-elsewhere"
    assert resumed_after < 2.0
    harness.assert_consistent(harness.stack(stack.id))

"""An engine process killed with SIGKILL at any point of a create is resumed by the next one.

Nothing is lost track of or made twice: the intent and token are recorded
before the cloud call, the physical id right after it, and the resumed step
adopts what the dead one made.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime

import pytest
from lifecycle_support import Harness

from kiln.engine.resource_steps import CRASH_POINTS
from kiln.plan.state import Intent, Status
from kiln.service.stacks import StackDefinition

CHAIN = """
    heat_template_version: 2018-08-31
    resources:
      first:
        type: OS::Heat::None
      middle:
        type: OS::Heat::TestResource
        properties:
          value: {get_resource: first}
      last:
        type: OS::Heat::TestResource
        properties:
          value: {get_attr: [middle, output]}
"""
LEASE_SECONDS = 1.0


def _engine_process(harness: Harness, command: str, *arguments: str, crash_at: str = "") -> int:
    environment = {
        **os.environ,
        "KILN_DATABASE_URL": harness.url,
        "KILN_SECRET_KEY": harness.secret_key,
        "KILN_HOME": str(harness.home),
        "KILN_ENGINE_LEASE_SECONDS": str(LEASE_SECONDS),
        "KILN_CRASH_AT": crash_at,
    }
    run = subprocess.run(
        [sys.executable, "-m", "kiln.cli", "engine", command, *arguments],
        env=environment,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return run.returncode


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_killed_engine_is_resumed_without_duplicates(harness: Harness, point: str) -> None:
    stack = harness.service.create("crash", StackDefinition(textwrap.dedent(CHAIN)))
    returncode = _engine_process(harness, "run", stack.id, crash_at=f"{point}:middle")
    assert returncode == -signal.SIGKILL

    interrupted = harness.stack(stack.id)
    assert interrupted.state == "CREATE_IN_PROGRESS"
    middle = harness.live(interrupted)["middle"]
    assert middle.status is Status.IN_PROGRESS
    if point in ("after_intent", "after_create_call"):
        assert middle.intent is Intent.CREATE_ISSUED
        assert middle.physical_id is None
    else:
        assert middle.physical_id is not None
    assert "last" not in harness.live(interrupted), "nothing after the dying step started"

    time.sleep(LEASE_SECONDS + 0.2)
    assert _engine_process(harness, "recover") == 0

    final = harness.stack(stack.id)
    assert final.state == "CREATE_COMPLETE"
    harness.assert_consistent(final)
    records = harness.records(final)
    assert sorted(r.name for r in records) == ["first", "last", "middle"], "exactly one of each"
    middle = harness.live(final)["middle"]
    assert middle.physical_id is not None
    assert middle.idempotency_token[:12] in middle.physical_id, (
        "the first attempt's resource was adopted"
    )
    first = harness.live(final)["first"]
    assert middle.properties["value"] == first.physical_id


def test_an_operation_no_engine_runs_is_picked_up_by_recovery(harness: Harness) -> None:
    stack = harness.service.create("unattended", StackDefinition(textwrap.dedent(CHAIN)))
    assert [s.id for s in harness.service.stacks.orphaned_operations(datetime.now(UTC))] == [
        stack.id
    ]
    assert _engine_process(harness, "recover") == 0
    assert harness.stack(stack.id).state == "CREATE_COMPLETE"
    assert harness.service.stacks.orphaned_operations(datetime.now(UTC)) == []

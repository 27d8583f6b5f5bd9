"""An operation preempted by an update, or stopped by a cancel, while its steps are in flight."""

from __future__ import annotations

import asyncio

from lifecycle_support import Harness

from kiln.plan.state import StackRecord
from kiln.service.stacks import StackDefinition

PAIR = """\
heat_template_version: 2018-08-31
resources:
  first:
    type: OS::Heat::TestResource
    properties: {{value: {value}, action_wait_secs: {{create: {wait}, update: {wait}}}}}
  second:
    type: OS::Heat::TestResource
    depends_on: first
    properties: {{value: {value}}}
"""


async def _until_in_progress(harness: Harness, stack: StackRecord, action: str) -> None:
    while harness.live(stack).get("first") is None or (
        harness.live(stack)["first"].state != f"{action}_IN_PROGRESS"
    ):
        await asyncio.sleep(0.02)


def _values(harness: Harness, stack: StackRecord) -> dict[str, object]:
    return {name: r.provider_data.get("value") for name, r in harness.live(stack).items()}


def test_an_update_preempts_the_update_in_progress_and_converges_to_the_newest(
    harness: Harness,
) -> None:
    stack = harness.create("pair", PAIR.format(value="one", wait=0))

    async def update_twice() -> None:
        stuck = StackDefinition(PAIR.format(value="two", wait=-1))
        running = asyncio.ensure_future(
            harness.engine().run(harness.service.update(stack.id, stuck).id)
        )
        await _until_in_progress(harness, stack, "UPDATE")
        # The first update would wait for ever: only the second one ends it.
        harness.service.update(stack.id, StackDefinition(PAIR.format(value="three", wait=0)))
        await asyncio.wait_for(running, timeout=20)

    asyncio.run(update_twice())
    final = harness.stack(stack.id)
    harness.assert_consistent(final)
    assert final.state == "UPDATE_COMPLETE", final.status_reason
    assert _values(harness, stack) == {"first": "three", "second": "three"}
    assert "value: two" in final.previous_template


def test_a_rollback_after_an_interrupted_update_puts_the_old_value_back(harness: Harness) -> None:
    stack = harness.create("pair", PAIR.format(value="one", wait=0))

    async def update_then_cancel() -> None:
        stuck = StackDefinition(PAIR.format(value="two", wait=-1))
        running = asyncio.ensure_future(
            harness.engine().run(harness.service.update(stack.id, stuck).id)
        )
        await _until_in_progress(harness, stack, "UPDATE")
        harness.service.cancel(stack.id)
        await asyncio.wait_for(running, timeout=20)

    asyncio.run(update_then_cancel())
    final = harness.stack(stack.id)
    harness.assert_consistent(final)
    assert final.state == "ROLLBACK_COMPLETE", final.status_reason
    assert _values(harness, stack) == {"first": "one", "second": "one"}


def test_a_cancel_without_rollback_lets_the_steps_in_flight_finish(harness: Harness) -> None:
    stack = harness.service.create("pair", StackDefinition(PAIR.format(value="one", wait=0.5)))

    async def create_then_stop() -> None:
        running = asyncio.ensure_future(harness.engine().run(stack.id))
        await _until_in_progress(harness, stack, "CREATE")
        stopped = harness.service.cancel(stack.id, rollback=False)
        assert (stopped.state, stopped.status_reason) == ("CREATE_FAILED", "Stack CREATE cancelled")
        await asyncio.wait_for(running, timeout=20)

    asyncio.run(create_then_stop())
    final = harness.stack(stack.id)
    harness.assert_consistent(final)
    assert final.state == "CREATE_FAILED"
    assert {name: r.state for name, r in harness.live(stack).items()} == {
        "first": "CREATE_COMPLETE"
    }


#: ``second`` takes for ever to go back to ``one``: a rollback to this stays in progress.
STUCK_ROLLBACK = """\
heat_template_version: 2018-08-31
resources:
  first:
    type: OS::Heat::TestResource
    properties: {value: one}
  second:
    type: OS::Heat::TestResource
    properties: {value: one, action_wait_secs: {update: -1}}
"""
FAILING = """\
heat_template_version: 2018-08-31
resources:
  first:
    type: OS::Heat::TestResource
    properties: {value: two, fail: true}
  second:
    type: OS::Heat::TestResource
    properties: {value: two}
"""


def test_an_update_takes_over_from_a_rollback_in_progress(harness: Harness) -> None:
    stack = harness.create("rolling", STUCK_ROLLBACK)
    assert stack.state == "CREATE_COMPLETE", stack.status_reason

    async def update_during_rollback() -> None:
        running = asyncio.ensure_future(
            harness.engine().run(harness.service.update(stack.id, StackDefinition(FAILING)).id)
        )
        while not (
            harness.stack(stack.id).state == "ROLLBACK_IN_PROGRESS"
            and harness.live(stack)["second"].state == "UPDATE_IN_PROGRESS"
        ):
            await asyncio.sleep(0.02)
        # The rollback would wait for ever: the update takes over and ends it.
        taking_over = harness.service.update(
            stack.id, StackDefinition(PAIR.format(value="three", wait=0))
        )
        assert taking_over.state == "UPDATE_IN_PROGRESS"
        await asyncio.wait_for(running, timeout=20)

    asyncio.run(update_during_rollback())
    final = harness.stack(stack.id)
    harness.assert_consistent(final)
    assert final.state == "UPDATE_COMPLETE", final.status_reason
    assert _values(harness, stack) == {"first": "three", "second": "three"}
    # The rollback's end did not put its definition back over the update's, and the
    # update's previous definition is the one the rollback was returning to.
    assert "value: three" in final.template
    assert final.previous_template == STUCK_ROLLBACK


#: A failing create whose rollback never finishes deleting ``first``.
FAILING_CREATE = """\
heat_template_version: 2018-08-31
resources:
  first:
    type: OS::Heat::TestResource
    properties: {value: one, action_wait_secs: {delete: -1}}
  broken:
    type: OS::Heat::TestResource
    depends_on: first
    properties: {value: one, fail: true}
"""


def test_an_update_takes_over_from_the_rollback_of_a_create(harness: Harness) -> None:
    async def create_then_update() -> StackRecord:
        stack = harness.service.create("undoing", StackDefinition(FAILING_CREATE))
        running = asyncio.ensure_future(harness.engine().run(stack.id))
        while not (
            harness.stack(stack.id).state == "ROLLBACK_IN_PROGRESS"
            and harness.live(stack).get("first") is not None
            and harness.live(stack)["first"].state == "DELETE_IN_PROGRESS"
        ):
            await asyncio.sleep(0.02)
        harness.service.update(stack.id, StackDefinition(PAIR.format(value="three", wait=0)))
        await asyncio.wait_for(running, timeout=20)
        return stack

    stack = asyncio.run(create_then_update())
    final = harness.stack(stack.id)
    harness.assert_consistent(final)
    assert final.state == "UPDATE_COMPLETE", final.status_reason
    assert _values(harness, stack) == {"first": "three", "second": "three"}
    # Had this update failed, its rollback would have deleted everything, as the
    # create's rollback was doing.
    assert final.previous_template == ""

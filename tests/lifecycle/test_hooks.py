"""Hooks: environment breakpoints that hold a resource until they are cleared."""

from __future__ import annotations

import asyncio

from lifecycle_support import Harness

from kiln.plan.state import StackRecord
from kiln.service.stacks import StackDefinition

TEMPLATE = """\
heat_template_version: 2018-08-31
resources:
  database: {type: OS::Heat::None}
  web:
    type: OS::Heat::None
    depends_on: database
  cache: {type: OS::Heat::None}
"""

HOOKED = """\
resource_registry:
  resources:
    web:
      hooks: [pre-create, post-create]
"""


async def _until_paused(
    harness: Harness, stack: StackRecord, expected: list[tuple[str, str]]
) -> None:
    for _ in range(500):
        if harness.service.pending_hooks(stack.id) == expected:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never paused at {expected}: {harness.service.pending_hooks(stack.id)}")


def test_a_hook_holds_a_create_until_it_is_cleared(harness: Harness) -> None:
    definition = StackDefinition(TEMPLATE, environments=[("hooks.yaml", HOOKED)])
    stack = harness.service.create("hooked", definition)

    async def scenario() -> None:
        running = asyncio.ensure_future(harness.engine().run(stack.id))
        await _until_paused(harness, stack, [("web", "pre-create")])
        # Everything not behind the hook went ahead; the hooked resource did not start.
        states = {r.name: r.state for r in harness.records(stack)}
        assert states == {"database": "CREATE_COMPLETE", "cache": "CREATE_COMPLETE"}
        assert not running.done()
        harness.service.clear_hooks(stack.id, "web", ["pre-create"])
        await _until_paused(harness, stack, [("web", "post-create")])
        assert {r.name: r.state for r in harness.records(stack)}["web"] == "CREATE_COMPLETE"
        # Heat's other way to clear a hook: a signal to the resource.
        await harness.service.signal(stack.id, "web", {"unset_hook": "post-create"})
        await asyncio.wait_for(running, timeout=10)

    asyncio.run(scenario())
    final = harness.stack(stack.id)
    harness.assert_consistent(final)
    assert final.state == "CREATE_COMPLETE"
    assert harness.service.pending_hooks(stack.id) == []
    reasons = [(e.resource_name, e.status_reason) for e in harness.service.event_records(final)]
    assert ("web", "paused until Hook pre-create is cleared") in reasons
    assert ("web", "Hook pre-create is cleared") in reasons


def test_a_delete_supersedes_a_create_held_by_a_hook(harness: Harness) -> None:
    definition = StackDefinition(TEMPLATE, environments=[("hooks.yaml", HOOKED)])
    stack = harness.service.create("held", definition)

    async def scenario() -> None:
        running = asyncio.ensure_future(harness.engine().run(stack.id))
        await _until_paused(harness, stack, [("web", "pre-create")])
        harness.service.delete(stack.id)
        await asyncio.wait_for(running, timeout=10)

    asyncio.run(scenario())
    final = harness.stack(stack.id)
    assert final.state == "DELETE_COMPLETE"
    assert harness.records(final) == []

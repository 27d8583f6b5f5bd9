"""``restricted_actions`` in the environment's registry: the update fails, the resource stays."""

from __future__ import annotations

from lifecycle_support import Harness

from kiln.plan.state import StackRecord
from kiln.service.stacks import StackDefinition

TEMPLATE = """\
heat_template_version: 2013-05-23
resources:
  bar:
    type: OS::Heat::TestResource
    properties: {{value: '{value}', update_replace: {replace}}}
"""

BOTH = "resource_registry: {resources: {bar: {restricted_actions: [update, replace]}}}\n"
REPLACE_ONLY = "resource_registry: {resources: {'*ar': {restricted_actions: replace}}}\n"


def _update(harness: Harness, stack: StackRecord, template: str, environment: str) -> StackRecord:
    definition = StackDefinition(template, environments=[("env.yaml", environment)])
    return harness.run(harness.service.update(stack.id, definition, disable_rollback=True))


def _reasons(harness: Harness, stack: StackRecord) -> list[str]:
    return [
        f"{e.action}_{e.status} {e.status_reason}"
        for e in harness.service.event_records(stack, resource="bar")
        if "restricted" in e.status_reason
    ]


def test_a_restricted_update_fails_and_an_unrestricted_one_goes_ahead(harness: Harness) -> None:
    stack = harness.create("restricted", TEMPLATE.format(value="1234", replace="false"))
    changed = TEMPLATE.format(value="4567", replace="false")

    failed = _update(harness, stack, changed, BOTH)
    assert failed.state == "UPDATE_FAILED"
    assert failed.status_reason == (
        "Resource UPDATE failed: ResourceActionRestricted: resources.bar: "
        "update is restricted for resource."
    )
    assert harness.live(stack)["bar"].state == "CREATE_COMPLETE"
    assert _reasons(harness, stack) == ["UPDATE_FAILED update is restricted for resource."]

    updated = _update(harness, stack, changed, REPLACE_ONLY)
    assert updated.state == "UPDATE_COMPLETE", updated.status_reason
    assert harness.live(stack)["bar"].state == "UPDATE_COMPLETE"
    assert len(_reasons(harness, stack)) == 1


def test_a_restricted_replacement_fails_whether_or_not_updates_are_restricted(
    harness: Harness,
) -> None:
    stack = harness.create("restricted", TEMPLATE.format(value="1234", replace="false"))
    replacing = TEMPLATE.format(value="4567", replace="true")
    retyped = "heat_template_version: 2013-05-23\nresources: {bar: {type: OS::Heat::None}}\n"
    for template in (replacing, retyped):
        for environment in (BOTH, REPLACE_ONLY):
            failed = _update(harness, stack, template, environment)
            assert (failed.state, failed.status_reason) == (
                "UPDATE_FAILED",
                "Resource UPDATE failed: ResourceActionRestricted: resources.bar: "
                "replace is restricted for resource.",
            )
            assert harness.live(stack)["bar"].state == "CREATE_COMPLETE"
    assert _reasons(harness, stack) == ["UPDATE_FAILED replace is restricted for resource."] * 4

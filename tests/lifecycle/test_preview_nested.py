"""Preview of an update with nested stacks shown: each child's plan, nothing changed."""

from __future__ import annotations

from lifecycle_support import Harness

from kiln.service.preview import preview_update
from kiln.service.stacks import StackDefinition

CHILD = """\
heat_template_version: 2018-08-31
parameters:
  greeting: {type: string}
resources:
  kept: {type: OS::Heat::None}
  said:
    type: OS::Heat::Value
    properties: {value: {get_param: greeting}}
"""

CHILD_CHANGED = """\
heat_template_version: 2018-08-31
parameters:
  greeting: {type: string}
resources:
  said:
    type: OS::Heat::Value
    properties: {value: {get_param: greeting}}
  added: {type: OS::Heat::None}
"""

PARENT = """\
heat_template_version: 2018-08-31
parameters:
  greeting: {type: string, default: hello}
  size: {type: number, default: 2}
resources:
  app:
    type: OS::Heat::Stack
    properties:
      template: {get_file: child.yaml}
      parameters: {greeting: {get_param: greeting}}
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: size}
      resource_def: {type: OS::Heat::None}
  alone: {type: OS::Heat::None}
"""


def _steps(plan: object) -> list[tuple[str, str]]:
    return sorted((str(step.operation), str(step.key)) for step in plan)  # type: ignore[attr-defined]


def test_preview_shows_the_plans_of_the_nested_stacks_an_update_changes(
    harness: Harness,
) -> None:
    created = harness.run(
        harness.service.create("top", StackDefinition(PARENT, files={"child.yaml": CHILD}))
    )
    assert created.state == "CREATE_COMPLETE", created.status_reason
    events_before = harness.events(created)

    previews = preview_update(
        harness.service,
        created,
        StackDefinition(
            PARENT,
            files={"child.yaml": CHILD_CHANGED},
            parameters={"greeting": "bonjour", "size": 3},
        ),
    )

    by_path = {preview.path: preview for preview in previews}
    assert list(by_path) == ["top", "top/app", "top/group"]
    assert _steps(by_path["top"].plan) == [
        ("same", "alone"),
        ("update", "app"),
        ("update", "group"),
    ]
    assert _steps(by_path["top/app"].plan) == [
        ("create", "added"),
        ("delete", "kept"),
        ("update", "said"),
    ]
    assert _steps(by_path["top/group"].plan) == [
        ("create", "2"),
        ("same", "0"),
        ("same", "1"),
    ]
    # A preview changes nothing.
    assert harness.events(harness.stack(created.id)) == events_before
    assert harness.stack(created.id).state == "CREATE_COMPLETE"


def test_preview_depth_zero_shows_only_the_top(harness: Harness) -> None:
    created = harness.run(
        harness.service.create("top", StackDefinition(PARENT, files={"child.yaml": CHILD}))
    )
    previews = preview_update(
        harness.service,
        created,
        StackDefinition(PARENT, files={"child.yaml": CHILD_CHANGED}),
        depth=0,
    )
    assert [preview.path for preview in previews] == ["top"]


def test_preview_updates_every_nested_stack_and_deletes_the_resources_of_removed_ones(
    harness: Harness,
) -> None:
    created = harness.run(
        harness.service.create("top", StackDefinition(PARENT, files={"child.yaml": CHILD}))
    )
    unchanged = preview_update(
        harness.service, created, StackDefinition(PARENT, files={"child.yaml": CHILD})
    )
    by_path = {preview.path: preview for preview in unchanged}
    # Heat's rule: a nested stack is always updated; its own resources decide what changes.
    assert _steps(by_path["top"].plan) == [
        ("same", "alone"),
        ("update", "app"),
        ("update", "group"),
    ]
    assert _steps(by_path["top/app"].plan) == [("same", "kept"), ("same", "said")]

    without_app = PARENT.split("  app:")[0] + "  alone: {type: OS::Heat::None}\n"
    removed = preview_update(harness.service, created, StackDefinition(without_app))
    by_path = {preview.path: preview for preview in removed}
    assert ("delete", "app") in _steps(by_path["top"].plan)
    assert _steps(by_path["top/app"].plan) == [("delete", "kept"), ("delete", "said")]
    assert harness.stack(created.id).state == "CREATE_COMPLETE"

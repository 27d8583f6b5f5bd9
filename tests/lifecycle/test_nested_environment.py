"""The environment a nested stack runs with (Heat's child environment), what a preview of an
update shows of nested stacks, and nested stacks checked before a request is accepted."""

from __future__ import annotations

import asyncio

import pytest
from lifecycle_support import Harness

from kiln.errors import TemplateError
from kiln.plan.state import StackRecord
from kiln.service.preview import preview_update
from kiln.service.stacks import StackDefinition
from kiln.template.source import parse_document

GROUP = """\
heat_template_version: 2018-08-31
resources:
  my_group:
    type: OS::Heat::ResourceGroup
    properties:
      count: 2
      resource_def: {type: OS::Heat::None}
"""

MEMBER_HOOK = """\
resource_registry:
  resources:
    my_group:
      "0":
        hooks: pre-create
"""


def _child(harness: Harness, stack: StackRecord, resource: str) -> StackRecord:
    child = harness.service.stacks.get(harness.live(stack)[resource].physical_id or "")
    assert child is not None
    return child


def _only_child(harness: Harness, stack: StackRecord) -> StackRecord | None:
    children = harness.service.stacks.children(stack.id)
    return children[0] if children else None


def test_a_hook_for_a_group_member_holds_that_member_only(harness: Harness) -> None:
    definition = StackDefinition(GROUP, environments=[("hooks.yaml", MEMBER_HOOK)])
    stack = harness.service.create("hooked", definition)

    async def scenario() -> None:
        running = asyncio.ensure_future(harness.engine().run(stack.id))
        for _ in range(500):
            child = _only_child(harness, stack)
            if child is not None and harness.service.pending_hooks(child.id) == [
                ("0", "pre-create")
            ]:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("member 0 never paused at its hook")
        for _ in range(500):
            if {r.name: r.state for r in harness.records(child)} == {"1": "CREATE_COMPLETE"}:
                break
            await asyncio.sleep(0.02)
        # The other member went ahead, and the group itself has no hook of its own.
        assert {r.name: r.state for r in harness.records(child)} == {"1": "CREATE_COMPLETE"}
        assert harness.service.pending_hooks(stack.id) == []
        harness.service.clear_hooks(child.id, "0", ["pre-create"])
        await asyncio.wait_for(running, timeout=20)

    asyncio.run(scenario())
    final = harness.stack(stack.id)
    assert final.state == "CREATE_COMPLETE", final.status_reason
    members = _child(harness, final, "my_group")
    assert sorted(harness.live(members)) == ["0", "1"]


INNER = """\
heat_template_version: 2018-08-31
resources:
  inner: {type: My::Thing}
"""

TWO_NESTED = """\
heat_template_version: 2018-08-31
resources:
  first: {type: inner.yaml}
  second: {type: inner.yaml}
"""

SCOPED_MAPPING = """\
resource_registry:
  My::Thing: OS::Heat::None
  resources:
    first:
      inner:
        My::Thing: OS::Heat::RandomString
"""


def test_a_mapping_for_a_nested_resource_applies_inside_that_nested_stack_only(
    harness: Harness,
) -> None:
    definition = StackDefinition(
        TWO_NESTED,
        files={"inner.yaml": INNER},
        environments=[("env.yaml", SCOPED_MAPPING)],
    )
    stack = harness.run(harness.service.create("scoped", definition))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    first, second = _child(harness, stack, "first"), _child(harness, stack, "second")
    assert harness.live(first)["inner"].implementation == "OS::Heat::RandomString"
    assert harness.live(second)["inner"].implementation == "OS::Heat::None"
    # Each child keeps only its own block: the per-resource registry under its resource.
    registries = [
        parse_document(text).data["resource_registry"]
        for child in (first, second)
        for _, text in child.environments
    ]
    assert registries == [
        {
            "My::Thing": "OS::Heat::None",
            "resources": {"inner": {"My::Thing": "OS::Heat::RandomString"}},
        },
        {"My::Thing": "OS::Heat::None"},
    ]


RECURSIVE_PARENT = """\
heat_template_version: 2018-08-31
parameters:
  size: {type: number}
resources:
  secret:
    type: OS::Heat::RandomString
    properties: {length: {get_param: size}}
"""

RECURSIVE_PROVIDER = """\
heat_template_version: 2018-08-31
parameters:
  length: {type: number}
resources:
  real:
    type: OS::Heat::RandomString
    properties: {length: {get_param: length}}
outputs:
  value: {value: {get_attr: [real, value]}}
"""


def _recursive(size: int) -> StackDefinition:
    environment = (
        f"parameters: {{size: {size}}}\n"
        "resource_registry: {OS::Heat::RandomString: random.yaml}\n"
    )
    return StackDefinition(
        RECURSIVE_PARENT,
        files={"random.yaml": RECURSIVE_PROVIDER},
        environments=[("env.yaml", environment)],
    )


def test_a_preview_builds_a_nested_stack_as_the_update_does(harness: Harness) -> None:
    # The template maps the type it uses inside itself, and the parent's environment has
    # parameters the nested template does not declare: the preview gives the child the
    # environment the engine gives it (neither the mapping nor those parameters).
    stack = harness.run(harness.service.create("recursive", _recursive(10)))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason

    previews = preview_update(harness.service, stack, _recursive(12))

    by_path = {preview.path: preview for preview in previews}
    assert list(by_path) == ["recursive", "recursive/secret"]
    child_plan = by_path["recursive/secret"].plan
    assert child_plan is not None
    # A new length replaces a random string.
    assert sorted((str(step.operation), str(step.key)) for step in child_plan) == [
        ("create-replacement", "real(new)"),
        ("delete-replaced", "real(old)"),
    ]
    updated = harness.run(harness.service.update(stack.id, _recursive(12)))
    assert updated.state == "UPDATE_COMPLETE", updated.status_reason
    value = harness.live(_child(harness, updated, "secret"))["real"].attributes["value"]
    assert len(value) == 12


ZERO_GROUP = """\
heat_template_version: 2013-05-23
resources:
  random_group:
    type: OS::Heat::ResourceGroup
    properties:
      count: {count}
      resource_def:
        type: My::RandomString
        properties: {{length: 30}}
"""

BAD_MEMBER = """\
heat_template_version: 2013-05-23
parameters:
  length: {type: string, default: 50}
resources:
  random:
    type: OS::Heat::RandomString
    properties:
      length: BAD
"""


def _group(count: int) -> StackDefinition:
    return StackDefinition(
        ZERO_GROUP.format(count=count),
        files={"provider.yaml": BAD_MEMBER},
        environments=[("env.yaml", "resource_registry: {My::RandomString: provider.yaml}\n")],
    )


def test_a_group_member_that_would_not_validate_is_refused_before_anything_changes(
    harness: Harness,
) -> None:
    stack = harness.run(harness.service.create("zero", _group(0)))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    assert harness.live(_child(harness, stack, "random_group")) == {}

    with pytest.raises(TemplateError) as refused:
        harness.service.update(stack.id, _group(2))
    [problem] = refused.value.diagnostics
    assert (problem.code, problem.source, str(problem.path)) == (
        "S6004",
        "provider.yaml",
        "resources.random.properties.length",
    )
    assert problem.span is not None and problem.span.line == 8
    assert "random_group" in problem.message
    after = harness.stack(stack.id)
    assert (after.state, after.template) == ("CREATE_COMPLETE", stack.template)

    with pytest.raises(TemplateError):
        harness.service.create("two", _group(2))
    assert harness.service.stacks.find("default", "two") is None


def test_a_member_definition_error_is_located_on_the_group(harness: Harness) -> None:
    template = """\
heat_template_version: 2018-08-31
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: 1
      resource_def:
        type: OS::Heat::RandomString
        properties: {length: many}
"""
    with pytest.raises(TemplateError) as refused:
        harness.service.create("located", StackDefinition(template))
    [problem] = refused.value.diagnostics
    assert (problem.code, problem.source, str(problem.path)) == (
        "S6004",
        "template",
        "resources.group.properties",
    )
    assert problem.span is not None and problem.span.line == 5
    assert 'at resources["0"].properties.length: expected an integer' in problem.message

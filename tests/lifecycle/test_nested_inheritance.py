"""What nested stacks inherit from their parent, and when a changed type or files map
updates or replaces a resource (Heat's rules)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from file_plugin import FilePlugin
from lifecycle_support import Harness

from kiln.plan.state import StackRecord
from kiln.service.stacks import StackDefinition
from kiln.template.source import parse_document

ONE_RESOURCE = """\
heat_template_version: 2018-08-31
resources:
  thing:
    type: {type}
"""


def _run(
    harness: Harness,
    stack: StackRecord | None,
    template: str,
    environment: str = "",
    files: dict[str, str] | None = None,
) -> StackRecord:
    definition = StackDefinition(
        textwrap.dedent(template),
        files=files or {},
        environments=[("env.yaml", textwrap.dedent(environment))] if environment else [],
    )
    if stack is None:
        result = harness.run(harness.service.create("parent", definition))
        assert result.state == "CREATE_COMPLETE", result.status_reason
    else:
        result = harness.run(harness.service.update(stack.id, definition))
        assert result.state == "UPDATE_COMPLETE", result.status_reason
    return result


def _child(harness: Harness, stack: StackRecord, name: str) -> StackRecord:
    child = harness.service.stacks.get(harness.live(stack)[name].physical_id or "")
    assert child is not None
    return child


def _outputs(harness: Harness, stack: StackRecord) -> dict[str, object]:
    return {o.key: o.value for o in harness.service.outputs(stack)}


ALIASES = """\
resource_registry:
  My::Thing: OS::Heat::RandomString
  My::Other: OS::Heat::RandomString
"""


def test_a_new_alias_of_the_same_type_updates_the_resource_in_place(harness: Harness) -> None:
    stack = _run(harness, None, ONE_RESOURCE.format(type="My::Thing"), ALIASES)
    before = harness.live(stack)["thing"]
    stack = _run(harness, stack, ONE_RESOURCE.format(type="My::Other"), ALIASES)
    after = harness.live(stack)["thing"]
    assert (after.physical_id, after.attributes.get("value")) == (
        before.physical_id,
        before.attributes.get("value"),
    )
    assert (after.type, after.implementation) == ("My::Other", "OS::Heat::RandomString")


def test_an_alias_pointed_at_another_type_replaces_the_resource(harness: Harness) -> None:
    stack = _run(harness, None, ONE_RESOURCE.format(type="My::Thing"), ALIASES)
    before = harness.live(stack)["thing"]
    moved = "resource_registry:\n  My::Thing: OS::Heat::TestResource\n"
    stack = _run(harness, stack, ONE_RESOURCE.format(type="My::Thing"), moved)
    after = harness.live(stack)["thing"]
    assert after.physical_id != before.physical_id
    assert (after.type, after.implementation) == ("My::Thing", "OS::Heat::TestResource")


LENGTH_CHILD = """\
heat_template_version: 2018-08-31
parameters:
  length: {type: number}
resources:
  inner:
    type: OS::Heat::RandomString
    properties: {length: {get_param: length}}
outputs:
  value: {value: {get_attr: [inner, value]}}
"""

LENGTH_PARENT = """\
heat_template_version: 2018-08-31
parameters:
  length: {type: number, default: 40}
resources:
  provided:
    type: child.yaml
  direct:
    type: OS::Heat::RandomString
    properties: {length: {get_param: length}}
outputs:
  provided: {value: {get_attr: [provided, value]}}
  direct: {value: {get_attr: [direct, value]}}
"""


def test_nested_stacks_get_parameter_defaults_but_not_the_parents_parameters(
    harness: Harness,
) -> None:
    # The child declares length without a default: parameter_defaults satisfy it, and
    # the parent's parameters (for the parent's own template) never reach it.
    environment = "parameters: {length: 15}\nparameter_defaults: {length: 12}\n"
    stack = _run(harness, None, LENGTH_PARENT, environment, {"child.yaml": LENGTH_CHILD})
    lengths = {key: len(str(value)) for key, value in _outputs(harness, stack).items()}
    assert lengths == {"provided": 12, "direct": 15}
    child = _child(harness, stack, "provided")
    assert "length" not in child.parameters
    assert all("parameters" not in parse_document(text).data for _, text in child.environments)


CHAIN_PARENT = """\
heat_template_version: 2018-08-31
parameters:
  kinds: {type: comma_delimited_list}
resources:
  chain:
    type: OS::Heat::ResourceChain
    properties:
      resources: {get_param: kinds}
"""


def test_a_chain_made_from_environment_parameters_creates_its_members(harness: Harness) -> None:
    environment = "parameters: {kinds: 'OS::Heat::None,OS::Heat::None'}\n"
    stack = _run(harness, None, CHAIN_PARENT, environment)
    child = _child(harness, stack, "chain")
    assert sorted(harness.live(child)) == ["0", "1"]


PROVIDED = """\
heat_template_version: 2018-08-31
resources:
  thing:
    type: My::Provided
outputs:
  said: {value: {get_attr: [thing, said]}}
"""

SAYING = """\
heat_template_version: 2018-08-31
resources:
  first:
    type: OS::Heat::Value
    properties: {{value: {value}}}
{extra}outputs:
  said: {{value: {{get_attr: [first, value]}}}}
"""

EXTRA = """\
  second:
    type: OS::Heat::None
"""


def test_a_changed_provider_template_updates_its_nested_stack_in_place(
    harness: Harness,
) -> None:
    environment = "resource_registry: {My::Provided: saying.yaml}\n"
    first = {"saying.yaml": SAYING.format(value="one", extra="")}
    stack = _run(harness, None, PROVIDED, environment, first)
    before = _child(harness, stack, "thing")
    second = {"saying.yaml": SAYING.format(value="two", extra=EXTRA)}
    stack = _run(harness, stack, PROVIDED, environment, second)
    after = _child(harness, stack, "thing")
    assert (after.id, after.state) == (before.id, "UPDATE_COMPLETE")
    assert sorted(harness.live(after)) == ["first", "second"]
    assert _outputs(harness, stack) == {"said": "two"}


def test_a_new_alias_of_the_same_provider_template_updates_its_nested_stack(
    harness: Harness,
) -> None:
    environment = "resource_registry: {My::Provided: saying.yaml, My::Other: saying.yaml}\n"
    files = {"saying.yaml": SAYING.format(value="one", extra="")}
    stack = _run(harness, None, PROVIDED, environment, files)
    before = _child(harness, stack, "thing")
    inner = harness.live(before)["first"]
    renamed = PROVIDED.replace("My::Provided", "My::Other")
    stack = _run(harness, stack, renamed, environment, files)
    assert harness.live(stack)["thing"].type == "My::Other"
    after = _child(harness, stack, "thing")
    assert (after.id, harness.live(after)["first"].physical_id) == (before.id, inner.physical_id)


GROUP = """\
heat_template_version: 2018-08-31
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: 2
      resource_def:
        type: {member}
        properties: {properties}
"""


def _members(harness: Harness, stack: StackRecord) -> dict[str, str | None]:
    child = _child(harness, stack, "group")
    return {name: record.physical_id for name, record in harness.live(child).items()}


def test_a_replace_on_update_property_of_a_group_member_replaces_the_members(
    harness: Harness,
) -> None:
    environment = "resource_registry: {My::Random: OS::Heat::RandomString}\n"
    template = GROUP.format(member="My::Random", properties="{salt: initial}")
    stack = _run(harness, None, template, environment)
    before = _members(harness, stack)
    stack = _run(harness, stack, template.replace("initial", "more"), environment)
    after = _members(harness, stack)
    assert sorted(after) == sorted(before) == ["0", "1"]
    assert all(after[name] != before[name] for name in before)


def test_a_changed_member_template_updates_the_group_and_its_members(harness: Harness) -> None:
    environment = "resource_registry: {My::Provided: saying.yaml}\n"
    template = GROUP.format(member="My::Provided", properties="{}") + (
        "outputs:\n  said: {value: {get_attr: [group, said]}}\n"
    )
    first = {"saying.yaml": SAYING.format(value="one", extra="")}
    stack = _run(harness, None, template, environment, first)
    members = _members(harness, stack)
    second = {"saying.yaml": SAYING.format(value="two", extra="")}
    stack = _run(harness, stack, template, environment, second)
    assert _members(harness, stack) == members
    assert _child(harness, stack, "group").state == "UPDATE_COMPLETE"
    assert _outputs(harness, stack) == {"said": ["two", "two"]}


def test_a_resource_of_an_aliased_type_is_deleted_by_the_aliased_plugin(
    harness: Harness, tmp_path: Path
) -> None:
    harness.plugins.register(FilePlugin)
    template = f"""\
        heat_template_version: 2018-08-31
        resources:
          file:
            type: My::File
            properties: {{directory: {str(tmp_path)!r}, content: kept}}
        """
    stack = _run(harness, None, template, "resource_registry: {My::File: Test::File}\n")
    written = Path(harness.live(stack)["file"].physical_id or "")
    assert written.read_text() == "kept"
    # The template no longer names the alias: the record says which plugin made it.
    stack = _run(harness, stack, ONE_RESOURCE.format(type="OS::Heat::None"))
    assert sorted(harness.live(stack)) == ["thing"]
    assert not written.exists()

"""Export, abandon and adopt: a stack given up without deleting anything, then taken over."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from file_plugin import FilePlugin
from lifecycle_support import Harness

from kiln.errors import KilnError
from kiln.service.stacks import StackDefinition
from kiln.service.transfer import AdoptDataError, StackTransfer

CHILD = """\
heat_template_version: 2018-08-31
parameters:
  directory: {type: string}
resources:
  inner:
    type: Test::File
    properties: {directory: {get_param: directory}, content: inner}
outputs:
  path: {value: {get_resource: inner}}
"""

STACK = """\
heat_template_version: 2018-08-31
parameters:
  directory: {type: string}
  password: {type: string, hidden: true}
resources:
  secret:
    type: OS::Heat::RandomString
    properties: {length: 12}
  server:
    type: Test::File
    metadata: {role: web}
    properties: {directory: {get_param: directory}, content: {get_param: password}}
  nested:
    type: OS::Heat::Stack
    properties:
      template: {get_file: child.yaml}
      parameters: {directory: {get_param: directory}}
outputs:
  secret: {value: {get_attr: [secret, value]}}
  inner: {value: {get_attr: [nested, outputs, path]}}
"""


def _create(harness: Harness, tmp_path: Path) -> str:
    """A stack whose files live in ``tmp_path/files``."""
    harness.plugins.register(FilePlugin)
    directory = tmp_path / "files"
    directory.mkdir()
    definition = StackDefinition(
        STACK,
        files={"child.yaml": CHILD},
        parameters={"directory": str(directory), "password": "s3cret-value"},
    )
    stack = harness.run(harness.service.create("original", definition))
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    return stack.id


def _physical_ids(harness: Harness, stack_id: str) -> dict[str, Any]:
    stack = harness.stack(stack_id)
    live = harness.live(stack)
    found: dict[str, Any] = {name: record.physical_id for name, record in live.items()}
    child = harness.stack(live["nested"].physical_id or "")
    found["nested.inner"] = harness.live(child)["inner"].physical_id
    return found


def test_export_has_heats_shape_and_seals_secrets(harness: Harness, tmp_path: Path) -> None:
    stack_id = _create(harness, tmp_path)
    data = StackTransfer(harness.service).export(stack_id)

    assert data["name"] == "original" and data["id"] == stack_id
    assert (data["action"], data["status"]) == ("CREATE", "COMPLETE")
    assert data["template"]["resources"]["server"]["type"] == "Test::File"
    server = data["resources"]["server"]
    assert server["type"] == "Test::File"
    assert server["resource_id"] == harness.live(harness.stack(stack_id))["server"].physical_id
    assert server["metadata"] == {"role": "web"}
    nested = data["resources"]["nested"]
    assert nested["resources"]["inner"]["type"] == "Test::File"
    assert nested["template"]["resources"]["inner"]["type"] == "Test::File"
    text = json.dumps(data)
    # Neither the hidden parameter nor the generated random string is shown in clear.
    assert "s3cret-value" not in text
    value = harness.service.outputs(harness.stack(stack_id))[0].value
    assert value not in text
    # Export changed nothing.
    assert harness.stack(stack_id).state == "CREATE_COMPLETE"


def test_adopt_of_an_abandoned_stack_restores_the_same_physical_ids(
    harness: Harness, tmp_path: Path
) -> None:
    stack_id = _create(harness, tmp_path)
    before = _physical_ids(harness, stack_id)
    secret = {o.key: o.value for o in harness.service.outputs(harness.stack(stack_id))}["secret"]
    files = tmp_path / "files"
    files_before = sorted(p.name for p in files.iterdir() if p.name != "policies.log")
    transfer = StackTransfer(harness.service)

    data = transfer.abandon(stack_id)

    # The stack is gone from Kiln; nothing it made was deleted.
    with pytest.raises(KilnError, match="could not be found"):
        harness.service.get("original")
    assert sorted(p.name for p in files.iterdir() if p.name != "policies.log") == files_before
    events = harness.service.events.list(stack_id)
    assert events[-1].status_reason == "Stack abandoned"

    adopted = harness.run(transfer.adopt("adopted", json.loads(json.dumps(data))))
    assert adopted.state == "ADOPT_COMPLETE", adopted.status_reason
    harness.assert_consistent(adopted)
    after = _physical_ids(harness, adopted.id)
    assert {k: v for k, v in after.items() if k != "nested"} == {
        k: v for k, v in before.items() if k != "nested"
    }
    live = harness.live(adopted)
    assert {record.state for record in live.values()} == {"ADOPT_COMPLETE"}
    outputs = {o.key: o.value for o in harness.service.outputs(adopted)}
    assert outputs["secret"] == secret
    assert outputs["inner"] == before["nested.inner"]
    # The hidden parameter came back from the sealed data.
    assert harness.stack(adopted.id).parameters["password"] == "s3cret-value"
    assert sorted(p.name for p in files.iterdir() if p.name != "policies.log") == files_before

    # An adopted stack is a stack like any other: it updates and deletes.
    deleted = harness.delete(adopted)
    assert deleted.state == "DELETE_COMPLETE", deleted.status_reason
    assert [p.name for p in files.iterdir()] == ["policies.log"]


def test_adopt_refuses_data_without_a_resource_id(harness: Harness, tmp_path: Path) -> None:
    stack_id = _create(harness, tmp_path)
    data = StackTransfer(harness.service).export(stack_id)
    del data["resources"]["server"]["resource_id"]
    with pytest.raises(AdoptDataError, match=r"resources\.server\.resource_id"):
        StackTransfer(harness.service).adopt("adopted", data)
    assert [s.id for s in harness.service.list_stacks()] == [stack_id]


def test_adopt_fails_for_a_resource_that_does_not_exist(harness: Harness, tmp_path: Path) -> None:
    stack_id = _create(harness, tmp_path)
    data = StackTransfer(harness.service).export(stack_id)
    data["resources"]["server"]["resource_id"] = "no-such-file"
    adopted = harness.run(StackTransfer(harness.service).adopt("adopted", data))
    assert adopted.state == "ADOPT_FAILED"
    assert "no-such-file" in adopted.status_reason
    harness.assert_consistent(adopted)


def test_abandon_refuses_a_stack_in_progress(harness: Harness, tmp_path: Path) -> None:
    stack_id = _create(harness, tmp_path)
    harness.service.check(stack_id)
    with pytest.raises(KilnError, match="in progress"):
        StackTransfer(harness.service).abandon(stack_id)
    assert harness.service.get(stack_id).state == "CHECK_IN_PROGRESS"


PROVIDER = """\
heat_template_version: 2013-05-23
parameters:
  one: {type: string, default: foo}
resources:
  RealRandom:
    type: OS::Heat::RandomString
    properties: {salt: {get_param: one}}
outputs:
  the_str: {value: {get_attr: [RealRandom, value]}}
"""

GROUP_AND_PROVIDER = """\
heat_template_version: 2013-05-23
resources:
  the_nested:
    type: the.yaml
    properties: {one: my_name}
  group1:
    type: OS::Heat::ResourceGroup
    properties:
      count: 2
      resource_def: {type: OS::Heat::RandomString}
outputs:
  value: {value: {get_attr: [the_nested, the_str]}}
  test0: {value: {get_attr: [group1, resource.0.value]}}
  test1: {value: {get_attr: [group1, resource.1.value]}}
"""


def _random(value: str) -> dict[str, Any]:
    return {
        "type": "OS::Heat::RandomString",
        "resource_id": value,
        "resource_data": {"value": value},
    }


def test_adopt_takes_nested_stacks_without_a_template_from_the_resources(
    harness: Harness,
) -> None:
    data = {
        "template": GROUP_AND_PROVIDER,
        "resources": {
            # As in Heat's adopt data: the nested resources, with no template or id.
            "the_nested": {"type": "the.yaml", "resources": {"RealRandom": _random("goopie")}},
            "group1": {
                "type": "OS::Heat::ResourceGroup",
                "resource_id": "test-group1-id",
                "resources": {"0": _random("zero"), "1": _random("one")},
            },
        },
    }
    transfer = StackTransfer(harness.service)
    adopted = harness.run(transfer.adopt("adopted", data, files={"the.yaml": PROVIDER}))
    assert adopted.state == "ADOPT_COMPLETE", adopted.status_reason
    outputs = {o.key: o.value for o in harness.service.outputs(adopted)}
    assert outputs == {"value": "goopie", "test0": "zero", "test1": "one"}
    live = harness.live(adopted)
    for name in ("the_nested", "group1"):
        child = harness.service.stacks.get(live[name].physical_id or "")
        assert child is not None and child.parent_resource == name
        assert child.state == "ADOPT_COMPLETE"
    nested = harness.service.stacks.get(live["the_nested"].physical_id or "")
    assert nested is not None and nested.parameters == {"one": "my_name"}

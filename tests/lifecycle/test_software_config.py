"""Software configs and deployments: a deployment waits for its server's signal."""

from __future__ import annotations

import asyncio
import email
from collections.abc import Mapping
from typing import Any

from lifecycle_support import Harness

from kiln.engine.scope import live_records
from kiln.persistence.integrity import check_integrity
from kiln.persistence.software_config import SoftwareConfigRepository, SoftwareDeploymentRecord
from kiln.plan.state import StackRecord
from kiln.service.software_config import SoftwareConfigService
from kiln.service.stacks import StackDefinition

SERVER = "3f1c2b0e-0000-4000-8000-000000000001"

DEPLOYED = """\
heat_template_version: 2018-08-31
parameters:
  server: {type: string}
  greeting: {type: string, default: hello}
  transport: {type: string, default: CFN_SIGNAL}
  actions: {type: comma_delimited_list, default: [CREATE, UPDATE]}
resources:
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      config: |
        #!/bin/sh
        echo "$greeting" > $heat_outputs_path.result
      inputs:
        - name: greeting
        - name: colour
          default: blue
      outputs:
        - name: result
        - name: failure
          error_output: true
  deployment:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: config}
      server: {get_param: server}
      input_values: {greeting: {get_param: greeting}}
      signal_transport: {get_param: transport}
      actions: {get_param: actions}
outputs:
  stdout: {value: {get_attr: [deployment, deploy_stdout]}}
  status_code: {value: {get_attr: [deployment, deploy_status_code]}}
  result: {value: {get_attr: [deployment, result]}}
"""

SUCCESS = {"deploy_stdout": "done", "deploy_stderr": "", "deploy_status_code": 0, "result": "42"}


def _parameters(**values: Any) -> dict[str, Any]:
    return {"server": SERVER, **values}


def _repository(harness: Harness) -> SoftwareConfigRepository:
    return SoftwareConfigRepository(harness.database)


def _configs(harness: Harness) -> SoftwareConfigService:
    return SoftwareConfigService(harness.database, harness.plugins)


def _consistent(harness: Harness, stack: StackRecord) -> StackRecord:
    """The stack's recorded state, checked (with its stored deployments)."""
    final = harness.stack(stack.id)
    harness.assert_consistent(final)
    return final


def _deployment_of(harness: Harness, stack_id: str, resource: str) -> SoftwareDeploymentRecord:
    record = live_records(harness.service.resources.by_stack(stack_id))[resource]
    assert record.physical_id is not None
    found = _repository(harness).deployment("default", record.physical_id)
    assert found is not None
    return found


async def _until_deploying(harness: Harness, stack_id: str, resource: str, action: str) -> None:
    """Until the resource's deployment waits for its server's signal for ``action``."""
    repository = _repository(harness)
    while True:
        record = live_records(harness.service.resources.by_stack(stack_id)).get(resource)
        if record is not None and record.physical_id is not None:
            deployment = repository.deployment("default", record.physical_id)
            if deployment and (deployment.action, deployment.status) == (action, "IN_PROGRESS"):
                return
        await asyncio.sleep(0.02)


def _signalled(
    harness: Harness,
    stack: StackRecord,
    action: str,
    *signals: Mapping[str, Any],
    resource: str = "deployment",
) -> StackRecord:
    """Run the stack's operation, signalling ``resource`` once it deploys for ``action``."""

    async def scenario() -> None:
        running = asyncio.ensure_future(harness.engine().run(stack.id))
        await asyncio.wait_for(_until_deploying(harness, stack.id, resource, action), 20)
        await asyncio.sleep(0.2)
        assert not running.done(), "the operation must wait for the signal"
        assert harness.stack(stack.id).status.value == "IN_PROGRESS"
        for details in signals:
            await harness.service.signal(stack.id, resource, details)
        await asyncio.wait_for(running, 20)

    asyncio.run(scenario())
    return _consistent(harness, stack)


def _outputs(harness: Harness, stack: StackRecord) -> dict[str, Any]:
    return {o.key: o.value for o in harness.service.outputs(stack)}


def _inputs(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {i["name"]: i.get("value") for i in entry["inputs"]}


def _created(
    harness: Harness, name: str, template: str = DEPLOYED, **parameters: Any
) -> StackRecord:
    stack = harness.service.create(
        name, StackDefinition(template, parameters=_parameters(**parameters))
    )
    return _signalled(harness, stack, "CREATE", SUCCESS)


# -- create -------------------------------------------------------------------------------


def test_a_deployment_waits_for_its_servers_signal_and_shows_its_outputs(
    harness: Harness,
) -> None:
    stack = harness.service.create("deploys", StackDefinition(DEPLOYED, parameters=_parameters()))
    seen: list[Any] = []

    async def scenario() -> None:
        running = asyncio.ensure_future(harness.engine().run(stack.id))
        await asyncio.wait_for(_until_deploying(harness, stack.id, "deployment", "CREATE"), 20)
        seen.extend(_configs(harness).metadata(SERVER))
        await asyncio.sleep(0.2)
        assert not running.done()
        kept = await harness.service.signal(stack.id, "deployment", SUCCESS)
        assert kept["status"] == "COMPLETE"
        await asyncio.wait_for(running, 20)

    asyncio.run(scenario())
    final = _consistent(harness, stack)
    assert final.state == "CREATE_COMPLETE", final.status_reason
    assert _outputs(harness, final) == {"stdout": "done", "status_code": 0, "result": "42"}

    (entry,) = seen
    assert entry["group"] == "script"
    assert entry["config"].startswith("#!/bin/sh\n")
    inputs = _inputs(entry)
    assert inputs["greeting"] == "hello"
    assert inputs["colour"] == "blue"
    assert inputs["deploy_server_id"] == SERVER
    assert inputs["deploy_action"] == "CREATE"
    assert inputs["deploy_stack_id"] == f"deploys/{stack.id}"
    assert inputs["deploy_resource_name"] == "deployment"
    assert inputs["deploy_signal_transport"] == "CFN_SIGNAL"
    assert inputs["deploy_signal_verb"] == "POST"
    assert inputs["deploy_signal_id"].startswith(
        f"http://127.0.0.1:8004/v1/default/stacks/deploys/{stack.id}"
        "/resources/deployment/signal?token="
    )
    assert [o["name"] for o in entry["outputs"]] == [
        "result",
        "failure",
        "deploy_stdout",
        "deploy_stderr",
        "deploy_status_code",
    ]

    deployment = _deployment_of(harness, stack.id, "deployment")
    assert (deployment.action, deployment.status, deployment.status_reason) == (
        "CREATE",
        "COMPLETE",
        "Outputs received",
    )
    assert deployment.server_id == SERVER
    assert deployment.input_values == {"greeting": "hello"}
    assert deployment.output_values == SUCCESS
    signals = [e for e in harness.service.event_records(final) if e.action.value == "SIGNAL"]
    assert [e.status_reason for e in signals] == [
        f"Signal: reason:deployment {deployment.id} succeeded, status:COMPLETE"
    ]


def test_a_non_zero_status_code_fails_the_stack_with_heats_reason(harness: Harness) -> None:
    stack = harness.service.create(
        "exits", StackDefinition(DEPLOYED, parameters=_parameters()), disable_rollback=True
    )
    failed = _signalled(
        harness, stack, "CREATE", {"deploy_status_code": 3, "deploy_stderr": "no such file"}
    )
    reason = (
        "Error: resources.deployment: Deployment to server failed: "
        "deploy_status_code : Deployment exited with non-zero status code: 3"
    )
    assert failed.state == "CREATE_FAILED"
    assert failed.status_reason == f"Resource CREATE failed: {reason}"
    deployment = _deployment_of(harness, stack.id, "deployment")
    assert deployment.status == "FAILED"
    assert deployment.output_values["deploy_stderr"] == "no such file"
    # As in Heat, a signal the deployment no longer waits for is accepted and ignored.
    asyncio.run(harness.service.signal(stack.id, "deployment", SUCCESS))
    ignored = _deployment_of(harness, stack.id, "deployment")
    assert (ignored.status, ignored.output_values) == ("FAILED", deployment.output_values)


def test_an_error_output_fails_the_deployment_and_the_rollback_removes_it(
    harness: Harness,
) -> None:
    stack = harness.service.create("errs", StackDefinition(DEPLOYED, parameters=_parameters()))
    rolled_back = _signalled(
        harness, stack, "CREATE", {"deploy_status_code": 0, "failure": "disk full"}
    )
    assert rolled_back.state == "ROLLBACK_COMPLETE"
    reasons = [e.status_reason for e in harness.service.event_records(rolled_back)]
    assert (
        "Error: resources.deployment: Deployment to server failed: failure : disk full" in reasons
    )
    assert _repository(harness).deployments("default") == []
    assert _repository(harness).configs("default") == []


def test_no_signal_completes_at_once_without_a_signal_url(harness: Harness) -> None:
    stack = harness.create("quiet", DEPLOYED, parameters=_parameters(transport="NO_SIGNAL"))
    _consistent(harness, stack)
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    deployment = _deployment_of(harness, stack.id, "deployment")
    assert (deployment.status, deployment.status_reason) == (
        "COMPLETE",
        "Not waiting for outputs signal",
    )
    (entry,) = _configs(harness).metadata(SERVER)
    assert "deploy_signal_id" not in _inputs(entry)
    assert _inputs(entry)["deploy_signal_transport"] == "NO_SIGNAL"
    assert _outputs(harness, stack)["stdout"] is None


def test_the_state_check_matches_deployment_resources_with_stored_deployments(
    harness: Harness,
) -> None:
    stack = harness.create("checked", DEPLOYED, parameters=_parameters(transport="NO_SIGNAL"))
    deployment = _deployment_of(harness, stack.id, "deployment")
    records = harness.records(stack)
    assert check_integrity(stack, records, deployments={deployment.id, "stray"}) == [
        "software deployment 'stray' belongs to no resource of the stack"
    ]
    _configs(harness).delete_deployment(deployment.id)
    assert check_integrity(stack, records, deployments=set()) == [
        f"resource 'deployment' (generation 0) holds software deployment {deployment.id!r}, "
        "which is not stored"
    ]


# -- update -------------------------------------------------------------------------------


def test_an_update_of_input_values_redeploys_and_waits(harness: Harness) -> None:
    stack = _created(harness, "updates")
    first = _deployment_of(harness, stack.id, "deployment")
    stack = harness.service.update(
        stack.id, StackDefinition(DEPLOYED, parameters=_parameters(greeting="bonjour"))
    )
    updated = _signalled(harness, stack, "UPDATE", {**SUCCESS, "deploy_stdout": "again"})
    assert updated.state == "UPDATE_COMPLETE", updated.status_reason
    deployment = _deployment_of(harness, stack.id, "deployment")
    assert deployment.id == first.id
    assert (deployment.action, deployment.input_values) == ("UPDATE", {"greeting": "bonjour"})
    assert deployment.config_id != first.config_id
    assert _repository(harness).config("default", first.config_id) is None
    (entry,) = _configs(harness).metadata(SERVER)
    assert _inputs(entry)["greeting"] == "bonjour"
    assert _inputs(entry)["deploy_action"] == "UPDATE"
    assert _outputs(harness, updated)["stdout"] == "again"


def test_an_action_not_in_actions_deploys_nothing(harness: Harness) -> None:
    stack = _created(harness, "once", actions="CREATE")
    first = _deployment_of(harness, stack.id, "deployment")
    updated = harness.update(
        stack, DEPLOYED, parameters=_parameters(actions="CREATE", greeting="bonjour")
    )
    _consistent(harness, updated)
    assert updated.state == "UPDATE_COMPLETE", updated.status_reason
    deployment = _deployment_of(harness, stack.id, "deployment")
    assert (deployment.action, deployment.config_id) == ("CREATE", first.config_id)
    assert deployment.input_values == {"greeting": "hello"}


# -- delete -------------------------------------------------------------------------------


def test_delete_removes_the_deployment_and_its_configs(harness: Harness) -> None:
    stack = _created(harness, "removed")
    assert len(_repository(harness).configs("default")) == 2
    deleted = harness.delete(stack)
    _consistent(harness, deleted)
    assert deleted.state == "DELETE_COMPLETE"
    assert _repository(harness).deployments("default") == []
    assert _repository(harness).configs("default") == []


def test_delete_with_delete_in_actions_deploys_delete_and_waits(harness: Harness) -> None:
    stack = _created(harness, "cleans", actions="CREATE,DELETE")
    deleting = harness.service.delete(stack.id)
    deleted = _signalled(harness, deleting, "DELETE", {"deploy_status_code": 0})
    assert deleted.state == "DELETE_COMPLETE", deleted.status_reason
    assert _repository(harness).deployments("default") == []
    assert _repository(harness).configs("default") == []


def test_suspend_and_resume_deploy_when_asked(harness: Harness) -> None:
    stack = _created(harness, "pauses", actions="CREATE,SUSPEND,RESUME")
    suspended = _signalled(harness, harness.service.suspend(stack.id), "SUSPEND", SUCCESS)
    assert suspended.state == "SUSPEND_COMPLETE", suspended.status_reason
    resumed = _signalled(harness, harness.service.resume(stack.id), "RESUME", SUCCESS)
    assert resumed.state == "RESUME_COMPLETE", resumed.status_reason
    assert _deployment_of(harness, stack.id, "deployment").action == "RESUME"


# -- structured configs -------------------------------------------------------------------

STRUCTURED = """\
heat_template_version: 2018-08-31
parameters:
  server: {type: string}
  validate: {type: string, default: LAX}
resources:
  config:
    type: OS::Heat::StructuredConfig
    properties:
      group: os-apply-config
      inputs: [{name: port, type: Number}]
      config:
        service:
          port: {get_input: port}
          hosts: [{get_input: deploy_server_id}, fixed]
          name: {get_input: name}
          literal: {get_input: [not, a, name]}
  deployment:
    type: OS::Heat::StructuredDeployment
    properties:
      config: {get_resource: config}
      server: {get_param: server}
      input_values: {port: 8080}
      signal_transport: NO_SIGNAL
      input_values_validate: {get_param: validate}
"""


def test_a_structured_deployment_substitutes_its_inputs(harness: Harness) -> None:
    stack = harness.create("structured", STRUCTURED, parameters=_parameters())
    _consistent(harness, stack)
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    (entry,) = _configs(harness).metadata(SERVER)
    assert entry["config"] == {
        "service": {
            "port": 8080,
            "hosts": [SERVER, "fixed"],
            "name": None,
            "literal": {"get_input": ["not", "a", "name"]},
        }
    }


def test_a_strict_structured_deployment_names_the_unknown_input_and_where(
    harness: Harness,
) -> None:
    stack = harness.create("strict", STRUCTURED, parameters=_parameters(validate="STRICT"))
    _consistent(harness, stack)
    assert stack.state == "ROLLBACK_COMPLETE"
    reasons = [e.status_reason for e in harness.service.event_records(stack)]
    assert (
        "UserParameterMissing: resources.deployment: config.service.name: "
        "The Parameter (name) was not provided." in reasons
    )


# -- boot configs -------------------------------------------------------------------------

BOOT = """\
heat_template_version: 2018-08-31
resources:
  cloud:
    type: OS::Heat::CloudConfig
    properties:
      cloud_config:
        packages: [nginx]
        write_files: [{path: /etc/motd, content: welcome}]
  inner:
    type: OS::Heat::MultipartMime
    properties:
      parts:
        - config: "#!/bin/sh\\necho inner"
          filename: inner.sh
          subtype: x-shellscript
  outer:
    type: OS::Heat::MultipartMime
    properties:
      group: ungrouped-boot
      parts:
        - config: {get_resource: cloud}
          subtype: cloud-config
        - config: "#!/bin/sh\\necho literal"
          filename: boot.sh
        - config: {get_resource: inner}
          type: multipart
outputs:
  cloud: {value: {get_attr: [cloud, config]}}
  outer: {value: {get_attr: [outer, config]}}
"""


def test_cloud_config_and_multipart_mime_store_what_cloud_init_reads(harness: Harness) -> None:
    stack = harness.create("boots", BOOT)
    _consistent(harness, stack)
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    outputs = _outputs(harness, stack)
    cloud = str(outputs["cloud"])
    assert cloud == (
        "#cloud-config\npackages:\n- nginx\nwrite_files:\n- content: welcome\n  path: /etc/motd\n"
    )
    message = email.message_from_string(str(outputs["outer"]))
    assert message.get_content_type() == "multipart/mixed"
    parts = message.get_payload()
    assert isinstance(parts, list)
    shown = [
        (part.get_content_type(), part.get_filename(), part.get_payload(decode=True).decode())
        for part in parts
    ]
    assert shown == [
        ("text/cloud-config", None, cloud),
        ("text/boot", "boot.sh", "#!/bin/sh\necho literal"),
        ("text/x-shellscript", "inner.sh", "#!/bin/sh\necho inner"),
    ]
    outer = live_records(harness.service.resources.by_stack(stack.id))["outer"]
    assert outer.physical_id is not None
    assert _configs(harness).show_config(outer.physical_id).group == "ungrouped-boot"


# -- groups -------------------------------------------------------------------------------

GROUP = """\
heat_template_version: 2018-08-31
resources:
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      config: echo ready
      outputs: [{name: address}]
  deployments:
    type: OS::Heat::SoftwareDeploymentGroup
    properties:
      config: {get_resource: config}
      servers: {web-a: server-a, web-b: server-b, web-c: server-c}
      input_values: {role: web}
outputs:
  stdouts: {value: {get_attr: [deployments, deploy_stdouts]}}
  codes: {value: {get_attr: [deployments, deploy_status_codes]}}
  addresses: {value: {get_attr: [deployments, address]}}
  second: {value: {get_attr: [deployments, deploy_stdouts, web-b]}}
"""


def test_a_deployment_group_deploys_to_each_server_signalled_at_once(harness: Harness) -> None:
    stack = harness.service.create("fleet", StackDefinition(GROUP))
    members = ("web-a", "web-b", "web-c")

    async def scenario() -> None:
        running = asyncio.ensure_future(harness.engine().run(stack.id))
        while not harness.service.stacks.children(stack.id):
            await asyncio.sleep(0.02)
        (child,) = harness.service.stacks.children(stack.id)
        waits = [_until_deploying(harness, child.id, name, "CREATE") for name in members]
        await asyncio.wait_for(asyncio.gather(*waits), 20)
        await asyncio.gather(
            *(
                harness.service.signal(
                    child.id,
                    name,
                    {"deploy_stdout": f"{name} ready", "deploy_status_code": 0, "address": name},
                )
                for name in members
            )
        )
        await asyncio.wait_for(running, 20)

    asyncio.run(scenario())
    final = _consistent(harness, stack)
    assert final.state == "CREATE_COMPLETE", final.status_reason
    (child,) = harness.service.stacks.children(stack.id)
    _consistent(harness, child)
    outputs = _outputs(harness, final)
    assert outputs["stdouts"] == {name: f"{name} ready" for name in members}
    assert outputs["codes"] == dict.fromkeys(members, 0)
    assert outputs["addresses"] == {name: name for name in members}
    assert outputs["second"] == "web-b ready"
    servers = {d.server_id for d in _repository(harness).deployments("default")}
    assert servers == {"server-a", "server-b", "server-c"}
    metadata = _configs(harness).metadata("server-b")
    assert _inputs(metadata[0])["role"] == "web"
    assert _inputs(metadata[0])["deploy_resource_name"] == "web-b"


def test_group_members_name_their_nested_stack_and_complete_without_signals(
    harness: Harness,
) -> None:
    template = GROUP.replace(
        "input_values: {role: web}", "input_values: {role: web}\n      signal_transport: NO_SIGNAL"
    )
    stack = harness.create("quiet-fleet", template)
    _consistent(harness, stack)
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    (child,) = harness.service.stacks.children(stack.id)
    _consistent(harness, child)
    (entry,) = _configs(harness).metadata("server-a")
    assert _inputs(entry)["deploy_stack_id"] == f"{child.name}/{child.id}"
    assert _outputs(harness, stack)["stdouts"] == dict.fromkeys(("web-a", "web-b", "web-c"))

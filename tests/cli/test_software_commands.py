"""The ``kiln software config|deployment`` commands, run as real processes in embedded mode."""

from __future__ import annotations

import json
import re

from cli_support import TIMESTAMP, UUID, Kiln, output

SERVER = "5a4e0c1d-0000-4000-8000-00000000beef"

DEPLOYED = f"""\
heat_template_version: 2018-08-31
parameters:
  transport: {{type: string, default: CFN_SIGNAL}}
resources:
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      config: echo deployed
      inputs: [{{name: colour, default: blue}}]
      outputs: [{{name: result}}]
  deployment:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {{get_resource: config}}
      server: {SERVER}
      input_values: {{colour: red}}
      signal_transport: {{get_param: transport}}
outputs:
  result: {{value: {{get_attr: [deployment, result]}}}}
"""

DEFINITION = """\
inputs:
  - name: port
    type: Number
    default: 80
outputs:
  - name: result
    error_output: true
options: {verbose: true}
"""


def test_configs_are_created_listed_shown_and_deleted(kiln: Kiln) -> None:
    script = kiln.write("script.sh", "#!/bin/sh\necho hello\n")
    definition = kiln.write("definition.yaml", DEFINITION)
    created = kiln.data(
        "software", "config", "create", "web", "--config-file", str(script),
        "--definition-file", str(definition), "--group", "script",
    )  # fmt: skip
    assert re.fullmatch(UUID, created["id"])
    assert re.fullmatch(TIMESTAMP, created["creation_time"])
    assert {k: v for k, v in created.items() if k not in ("id", "creation_time")} == {
        "name": "web",
        "group": "script",
        "config": "#!/bin/sh\necho hello\n",
        "inputs": [{"name": "port", "type": "Number", "default": 80}],
        "outputs": [{"name": "result", "type": "String", "error_output": True}],
        "options": {"verbose": True},
    }
    bad = kiln.write("bad.yaml", "outputs: [{type: String}]\n")
    listed, shown, only, refused = kiln.run_all(
        [
            ("software", "config", "list", "-f", "json"),
            ("software", "config", "show", created["id"], "-f", "json"),
            ("software", "config", "show", created["id"], "--config-only"),
            ("software", "config", "create", "bad", "--definition-file", str(bad)),
        ]
    )
    assert [(c["id"], c["name"], c["group"]) for c in json.loads(output(listed))] == [
        (created["id"], "web", "script")
    ]
    assert json.loads(output(shown)) == created
    assert output(only) == "#!/bin/sh\necho hello\n\n"
    assert (refused.returncode, refused.stderr) == (
        1,
        "Error: Invalid software config: outputs[0]: missing required property 'name'\n",
    )
    missing = "0c8f8e52-0000-4000-8000-000000000000"
    deleted = kiln.run("software", "config", "delete", created["id"], missing)
    assert (deleted.returncode, deleted.stderr) == (
        1,
        f"Software config with id {missing} not found\n"
        "Error: Unable to delete 1 of the 2 software configs.\n",
    )
    assert kiln.data("software", "config", "list") == []
    gone = kiln.run("software", "config", "show", created["id"])
    assert (gone.returncode, gone.stderr) == (
        1,
        f"Error: Configuration not found: {created['id']}\n",
    )


def test_deployments_are_listed_shown_signalled_and_deleted(kiln: Kiln) -> None:
    template = str(kiln.write("deployed.yaml", DEPLOYED))
    kiln.data("stack", "create", "deployed", "-t", template)
    waiting = kiln.wait_until(
        "the deployment waits for its signal",
        lambda rows: [r["status"] for r in rows] == ["IN_PROGRESS"],
        "software", "deployment", "list", "--server", SERVER,
    )  # fmt: skip
    (deployment,) = waiting
    assert deployment["action"] == "CREATE"
    metadata = json.loads(output(kiln.run("software", "deployment", "metadata", SERVER)))
    (entry,) = metadata
    assert entry["id"] == deployment["config_id"]
    inputs = {i["name"]: i["value"] for i in entry["inputs"]}
    assert (inputs["colour"], inputs["deploy_server_id"]) == ("red", SERVER)
    assert "/resources/deployment/signal?token=" in inputs["deploy_signal_id"]

    details = {"deploy_stdout": "deployed", "deploy_status_code": 0, "result": "42"}
    sent = kiln.run(
        "stack", "resource", "signal", "deployed", "deployment", "--data", json.dumps(details)
    )
    assert (sent.returncode, sent.stderr) == (0, "")
    shown = kiln.wait_for_status("deployed", "CREATE_COMPLETE")
    assert shown["outputs"][0]["output_value"] == "42"
    kiln.wait_for_engines_to_exit()

    long_list, detail, value, other, missing = kiln.run_all(
        [
            ("software", "deployment", "list", "--long", "-f", "json"),
            ("software", "deployment", "show", deployment["id"], "--long", "-f", "json"),
            ("software", "deployment", "output-show", deployment["id"], "deploy_stdout", "-f",
             "json"),
            ("software", "deployment", "list", "--server", "elsewhere", "-f", "json"),
            ("software", "deployment", "output-show", deployment["id"], "nothing"),
        ]
    )  # fmt: skip
    (row,) = json.loads(output(long_list))
    assert (row["status"], row["status_reason"]) == ("COMPLETE", "Outputs received")
    document = json.loads(output(detail))
    assert document["input_values"] == {"colour": "red"}
    assert document["output_values"]["result"] == "42"
    assert re.fullmatch(TIMESTAMP, document["updated_time"])
    assert json.loads(output(value)) == {"deploy_stdout": "deployed"}
    assert json.loads(output(other)) == []
    assert (missing.returncode, missing.stderr) == (
        1,
        f"Error: Output nothing does not exist in deployment {deployment['id']}\n",
    )

    deleted = kiln.run("software", "deployment", "delete", deployment["id"])
    assert (deleted.returncode, deleted.stderr) == (0, "")
    config_ids = [c["id"] for c in kiln.data("software", "config", "list")]
    assert deployment["config_id"] not in config_ids
    assert len(config_ids) == 1
    assert kiln.data("software", "deployment", "list") == []
    again = kiln.run("software", "deployment", "delete", deployment["id"])
    assert (again.returncode, again.stderr) == (
        1,
        f"Deployment with id {deployment['id']} not found\n"
        "Error: Unable to delete 1 of the 1 deployments.\n",
    )

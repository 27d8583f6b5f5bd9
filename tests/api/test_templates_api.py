"""Heat's validate, template version and resource type routes over real HTTP."""

from __future__ import annotations

from typing import Any

from api_support import Api, error_of

DEFAULT_SECRET = "default-secret-value"
GIVEN_SECRET = "given-secret-value"

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "A form to fill in.",
    "parameter_groups": [{"label": "Access", "parameters": ["password"]}],
    "parameters": {
        "password": {
            "type": "string",
            "hidden": True,
            "default": DEFAULT_SECRET,
            "constraints": [{"length": {"min": 8}, "description": "Eight or more."}],
        },
        "count": {
            "type": "number",
            "label": "How many",
            "description": "The number of things.",
            "constraints": [{"range": {"min": 1, "max": 5}}],
        },
        "flavour": {
            "type": "string",
            "default": "vanilla",
            "constraints": [{"allowed_values": ["vanilla", "chocolate"]}],
        },
    },
    "resources": {
        "kept": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "password"}}},
    },
}

BROKEN = """\
heat_template_version: 2018-08-31
resources:
  x:
    type: OS::Heat::Value
    properties: {value: {get_param: nope}}
"""


def test_validate_describes_each_parameter_with_hidden_values_masked(api: Api) -> None:
    answer = api.post(
        "/validate",
        {
            "template": TEMPLATE,
            "parameters": {"password": GIVEN_SECRET},
            "files": {"env.yaml": "parameters: {flavour: chocolate}\n"},
            "environment_files": ["env.yaml"],
        },
    )
    assert answer.status_code == 200, answer.text
    assert DEFAULT_SECRET not in answer.text and GIVEN_SECRET not in answer.text
    result = answer.json()
    assert result["Description"] == "A form to fill in."
    assert result["ParameterGroups"] == [{"label": "Access", "parameters": ["password"]}]
    assert result["Parameters"] == {
        "password": {
            "Type": "String",
            "Description": "",
            "NoEcho": "true",
            "Label": "password",
            "Default": "******",
            "Value": "******",
            "MinLength": 8,
            "ConstraintDescription": "Eight or more.",
        },
        "count": {
            "Type": "Number",
            "Description": "The number of things.",
            "NoEcho": "false",
            "Label": "How many",
            "MinValue": 1,
            "MaxValue": 5,
        },
        "flavour": {
            "Type": "String",
            "Description": "",
            "NoEcho": "false",
            "Label": "flavour",
            "Default": "vanilla",
            "Value": "chocolate",
            "AllowedValues": ["vanilla", "chocolate"],
        },
    }
    assert result["Environment"]["parameters"] == {"flavour": "chocolate"}
    assert api.get("/stacks").json() == {"stacks": []}


def test_validate_answers_heat_placeholders_for_a_bare_template(api: Api) -> None:
    bare = {
        "heat_template_version": "2016-10-14",
        "parameters": {"the_count": {"type": "number"}},
        "resources": {"one": {"type": "OS::Heat::RandomString"}},
    }
    answer = api.post("/validate", {"template": bare})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "Description": "No description",
        "Environment": {
            "event_sinks": [],
            "parameter_defaults": {},
            "parameters": {},
            "resource_registry": {"resources": {}},
        },
        "Parameters": {
            "the_count": {
                "Description": "",
                "Label": "the_count",
                "NoEcho": "false",
                "Type": "Number",
            }
        },
    }


def test_validate_refuses_an_invalid_template_with_located_diagnostics(api: Api) -> None:
    error = error_of(api.post("/validate", {"template": BROKEN}), 400)
    assert error["type"] == "StackValidationFailed"
    first = error["diagnostics"][0]
    assert (first["code"], first["path"], first["line"]) == (
        "R4002",
        "resources.x.properties.value.get_param",
        5,
    )
    ignored = api.post("/validate", {"template": BROKEN}, params={"ignore_errors": "R4002"})
    assert ignored.status_code == 200, ignored.text
    assert error_of(api.post("/validate", {}), 400)["message"] == "No template specified"
    error_of(api.post("/validate", {"template": TEMPLATE}, params={"show_nested": "perhaps"}), 400)
    hidden = api.post(
        "/validate", {"template": TEMPLATE, "parameters": {"password": ["secret-in-a-list"]}}
    )
    assert "secret-in-a-list" not in hidden.text


SHORT_PASSWORD = """\
heat_template_version: 2018-08-31
parameters:
  length: {type: number, default: 3}
resources:
  password:
    type: OS::Heat::RandomString
    properties:
      length: {get_param: length}
      character_classes: [{class: digits, min: 2}, {class: letters, min: 2}]
"""


def test_a_types_own_checks_refuse_the_template_before_anything_is_made(api: Api) -> None:
    """Heat's RandomString check (minimums larger than the length) on validate, create,
    preview and update: a 400 located in the template, and no stack made or changed."""
    refused = ("S6101", "resources.password.properties.length", 8)

    def located(answer: Any) -> tuple[str, str, int]:
        error = error_of(answer, 400)
        assert error["type"] == "StackValidationFailed"
        first = error["diagnostics"][0]
        return first["code"], first["path"], first["line"]

    assert located(api.post("/validate", {"template": SHORT_PASSWORD})) == refused
    body = {"stack_name": "short", "template": SHORT_PASSWORD}
    assert located(api.post("/stacks", body)) == refused
    assert located(api.post("/stacks/preview", body)) == refused
    assert api.get("/stacks").json()["stacks"] == []
    fits = api.post("/validate", {"template": SHORT_PASSWORD, "parameters": {"length": 4}})
    assert fits.status_code == 200, fits.text

    path = api.created("short", SHORT_PASSWORD, parameters={"length": 4})
    assert located(api.put(path, {"template": SHORT_PASSWORD})) == refused
    assert located(api.patch(path, {"parameters": {"length": 3}})) == refused
    assert located(api.put(f"{path}/preview", {"template": SHORT_PASSWORD})) == refused
    shown = api.stack("short")
    assert (shown["stack_status"], shown["parameters"]["length"]) == ("CREATE_COMPLETE", "4")


def test_show_nested_describes_each_nested_templates_parameters(api: Api) -> None:
    inner = (
        "heat_template_version: 2018-08-31\n"
        "parameters:\n  size: {type: number, default: 1, label: Size}\n"
        "resources: {}\n"
    )
    outer = (
        "heat_template_version: 2018-08-31\n"
        "description: The middle.\n"
        "parameters:\n  token: {type: string, hidden: true, default: nested-secret}\n"
        "resources:\n  deeper: {type: inner.yaml}\n"
    )
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {"middle": {"type": "My::Middle"}, "plain": {"type": "OS::Heat::None"}},
    }
    body = {
        "template": template,
        "files": {"outer.yaml": outer, "inner.yaml": inner},
        "environment": {"resource_registry": {"My::Middle": "outer.yaml"}},
    }
    flat = api.post("/validate", body)
    assert flat.status_code == 200, flat.text
    assert "NestedParameters" not in flat.json()
    answer = api.post("/validate", body, params={"show_nested": "true"})
    assert answer.status_code == 200, answer.text
    assert "nested-secret" not in answer.text
    middle = answer.json()["NestedParameters"]["middle"]
    assert (middle["Type"], middle["Description"]) == ("My::Middle", "The middle.")
    assert middle["Parameters"]["token"]["Default"] == "******"
    deeper = middle["NestedParameters"]["deeper"]
    assert deeper["Type"] == "inner.yaml"
    assert deeper["Parameters"]["size"] == {
        "Type": "Number",
        "Description": "",
        "NoEcho": "false",
        "Label": "Size",
        "Default": 1,
    }


def test_template_versions_and_their_functions(api: Api) -> None:
    answer = api.get("/template_versions")
    assert answer.status_code == 200
    versions = answer.json()["template_versions"]
    assert versions[:3] == [
        {"version": "AWSTemplateFormatVersion.2010-09-09", "type": "cfn", "aliases": []},
        {"version": "HeatTemplateFormatVersion.2012-12-12", "type": "cfn", "aliases": []},
        {"version": "heat_template_version.2013-05-23", "type": "hot", "aliases": []},
    ]
    by_name = {v["version"]: v for v in versions}
    assert by_name["heat_template_version.2018-08-31"] == {
        "version": "heat_template_version.2018-08-31",
        "type": "hot",
        "aliases": ["heat_template_version.rocky"],
    }
    assert len(versions) == 13

    def names(version: str, **params: str) -> list[str]:
        found = api.get(f"/template_versions/{version}/functions", params=params)
        assert found.status_code == 200, found.text
        assert all(
            set(f) == {"functions", "description"} for f in found.json()["template_functions"]
        )
        return [f["functions"] for f in found.json()["template_functions"]]

    newton = names("heat_template_version.2016-10-14")
    assert "get_param" in newton and "if" in newton and "filter" not in newton
    assert "Fn::Select" not in newton and "equals" not in newton
    assert names("heat_template_version.newton") == newton
    assert "equals" in names("heat_template_version.2016-10-14", with_condition_func="true")
    assert "Fn::GetAtt" in names("AWSTemplateFormatVersion.2010-09-09")
    missing = error_of(api.get("/template_versions/heat_template_version.1999/functions"), 404)
    assert "1999" in missing["message"]


def test_resource_type_list_filters(api: Api) -> None:
    listed = api.get("/resource_types").json()["resource_types"]
    assert "OS::Heat::RandomString" in listed and listed == sorted(listed)
    software = api.get("/resource_types", params={"name": "OS::Heat::Software"}).json()
    assert software["resource_types"] == [
        "OS::Heat::SoftwareConfig",
        "OS::Heat::SoftwareDeployment",
        "OS::Heat::SoftwareDeploymentGroup",
    ]
    # OS::Heat::SoftwareDeployments is hidden (replaced by SoftwareDeploymentGroup), as in Heat.
    error_of(api.get("/resource_types/OS::Heat::SoftwareDeployments"), 404)
    described = api.get(
        "/resource_types", params={"name": "OS::Heat::Value$", "with_description": "true"}
    ).json()["resource_types"]
    assert [d["resource_type"] for d in described] == ["OS::Heat::Value"]
    assert described[0]["description"]
    supported = api.get("/resource_types", params={"support_status": "SUPPORTED"}).json()
    assert "OS::Heat::RandomString" in supported["resource_types"]
    deprecated = api.get("/resource_types", params={"support_status": "DEPRECATED"}).json()
    assert deprecated["resource_types"]
    assert set(supported["resource_types"]) | set(deprecated["resource_types"]) == set(listed)
    assert api.get("/resource_types", params={"version": "99.0"}).json() == {"resource_types": []}
    error_of(api.get("/resource_types", params={"support_status": "GREAT"}), 400)


def test_resource_type_schema(api: Api) -> None:
    answer = api.get("/resource_types/OS::Heat::RandomString")
    assert answer.status_code == 200, answer.text
    schema = answer.json()
    assert set(schema) == {"resource_type", "properties", "attributes", "support_status"}
    assert schema["resource_type"] == "OS::Heat::RandomString"
    length = schema["properties"]["length"]
    assert length == {
        "type": "integer",
        "required": False,
        "update_allowed": False,
        "immutable": False,
        "description": length["description"],
        "default": 32,
        "constraints": [{"range": {"min": 1, "max": 512}}],
    }
    assert set(schema["attributes"]) == {"value", "show"}
    assert schema["support_status"]["status"] == "SUPPORTED"
    described = api.get("/resource_types/OS::Heat::RandomString?with_description=true").json()
    assert described["description"]
    missing = error_of(api.get("/resource_types/OS::Nova::Nothing"), 404)
    assert missing["message"] == "The Resource Type (OS::Nova::Nothing) could not be found."


def test_generated_templates_have_a_parameter_per_property_and_an_output_per_attribute(
    api: Api,
) -> None:
    hot = api.get("/resource_types/OS::Heat::TestResource/template?template_type=hot")
    assert hot.status_code == 200, hot.text
    template = hot.json()
    assert template["heat_template_version"] == "2016-10-14"
    assert template["description"] == "Initial template of TestResource"
    resource = template["resources"]["TestResource"]
    assert resource["type"] == "OS::Heat::TestResource"
    assert resource["properties"]["value"] == {"get_param": "value"}
    assert set(resource["properties"]) == set(template["parameters"])
    assert template["parameters"]["fail"]["type"] == "boolean"
    assert template["outputs"]["output"]["value"] == {"get_attr": ["TestResource", "output"]}
    assert template["outputs"]["OS::stack_id"] == {"value": {"get_resource": "TestResource"}}
    valid = api.post("/validate", {"template": template})
    assert valid.status_code == 200, valid.text

    cfn = api.get("/resource_types/OS::Heat::TestResource/template").json()
    assert cfn["HeatTemplateFormatVersion"] == "2012-12-12"
    assert cfn["Resources"]["TestResource"]["Properties"]["value"] == {"Ref": "value"}
    assert cfn["Parameters"]["fail"]["AllowedValues"] == ["True", "true", "False", "false"]
    assert cfn["Outputs"]["OS::stack_id"] == {"Value": {"Ref": "TestResource"}}
    error_of(api.get("/resource_types/OS::Heat::TestResource/template?template_type=xml"), 400)
    error_of(api.get("/resource_types/OS::Nova::Nothing/template"), 404)

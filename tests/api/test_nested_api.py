"""Over HTTP: output descriptions as Heat gives them, and a group's member definition
checked when a create or update arrives (a 400 before anything changes)."""

from __future__ import annotations

from api_support import Api, error_of

DESCRIBED = {
    "heat_template_version": "2018-08-31",
    "resources": {"said": {"type": "OS::Heat::Value", "properties": {"value": "hi"}}},
    "outputs": {
        "plain": {"value": {"get_attr": ["said", "value"]}},
        "described": {"value": "x", "description": "Says x."},
        "empty": {"value": "y", "description": ""},
    },
}


def test_an_output_without_a_description_has_heats_stock_one(api: Api) -> None:
    path = api.created("outputs", DESCRIBED)
    listed = api.get(f"{path}/outputs").json()["outputs"]
    assert sorted(listed, key=lambda output: output["output_key"]) == [
        {"output_key": "described", "description": "Says x."},
        {"output_key": "empty", "description": ""},
        {"output_key": "plain", "description": "No description given"},
    ]
    shown = api.get(f"{path}/outputs/plain").json()["output"]
    assert (shown["description"], shown["output_value"]) == ("No description given", "hi")
    outputs = {o["output_key"]: o for o in api.stack("outputs")["outputs"]}
    assert outputs["plain"]["description"] == "No description given"
    assert outputs["described"]["description"] == "Says x."


def _group(count: int) -> str:
    return f"""\
heat_template_version: 2013-05-23
resources:
  random_group:
    type: OS::Heat::ResourceGroup
    properties:
      count: {count}
      resource_def:
        type: My::RandomString
        properties:
          length: 30
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

REQUEST = {
    "files": {"provider.yaml": BAD_MEMBER},
    "environment": {"resource_registry": {"My::RandomString": "provider.yaml"}},
}


def test_a_group_member_is_validated_only_when_the_group_has_members(api: Api) -> None:
    path = api.created("zero", _group(0), **REQUEST)
    assert api.stack("zero")["stack_status"] == "CREATE_COMPLETE"

    refused = api.put(path, {"template": _group(2), **REQUEST})
    error = error_of(refused, 400)
    assert error["type"] == "StackValidationFailed"
    [diagnostic] = error["diagnostics"]
    assert (
        diagnostic["code"],
        diagnostic["source"],
        diagnostic["path"],
        diagnostic["line"],
    ) == ("S6004", "provider.yaml", "resources.random.properties.length", 8)
    assert "random_group" in diagnostic["message"]
    # Nothing changed: the stack keeps its state and its template.
    stack = api.stack("zero")
    assert stack["stack_status"] == "CREATE_COMPLETE"
    template = api.get(f"{path}/template").json()
    assert template["resources"]["random_group"]["properties"]["count"] == 0

    created = api.post("/stacks", {"stack_name": "two", "template": _group(2), **REQUEST})
    assert error_of(created, 400)["diagnostics"][0]["code"] == "S6004"
    assert api.get("/stacks/two").status_code == 404

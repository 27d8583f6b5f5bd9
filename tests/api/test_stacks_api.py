"""Heat's stack routes over real HTTP against a real ``kiln serve``."""

from __future__ import annotations

import json
import re

from api_support import Api, error_of, until

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "A small stack.",
    "parameters": {
        "greeting": {"type": "string", "default": "hello"},
        "secret": {"type": "string", "hidden": True},
    },
    "resources": {
        "random": {"type": "OS::Heat::RandomString", "properties": {"length": 8}},
        "said": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "greeting"}}},
    },
    "outputs": {
        "said": {"value": {"get_attr": ["said", "value"]}, "description": "What was said."},
        "length": {"value": {"str_split": [",", "a,b"]}},
    },
}

BROKEN = """\
heat_template_version: 2018-08-31
resources:
  x:
    type: OS::Heat::Value
    properties: {value: {get_param: nope}}
"""

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _create(api: Api, name: str = "web", **extra: object) -> dict[str, object]:
    body = {
        "stack_name": name,
        "template": TEMPLATE,
        "parameters": {"secret": "top-secret-value"},
        **extra,
    }
    created = api.post("/stacks", body)
    assert created.status_code == 201, created.text
    return dict(created.json()["stack"])


def test_create_answers_201_with_location_and_the_stack_completes(api: Api) -> None:
    created = api.post(
        "/stacks",
        {"stack_name": "web", "template": TEMPLATE, "parameters": {"secret": "top-secret-value"}},
    )
    assert created.status_code == 201
    stack = created.json()["stack"]
    assert UUID.fullmatch(stack["id"])
    location = f"{api.http.base_url}".rstrip("/") + api.path(f"/stacks/web/{stack['id']}")
    assert created.headers["location"] == location
    assert stack["links"] == [{"href": location, "rel": "self"}]

    shown = api.wait("web")
    assert shown["stack_status"] == "CREATE_COMPLETE"
    assert shown["description"] == shown["template_description"] == "A small stack."
    assert shown["parameters"]["secret"] == "******"
    assert shown["parameters"]["OS::stack_name"] == "web"
    outputs = {o["output_key"]: o for o in shown["outputs"]}
    assert outputs["said"] == {
        "output_key": "said",
        "output_value": "hello",
        "description": "What was said.",
    }
    assert "top-secret-value" not in str(shown)


def test_a_name_redirects_to_the_canonical_url(api: Api) -> None:
    stack = _create(api)
    # Over before the test ends, so that no operation outlives it on the shared server.
    api.wait("web")
    found = api.get("/stacks/web")
    assert found.status_code == 302
    assert found.headers["location"].endswith(api.path(f"/stacks/web/{stack['id']}"))
    sub = api.get("/stacks/web/resources?nested_depth=1")
    assert sub.status_code == 302
    assert sub.headers["location"].endswith(f"/stacks/web/{stack['id']}/resources?nested_depth=1")
    mismatched = api.get(f"/stacks/other/{stack['id']}")
    assert mismatched.status_code == 404


def test_list_filters_sorts_pages_and_counts(api: Api) -> None:
    for name in ("alpha", "beta", "gamma"):
        _create(api, name, tags="blue" if name != "beta" else "red")
    for name in ("alpha", "beta", "gamma"):
        api.wait(name)
    listed = api.get("/stacks", params={"sort_keys": "stack_name", "sort_dir": "desc"}).json()
    assert [s["stack_name"] for s in listed["stacks"]] == ["gamma", "beta", "alpha"]
    blue = api.get("/stacks", params={"tags": "blue", "with_count": "true"}).json()
    assert sorted(s["stack_name"] for s in blue["stacks"]) == ["alpha", "gamma"]
    assert blue["count"] == 2
    first = api.get("/stacks", params={"sort_keys": "stack_name", "limit": 1}).json()["stacks"]
    assert [s["stack_name"] for s in first] == ["alpha"]
    after = api.get(
        "/stacks", params={"sort_keys": "stack_name", "limit": 5, "marker": first[0]["id"]}
    ).json()["stacks"]
    assert [s["stack_name"] for s in after] == ["beta", "gamma"]
    by_name = api.get("/stacks", params={"name": "beta"}).json()["stacks"]
    assert [s["stack_name"] for s in by_name] == ["beta"]


def test_a_listed_stack_in_heats_shape(api: Api) -> None:
    stack = _create(api, "shape", tags="b,a")
    api.wait("shape")
    [listed] = api.get("/stacks").json()["stacks"]
    assert listed == {
        "id": stack["id"],
        "links": stack["links"],
        "stack_name": "shape",
        "description": "",
        "stack_status": "CREATE_COMPLETE",
        "stack_status_reason": "Stack CREATE completed successfully",
        "creation_time": listed["creation_time"],
        "deletion_time": None,
        "updated_time": listed["updated_time"],
        "stack_owner": None,
        "parent": None,
        "stack_user_project_id": api.project,
        "tags": ["b", "a"],
        # Every caller is an admin with authentication off.
        "project": api.project,
    }
    heat_time = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    assert heat_time.fullmatch(listed["creation_time"]), listed["creation_time"]
    assert heat_time.fullmatch(listed["updated_time"]), listed["updated_time"]


def test_projects_do_not_see_each_others_stacks(server_api_pair: tuple[Api, Api]) -> None:
    mine, theirs = server_api_pair
    stack = _create(mine, "private")
    mine.wait("private")
    assert theirs.get("/stacks").json()["stacks"] == []
    assert theirs.get(f"/stacks/private/{stack['id']}").status_code == 404
    assert theirs.get("/stacks/private").status_code == 404
    assert theirs.delete(f"/stacks/private/{stack['id']}").status_code == 404


def _finished(api: Api, name: str, status: str) -> dict[str, object]:
    """The stack once its operation is over, which must have ended in ``status``."""
    shown = api.wait(name)
    assert shown["stack_status"] == status, shown["stack_status_reason"]
    return shown


def test_update_patch_preview_and_delete(api: Api) -> None:
    # Every step waits for the operation before it to be over, and checks how it ended:
    # a request made while an operation still runs would test something else.
    stack = _create(api)
    _finished(api, "web", "CREATE_COMPLETE")
    base = f"/stacks/web/{stack['id']}"
    preview = api.patch(f"{base}/preview", {"parameters": {"greeting": "bonjour"}})
    assert preview.status_code == 200, preview.text
    changes = preview.json()["resource_changes"]
    assert [r["resource_name"] for r in changes["updated"]] == ["said"]
    assert [r["resource_name"] for r in changes["unchanged"]] == ["random"]
    assert changes["added"] == changes["deleted"] == changes["replaced"] == []
    # A preview starts nothing.
    assert api.stack("web")["stack_status"] == "CREATE_COMPLETE"

    patched = api.patch(base, {"parameters": {"greeting": "bonjour"}})
    assert (patched.status_code, patched.content) == (202, b"")
    shown = _finished(api, "web", "UPDATE_COMPLETE")
    assert {o["output_key"]: o["output_value"] for o in shown["outputs"]}["said"] == "bonjour"

    replaced = dict(TEMPLATE, resources={"only": {"type": "OS::Heat::None"}}, outputs={})
    put = api.put(base, {"template": replaced, "parameters": {"secret": "x"}})
    assert put.status_code == 202, put.text
    _finished(api, "web", "UPDATE_COMPLETE")
    resources = api.get(f"{base}/template").json()["resources"]
    assert resources == {"only": {"type": "OS::Heat::None"}}

    deleted = api.delete(base)
    assert (deleted.status_code, deleted.content) == (204, b"")
    # The delete runs in the background: the stack leaves the list once it is over, and
    # the list of deleted stacks shows how it ended.
    until(lambda: api.get("/stacks").json()["stacks"] == [])
    gone = api.get("/stacks", params={"show_deleted": "true"}).json()["stacks"]
    assert [(s["id"], s["stack_status"]) for s in gone] == [(stack["id"], "DELETE_COMPLETE")]


def _names(api: Api, **query: str) -> list[str]:
    return sorted(s["stack_name"] for s in api.get("/stacks", params=query).json()["stacks"])


def test_update_tags_replace_the_stacks_a_patch_keeps_them_and_a_put_clears_them(
    api: Api,
) -> None:
    stack = _create(api, "tagged", tags="blue,green")
    assert api.wait("tagged")["tags"] == ["blue", "green"]
    path = f"/stacks/tagged/{stack['id']}"

    # As in Heat: a PATCH without tags keeps the stack's.
    assert api.patch(path, {"parameters": {"greeting": "hi"}}).status_code == 202
    assert api.wait("tagged")["tags"] == ["blue", "green"]
    # Previewing an update with tags changes nothing.
    assert api.patch(f"{path}/preview", {"tags": "red"}).status_code == 200
    assert api.stack("tagged")["tags"] == ["blue", "green"]

    # Tags given replace the stack's, as a comma-separated string or a list.
    assert api.patch(path, {"tags": "red"}).status_code == 202
    shown = api.wait("tagged")
    assert (shown["stack_status"], shown["tags"]) == ("UPDATE_COMPLETE", ["red"])
    assert _names(api, tags="red") == ["tagged"]
    assert _names(api, tags="blue") == _names(api, tags_any="blue,green") == []
    assert _names(api, not_tags="blue") == ["tagged"]
    body = {"template": TEMPLATE, "parameters": {"secret": "s"}}
    assert api.put(path, {**body, "tags": ["one", "two"]}).status_code == 202
    assert api.wait("tagged")["tags"] == ["one", "two"]
    [listed] = api.get("/stacks", params={"tags": "one,two"}).json()["stacks"]
    assert listed["tags"] == ["one", "two"]

    # A PUT without tags leaves the stack with none, as Heat's does.
    assert api.put(path, body).status_code == 202
    shown = api.wait("tagged")
    assert (shown["stack_status"], shown["tags"]) == ("UPDATE_COMPLETE", None)
    assert _names(api, tags_any="one,two,red,blue") == []
    assert _names(api, not_tags_any="one") == ["tagged"]


def test_a_bad_tags_value_refuses_the_update(api: Api) -> None:
    stack = _create(api, "tagged", tags="blue")
    api.wait("tagged")
    path = f"/stacks/tagged/{stack['id']}"
    for method in (api.put, api.patch):
        for target in (path, f"{path}/preview"):
            refused = method(target, {"template": TEMPLATE, "tags": {"not": "a list"}})
            error = error_of(refused, 400)
            assert error["message"] == (
                "tags must be a comma-separated string or a list of strings."
            )
    assert api.stack("tagged")["tags"] == ["blue"]


def test_an_update_that_changes_an_immutable_parameter_is_refused(api: Api) -> None:
    template = {
        "heat_template_version": "2014-10-16",
        "parameters": {
            "fixed": {"type": "string", "default": "one", "immutable": True},
            "free": {"type": "string", "default": "a", "immutable": False},
        },
        "outputs": {"fixed": {"value": {"get_param": "fixed"}}},
    }
    path = api.created("pinned", template, parameters={"fixed": "value1"})
    refused = api.put(path, {"template": template, "parameters": {"fixed": "value2"}})
    error = error_of(refused, 400)
    assert error["type"] == "ImmutableParameterModified"
    assert error["message"] == (
        "The following parameters are immutable and may not be updated: fixed"
    )
    shown = api.stack("pinned")
    assert shown["stack_status"] == "CREATE_COMPLETE"
    assert shown["outputs"][0]["output_value"] == "value1"

    # The same value again, or another value for a mutable parameter, is an update as usual.
    same = api.patch(path, {"parameters": {"fixed": "value1", "free": "b"}})
    assert same.status_code == 202, same.text
    assert api.wait("pinned")["stack_status"] == "UPDATE_COMPLETE"


def test_an_output_whose_condition_is_false_is_listed_and_shown_as_null(api: Api) -> None:
    child = {
        "heat_template_version": "2016-10-14",
        "parameters": {"env_type": {"type": "string"}},
        "conditions": {"prod": {"equals": [{"get_param": "env_type"}, "prod"]}},
        "outputs": {
            "cond": {"value": "world", "condition": "prod"},
            "chosen": {"value": {"if": ["prod", "prod", "test"]}},
        },
    }
    template = {
        "heat_template_version": "2016-10-14",
        "parameters": {"env_type": {"type": "string", "default": "test"}},
        "conditions": {"prod": {"equals": [{"get_param": "env_type"}, "prod"]}},
        "resources": {
            "nested": {"type": "child.yaml", "properties": {"env_type": {"get_param": "env_type"}}}
        },
        "outputs": {
            "cond": {
                "value": {"get_attr": ["nested", "cond"]},
                "condition": "prod",
                "description": "Only in production.",
            },
            "nested_cond": {"value": {"get_attr": ["nested", "cond"]}},
            "chosen": {"value": {"get_attr": ["nested", "chosen"]}},
        },
    }
    path = api.created("conditional", template, files={"child.yaml": json.dumps(child)})
    assert api.stack("conditional")["stack_status"] == "CREATE_COMPLETE"
    listed = api.get(f"{path}/outputs").json()["outputs"]
    assert {"output_key": "cond", "description": "Only in production."} in listed
    assert api.get(f"{path}/outputs/cond").json()["output"] == {
        "output_key": "cond",
        "output_value": None,
        "description": "Only in production.",
    }
    assert api.get(f"{path}/outputs/nested_cond").json()["output"]["output_value"] is None
    assert api.get(f"{path}/outputs/chosen").json()["output"]["output_value"] == "test"
    shown = {o["output_key"]: o for o in api.stack("conditional")["outputs"]}
    assert shown["cond"]["output_value"] is None and "output_error" not in shown["cond"]


def test_outputs_template_environment_files_export_and_abandon(api: Api) -> None:
    stack = _create(
        api,
        files={"env.yaml": "parameters: {greeting: hi}\n"},
        environment_files=["env.yaml"],
    )
    api.wait("web")
    base = f"/stacks/web/{stack['id']}"
    assert api.get(f"{base}/outputs").json() == {
        "outputs": [
            {"output_key": "said", "description": "What was said."},
            {"output_key": "length", "description": "No description given"},
        ]
    }
    said = api.get(f"{base}/outputs/said").json()["output"]
    assert said["output_value"] == "hi"
    assert api.get(f"{base}/outputs/nope").status_code == 404
    assert api.get(f"{base}/template").json()["description"] == "A small stack."
    assert api.get(f"{base}/environment").json()["parameters"] == {"greeting": "hi"}
    assert api.get(f"{base}/files").json() == {"env.yaml": "parameters: {greeting: hi}\n"}
    exported = api.get(f"{base}/export").json()
    assert sorted(exported["resources"]) == ["random", "said"]
    assert "top-secret-value" not in str(exported)

    abandoned = api.delete(f"{base}/abandon")
    assert abandoned.status_code == 200
    data = abandoned.json()
    assert api.get("/stacks").json()["stacks"] == []
    adopted = api.post("/stacks", {"stack_name": "again", "adopt_stack_data": data, "tags": "x,y"})
    assert adopted.status_code == 201, adopted.text
    shown = api.wait("again")
    assert shown["stack_status"] == "ADOPT_COMPLETE", shown["stack_status_reason"]
    assert shown["tags"] == ["x", "y"]


def test_adopt_data_that_cannot_make_a_stack_is_refused_saying_where(api: Api) -> None:
    cases = [
        ("{not json", "Invalid adopt data: Expecting property name enclosed in double quotes"),
        ('["a list"]', "adopt data: must be an object"),
        (json.dumps({"resources": {}}), "adopt data.template: a template is required"),
        (
            {"template": TEMPLATE, "resources": {"random": {"resource_id": "r1"}}},
            "adopt data.resources.said.resource_id: Resource ID was not provided.",
        ),
    ]
    for data, message in cases:
        body = {"stack_name": "taken", "adopt_stack_data": data, "parameters": {"secret": "s"}}
        error = error_of(api.post("/stacks", body), 400)
        assert error["type"] == "Invalid"
        assert error["message"].startswith(message), error["message"]
    assert api.get("/stacks").json()["stacks"] == []


def test_preview_create_lists_the_resources(api: Api) -> None:
    preview = api.post(
        "/stacks/preview",
        {"stack_name": "seen", "template": TEMPLATE, "parameters": {"secret": "s"}},
    )
    assert preview.status_code == 200, preview.text
    stack = preview.json()["stack"]
    assert stack["stack_name"] == "seen"
    assert sorted(r["resource_name"] for r in stack["resources"]) == ["random", "said"]
    assert api.get("/stacks").json()["stacks"] == []


def test_bad_requests_get_heat_shaped_errors_and_change_nothing(api: Api) -> None:
    missing_name = api.post("/stacks", {"template": TEMPLATE})
    assert missing_name.status_code == 400
    body = missing_name.json()
    assert body["code"] == 400 and body["title"] == "Bad Request"
    assert body["error"] == {
        "type": "Invalid",
        "message": "No stack name specified",
        "traceback": None,
    }

    invalid = api.post(
        "/stacks",
        {
            "stack_name": "broken",
            "template": BROKEN,
        },
    )
    assert invalid.status_code == 400
    error = invalid.json()["error"]
    assert error["type"] == "StackValidationFailed"
    first = error["diagnostics"][0]
    assert (first["code"], first["path"], first["line"]) == (
        "R4002",
        "resources.x.properties.value.get_param",
        5,
    )

    not_json = api.http.post(
        api.path("/stacks"), content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert not_json.json()["error"]["type"] == "Invalid"

    url = api.post("/stacks", {"stack_name": "fetch", "template_url": "http://example.com/t"})
    assert url.status_code == 400
    assert "fetches no URLs" in url.json()["error"]["message"]

    big = api.http.post(
        api.path("/stacks"),
        content=b"{" + b" " * (1024 * 1024 + 10) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert big.status_code == 400
    assert big.json()["error"]["type"] == "RequestLimitExceeded"

    _create(api, "taken")
    clash = api.post("/stacks", {"stack_name": "taken", "template": TEMPLATE})
    assert clash.status_code == 409
    assert clash.json()["error"]["type"] == "StackExists"
    assert [s["stack_name"] for s in api.get("/stacks").json()["stacks"]] == ["taken"]
    api.wait("taken")

    hidden = api.post(
        "/stacks",
        {
            "stack_name": "hide",
            "template": TEMPLATE,
            "parameters": {"secret": ["sekrit-item"]},
        },
    )
    assert hidden.status_code == 400
    assert "sekrit-item" not in hidden.text


def test_build_info_and_versions(api: Api) -> None:
    info = api.get("/build_info").json()
    assert set(info) == {"api", "engine"}
    answer = api.http.get("/")
    assert answer.status_code == 300
    versions = answer.json()["versions"]
    assert versions[0]["id"] == "v1.0"
    assert versions[0]["links"] == [
        {"rel": "self", "href": f"{api.http.base_url}".rstrip("/") + "/v1/"}
    ]


def test_adopt_takes_provider_templates_from_the_requests_files(api: Api) -> None:
    provider = {
        "heat_template_version": "2013-05-23",
        "resources": {"RealRandom": {"type": "OS::Heat::RandomString"}},
        "outputs": {"the_str": {"value": {"get_attr": ["RealRandom", "value"]}}},
    }
    data = {
        "template": {
            "heat_template_version": "2013-05-23",
            "resources": {"the_nested": {"type": "the.yaml"}},
            "outputs": {"value": {"value": {"get_attr": ["the_nested", "the_str"]}}},
        },
        "resources": {
            "the_nested": {
                "type": "the.yaml",
                "resources": {
                    "RealRandom": {
                        "type": "OS::Heat::RandomString",
                        "resource_id": "froggy",
                        "resource_data": {"value": "goopie"},
                    }
                },
            }
        },
    }
    adopted = api.post(
        "/stacks",
        {
            "stack_name": "taken-over",
            "adopt_stack_data": json.dumps(data),
            "files": {"the.yaml": json.dumps(provider)},
        },
    )
    assert adopted.status_code == 201, adopted.text
    shown = api.wait("taken-over")
    assert shown["stack_status"] == "ADOPT_COMPLETE", shown["stack_status_reason"]
    assert [(o["output_key"], o["output_value"]) for o in shown["outputs"]] == [("value", "goopie")]

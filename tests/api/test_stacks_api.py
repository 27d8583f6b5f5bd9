"""Heat's stack routes over real HTTP against a real ``kiln serve``."""

from __future__ import annotations

import re

from api_support import Api

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


def test_projects_do_not_see_each_others_stacks(server_api_pair: tuple[Api, Api]) -> None:
    mine, theirs = server_api_pair
    stack = _create(mine, "private")
    assert theirs.get("/stacks").json()["stacks"] == []
    assert theirs.get(f"/stacks/private/{stack['id']}").status_code == 404
    assert theirs.get("/stacks/private").status_code == 404
    assert theirs.delete(f"/stacks/private/{stack['id']}").status_code == 404


def test_update_patch_preview_and_delete(api: Api) -> None:
    stack = _create(api)
    api.wait("web")
    base = f"/stacks/web/{stack['id']}"
    preview = api.patch(f"{base}/preview", {"parameters": {"greeting": "bonjour"}})
    assert preview.status_code == 200, preview.text
    changes = preview.json()["resource_changes"]
    assert [r["resource_name"] for r in changes["updated"]] == ["said"]
    assert [r["resource_name"] for r in changes["unchanged"]] == ["random"]
    assert changes["added"] == changes["deleted"] == changes["replaced"] == []

    patched = api.patch(base, {"parameters": {"greeting": "bonjour"}})
    assert (patched.status_code, patched.content) == (202, b"")
    shown = api.wait("web")
    assert shown["stack_status"] == "UPDATE_COMPLETE"
    assert {o["output_key"]: o["output_value"] for o in shown["outputs"]}["said"] == "bonjour"

    replaced = dict(TEMPLATE, resources={"only": {"type": "OS::Heat::None"}}, outputs={})
    put = api.put(base, {"template": replaced, "parameters": {"secret": "x"}})
    assert put.status_code == 202
    assert api.wait("web")["stack_status"] == "UPDATE_COMPLETE"
    resources = api.get(f"{base}/template").json()["resources"]
    assert resources == {"only": {"type": "OS::Heat::None"}}

    deleted = api.delete(base)
    assert deleted.status_code == 204
    api.wait("web") if api.get("/stacks/web").status_code == 302 else None
    assert api.get("/stacks").json()["stacks"] == []


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
            {"output_key": "length", "description": ""},
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
    adopted = api.post("/stacks", {"stack_name": "again", "adopt_stack_data": data})
    assert adopted.status_code == 201, adopted.text
    shown = api.wait("again")
    assert shown["stack_status"] == "ADOPT_COMPLETE", shown["stack_status_reason"]


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
    assert big.status_code == 413
    assert big.json()["error"]["type"] == "RequestLimitExceeded"

    _create(api, "taken")
    clash = api.post("/stacks", {"stack_name": "taken", "template": TEMPLATE})
    assert clash.status_code == 409
    assert clash.json()["error"]["type"] == "StackExists"
    assert [s["stack_name"] for s in api.get("/stacks").json()["stacks"]] == ["taken"]

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
    versions = api.http.get("/").json()["versions"]
    assert versions[0]["id"] == "v1.0"

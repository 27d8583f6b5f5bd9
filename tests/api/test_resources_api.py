"""Heat's resource routes over real HTTP against a real ``kiln serve``."""

from __future__ import annotations

import json

from api_support import CHILD, Api, error_of, until

SECRET = "resource-secret-value"

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "parameters": {
        "secret": {"type": "string", "hidden": True},
        "greeting": {"type": "string", "default": "hello"},
    },
    "resources": {
        "random": {
            "type": "OS::Heat::RandomString",
            "description": "Some randomness.",
            "properties": {"length": 12},
        },
        "said": {
            "type": "OS::Heat::Value",
            "depends_on": ["random"],
            "metadata": {"greeting": {"get_param": "greeting"}, "key": {"get_param": "secret"}},
            "properties": {"value": {"get_param": "secret"}},
        },
        "child": {"type": "OS::Heat::Stack", "properties": {"template": json.dumps(CHILD)}},
    },
    "outputs": {"random": {"value": {"get_attr": ["random", "value"]}}},
}

LIST_KEYS = {
    "resource_name",
    "logical_resource_id",
    "physical_resource_id",
    "resource_type",
    "resource_status",
    "resource_status_reason",
    "creation_time",
    "updated_time",
    "required_by",
    "links",
}


def _stack(api: Api, name: str = "web") -> str:
    return api.created(name, TEMPLATE, parameters={"secret": SECRET})


def _resources(api: Api, base: str, **params: object) -> dict[str, dict[str, object]]:
    answer = api.get(f"{base}/resources", params=params)
    assert answer.status_code == 200, answer.text
    assert SECRET not in answer.text
    return {r["resource_name"]: r for r in answer.json()["resources"]}


def test_list_gives_heat_keys_dependents_and_links(api: Api) -> None:
    base = _stack(api)
    resources = _resources(api, base)
    assert sorted(resources) == ["child", "random", "said"]
    for resource in resources.values():
        assert set(resource) == LIST_KEYS
        assert resource["resource_status"] == "CREATE_COMPLETE"
    assert resources["random"]["required_by"] == ["said"]
    assert resources["said"]["resource_type"] == "OS::Heat::Value"
    stack_url = f"{api.http.base_url}".rstrip("/") + api.path(base)
    assert resources["said"]["links"] == [
        {"href": f"{stack_url}/resources/said", "rel": "self"},
        {"href": stack_url, "rel": "stack"},
    ]
    nested = resources["child"]["links"][2]
    assert nested["rel"] == "nested"
    assert nested["href"].endswith(f"/{resources['child']['physical_resource_id']}")


def test_nested_depth_lists_nested_resources_under_their_parent(api: Api) -> None:
    base = _stack(api)
    top = _resources(api, base)
    nested = _resources(api, base, nested_depth=1)
    assert sorted(nested) == ["child", "inner", "random", "said"]
    inner = nested["inner"]
    assert inner["parent_resource"] == "child"
    assert all("parent_resource" not in top[name] for name in top)
    inner_links = {link["rel"]: link["href"] for link in inner["links"]}
    child_links = {link["rel"]: link["href"] for link in top["child"]["links"]}
    assert inner_links["stack"] == child_links["nested"]


def test_filters_and_detail(api: Api) -> None:
    base = _stack(api)
    assert sorted(_resources(api, base, name="said")) == ["said"]
    assert sorted(_resources(api, base, type="Heat::Random")) == ["random"]
    both = api.get(f"{base}/resources", params=[("name", "said"), ("name", "random")])
    assert sorted(r["resource_name"] for r in both.json()["resources"]) == ["random", "said"]
    assert len(_resources(api, base, status="CREATE_COMPLETE")) == 3
    assert len(_resources(api, base, status="COMPLETE", action="CREATE")) == 3
    assert _resources(api, base, status="FAILED") == {}
    assert _resources(api, base, action="UPDATE") == {}
    detailed = _resources(api, base, with_detail="true")
    assert detailed["random"]["description"] == "Some randomness."
    assert detailed["said"]["attributes"] == {"value": "******"}
    assert len(str(detailed["random"]["attributes"]["value"])) == 12

    assert "bogus" in error_of(api.get(f"{base}/resources?bogus=1"), 400)["message"]
    error_of(api.get(f"{base}/resources?nested_depth=deep"), 400)
    error_of(api.get(f"{base}/resources?with_detail=maybe"), 400)


def test_show_reads_attributes_live_and_masks_hidden_values(api: Api) -> None:
    base = _stack(api)
    shown = api.get(f"{base}/resources/random")
    assert shown.status_code == 200, shown.text
    resource = shown.json()["resource"]
    assert set(resource) == LIST_KEYS | {"description", "attributes"}
    assert resource["description"] == "Some randomness."
    outputs = {o["output_key"]: o["output_value"] for o in api.stack("web")["outputs"]}
    assert resource["attributes"]["value"] == outputs["random"]

    said = api.get(f"{base}/resources/said")
    assert said.json()["resource"]["attributes"] == {"value": "******"}
    assert SECRET not in said.text

    assert error_of(api.get(f"{base}/resources/nope"), 404)["type"] == "EntityNotFound"
    stack_id = base.rsplit("/", 1)[1]
    error_of(api.get(f"/stacks/other/{stack_id}/resources/random"), 404)
    error_of(api.get("/stacks/web/00000000-0000-0000-0000-000000000000/resources"), 404)


def test_metadata_is_resolved_with_hidden_values_masked(api: Api) -> None:
    base = _stack(api)
    metadata = api.get(f"{base}/resources/said/metadata")
    assert metadata.status_code == 200
    assert metadata.json() == {"metadata": {"greeting": "hello", "key": "******"}}
    assert api.get(f"{base}/resources/random/metadata").json() == {"metadata": {}}
    error_of(api.get(f"{base}/resources/nope/metadata"), 404)


WAITING = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "handle": {"type": "OS::Heat::WaitConditionHandle"},
        "wait": {
            "type": "OS::Heat::WaitCondition",
            "properties": {"handle": {"get_resource": "handle"}, "timeout": 30},
        },
    },
    "outputs": {"data": {"value": {"get_attr": ["wait", "data"]}}},
}


def test_a_signal_completes_a_wait_condition(api: Api) -> None:
    created = api.post("/stacks", {"stack_name": "waits", "template": WAITING})
    base = f"/stacks/waits/{created.json()['stack']['id']}"
    until(lambda: api.stack("waits")["stack_status"] == "CREATE_IN_PROGRESS")
    until(lambda: _resources(api, base).get("handle", {}).get("physical_resource_id"))
    error_of(api.post(f"{base}/resources/nope/signal", {"status": "SUCCESS"}), 404)
    signalled = api.post(f"{base}/resources/handle/signal", {"data": "ready", "id": "1"})
    assert signalled.status_code == 200, signalled.text
    assert signalled.json()["data"] == "ready"
    shown = api.wait("waits")
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    assert json.loads(shown["outputs"][0]["output_value"]) == {"1": "ready"}
    refused = error_of(api.post(f"{base}/resources/wait/signal", {"x": 1}), 400)
    assert "wait" in refused["message"]


HOOKED = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "first": {"type": "OS::Heat::None"},
        "held": {"type": "OS::Heat::None", "depends_on": ["first"]},
    },
}


def test_a_hook_is_cleared_through_the_signal_route(api: Api) -> None:
    environment = {"resource_registry": {"resources": {"held": {"hooks": "pre-create"}}}}
    created = api.post(
        "/stacks", {"stack_name": "hooked", "template": HOOKED, "environment": environment}
    )
    assert created.status_code == 201, created.text
    base = f"/stacks/hooked/{created.json()['stack']['id']}"
    paused = "paused until Hook pre-create is cleared"
    until(
        lambda: any(
            e["resource_status_reason"] == paused
            for e in api.get(f"{base}/events").json()["events"]
        )
    )
    assert api.stack("hooked")["stack_status"] == "CREATE_IN_PROGRESS"
    error_of(api.post(f"{base}/resources/nope/signal", {"unset_hook": "pre-create"}), 404)
    error_of(api.post(f"{base}/resources/held/signal", {"unset_hook": "pre-lunch"}), 400)
    cleared = api.post(f"{base}/resources/held/signal", {"unset_hook": "pre-create"})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json() == {"unset_hook": "pre-create"}
    assert api.wait("hooked")["stack_status"] == "CREATE_COMPLETE"
    assert _resources(api, base)["held"]["resource_status"] == "CREATE_COMPLETE"


def test_mark_unhealthy_then_an_update_replaces_the_resource(api: Api) -> None:
    base = _stack(api)
    before = _resources(api, base)["random"]
    marked = api.patch(
        f"{base}/resources/random",
        {"mark_unhealthy": True, "resource_status_reason": "it looks broken"},
    )
    assert (marked.status_code, marked.content) == (200, b"")
    random = _resources(api, base)["random"]
    assert (random["resource_status"], random["resource_status_reason"]) == (
        "CHECK_FAILED",
        "it looks broken",
    )
    healthy = api.patch(f"{base}/resources/random", {"mark_unhealthy": "false"})
    assert healthy.status_code == 200
    assert _resources(api, base)["random"]["resource_status"] == "CHECK_COMPLETE"
    api.patch(f"{base}/resources/random", {"mark_unhealthy": True})

    assert api.patch(base, {}).status_code == 202
    assert api.wait("web")["stack_status"] == "UPDATE_COMPLETE"
    after = _resources(api, base)["random"]
    assert after["resource_status"] == "CREATE_COMPLETE"
    assert after["physical_resource_id"] != before["physical_resource_id"]

    error_of(api.patch(f"{base}/resources/random", {}), 400)
    error_of(api.patch(f"{base}/resources/random", {"mark_unhealthy": True, "extra": 1}), 400)
    error_of(api.patch(f"{base}/resources/random", {"mark_unhealthy": "perhaps"}), 400)
    error_of(api.patch(f"{base}/resources/nope", {"mark_unhealthy": True}), 404)


def test_other_projects_see_none_of_a_stacks_resources_events_or_snapshots(
    server_api_pair: tuple[Api, Api],
) -> None:
    mine, theirs = server_api_pair
    base = _stack(mine)
    for path in ("/resources", "/resources/random", "/events", "/snapshots"):
        error_of(theirs.get(f"{base}{path}"), 404)
    error_of(theirs.post(f"{base}/actions", {"suspend": None}), 404)
    error_of(theirs.post(f"{base}/resources/random/signal", {"x": 1}), 404)
    error_of(theirs.patch(f"{base}/resources/random", {"mark_unhealthy": True}), 404)
    assert _resources(mine, base)["random"]["resource_status"] == "CREATE_COMPLETE"

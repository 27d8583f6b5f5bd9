"""Heat's stack snapshot routes over real HTTP against a real ``kiln serve``."""

from __future__ import annotations

from api_support import Api, error_of

SECRET = "snapshot-secret-value"

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "parameters": {
        "greeting": {"type": "string", "default": "hello"},
        "secret": {"type": "string", "hidden": True},
    },
    "resources": {
        "said": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "greeting"}}},
        "kept": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "secret"}}},
    },
    "outputs": {"said": {"value": {"get_attr": ["said", "value"]}}},
}

SNAPSHOT_KEYS = {"id", "name", "action", "status", "status_reason", "creation_time", "data"}


def _said(api: Api, name: str) -> object:
    return {o["output_key"]: o["output_value"] for o in api.wait(name)["outputs"]}["said"]


def test_take_list_show_and_delete(api: Api) -> None:
    base = api.created("web", TEMPLATE, parameters={"secret": SECRET})
    taken = api.post(f"{base}/snapshots", {"name": "before"})
    assert taken.status_code == 200, taken.text
    snapshot = taken.json()
    assert set(snapshot) == SNAPSHOT_KEYS
    assert (snapshot["name"], snapshot["status"]) == ("before", "IN_PROGRESS")
    assert api.wait("web")["stack_status"] == "SNAPSHOT_COMPLETE"

    listed = api.get(f"{base}/snapshots")
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["snapshots"]] == [snapshot["id"]]
    shown = api.get(f"{base}/snapshots/{snapshot['id']}")
    assert shown.status_code == 200
    complete = shown.json()["snapshot"]
    assert set(complete) == SNAPSHOT_KEYS and complete["status"] == "COMPLETE"
    assert sorted(complete["data"]["resources"]) == ["kept", "said"]
    for answer in (taken, listed, shown):
        assert SECRET not in answer.text

    deleted = api.delete(f"{base}/snapshots/{snapshot['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert api.get(f"{base}/snapshots").json() == {"snapshots": []}
    error_of(api.get(f"{base}/snapshots/{snapshot['id']}"), 404)
    error_of(api.delete(f"{base}/snapshots/{snapshot['id']}"), 404)


def test_restore_returns_the_stack_to_the_snapshot(api: Api) -> None:
    base = api.created("web", TEMPLATE, parameters={"secret": SECRET}, tags="kept")
    snapshot = api.post(f"{base}/snapshots", {"name": "hello"}).json()
    api.wait("web")
    assert api.patch(base, {"parameters": {"greeting": "bonjour"}}).status_code == 202
    assert _said(api, "web") == "bonjour"

    restored = api.post(f"{base}/snapshots/{snapshot['id']}/restore")
    assert (restored.status_code, restored.content) == (202, b"")
    shown = api.wait("web")
    assert shown["stack_status"] == "RESTORE_COMPLETE", shown["stack_status_reason"]
    assert _said(api, "web") == "hello"
    assert shown["parameters"]["secret"] == "******"
    # As in Heat, a restore keeps the stack's tags.
    assert shown["tags"] == ["kept"]


def test_unknown_snapshots_stacks_and_bad_bodies(api: Api) -> None:
    base = api.created("web", TEMPLATE, parameters={"secret": SECRET})
    unknown = "00000000-0000-0000-0000-000000000000"
    assert error_of(api.get(f"{base}/snapshots/{unknown}"), 404)["type"] == "EntityNotFound"
    error_of(api.post(f"{base}/snapshots/{unknown}/restore"), 404)
    error_of(api.post(f"{base}/snapshots", {"name": ["not", "a", "name"]}), 400)
    error_of(api.get(f"/stacks/web/{unknown}/snapshots"), 404)
    error_of(api.post(f"/stacks/web/{unknown}/snapshots", {}), 404)
    unnamed = api.post(f"{base}/snapshots")
    assert unnamed.status_code == 200 and unnamed.json()["name"] is None
    api.wait("web")

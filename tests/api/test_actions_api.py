"""Heat's stack actions over real HTTP against a real ``kiln serve``."""

from __future__ import annotations

import json

from api_support import CHILD, Api, error_of, until

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "network": {"type": "OS::Heat::None"},
        "server": {"type": "OS::Heat::TestResource", "depends_on": ["network"]},
        "child": {"type": "OS::Heat::Stack", "properties": {"template": json.dumps(CHILD)}},
    },
}


def _slow(value: str, wait_secs: float) -> dict[str, object]:
    properties = {"value": value, "wait_secs": wait_secs}
    return {
        "heat_template_version": "2018-08-31",
        "resources": {"slow": {"type": "OS::Heat::TestResource", "properties": properties}},
    }


def _states(api: Api, base: str, nested_depth: int = 0) -> dict[str, str]:
    query = {"nested_depth": nested_depth}
    resources = api.get(f"{base}/resources", params=query).json()["resources"]
    return {r["resource_name"]: r["resource_status"] for r in resources}


def _act(api: Api, base: str, action: str) -> None:
    answer = api.post(f"{base}/actions", {action: None})
    assert (answer.status_code, answer.content) == (200, b""), answer.text


def test_suspend_resume_and_check(api: Api) -> None:
    base = api.created("web", TEMPLATE)
    _act(api, base, "suspend")
    shown = api.wait("web")
    assert (shown["stack_status"], shown["stack_status_reason"]) == (
        "SUSPEND_COMPLETE",
        "Stack SUSPEND completed successfully",
    )
    assert set(_states(api, base, nested_depth=1).values()) == {"SUSPEND_COMPLETE"}

    _act(api, base, "resume")
    assert api.wait("web")["stack_status"] == "RESUME_COMPLETE"
    assert set(_states(api, base, nested_depth=1).values()) == {"RESUME_COMPLETE"}
    resumed_again = error_of(api.post(f"{base}/actions", {"resume": None}), 400)
    assert "not suspended" in resumed_again["message"]

    _act(api, base, "check")
    assert api.wait("web")["stack_status"] == "CHECK_COMPLETE"
    assert set(_states(api, base).values()) == {"CHECK_COMPLETE"}


def test_bad_action_bodies_and_unknown_stacks(api: Api) -> None:
    base = api.created("web", TEMPLATE)
    path = f"{base}/actions"
    assert error_of(api.post(path, {}), 400)["message"] == "No action specified"
    assert error_of(api.post(path), 400)["message"] == "No action specified"
    two = api.post(path, {"suspend": None, "resume": None})
    assert error_of(two, 400)["message"] == "Multiple actions specified"
    assert error_of(api.post(path, {"explode": None}), 400)["message"] == (
        "Invalid action explode specified"
    )
    error_of(api.post(path, ["suspend"]), 400)
    unknown = "/stacks/web/00000000-0000-0000-0000-000000000000/actions"
    error_of(api.post(unknown, {"check": None}), 404)
    nothing_to_cancel = error_of(api.post(path, {"cancel_update": None}), 400)
    assert "not supported" in nothing_to_cancel["message"]
    assert api.wait("web")["stack_status"] == "CREATE_COMPLETE"


def test_a_name_alone_redirects_to_the_stacks_actions(api: Api) -> None:
    base = api.created("web", TEMPLATE)
    found = api.post("/stacks/web/actions", {"check": None})
    assert found.status_code == 302
    assert found.headers["location"].endswith(api.path(f"{base}/actions"))
    error_of(api.post("/stacks/nowhere/actions", {"check": None}), 404)


def test_cancel_update_rolls_back_the_update_in_progress(api: Api) -> None:
    base = api.created("slow", _slow("first", 0), disable_rollback=False)
    updating = api.put(base, {"template": _slow("second", -1)})
    assert updating.status_code == 202
    until(lambda: _states(api, base).get("slow") == "UPDATE_IN_PROGRESS")
    _act(api, base, "cancel_update")
    shown = api.wait("slow")
    assert shown["stack_status"] == "ROLLBACK_COMPLETE", shown["stack_status_reason"]
    template = api.get(f"{base}/template").json()
    assert template["resources"]["slow"]["properties"]["value"] == "first"


def test_cancel_without_rollback_stops_the_create(api: Api) -> None:
    created = api.post(
        "/stacks", {"stack_name": "stuck", "template": _slow("x", -1), "disable_rollback": False}
    )
    base = f"/stacks/stuck/{created.json()['stack']['id']}"
    until(lambda: _states(api, base).get("slow") == "CREATE_IN_PROGRESS")
    _act(api, base, "cancel_without_rollback")
    shown = api.wait("stuck")
    assert (shown["stack_status"], shown["stack_status_reason"]) == (
        "CREATE_FAILED",
        "Stack CREATE cancelled",
    )

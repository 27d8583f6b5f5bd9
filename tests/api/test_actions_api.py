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


def test_check_of_a_failed_create_checks_what_exists_and_shows_the_rest_init(api: Api) -> None:
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "fine": {"type": "OS::Heat::TestResource"},
            "broken": {"type": "OS::Heat::TestResource", "properties": {"fail": True}},
            "after": {"type": "OS::Heat::TestResource", "depends_on": ["broken"]},
            "off": {"type": "OS::Heat::None", "condition": "never"},
        },
        "conditions": {"never": {"equals": [1, 2]}},
    }
    base = api.created("failed", template, disable_rollback=True)
    assert api.stack("failed")["stack_status"] == "CREATE_FAILED"
    never_made = api.get(f"{base}/resources/after")
    assert never_made.status_code == 200, never_made.text
    assert never_made.json()["resource"]["resource_status"] == "INIT_COMPLETE"
    # A resource its condition leaves out is not part of the stack at all.
    error_of(api.get(f"{base}/resources/off"), 404)

    _act(api, base, "check")
    assert api.wait("failed")["stack_status"] == "CHECK_FAILED"
    shown = {
        name: api.get(f"{base}/resources/{name}").json()["resource"]["resource_status"]
        for name in ("fine", "broken", "after")
    }
    assert shown == {"fine": "CHECK_COMPLETE", "broken": "CHECK_FAILED", "after": "INIT_COMPLETE"}


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


def _pair(value: str, waits: dict[str, float]) -> dict[str, object]:
    """``first`` (waiting as ``waits`` says) and ``second``, which depends on it."""
    first = {"value": value, "action_wait_secs": waits}
    return {
        "heat_template_version": "pike",
        "resources": {
            "first": {"type": "OS::Heat::TestResource", "properties": first},
            "second": {
                "type": "OS::Heat::TestResource",
                "properties": {"value": value},
                "depends_on": ["first"],
            },
        },
    }


def test_cancel_update_rolls_back_even_when_failures_would_not(api: Api) -> None:
    base = api.created("pair", _pair("before", {"update": 1}))
    updating = api.put(base, {"template": _pair("after", {"update": 1}), "disable_rollback": True})
    assert updating.status_code == 202, updating.text
    until(lambda: _states(api, base).get("first") == "UPDATE_IN_PROGRESS")
    _act(api, base, "cancel_update")
    shown = api.wait("pair")
    assert shown["stack_status"] == "ROLLBACK_COMPLETE", shown["stack_status_reason"]
    template = api.get(f"{base}/template").json()
    assert template["resources"]["first"]["properties"]["value"] == "before"
    assert _states(api, base) == {"first": "UPDATE_COMPLETE", "second": "CREATE_COMPLETE"}
    # The interrupted update may have changed the resource: the rollback changes it back.
    first = api.get(f"{base}/resources/first").json()["resource"]
    assert first["attributes"]["output"] == "before"


def test_cancel_without_rollback_lets_the_update_in_flight_finish(api: Api) -> None:
    base = api.created("pair", _pair("before", {"update": 1}))
    updating = api.put(base, {"template": _pair("after", {"update": 1})})
    assert updating.status_code == 202, updating.text
    until(lambda: _states(api, base).get("first") == "UPDATE_IN_PROGRESS")
    _act(api, base, "cancel_without_rollback")
    shown = api.stack("pair")
    assert (shown["stack_status"], shown["stack_status_reason"]) == (
        "UPDATE_FAILED",
        "Stack UPDATE cancelled",
    )
    until(lambda: _states(api, base).get("first") == "UPDATE_COMPLETE", timeout=10)
    # Nothing starts after the cancel: the dependent resource is never updated.
    assert _states(api, base) == {"first": "UPDATE_COMPLETE", "second": "CREATE_COMPLETE"}
    assert api.stack("pair")["stack_status"] == "UPDATE_FAILED"


def test_cancel_without_rollback_lets_the_create_in_flight_finish(api: Api) -> None:
    created = api.post("/stacks", {"stack_name": "pair", "template": _pair("x", {"create": 1})})
    base = f"/stacks/pair/{created.json()['stack']['id']}"
    until(lambda: _states(api, base).get("first") == "CREATE_IN_PROGRESS")
    _act(api, base, "cancel_without_rollback")
    assert api.stack("pair")["stack_status"] == "CREATE_FAILED"
    until(lambda: _states(api, base).get("first") == "CREATE_COMPLETE", timeout=10)
    second = api.get(f"{base}/resources/second").json()["resource"]
    assert second["resource_status"] == "INIT_COMPLETE"
    # Another operation may follow at once, and takes over.
    deleted = api.delete(base)
    assert deleted.status_code == 204, deleted.text


def test_cancel_without_rollback_stops_the_nested_stacks_in_progress_too(api: Api) -> None:
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "child": {
                "type": "OS::Heat::Stack",
                "properties": {"template": json.dumps(_pair("x", {"create": 1}))},
            }
        },
    }
    created = api.post("/stacks", {"stack_name": "outer", "template": template})
    base = f"/stacks/outer/{created.json()['stack']['id']}"
    until(lambda: _states(api, base, nested_depth=1).get("first") == "CREATE_IN_PROGRESS")
    _act(api, base, "cancel_without_rollback")
    assert api.stack("outer")["stack_status"] == "CREATE_FAILED"
    child_id = api.get(f"{base}/resources/child").json()["resource"]["physical_resource_id"]
    child = api.get(f"/stacks/{child_id}", follow_redirects=True).json()["stack"]
    assert (child["stack_status"], child["stack_status_reason"]) == (
        "CREATE_FAILED",
        "Stack CREATE cancelled",
    )
    # What was in progress finishes; what had not started never starts.
    until(lambda: _states(api, base, nested_depth=1).get("first") == "CREATE_COMPLETE")
    assert _states(api, base, nested_depth=1).get("second") is None
    until(lambda: _states(api, base).get("child") == "CREATE_FAILED")


def _with_input(resources: dict[str, object], output: object = None) -> str:
    template: dict[str, object] = {
        "heat_template_version": "queens",
        "parameters": {"input": {"type": "string"}},
        "resources": resources,
    }
    if output is not None:
        template["outputs"] = {"delay_stack": {"value": output}}
    return json.dumps(template)


def test_an_update_preempts_a_nested_update_in_progress(api: Api) -> None:
    passed = {"input": {"get_param": "input"}}
    root = _with_input(
        {"nested_stack": {"type": "preempt.yaml", "properties": passed}},
        {"get_attr": ["nested_stack", "delay_stack"]},
    )
    delay = {
        "type": "OS::Heat::TestResource",
        "properties": {"action_wait_secs": {"update": -1}, "value": {"get_param": "input"}},
    }
    files = {
        "preempt.yaml": _with_input(
            {"delay_stack": {"type": "delay.yaml", "properties": passed}},
            {"get_resource": "delay_stack"},
        ),
        "delay.yaml": _with_input({"delay_resource": delay}),
    }
    base = api.created("root", json.loads(root), files=files, parameters={"input": "foo"})
    assert api.stack("root")["stack_status"] == "CREATE_COMPLETE"
    updating = api.put(
        base, {"template": json.loads(root), "files": files, "parameters": {"input": "bar"}}
    )
    assert updating.status_code == 202, updating.text
    # The output is the innermost stack's ARN, which names it in a URL as well.
    arn = api.get(f"{base}/outputs/delay_stack").json()["output"]["output_value"]
    assert arn.startswith("arn:openstack:heat::")

    def delay_status() -> str:
        found = api.get(f"/stacks/{arn}/resources/delay_resource", follow_redirects=True)
        assert found.status_code == 200, found.text
        return str(found.json()["resource"]["resource_status"])

    until(lambda: delay_status() == "UPDATE_IN_PROGRESS")

    # The resource waits until its operation is cancelled: only preemption ends it.
    emptied = {"preempt.yaml": _with_input({})}
    again = api.put(
        base, {"template": json.loads(root), "files": emptied, "parameters": {"input": "baz"}}
    )
    assert again.status_code == 202, again.text
    shown = api.wait("root")
    assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
    assert _states(api, base, nested_depth=2) == {"nested_stack": "UPDATE_COMPLETE"}

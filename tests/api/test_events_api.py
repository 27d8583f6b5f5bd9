"""Heat's event routes over real HTTP against a real ``kiln serve``."""

from __future__ import annotations

import json

from api_support import CHILD, Api, error_of

SECRET = "event-secret-value"

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "parameters": {"secret": {"type": "string", "hidden": True}},
    "resources": {
        "first": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "secret"}}},
        "second": {"type": "OS::Heat::None", "depends_on": ["first"]},
        "child": {"type": "OS::Heat::Stack", "properties": {"template": json.dumps(CHILD)}},
    },
}

SUMMARY_KEYS = {
    "id",
    "event_time",
    "resource_name",
    "logical_resource_id",
    "physical_resource_id",
    "resource_type",
    "resource_status",
    "resource_status_reason",
    "links",
}


def _events(api: Api, path: str, **params: object) -> list[dict[str, object]]:
    answer = api.get(path, params=params)
    assert answer.status_code == 200, answer.text
    assert SECRET not in answer.text
    events: list[dict[str, object]] = answer.json()["events"]
    return events


def _stack(api: Api, name: str = "web") -> str:
    return api.created(name, TEMPLATE, parameters={"secret": SECRET})


def test_stack_events_oldest_first_in_heats_shape(api: Api) -> None:
    base = _stack(api)
    events = _events(api, f"{base}/events")
    assert all(set(event) == SUMMARY_KEYS for event in events)
    first, last = events[0], events[-1]
    assert (first["resource_name"], first["resource_status"]) == ("web", "CREATE_IN_PROGRESS")
    assert (last["resource_name"], last["resource_status"]) == ("web", "CREATE_COMPLETE")
    assert first["resource_type"] == "OS::Heat::Stack"
    times = [str(event["event_time"]) for event in events]
    assert times == sorted(times)
    stack_url = f"{api.http.base_url}".rstrip("/") + api.path(base)
    second = next(e for e in events if e["resource_name"] == "second")
    assert second["links"] == [
        {"href": f"{stack_url}/resources/second/events/{second['id']}", "rel": "self"},
        {"href": f"{stack_url}/resources/second", "rel": "resource"},
        {"href": stack_url, "rel": "stack"},
    ]
    states = [(e["resource_name"], e["resource_status"]) for e in events]
    assert states.index(("first", "CREATE_COMPLETE")) < states.index(
        ("second", "CREATE_IN_PROGRESS")
    )


def test_filters(api: Api) -> None:
    base = _stack(api)
    path = f"{base}/events"
    second = _events(api, path, resource_name="second")
    assert [e["resource_status"] for e in second] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    done = _events(api, path, resource_status="COMPLETE")
    assert done and all(str(e["resource_status"]).endswith("_COMPLETE") for e in done)
    assert _events(api, path, resource_status="CREATE_COMPLETE") == done
    assert _events(api, path, resource_action="UPDATE") == []
    values = _events(api, path, resource_type="OS::Heat::Value")
    assert {e["resource_name"] for e in values} == {"first"}
    both = api.get(path, params=[("resource_name", "first"), ("resource_name", "second")])
    assert {e["resource_name"] for e in both.json()["events"]} == {"first", "second"}


def test_sorting_and_pages(api: Api) -> None:
    base = _stack(api)
    path = f"{base}/events"
    everything = _events(api, path)
    newest_first = _events(api, path, sort_dir="desc")
    assert [e["id"] for e in newest_first] == [e["id"] for e in reversed(everything)]
    by_type = _events(api, path, sort_keys="resource_type")
    types = [str(e["resource_type"]) for e in by_type]
    assert types == sorted(types)

    pages: list[dict[str, object]] = []
    marker = None
    while True:
        params: dict[str, object] = {"limit": 3}
        if marker is not None:
            params["marker"] = marker
        page = _events(api, path, **params)
        assert len(page) <= 3
        if not page:
            break
        pages += page
        marker = page[-1]["id"]
    assert [e["id"] for e in pages] == [e["id"] for e in everything]
    assert _events(api, path, limit=0) == []

    error_of(api.get(path, params={"limit": "many"}), 400)
    error_of(api.get(path, params={"limit": "-1"}), 400)
    error_of(api.get(path, params={"sort_dir": "sideways"}), 400)
    error_of(api.get(path, params={"nested_depth": "x"}), 400)


def test_nested_depth_adds_nested_stacks_events_with_their_own_links(api: Api) -> None:
    base = _stack(api)
    top = _events(api, f"{base}/events")
    assert "inner" not in {e["resource_name"] for e in top}
    nested = _events(api, f"{base}/events", nested_depth=1)
    inner = [e for e in nested if e["resource_name"] == "inner"]
    assert [e["resource_status"] for e in inner] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    links = {link["rel"]: link["href"] for link in inner[0]["links"]}  # type: ignore[attr-defined]
    root = f"{api.http.base_url}".rstrip("/") + api.path(base)
    assert links["root_stack"] == root
    assert links["stack"] != root and "/stacks/web-child-" in links["stack"]
    assert len(nested) == len(top) + 4


def test_resource_events_and_one_event(api: Api) -> None:
    base = _stack(api)
    events = _events(api, f"{base}/resources/first/events")
    assert [e["resource_status"] for e in events] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    event_id = events[-1]["id"]
    shown = api.get(f"{base}/resources/first/events/{event_id}")
    assert shown.status_code == 200
    event = shown.json()["event"]
    assert event["id"] == event_id
    assert event["resource_type"] == "OS::Heat::Value"
    assert event["resource_status"] == "CREATE_COMPLETE"

    assert "nope" in error_of(api.get(f"{base}/resources/nope/events"), 404)["message"]
    error_of(api.get(f"{base}/resources/first/events/not-an-event"), 404)
    error_of(api.get(f"{base}/resources/second/events/{event_id}"), 404)
    stack_id = base.rsplit("/", 1)[1]
    error_of(api.get(f"/stacks/elsewhere/{stack_id}/events"), 404)

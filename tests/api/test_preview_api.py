"""Update previews over HTTP: Heat's ``resource_changes``, nested stacks shown or not."""

from __future__ import annotations

from typing import Any

from api_support import Api

PARENT = """\
heat_template_version: 2016-04-08
resources:
  nested1:
    type: nested1.yaml
"""

NESTED1 = """\
heat_template_version: 2016-04-08
resources:
  nested2:
    type: nested2.yaml
"""

NESTED2 = """\
heat_template_version: 2016-04-08
resources:
  random:
    type: OS::Heat::RandomString
"""

NESTED2_MORE = NESTED2 + "  random2:\n    type: OS::Heat::RandomString\n"


def _changes(answer: Any) -> dict[str, list[tuple[str, str | None]]]:
    """Each section as (resource, parent resource) pairs, sorted."""
    assert answer.status_code == 200, answer.text
    return {
        section: sorted((e["resource_name"], e.get("parent_resource")) for e in entries)
        for section, entries in answer.json()["resource_changes"].items()
    }


def _nested(api: Api, name: str) -> str:
    files = {"nested1.yaml": NESTED1, "nested2.yaml": NESTED2}
    return api.created(name, PARENT, files=files)


def test_an_update_the_resource_type_replaces_is_previewed_as_a_replacement(api: Api) -> None:
    properties = {"value": "one", "update_replace": False}
    template = {
        "heat_template_version": "2013-05-23",
        "resources": {"test1": {"type": "OS::Heat::TestResource", "properties": properties}},
    }
    path = api.created("replacing", template)
    # Heat's TestResource replaces itself when its value changes with update_replace set.
    template["resources"]["test1"]["properties"] = {"update_replace": True}
    changes = _changes(api.put(f"{path}/preview", {"template": template}))
    assert changes == {
        "added": [],
        "deleted": [],
        "replaced": [("test1", None)],
        "unchanged": [],
        "updated": [],
    }
    plans = api.put(f"{path}/preview", {"template": template}, params={"with_plan": True})
    (step,) = plans.json()["plans"][0]["steps"]
    assert (step["operation"], step["reason"]) == (
        "create-replacement",
        "OS::Heat::TestResource replaces the resource when update_replace, value change",
    )


def test_nested_stacks_are_previewed_as_updated_down_to_their_resources(api: Api) -> None:
    path = _nested(api, "unchanged")
    body = {"template": PARENT, "files": {"nested1.yaml": NESTED1, "nested2.yaml": NESTED2}}
    assert _changes(api.put(f"{path}/preview", body, params={"show_nested": True})) == {
        "added": [],
        "deleted": [],
        "replaced": [],
        "unchanged": [("random", "nested2")],
        "updated": [("nested1", None), ("nested2", "nested1")],
    }
    # Without show_nested, only the top stack's resources are listed.
    assert _changes(api.put(f"{path}/preview", body))["updated"] == [("nested1", None)]

    body["files"] = {"nested1.yaml": NESTED1, "nested2.yaml": NESTED2_MORE}
    changes = _changes(api.put(f"{path}/preview", body, params={"show_nested": True}))
    assert changes["added"] == [("random2", "nested2")]
    assert changes["unchanged"] == [("random", "nested2")]
    assert changes["deleted"] == changes["replaced"] == []


def test_a_replaced_nested_stack_is_previewed_with_all_its_resources_deleted(api: Api) -> None:
    path = _nested(api, "replaced")
    body = {"template": PARENT.replace("nested1.yaml", "OS::Heat::None")}
    assert _changes(api.put(f"{path}/preview", body, params={"show_nested": True})) == {
        "added": [],
        "deleted": [("nested2", "nested1"), ("random", "nested2")],
        "replaced": [("nested1", None)],
        "unchanged": [],
        "updated": [],
    }
    # A preview changes nothing.
    assert api.get(f"{path}/resources").json()["resources"][0]["resource_type"] == "nested1.yaml"


def test_a_new_nested_stack_is_previewed_with_all_its_resources_added(api: Api) -> None:
    path = api.created("adding", PARENT.replace("nested1.yaml", "OS::Heat::None"))
    files = {"nested1.yaml": NESTED1, "nested2.yaml": NESTED2_MORE}
    body = {"template": PARENT + "  other:\n    type: nested2.yaml\n", "files": files}
    assert _changes(api.put(f"{path}/preview", body, params={"show_nested": True})) == {
        "added": [
            ("nested2", "nested1"),
            ("other", None),
            ("random", "nested2"),
            ("random", "other"),
            ("random2", "nested2"),
            ("random2", "other"),
        ],
        "deleted": [],
        "replaced": [("nested1", None)],
        "unchanged": [],
        "updated": [],
    }

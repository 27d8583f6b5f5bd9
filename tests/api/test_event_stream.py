"""Kiln's live event stream (server-sent events) over real HTTP."""

from __future__ import annotations

import json

from api_support import Api

CHAIN = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "first": {"type": "OS::Heat::TestResource", "properties": {"wait_secs": 0.3}},
        "second": {
            "type": "OS::Heat::TestResource",
            "properties": {"wait_secs": 0.3},
            "depends_on": ["first"],
        },
    },
}


def _read(
    api: Api, path: str, headers: dict[str, str] | None = None
) -> list[tuple[str, str, dict]]:
    """(kind, id, data) of each message until the stream ends."""
    messages = []
    with api.http.stream("GET", api.path(path), headers=headers or {}) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        kind, ident, data = "message", "", ""
        for line in answer.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("id: "):
                ident = line[4:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and data:
                messages.append((kind, ident, json.loads(data)))
                kind, ident, data = "message", "", ""
    return messages


def test_the_stream_follows_an_operation_to_its_end(api: Api) -> None:
    created = api.post("/stacks", {"stack_name": "live", "template": CHAIN})
    assert created.status_code == 201
    stack_id = created.json()["stack"]["id"]

    messages = _read(api, f"/stacks/live/{stack_id}/events/stream")

    kinds = [kind for kind, _, _ in messages]
    assert kinds[-1] == "end" and kinds.count("end") == 1
    assert messages[-1][2]["stack_status"] == "CREATE_COMPLETE"
    states = [(m["resource_name"], m["resource_status"]) for k, _, m in messages if k == "event"]
    assert states[0] == ("live", "CREATE_IN_PROGRESS")
    assert states.index(("first", "CREATE_COMPLETE")) < states.index(
        ("second", "CREATE_IN_PROGRESS")
    )
    assert states[-1] == ("live", "CREATE_COMPLETE")
    sequences = [int(ident) for k, ident, _ in messages if k == "event"]
    assert sequences == list(range(1, len(sequences) + 1))

    # Reconnecting after an event gets only what came after it.
    again = _read(api, f"/stacks/live/{stack_id}/events/stream", {"Last-Event-ID": "3"})
    assert [int(ident) for k, ident, _ in again if k == "event"] == sequences[3:]


def test_the_stream_of_an_unknown_stack_is_a_404(api: Api) -> None:
    answer = api.get("/stacks/nope/00000000-0000-4000-8000-000000000000/events/stream")
    assert answer.status_code == 404
    assert answer.json()["error"]["type"] == "EntityNotFound"

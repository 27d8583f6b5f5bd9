"""Events: gap-free per-stack sequences, also under concurrent appends, and reading them back."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from persistence_support import START, Clock

from kiln.persistence.errors import StackNotFound
from kiln.persistence.events import EventDraft, EventRepository
from kiln.persistence.stacks import StackRepository
from kiln.plan.state import Action, EventRecord, StackRecord, Status, new_id


@pytest.fixture
def stack_id(stacks: StackRepository) -> str:
    return stacks.create(StackRecord(id=new_id(), name="s")).id


def draft(name: str, status: Status = Status.IN_PROGRESS, reason: str = "") -> EventDraft:
    return EventDraft(name, Action.CREATE, status, reason, physical_id=None, resource_type="T")


def test_append_numbers_from_one_and_round_trips(
    events: EventRepository, stack_id: str, clock: Clock
) -> None:
    first = events.append(stack_id, draft("a", reason="state changed ✓"))
    clock.advance(1.5)
    second = events.append(
        stack_id,
        EventDraft("b", Action.DELETE, Status.FAILED, "gone", "phys-1", "OS::Nova::Server"),
    )
    assert first == EventRecord(
        stack_id=stack_id,
        sequence=1,
        resource_name="a",
        action=Action.CREATE,
        status=Status.IN_PROGRESS,
        status_reason="state changed ✓",
        physical_id=None,
        resource_type="T",
        id=first.id,
        created_at=START,
    )
    assert second.sequence == 2
    assert events.list(stack_id) == [first, second]
    assert events.last_sequence(stack_id) == 2


def test_sequences_are_per_stack(
    events: EventRepository, stacks: StackRepository, stack_id: str
) -> None:
    other = stacks.create(StackRecord(id=new_id(), name="other")).id
    events.append(stack_id, draft("a"))
    events.append(other, draft("x"))
    events.append(stack_id, draft("b"))
    assert [(e.resource_name, e.sequence) for e in events.list(stack_id)] == [("a", 1), ("b", 2)]
    assert [(e.resource_name, e.sequence) for e in events.list(other)] == [("x", 1)]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        pytest.param({}, [1, 2, 3, 4, 5], id="all"),
        pytest.param({"after_sequence": 3}, [4, 5], id="after"),
        pytest.param({"after_sequence": 5}, [], id="after-last"),
        pytest.param({"limit": 2}, [1, 2], id="limit"),
        pytest.param({"after_sequence": 1, "limit": 2}, [2, 3], id="after-limit"),
        pytest.param({"resource_name": "web"}, [2, 4], id="resource"),
        pytest.param({"resource_name": "web", "after_sequence": 2}, [4], id="resource-after"),
        pytest.param({"resource_name": "nothing"}, [], id="resource-unknown"),
    ],
)
def test_list_follows_the_sequence(
    events: EventRepository, stack_id: str, arguments: dict[str, Any], expected: list[int]
) -> None:
    for name in ("db", "web", "db", "web", "s"):
        events.append(stack_id, draft(name))
    assert [event.sequence for event in events.list(stack_id, **arguments)] == expected


def test_unknown_stack(events: EventRepository) -> None:
    missing = new_id()
    with pytest.raises(StackNotFound) as caught:
        events.append(missing, draft("a"))
    assert str(caught.value) == f"stack {missing!r} does not exist"
    with pytest.raises(StackNotFound):
        events.last_sequence(missing)
    assert events.list(missing) == []


def test_concurrent_appends_stay_gap_free(events: EventRepository, stack_id: str) -> None:
    writers, per_writer = 8, 25
    barrier = threading.Barrier(writers, timeout=20)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        barrier.wait()
        try:
            for number in range(per_writer):
                events.append(stack_id, draft(f"w{writer}", reason=str(number)))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = events.list(stack_id)
    assert [event.sequence for event in stored] == list(range(1, writers * per_writer + 1))
    for writer in range(writers):
        mine = [event.status_reason for event in stored if event.resource_name == f"w{writer}"]
        assert mine == [str(number) for number in range(per_writer)]

"""Stacks: round trips, hidden parameters at rest, names, listing, and the operation CAS."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from persistence_support import START, Clock
from sqlalchemy import text

from kiln.persistence.database import Database
from kiln.persistence.errors import (
    DuplicateRecord,
    InvalidListRequest,
    StackExists,
    StackNotFound,
)
from kiln.persistence.events import EventRepository
from kiln.persistence.integrity import check_integrity
from kiln.persistence.listing import StackFilters
from kiln.persistence.secrets import SecretBox
from kiln.persistence.stacks import StackRepository
from kiln.plan.state import Action, EventRecord, StackRecord, Status, new_id

SECRET = "hunter2-do-not-store-me"


def stack(name: str, project_id: str = "p1", **fields: Any) -> StackRecord:
    return StackRecord(id=fields.pop("id", new_id()), name=name, project_id=project_id, **fields)


def full_stack(parent_id: str) -> StackRecord:
    return StackRecord(
        id=new_id(),
        name="web-tier",
        project_id="tenant-1",
        action=Action.CREATE,
        status=Status.IN_PROGRESS,
        status_reason="Stack CREATE started — ünïcode",
        template="heat_template_version: 2018-08-31\n# " + "x" * 600_000,
        files={"nested.yaml": "resources: {}", "scripts/boot.sh": "#!/bin/sh\necho ☃"},
        environments=(("env-a.yaml", "parameters: {a: 1}"), ("env-b.yaml", "{}")),
        parameters={"flavor": "m1.small", "password": SECRET, "count": 3, "nets": ["a", 1]},
        previous_template="heat_template_version: 2016-10-14\n",
        previous_files={"old.yaml": "{}"},
        previous_environments=(("env-old.yaml", "{}"),),
        previous_parameters={"flavor": "m1.tiny", "password": SECRET + "-old"},
        tags=("zeta", "alpha", "mid"),
        timeout_mins=60,
        disable_rollback=True,
        current_traversal=new_id(),
        deadline_at=datetime(2030, 1, 2, 5, 0, 0, 654321, tzinfo=timezone(timedelta(hours=2))),
        parent_id=parent_id,
        created_at=datetime(2030, 1, 1, 12, 0, 0, 1, tzinfo=UTC),
        updated_at=datetime(2030, 1, 1, 12, 30, 0, 999999, tzinfo=UTC),
    )


def raw_parameters(database: Database, stack_id: str) -> str:
    """Both stored parameter columns, as the database holds them."""
    query = text("SELECT parameters, previous_parameters FROM stacks WHERE id = :id")
    with database.engine.connect() as connection:
        current, previous = connection.execute(query, {"id": stack_id}).one()
    return f"{current} {previous}"


# -- round trips and secrets ---------------------------------------------------------------


def test_every_field_round_trips(stacks: StackRepository) -> None:
    parent = stacks.create(stack("parent", project_id="tenant-1"))
    record = full_stack(parent.id)
    assert stacks.create(record, hidden_names={"password"}) == record
    loaded = stacks.get(record.id)
    assert loaded == record
    assert loaded is not None
    assert loaded.deadline_at == datetime(2030, 1, 2, 3, 0, 0, 654321, tzinfo=UTC)
    assert loaded.deadline_at is not None and loaded.deadline_at.tzinfo is UTC
    assert loaded.created_at is not None and loaded.created_at.tzinfo is UTC


def test_defaults_round_trip_and_created_at_comes_from_the_clock(
    stacks: StackRepository, clock: Clock
) -> None:
    record = stack("plain")
    stored = stacks.create(record)
    assert stored == replace(record, created_at=START)
    assert stacks.get(record.id) == stored


def test_hidden_parameters_are_encrypted_in_the_row(
    stacks: StackRepository, database: Database
) -> None:
    parent = stacks.create(stack("parent", project_id="tenant-1"))
    record = stacks.create(full_stack(parent.id), hidden_names={"password", "count"})
    raw = raw_parameters(database, record.id)
    assert SECRET not in raw
    assert raw.count("__encrypted__") == 3
    assert "m1.small" in raw and "m1.tiny" in raw
    loaded = stacks.get(record.id)
    assert loaded is not None and loaded.parameters == record.parameters


def test_loading_needs_the_key_it_was_sealed_with(
    stacks: StackRepository, database: Database
) -> None:
    record = stacks.create(stack("s", parameters={"password": SECRET}), hidden_names={"password"})
    stranger = StackRepository(database, SecretBox([SecretBox.generate_key()]))
    with pytest.raises(Exception, match="cannot be decrypted") as caught:
        stranger.get(record.id)
    assert SECRET not in str(caught.value)


def test_save_definition_replaces_what_an_update_changes(
    stacks: StackRepository, database: Database, clock: Clock
) -> None:
    record = stacks.create(stack("s", tags=("a", "b"), parameters={"x": 1}))
    clock.advance(10)
    changed = replace(
        record,
        template="new",
        files={"f": "g"},
        environments=(("e", "t"),),
        parameters={"x": 2, "password": SECRET},
        previous_template=record.template,
        previous_files=record.files,
        previous_environments=record.environments,
        previous_parameters={"x": 1, "password": SECRET},
        tags=("c",),
        timeout_mins=5,
        disable_rollback=True,
        status=Status.FAILED,
    )
    assert stacks.save_definition(changed, hidden_names={"password"}) is True
    expected = replace(changed, status=Status.COMPLETE, updated_at=START + timedelta(seconds=10))
    assert stacks.get(record.id) == expected
    assert SECRET not in raw_parameters(database, record.id)
    assert stacks.soft_delete(record.id) is True
    assert stacks.save_definition(changed) is False


def test_a_definition_saved_unless_changed_since_never_overwrites_a_newer_one(
    stacks: StackRepository, clock: Clock
) -> None:
    """A rollback's end puts the old definition back only if no update came meanwhile."""
    record = stacks.create(stack("s", template="failed", previous_template="old"))
    seen = stacks.get(record.id)
    assert seen is not None
    restored = replace(seen, template="old", previous_template="")
    clock.advance(1)
    newer = replace(seen, template="newer", previous_template="old")
    assert stacks.save_definition(newer) is True
    assert stacks.save_definition(restored, unchanged_since=seen) is False
    current = stacks.get(record.id)
    assert current is not None and current.template == "newer"
    # Unchanged since it was read: saved.
    assert stacks.save_definition(restored, unchanged_since=current) is True
    final = stacks.get(record.id)
    assert final is not None and (final.template, final.previous_template) == ("old", "")


def test_a_value_once_encrypted_stays_encrypted(
    stacks: StackRepository, database: Database
) -> None:
    """A rollback saves the previous definition without naming hidden parameters again."""
    record = stacks.create(stack("s", parameters={"password": SECRET}), hidden_names={"password"})
    updated = replace(
        record, parameters={"password": "new-" + SECRET}, previous_parameters=record.parameters
    )
    assert stacks.save_definition(updated, hidden_names={"password"})
    rolled_back = replace(updated, parameters=record.parameters, previous_parameters={})
    assert stacks.save_definition(rolled_back)
    assert SECRET not in raw_parameters(database, record.id)
    assert stacks.get(record.id) == replace(rolled_back, updated_at=START)


# -- names ----------------------------------------------------------------------------------


def test_names_are_unique_per_project_among_live_stacks(stacks: StackRepository) -> None:
    first = stacks.create(stack("web"))
    with pytest.raises(StackExists) as caught:
        stacks.create(stack("web"))
    assert str(caught.value) == "a stack named 'web' already exists in project 'p1'"
    stacks.create(stack("web", project_id="p2"))
    stacks.create(stack("Web"))
    assert stacks.soft_delete(first.id) is True
    again = stacks.create(stack("web"))
    assert stacks.find("p1", "web") == again


def test_duplicate_id_and_missing_parent_are_explained(stacks: StackRepository) -> None:
    first = stacks.create(stack("one"))
    with pytest.raises(DuplicateRecord) as caught:
        stacks.create(stack("two", id=first.id))
    assert str(caught.value) == f"a stack with id {first.id!r} already exists"
    missing = new_id()
    with pytest.raises(StackNotFound) as not_found:
        stacks.create(stack("child", parent_id=missing))
    assert str(not_found.value) == f"stack {missing!r} does not exist"


def test_find_by_id_then_name_within_the_project(stacks: StackRepository) -> None:
    record = stacks.create(stack("web"))
    assert stacks.find("p1", record.id) == record
    assert stacks.find("p1", "web") == record
    assert stacks.find("p2", "web") is None
    assert stacks.find("p2", record.id) is None
    stacks.soft_delete(record.id)
    assert stacks.find("p1", "web") is None
    assert stacks.get(record.id) is None
    deleted = stacks.get(record.id, include_deleted=True)
    assert deleted is not None and deleted.deleted_at == START
    assert stacks.soft_delete(record.id) is False


# -- listing ----------------------------------------------------------------------------------


def ordered_id(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012d}"


@pytest.fixture
def listed(stacks: StackRepository, clock: Clock) -> dict[str, str]:
    """Four visible stacks in p1, plus a deleted, a nested and a foreign one."""
    layout = [
        ("alpha", Action.CREATE, Status.COMPLETE, ("a", "b")),
        ("bravo", Action.CREATE, Status.FAILED, ("b",)),
        ("charlie", Action.UPDATE, Status.COMPLETE, ("a", "c")),
        ("delta", Action.CREATE, Status.IN_PROGRESS, ()),
        ("echo", Action.DELETE, Status.COMPLETE, ()),
    ]
    ids: dict[str, str] = {}
    for number, (name, action, status, tags) in enumerate(layout, start=1):
        clock.advance(60)
        ids[name] = ordered_id(number)
        stacks.create(stack(name, id=ids[name], action=action, status=status, tags=tags))
    stacks.soft_delete(ids["echo"])
    clock.advance(60)
    ids["foxtrot"] = ordered_id(6)
    stacks.create(stack("foxtrot", id=ids["foxtrot"], parent_id=ids["alpha"]))
    ids["golf"] = ordered_id(7)
    stacks.create(stack("golf", project_id="p2", id=ids["golf"]))
    for name in ("charlie", "alpha"):
        clock.advance(60)
        current = stacks.get(ids[name])
        assert current is not None
        stacks.update_status(ids[name], current.action, current.status, "touched")
    return ids


LIST_CASES = [
    pytest.param({}, ["delta", "charlie", "bravo", "alpha"], id="default-newest-first"),
    pytest.param({"sort_keys": ["name"]}, ["alpha", "bravo", "charlie", "delta"], id="name-asc"),
    pytest.param(
        {"sort_keys": ["stack_name"], "sort_dir": "desc"},
        ["delta", "charlie", "bravo", "alpha"],
        id="heat-key-desc",
    ),
    pytest.param(
        {"sort_keys": ["status"]}, ["alpha", "charlie", "bravo", "delta"], id="status-then-id"
    ),
    pytest.param(
        {"sort_keys": ["created_at"], "sort_dir": "ASC"},
        ["alpha", "bravo", "charlie", "delta"],
        id="created-asc-any-case",
    ),
    pytest.param(
        {"sort_keys": ["updated_time"]},
        ["bravo", "delta", "charlie", "alpha"],
        id="updated-falls-back-to-created",
    ),
    pytest.param(
        {"sort_keys": ["updated_at"], "sort_dir": "desc"},
        ["alpha", "charlie", "delta", "bravo"],
        id="updated-desc",
    ),
    pytest.param(
        {"sort_keys": ["bogus"]}, ["delta", "charlie", "bravo", "alpha"], id="unknown-key-ignored"
    ),
    pytest.param(
        {"sort_keys": ["status", "name"], "sort_dir": "desc"},
        ["delta", "bravo", "charlie", "alpha"],
        id="two-keys",
    ),
    pytest.param(
        {"filters": StackFilters(statuses=["COMPLETE"])}, ["charlie", "alpha"], id="status"
    ),
    pytest.param({"filters": StackFilters(names="alpha")}, ["alpha"], id="single-name-string"),
    pytest.param(
        {"filters": StackFilters(names=["alpha", "delta", "nope"])},
        ["delta", "alpha"],
        id="names-any-of",
    ),
    pytest.param({"filters": StackFilters(actions=["UPDATE"])}, ["charlie"], id="action"),
    pytest.param({"filters": StackFilters(tags=["a"])}, ["charlie", "alpha"], id="tag"),
    pytest.param({"filters": StackFilters(tags=["a", "b"])}, ["alpha"], id="tags-all"),
    pytest.param(
        {"filters": StackFilters(tags_any=["b", "c"])},
        ["charlie", "bravo", "alpha"],
        id="tags-any",
    ),
    pytest.param(
        {"filters": StackFilters(not_tags=["a", "b"])},
        ["delta", "charlie", "bravo"],
        id="not-tags",
    ),
    pytest.param({"filters": StackFilters(not_tags_any=["a"])}, ["delta", "bravo"], id="not-any"),
    pytest.param(
        {"filters": StackFilters(show_deleted=True)},
        ["echo", "delta", "charlie", "bravo", "alpha"],
        id="show-deleted",
    ),
    pytest.param(
        {"filters": StackFilters(show_nested=True)},
        ["foxtrot", "delta", "charlie", "bravo", "alpha"],
        id="show-nested",
    ),
    pytest.param({"limit": 2}, ["delta", "charlie"], id="limit"),
    pytest.param({"limit": 0}, [], id="limit-zero"),
    pytest.param({"marker": "charlie"}, ["bravo", "alpha"], id="marker"),
    pytest.param(
        {"sort_keys": ["name"], "marker": "bravo", "limit": 1}, ["charlie"], id="marker-limit"
    ),
    pytest.param(
        {"sort_keys": ["updated_at"], "marker": "bravo"},
        ["delta", "charlie", "alpha"],
        id="marker-never-updated",
    ),
    pytest.param(
        {"marker": "golf"}, ["delta", "charlie", "bravo", "alpha"], id="foreign-marker-ignored"
    ),
    pytest.param(
        {"marker": "unknown"}, ["delta", "charlie", "bravo", "alpha"], id="unknown-marker-ignored"
    ),
]


@pytest.mark.parametrize(("arguments", "expected"), LIST_CASES)
def test_list(
    stacks: StackRepository,
    listed: dict[str, str],
    arguments: dict[str, Any],
    expected: list[str],
) -> None:
    if "marker" in arguments:
        arguments = {**arguments, "marker": listed.get(arguments["marker"], new_id())}
    assert [record.name for record in stacks.list("p1", **arguments)] == expected


@pytest.mark.parametrize(
    "sort_keys",
    [
        pytest.param([], id="default"),
        *(pytest.param([k], id=k) for k in ("name", "status", "created_at", "updated_at")),
    ],
)
@pytest.mark.parametrize("sort_dir", ["asc", "desc"])
def test_paging_one_by_one_gives_the_full_list(
    stacks: StackRepository, listed: dict[str, str], sort_keys: list[str], sort_dir: str
) -> None:
    full = stacks.list("p1", sort_keys=sort_keys, sort_dir=sort_dir)
    paged: list[StackRecord] = []
    marker: str | None = None
    while page := stacks.list("p1", sort_keys=sort_keys, sort_dir=sort_dir, limit=1, marker=marker):
        paged += page
        marker = page[-1].id
    assert paged == full
    assert len(full) == 4


def test_a_listed_stack_carries_what_a_listing_shows(stacks: StackRepository) -> None:
    parent = stacks.create(stack("parent", project_id="tenant-1"))
    record = stacks.create(full_stack(parent.id), hidden_names={"password"})
    [listed] = stacks.list("tenant-1", StackFilters(show_nested=True, names=["web-tier"]))
    # Everything but the definition (and the operation's bookkeeping), as stored.
    assert listed == replace(
        record,
        template="",
        files={},
        environments=(),
        parameters={},
        previous_template="",
        previous_files={},
        previous_environments=(),
        previous_parameters={},
        converge=False,
        current_traversal=None,
        deadline_at=None,
    )
    assert listed.created_at is not None and listed.created_at.tzinfo is UTC
    assert listed.action is Action.CREATE and listed.status is Status.IN_PROGRESS


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        pytest.param(
            "2030-01-01 12:00:00.000001",
            datetime(2030, 1, 1, 12, 0, 0, 1, tzinfo=UTC),
            id="as-written",
        ),
        pytest.param(
            "2030-01-01 12:00:00", datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC), id="no-fraction"
        ),
    ],
)
def test_sqlite_timestamps_read_as_aware_utc(
    stacks: StackRepository, database: Database, stored: str, expected: datetime
) -> None:
    if database.backend != "sqlite":
        pytest.skip("SQLite keeps timestamps as text")
    record = stacks.create(stack("timed"))
    with database.engine.begin() as connection:
        connection.execute(
            text("UPDATE stacks SET created_at = :stored WHERE id = :id"),
            {"stored": stored, "id": record.id},
        )
    for loaded in (stacks.get(record.id), *stacks.list("p1")):
        assert loaded is not None and loaded.created_at == expected
        assert loaded.created_at.tzinfo is UTC


def test_count_uses_the_same_filters(stacks: StackRepository, listed: dict[str, str]) -> None:
    assert stacks.count("p1") == 4
    assert stacks.count("p1", StackFilters(statuses=["COMPLETE"], show_deleted=True)) == 3
    assert stacks.count("p3") == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(
            {"sort_dir": "up"}, "sort direction must be 'asc' or 'desc', not 'up'", id="direction"
        ),
        pytest.param({"limit": -1}, "limit must not be negative, not -1", id="limit"),
    ],
)
def test_bad_list_requests(
    stacks: StackRepository, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidListRequest) as caught:
        stacks.list("p1", **arguments)
    assert str(caught.value) == message


# -- operations --------------------------------------------------------------------------------


def test_begin_operation_is_a_compare_and_swap(stacks: StackRepository, clock: Clock) -> None:
    record = stacks.create(stack("s", action=Action.CREATE, status=Status.COMPLETE))
    deadline = START + timedelta(hours=1)
    assert stacks.begin_operation(record.id, Action.UPDATE, None, "t1", deadline) is True
    expected = replace(
        record,
        action=Action.UPDATE,
        status=Status.IN_PROGRESS,
        current_traversal="t1",
        deadline_at=deadline,
        updated_at=START,
    )
    assert stacks.get(record.id) == expected
    assert stacks.begin_operation(record.id, Action.UPDATE, None, "t2", deadline) is False
    assert stacks.begin_operation(record.id, Action.UPDATE, "t1", "t2", deadline) is False
    assert (
        stacks.begin_operation(
            record.id, Action.UPDATE, "t1", "t2", None, allow_in_progress=True, reason="again"
        )
        is True
    )
    assert stacks.finish_operation(record.id, "t1", Status.COMPLETE) is False
    clock.advance(5)
    assert stacks.finish_operation(record.id, "t2", Status.FAILED, "boom") is True
    assert stacks.get(record.id) == replace(
        expected,
        status=Status.FAILED,
        status_reason="boom",
        current_traversal="t2",
        deadline_at=None,
        updated_at=START + timedelta(seconds=5),
    )


def test_no_operation_starts_on_a_deleted_stack(stacks: StackRepository) -> None:
    record = stacks.create(stack("s"))
    stacks.soft_delete(record.id)
    assert stacks.begin_operation(record.id, Action.DELETE, None, "t1", None) is False
    assert stacks.begin_operation(new_id(), Action.DELETE, None, "t1", None) is False


def test_concurrent_begins_have_exactly_one_winner(stacks: StackRepository) -> None:
    record = stacks.create(stack("s"))
    contenders = 8
    barrier = threading.Barrier(contenders, timeout=20)
    results: dict[str, bool] = {}

    def contend(traversal: str) -> None:
        barrier.wait()
        results[traversal] = stacks.begin_operation(record.id, Action.UPDATE, None, traversal, None)

    threads = [threading.Thread(target=contend, args=(f"t{n}",)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [traversal for traversal, won in results.items() if won]
    assert len(results) == contenders
    assert len(winners) == 1
    stored = stacks.get(record.id)
    assert stored is not None and stored.current_traversal == winners[0]


def test_update_status_is_fenced_when_given_a_traversal(stacks: StackRepository) -> None:
    record = stacks.create(stack("s", current_traversal="t1"))
    assert stacks.update_status(record.id, Action.CHECK, Status.FAILED, traversal="t0") is False
    assert stacks.update_status(record.id, Action.CHECK, Status.FAILED, "x", traversal="t1")
    stored = stacks.get(record.id)
    assert stored is not None and (stored.state, stored.status_reason) == ("CHECK_FAILED", "x")


def test_operation_events_are_written_with_the_swap(
    stacks: StackRepository, events: EventRepository
) -> None:
    record = stacks.create(stack("s"))
    assert stacks.begin_operation(
        record.id, Action.CREATE, None, "t1", None, reason="Stack CREATE started", record_event=True
    )
    assert not stacks.begin_operation(record.id, Action.CREATE, None, "t9", None, record_event=True)
    assert stacks.finish_operation(
        record.id, "t1", Status.COMPLETE, "Stack CREATE completed successfully", record_event=True
    )
    assert [
        (event.sequence, event.resource_name, event.state_text, event.status_reason)
        for event in map(EventView, events.list(record.id))
    ] == [
        (1, "s", "CREATE_IN_PROGRESS", "Stack CREATE started"),
        (2, "s", "CREATE_COMPLETE", "Stack CREATE completed successfully"),
    ]
    first = events.list(record.id)[0]
    assert (first.physical_id, first.resource_type) == (record.id, "OS::Heat::Stack")


class EventView:
    def __init__(self, event: EventRecord) -> None:
        self.sequence = event.sequence
        self.resource_name = event.resource_name
        self.state_text = f"{event.action}_{event.status}"
        self.status_reason = event.status_reason


def test_expired_operations_are_found_for_recovery(stacks: StackRepository, clock: Clock) -> None:
    soon, later = START + timedelta(minutes=5), START + timedelta(minutes=30)
    early = stacks.create(stack("early"))
    late = stacks.create(stack("late"))
    idle = stacks.create(stack("idle"))
    gone = stacks.create(stack("gone"))
    for record, deadline in ((early, soon), (late, later), (gone, soon)):
        assert stacks.begin_operation(record.id, Action.CREATE, None, "t", deadline)
    stacks.soft_delete(gone.id)
    assert stacks.stacks_with_expired_operations(START) == []
    found = stacks.stacks_with_expired_operations(START + timedelta(minutes=10))
    assert [record.name for record in found] == ["early"]
    everything = stacks.stacks_with_expired_operations(START + timedelta(hours=1))
    assert [record.name for record in everything] == ["early", "late"]
    assert stacks.finish_operation(early.id, "t", Status.FAILED, "Timed out")
    remaining = stacks.stacks_with_expired_operations(START + timedelta(hours=1))
    assert [record.name for record in remaining] == ["late"]
    assert idle.id not in {record.id for record in everything}
    finished = stacks.get(early.id)
    assert finished is not None and check_integrity(finished, []) == []

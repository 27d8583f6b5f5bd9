"""Resources: round trips, leases with fences, the writes around a cloud call, replacements."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from persistence_support import START, Clock
from sqlalchemy import text

from kiln.persistence.database import Database
from kiln.persistence.errors import (
    DuplicateRecord,
    PersistenceError,
    ResourceNotFound,
    StackNotFound,
)
from kiln.persistence.events import EventDraft, EventRepository
from kiln.persistence.integrity import check_integrity
from kiln.persistence.records import Lease
from kiln.persistence.resources import ResourceRepository
from kiln.persistence.stacks import StackRepository
from kiln.plan.state import (
    Action,
    EventRecord,
    Intent,
    ResourceRecord,
    StackRecord,
    Status,
    idempotency_token,
    new_id,
)

SECRET = "db-password-never-in-clear"


@pytest.fixture
def stack(stacks: StackRepository) -> StackRecord:
    return stacks.create(
        StackRecord(id=new_id(), name="s", action=Action.CREATE, status=Status.IN_PROGRESS)
    )


def resource(
    stack: StackRecord, name: str = "server", resource_type: str = "OS::Nova::Server", **fields: Any
) -> ResourceRecord:
    resource_id = fields.pop("id", new_id())
    return ResourceRecord(
        id=resource_id, stack_id=stack.id, name=name, type=resource_type, **fields
    )


def full_resource(stack: StackRecord) -> ResourceRecord:
    return ResourceRecord(
        id=new_id(),
        stack_id=stack.id,
        name="db",
        type="OS::Trove::Instance",
        generation=2,
        physical_id="arn:aws:rds:eu-west-1:123:db/" + "x" * 500,
        action=Action.UPDATE,
        status=Status.FAILED,
        status_reason="quota exceeded ✗",
        properties={"flavor": "m1", "password": SECRET, "nested": {"a": [1, 2.5, None, True]}},
        attributes={"address": "10.0.0.5", "list": [{"k": "v"}]},
        depends_on=frozenset({"net", "subnet"}),
        idempotency_token=new_id(),
        intent=Intent.UPDATE_ISSUED,
        provider_data={"operation": "op-123", "poll": 3},
        implementation="OS::Trove::Instance",
        created_at=datetime(2030, 5, 6, 7, 8, 9, 10, tzinfo=UTC),
        updated_at=datetime(2030, 5, 6, 7, 9, 0, tzinfo=UTC),
    )


def check(stacks: StackRepository, resources: ResourceRepository, stack_id: str) -> list[str]:
    current = stacks.get(stack_id)
    assert current is not None
    return check_integrity(current, resources.by_stack(stack_id), resources.leases(stack_id))


# -- round trips ----------------------------------------------------------------------------


def test_every_field_round_trips_and_hidden_properties_are_sealed(
    resources: ResourceRepository, stack: StackRecord, database: Database
) -> None:
    record = full_resource(stack)
    assert resources.add(record, hidden_properties={"password"}) == record
    assert resources.get(record.id) == record
    with database.engine.connect() as connection:
        raw = connection.execute(
            text("SELECT properties FROM resources WHERE id = :id"), {"id": record.id}
        ).scalar_one()
    assert SECRET not in str(raw)
    assert "__encrypted__" in str(raw)


def test_token_and_created_at_are_filled_in(
    resources: ResourceRepository, stack: StackRecord
) -> None:
    stored = resources.add(resource(stack, generation=1))
    assert stored.idempotency_token == idempotency_token(stack.id, "server", 1)
    assert stored.created_at == START
    assert resources.get(stored.id) == stored
    assert resources.get(new_id()) is None


@pytest.mark.parametrize(
    "clash",
    [
        pytest.param("name-generation", id="name-generation"),
        pytest.param("token", id="token"),
        pytest.param("id", id="id"),
    ],
)
def test_duplicates_are_refused(
    resources: ResourceRepository, stack: StackRecord, clash: str
) -> None:
    first = resources.add(resource(stack))
    second = {
        "name-generation": resource(stack),
        "token": resource(stack, "other", idempotency_token=first.idempotency_token),
        "id": resource(stack, "other", id=first.id),
    }[clash]
    with pytest.raises(DuplicateRecord) as caught:
        resources.add(second)
    name = second.name
    assert str(caught.value) == (
        f"resource {name!r} generation 0 conflicts with a stored record "
        "(same id, idempotency token, or name and generation)"
    )


def test_resources_need_a_stack(resources: ResourceRepository) -> None:
    orphan = ResourceRecord(id=new_id(), stack_id=new_id(), name="x", type="T")
    with pytest.raises(StackNotFound):
        resources.add(orphan)


# -- leases and fencing -----------------------------------------------------------------------


def test_claim_release_cycle_with_fences(
    resources: ResourceRepository, stacks: StackRepository, stack: StackRecord, clock: Clock
) -> None:
    record = resources.add(resource(stack))
    fence = resources.claim(record.id, "worker-a", 30, START)
    assert fence == 1
    assert resources.lease(record.id) == Lease(
        record.id, "worker-a", START + timedelta(seconds=30), 1
    )
    assert resources.claim(record.id, "worker-b", 30, START + timedelta(seconds=29)) is None
    assert resources.record_intent(record.id, Intent.CREATE_ISSUED, fence)
    assert resources.save_physical_id(record.id, "vm-1", fence, {"handle": "h"})
    clock.advance(3)

    def release() -> bool:
        return resources.release(
            record.id,
            fence,
            Action.CREATE,
            Status.COMPLETE,
            "state changed",
            properties={"flavor": "m1", "admin_pass": SECRET},
            attributes={"ip": "10.0.0.1"},
            depends_on=frozenset({"port"}),
            hidden_properties={"admin_pass"},
        )

    assert release() is True
    assert resources.lease(record.id) is None
    assert resources.get(record.id) == replace(
        record,
        physical_id="vm-1",
        action=Action.CREATE,
        status=Status.COMPLETE,
        status_reason="state changed",
        properties={"flavor": "m1", "admin_pass": SECRET},
        attributes={"ip": "10.0.0.1"},
        depends_on=frozenset({"port"}),
        intent=Intent.NONE,
        provider_data={"handle": "h"},
        updated_at=START + timedelta(seconds=3),
    )
    assert release() is False
    assert resources.claim(record.id, "worker-b", 30, START) == 2


def test_a_stale_fence_changes_nothing(resources: ResourceRepository, stack: StackRecord) -> None:
    record = resources.add(resource(stack))
    stale = resources.claim(record.id, "zombie", 10, START)
    assert stale == 1
    later = START + timedelta(seconds=11)
    fresh = resources.claim(record.id, "worker-b", 10, later)
    assert fresh == 2
    before = resources.get(record.id)

    assert resources.record_intent(record.id, Intent.DELETE_ISSUED, stale) is False
    assert resources.save_physical_id(record.id, "zombie-vm", stale) is False
    assert resources.extend(record.id, stale, 60, later) is False
    failed = (Action.CREATE, Status.FAILED, "zombie says no")
    assert resources.release(record.id, stale, *failed, properties={"x": 1}) is False
    assert resources.delete(record.id, fence=stale) is False
    assert resources.get(record.id) == before
    assert resources.lease(record.id) == Lease(
        record.id, "worker-b", later + timedelta(seconds=10), 2
    )
    assert resources.extend(record.id, fresh, 60, later)
    assert resources.lease(record.id) == Lease(
        record.id, "worker-b", later + timedelta(seconds=60), 2
    )


def test_expired_leases_are_discovered(resources: ResourceRepository, stack: StackRecord) -> None:
    short = resources.add(resource(stack, "short"))
    long = resources.add(resource(stack, "long"))
    idle = resources.add(resource(stack, "idle"))
    resources.claim(short.id, "w", 10, START)
    resources.claim(long.id, "w", 100, START)
    assert resources.expired_leases(START + timedelta(seconds=10)) == []
    found = resources.expired_leases(START + timedelta(seconds=11))
    assert [record.name for record in found] == ["short"]
    assert [r.name for r in resources.expired_leases(START + timedelta(hours=1))] == [
        "short",
        "long",
    ]
    assert idle.id not in {record.id for record in found}
    assert resources.claim(short.id, "rescuer", 10, START + timedelta(seconds=11)) == 2


def test_concurrent_claims_have_exactly_one_winner(
    resources: ResourceRepository, stack: StackRecord
) -> None:
    record = resources.add(resource(stack))
    contenders = 8
    barrier = threading.Barrier(contenders, timeout=20)
    fences: dict[str, int | None] = {}

    def contend(owner: str) -> None:
        barrier.wait()
        fences[owner] = resources.claim(record.id, owner, 30, START)

    threads = [threading.Thread(target=contend, args=(f"w{n}",)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = {owner: fence for owner, fence in fences.items() if fence is not None}
    assert len(fences) == contenders
    assert list(winners.values()) == [1]
    lease = resources.lease(record.id)
    assert lease is not None and lease.owner == next(iter(winners))


def test_release_can_record_the_event_in_the_same_transaction(
    resources: ResourceRepository, stack: StackRecord, events: EventRepository
) -> None:
    record = resources.add(resource(stack))
    fence = resources.claim(record.id, "w", 30, START)
    assert fence is not None
    resources.save_physical_id(record.id, "vm-9", fence)
    done = (Action.CREATE, Status.COMPLETE, "state changed")
    assert resources.release(record.id, fence, *done, record_event=True)
    assert resources.release(record.id, fence, *done, record_event=True) is False
    [event] = events.list(stack.id)
    assert (event.sequence, event.resource_name, event.resource_type) == (
        1,
        "server",
        "OS::Nova::Server",
    )
    assert (event.action, event.status, event.status_reason, event.physical_id) == (
        Action.CREATE,
        Status.COMPLETE,
        "state changed",
        "vm-9",
    )


# -- replacement and deletion -------------------------------------------------------------------


def test_replacement_links_both_ways_and_delete_unlinks(
    resources: ResourceRepository, stacks: StackRepository, stack: StackRecord
) -> None:
    old = resources.add(resource(stack, physical_id="vm-old", action=Action.CREATE))
    new = resources.add_replacement(resource(stack, generation=1, replaces=old.id))
    assert resources.get(old.id) == replace(old, replaced_by=new.id, updated_at=START)
    assert resources.current(stack.id) == {"server": new}
    assert [r.generation for r in resources.by_stack(stack.id)] == [0, 1]
    assert check(stacks, resources, stack.id) == []
    fence = resources.claim(old.id, "w", 30, START)
    assert resources.delete(old.id, fence=fence)
    assert resources.get(new.id) == replace(new, replaces=None)
    assert check(stacks, resources, stack.id) == []


def test_removing_the_middle_of_a_replacement_chain_splices_it(
    resources: ResourceRepository, stacks: StackRepository, stack: StackRecord
) -> None:
    first = resources.add(resource(stack, physical_id="a", action=Action.CREATE))
    middle = resources.add_replacement(
        resource(stack, generation=1, physical_id="b", replaces=first.id)
    )
    last = resources.add_replacement(
        resource(stack, generation=2, physical_id="c", replaces=middle.id)
    )
    assert resources.remove(middle.id) is True
    links = {r.generation: (r.replaces, r.replaced_by) for r in resources.by_stack(stack.id)}
    assert links == {0: (None, last.id), 2: (first.id, None)}
    assert resources.current(stack.id)["server"].id == last.id
    assert check(stacks, resources, stack.id) == []


def test_mark_replaced_links_existing_records(
    resources: ResourceRepository, stacks: StackRepository, stack: StackRecord
) -> None:
    old = resources.add(resource(stack, physical_id="a", action=Action.CREATE))
    new = resources.add(resource(stack, generation=1, physical_id="b", action=Action.CREATE))
    assert check(stacks, resources, stack.id) == [
        "resource 'server' has 2 live records not linked as replacements (generations 0, 1)"
    ]
    resources.mark_replaced(old.id, new.id)
    assert check(stacks, resources, stack.id) == []
    assert resources.current(stack.id)["server"].id == new.id
    assert resources.delete(new.id) is True
    assert resources.get(old.id) == replace(old, replaced_by=None, updated_at=START)
    assert resources.delete(new.id) is False


def test_mark_replaced_refuses_what_would_break_the_links(
    resources: ResourceRepository, stack: StackRecord
) -> None:
    old = resources.add(resource(stack))
    new = resources.add(resource(stack, generation=1))
    other = resources.add(resource(stack, "db"))
    missing = new_id()
    with pytest.raises(ResourceNotFound) as not_found:
        resources.mark_replaced(missing, new.id)
    assert str(not_found.value) == f"resource {missing!r} does not exist"
    with pytest.raises(PersistenceError) as other_name:
        resources.mark_replaced(old.id, other.id)
    assert str(other_name.value) == f"resource {other.id!r} is not another incarnation of 'server'"
    resources.mark_replaced(old.id, new.id)
    resources.mark_replaced(old.id, new.id)
    third = resources.add(resource(stack, generation=2))
    with pytest.raises(PersistenceError) as taken:
        resources.mark_replaced(old.id, third.id)
    assert str(taken.value) == f"resource {old.id!r} is already replaced by another"
    assert resources.get(old.id) == replace(old, replaced_by=new.id, updated_at=START)
    assert resources.get(other.id) == other


@pytest.mark.parametrize(
    "case",
    [
        pytest.param("other-name", id="other-name"),
        pytest.param("already-replaced", id="already-replaced"),
    ],
)
def test_replacement_of_the_wrong_record_is_refused(
    resources: ResourceRepository, stack: StackRecord, case: str
) -> None:
    old = resources.add(resource(stack))
    if case == "already-replaced":
        resources.add_replacement(resource(stack, generation=1, replaces=old.id))
        bad = resource(stack, generation=2, replaces=old.id)
    else:
        bad = resource(stack, "web", generation=1, replaces=old.id)
    with pytest.raises(PersistenceError) as caught:
        resources.add_replacement(bad)
    assert str(caught.value) == (
        f"resource {old.id!r} is not an unreplaced incarnation of {bad.name!r}"
    )
    assert resources.get(bad.id) is None


def test_current_picks_the_unreplaced_newest_incarnation(
    resources: ResourceRepository, stack: StackRecord
) -> None:
    first = resources.add(resource(stack))
    second = resources.add_replacement(resource(stack, generation=1, replaces=first.id))
    other = resources.add(resource(stack, "net", "OS::Neutron::Net"))
    assert resources.current(stack.id) == {"server": second, "net": other}
    assert resources.current(new_id()) == {}


# -- whole-record writes (the in-process engine's path) ------------------------------------------


def test_save_inserts_and_overwrites_with_the_event_in_the_same_transaction(
    resources: ResourceRepository,
    stack: StackRecord,
    events: EventRepository,
    database: Database,
    clock: Clock,
) -> None:
    started = EventDraft("server", Action.CREATE, Status.IN_PROGRESS, "state changed")
    inserted = resources.save(
        resource(stack, properties={"pw": SECRET}), started, insert=True, hidden_properties={"pw"}
    )
    assert inserted.idempotency_token == idempotency_token(stack.id, "server", 0)
    assert resources.get(inserted.id) == inserted
    fence = resources.claim(inserted.id, "w", 30, START)
    clock.advance(2)
    finished = replace(
        inserted,
        physical_id="vm-1",
        action=Action.CREATE,
        status=Status.COMPLETE,
        properties={"pw": SECRET, "size": 2},
        attributes={"ip": "10.0.0.9"},
        depends_on=frozenset({"net"}),
        intent=Intent.CREATE_ISSUED,
    )
    done = EventDraft("server", Action.CREATE, Status.COMPLETE, "state changed", "vm-1", "T")
    stored = resources.save(finished, done)
    assert stored == replace(finished, updated_at=START + timedelta(seconds=2))
    assert resources.get(inserted.id) == stored
    assert fence == 1
    assert resources.lease(inserted.id) == Lease(inserted.id, "w", START + timedelta(seconds=30), 1)
    with database.engine.connect() as connection:
        raw = connection.execute(
            text("SELECT properties FROM resources WHERE id = :id"), {"id": inserted.id}
        ).scalar_one()
    assert SECRET not in str(raw)
    assert [(e.sequence, e.state_text) for e in map(_EventState, events.list(stack.id))] == [
        (1, "CREATE_IN_PROGRESS"),
        (2, "CREATE_COMPLETE"),
    ]


class _EventState:
    def __init__(self, event: EventRecord) -> None:
        self.sequence = event.sequence
        self.state_text = f"{event.action}_{event.status}"


def test_save_of_a_missing_record_writes_nothing(
    resources: ResourceRepository, stack: StackRecord, events: EventRepository
) -> None:
    ghost = resource(stack)
    with pytest.raises(ResourceNotFound) as caught:
        resources.save(ghost, EventDraft("server", Action.UPDATE, Status.COMPLETE))
    assert str(caught.value) == f"resource {ghost.id!r} does not exist"
    assert events.list(stack.id) == []


def test_remove_deletes_unlinks_and_records(
    resources: ResourceRepository, stack: StackRecord, events: EventRepository
) -> None:
    old = resources.add(resource(stack, physical_id="a", action=Action.CREATE))
    new = resources.add_replacement(resource(stack, generation=1, replaces=old.id))
    gone = EventDraft("server", Action.DELETE, Status.COMPLETE, "state changed", "a", "T")
    assert resources.remove(old.id, gone) is True
    assert resources.get(new.id) == replace(new, replaces=None)
    assert resources.remove(old.id, gone) is False
    [event] = events.list(stack.id)
    assert (event.sequence, event.action, event.status, event.physical_id) == (
        1,
        Action.DELETE,
        Status.COMPLETE,
        "a",
    )


def test_a_batch_of_mixed_writes_runs_in_order_with_gap_free_events(
    resources: ResourceRepository,
    stack: StackRecord,
    events: EventRepository,
    database: Database,
) -> None:
    kept = resources.add(resource(stack, name="kept"))
    doomed = resources.add(resource(stack, name="doomed"))
    fresh = [resource(stack, name=f"new{i}") for i in range(3)]
    writes = [
        resources.save_work(r, EventDraft(r.name, Action.CREATE, Status.IN_PROGRESS), insert=True)[
            1
        ]
        for r in fresh
    ]
    writes.append(
        resources.save_work(
            replace(kept, status_reason="touched", properties={"pw": SECRET}),
            EventDraft("kept", Action.UPDATE, Status.COMPLETE),
            hidden_properties={"pw"},
        )[1]
    )
    writes.append(
        resources.remove_work(doomed.id, EventDraft("doomed", Action.DELETE, Status.COMPLETE))
    )
    writes.append(
        resources.remove_work("no-such-id", EventDraft("ghost", Action.DELETE, Status.COMPLETE))
    )
    done = database.write(lambda session: resources.apply(session, writes))
    assert done == [True, True, True, True, True, False]
    assert sorted(r.name for r in resources.by_stack(stack.id)) == ["kept", "new0", "new1", "new2"]
    assert resources.get(kept.id).properties == {"pw": SECRET}
    assert [(e.sequence, e.resource_name) for e in events.list(stack.id)] == [
        (1, "new0"),
        (2, "new1"),
        (3, "new2"),
        (4, "kept"),
        (5, "doomed"),
    ]
    with database.engine.connect() as connection:
        raw = connection.execute(
            text("SELECT properties FROM resources WHERE id = :id"), {"id": kept.id}
        ).scalar_one()
    assert SECRET not in str(raw)


def test_a_batch_that_overwrites_a_missing_record_changes_nothing(
    resources: ResourceRepository, stack: StackRecord, events: EventRepository, database: Database
) -> None:
    first = resource(stack, name="first")
    ghost = resource(stack, name="ghost")
    writes = [
        resources.save_work(
            first, EventDraft("first", Action.CREATE, Status.IN_PROGRESS), insert=True
        )[1],
        resources.save_work(ghost, EventDraft("ghost", Action.UPDATE, Status.COMPLETE))[1],
    ]
    with pytest.raises(ResourceNotFound):
        database.write(lambda session: resources.apply(session, writes))
    assert resources.by_stack(stack.id) == []
    assert events.list(stack.id) == []

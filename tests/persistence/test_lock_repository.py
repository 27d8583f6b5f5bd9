"""Stack locks: acquire, refuse, renew, release, and take over once the lease expired."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from persistence_support import START

from kiln.persistence.errors import StackNotFound
from kiln.persistence.locks import LockRepository
from kiln.persistence.stacks import StackRepository
from kiln.plan.state import StackRecord, new_id


@pytest.fixture
def stack_id(stacks: StackRepository) -> str:
    return stacks.create(StackRecord(id=new_id(), name="s")).id


def test_acquire_refuse_release(locks: LockRepository, stack_id: str) -> None:
    assert locks.acquire(stack_id, "engine-a", 30, START) is True
    assert locks.holder(stack_id, START) == "engine-a"
    assert locks.acquire(stack_id, "engine-b", 30, START + timedelta(seconds=30)) is False
    assert locks.release(stack_id, "engine-b") is False
    assert locks.release(stack_id, "engine-a") is True
    assert locks.holder(stack_id, START) is None
    assert locks.acquire(stack_id, "engine-b", 30, START) is True


def test_expired_lock_is_taken_over_and_the_old_holder_loses_it(
    locks: LockRepository, stack_id: str
) -> None:
    assert locks.acquire(stack_id, "engine-a", 30, START)
    expired = START + timedelta(seconds=31)
    assert locks.holder(stack_id, expired) is None
    assert locks.acquire(stack_id, "engine-b", 30, expired) is True
    assert locks.holder(stack_id, expired) == "engine-b"
    assert locks.renew(stack_id, "engine-a", 30, expired) is False
    assert locks.release(stack_id, "engine-a") is False
    assert locks.holder(stack_id, expired) == "engine-b"


def test_renew_keeps_the_lock_past_its_first_lease(locks: LockRepository, stack_id: str) -> None:
    assert locks.acquire(stack_id, "engine-a", 30, START)
    assert locks.renew(stack_id, "engine-a", 30, START + timedelta(seconds=20)) is True
    later = START + timedelta(seconds=45)
    assert locks.acquire(stack_id, "engine-b", 30, later) is False
    assert locks.holder(stack_id, later) == "engine-a"


def test_reacquiring_by_the_holder_renews(locks: LockRepository, stack_id: str) -> None:
    assert locks.acquire(stack_id, "engine-a", 30, START)
    assert locks.acquire(stack_id, "engine-a", 30, START + timedelta(seconds=25)) is True
    assert locks.holder(stack_id, START + timedelta(seconds=50)) == "engine-a"


def test_unknown_stack(locks: LockRepository) -> None:
    missing = new_id()
    with pytest.raises(StackNotFound) as caught:
        locks.acquire(missing, "engine-a", 30, START)
    assert str(caught.value) == f"stack {missing!r} does not exist"


def test_concurrent_acquires_have_exactly_one_winner(locks: LockRepository, stack_id: str) -> None:
    contenders = 8
    barrier = threading.Barrier(contenders, timeout=20)
    results: dict[str, bool] = {}

    def contend(holder: str) -> None:
        barrier.wait()
        results[holder] = locks.acquire(stack_id, holder, 30, START)

    threads = [threading.Thread(target=contend, args=(f"e{n}",)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [holder for holder, won in results.items() if won]
    assert len(results) == contenders
    assert len(winners) == 1
    assert locks.holder(stack_id, START) == winners[0]

"""The integrity check: a table of consistent and broken states, then real operations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from persistence_support import START

from kiln.persistence.integrity import check_integrity
from kiln.persistence.records import Lease
from kiln.persistence.resources import ResourceRepository
from kiln.persistence.stacks import StackRepository
from kiln.plan.state import Action, Intent, ResourceRecord, StackRecord, Status, new_id

STACK_ID = "00000000-0000-4000-8000-000000000000"
IDLE = StackRecord(id=STACK_ID, name="s", action=Action.CREATE, status=Status.COMPLETE)
BUSY = StackRecord(id=STACK_ID, name="s", action=Action.UPDATE, status=Status.IN_PROGRESS)
FAILED = StackRecord(id=STACK_ID, name="s", action=Action.UPDATE, status=Status.FAILED)


def rid(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012d}"


def made(number: int, name: str = "web", **fields: Any) -> ResourceRecord:
    """A created resource; override fields to break it."""
    values: dict[str, Any] = {
        "type": "T",
        "generation": number,
        "physical_id": f"phys-{number}",
        "action": Action.CREATE,
        "status": Status.COMPLETE,
    }
    values.update(fields)
    return ResourceRecord(id=rid(number), stack_id=STACK_ID, name=name, **values)


def lease(number: int) -> Lease:
    return Lease(rid(number), "w1", START, 3)


CASES = [
    pytest.param(IDLE, [], [], [], id="empty"),
    pytest.param(IDLE, [made(0)], [], [], id="one-created"),
    pytest.param(
        IDLE,
        [made(0, replaced_by=rid(1)), made(1, replaces=rid(0))],
        [],
        [],
        id="linked-pair",
    ),
    pytest.param(
        IDLE,
        [
            made(0, replaced_by=rid(1)),
            made(1, replaces=rid(0), replaced_by=rid(2)),
            made(2, replaces=rid(1)),
        ],
        [],
        [],
        id="linked-chain",
    ),
    pytest.param(
        IDLE,
        [
            made(0, physical_id=None, status=Status.FAILED),
            made(1, "a", physical_id=None, action=Action.INIT),
            made(2, "b", physical_id=None, action=Action.DELETE),
        ],
        [],
        [],
        id="no-physical-id-allowed",
    ),
    pytest.param(
        BUSY,
        [made(0, status=Status.IN_PROGRESS, intent=Intent.UPDATE_ISSUED)],
        [lease(0)],
        [],
        id="work-in-progress",
    ),
    pytest.param(
        IDLE,
        [made(0, "net"), made(1, depends_on=frozenset({"net"}))],
        [],
        [],
        id="dependency",
    ),
    pytest.param(
        IDLE,
        [made(0), made(1)],
        [],
        ["resource 'web' has 2 live records not linked as replacements (generations 0, 1)"],
        id="forgotten-replacement",
    ),
    pytest.param(
        IDLE,
        [made(0, replaced_by=rid(9))],
        [],
        ["resource 'web' (generation 0) is replaced by a missing record"],
        id="successor-missing",
    ),
    pytest.param(
        IDLE,
        [made(0, replaced_by=rid(1)), made(1)],
        [],
        [
            "resource 'web' (generation 0) is replaced by resource 'web' (generation 1), "
            "which does not point back"
        ],
        id="one-way-forward",
    ),
    pytest.param(
        IDLE,
        [made(1, replaces=rid(9))],
        [],
        ["resource 'web' (generation 1) replaces a missing record"],
        id="predecessor-missing",
    ),
    pytest.param(
        IDLE,
        [made(0), made(1, replaces=rid(0))],
        [],
        [
            "resource 'web' has 2 live records not linked as replacements (generations 0, 1)",
            "resource 'web' (generation 1) replaces resource 'web' (generation 0), "
            "which does not point forward",
        ],
        id="one-way-back",
    ),
    pytest.param(
        IDLE,
        [made(0, replaced_by=rid(1)), made(1, "api", replaces=rid(0))],
        [],
        [
            "resource 'web' (generation 0) is replaced by resource 'api' (generation 1), "
            "which does not point back",
            "resource 'api' (generation 1) replaces resource 'web' (generation 0), "
            "which does not point forward",
        ],
        id="link-across-names",
    ),
    pytest.param(
        IDLE,
        [made(0, depends_on=frozenset({"net", "web", "db"}))],
        [],
        [
            "resource 'web' (generation 0) depends on 'db', which is not a resource of the stack",
            "resource 'web' (generation 0) depends on 'net', which is not a resource of the stack",
        ],
        id="dangling-dependencies",
    ),
    pytest.param(
        IDLE,
        [made(0, physical_id=None), made(1, "b", physical_id="", action=Action.UPDATE)],
        [],
        [
            "resource 'web' (generation 0) is CREATE_COMPLETE without a physical id",
            "resource 'b' (generation 1) is UPDATE_COMPLETE without a physical id",
        ],
        id="complete-without-physical-id",
    ),
    pytest.param(
        IDLE,
        [made(0, status=Status.IN_PROGRESS)],
        [],
        ["resource 'web' (generation 0) is CREATE_IN_PROGRESS while the stack is CREATE_COMPLETE"],
        id="in-progress-under-complete-stack",
    ),
    pytest.param(
        FAILED,
        [made(0, action=Action.UPDATE, status=Status.IN_PROGRESS)],
        [lease(0), Lease("gone", "w2", START, 1)],
        [
            "resource 'web' (generation 0) is UPDATE_IN_PROGRESS while the stack is UPDATE_FAILED",
            "resource 'web' (generation 0) is leased by 'w1' while the stack is UPDATE_FAILED",
            "resource id 'gone' is leased by 'w2' while the stack is UPDATE_FAILED",
        ],
        id="work-under-failed-stack",
    ),
    pytest.param(
        IDLE,
        [ResourceRecord(id=rid(5), stack_id=rid(4), name="x", type="T")],
        [],
        [f"resource 'x' (generation 0) belongs to stack {rid(4)!r}, not {STACK_ID!r}"],
        id="foreign-record",
    ),
]


@pytest.mark.parametrize(("stack", "resources", "leases", "problems"), CASES)
def test_check_integrity(
    stack: StackRecord,
    resources: list[ResourceRecord],
    leases: list[Lease],
    problems: list[str],
) -> None:
    assert check_integrity(stack, resources, leases) == problems


def test_the_check_needs_no_sqlalchemy() -> None:
    import ast
    import inspect

    import kiln.persistence.integrity as integrity
    import kiln.persistence.records as records

    for module in (integrity, records):
        tree = ast.parse(inspect.getsource(module))
        imported = {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        } | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        assert not any(name.startswith("sqlalchemy") for name in imported)


# -- after every operation, on a real database ----------------------------------------------------


def test_state_stays_consistent_through_create_and_replace(
    stacks: StackRepository, resources: ResourceRepository
) -> None:
    stack = stacks.create(StackRecord(id=new_id(), name="app"))
    problems: list[list[str]] = []

    def step(operation: Callable[[], object]) -> None:
        assert operation() not in (False, None)
        current = stacks.get(stack.id)
        assert current is not None
        problems.append(
            check_integrity(current, resources.by_stack(stack.id), resources.leases(stack.id))
        )

    def run(record: ResourceRecord, physical_id: str, action: Action) -> None:
        fence = resources.claim(record.id, "worker", 60, START)
        assert fence is not None
        step(lambda: resources.record_intent(record.id, Intent.CREATE_ISSUED, fence))
        step(lambda: resources.save_physical_id(record.id, physical_id, fence))
        step(lambda: resources.release(record.id, fence, action, Status.COMPLETE))

    deadline = START + timedelta(hours=1)
    step(lambda: stacks.begin_operation(stack.id, Action.CREATE, None, "t1", deadline))
    net = resources.add(ResourceRecord(id=new_id(), stack_id=stack.id, name="net", type="N"))
    server = resources.add(
        ResourceRecord(
            id=new_id(), stack_id=stack.id, name="srv", type="S", depends_on=frozenset({"net"})
        )
    )
    run(net, "net-1", Action.CREATE)
    run(server, "srv-1", Action.CREATE)
    step(lambda: stacks.finish_operation(stack.id, "t1", Status.COMPLETE))
    step(lambda: stacks.begin_operation(stack.id, Action.UPDATE, "t1", "t2", deadline))
    successor = resources.add_replacement(
        ResourceRecord(
            id=new_id(),
            stack_id=stack.id,
            name="srv",
            type="S",
            generation=1,
            depends_on=frozenset({"net"}),
            replaces=server.id,
        )
    )
    run(successor, "srv-2", Action.CREATE)
    fence = resources.claim(server.id, "worker", 60, START)
    step(lambda: resources.delete(server.id, fence=fence))
    step(lambda: stacks.finish_operation(stack.id, "t2", Status.COMPLETE))
    assert problems == [[]] * len(problems)
    assert len(problems) == 14
    assert {name: r.physical_id for name, r in resources.current(stack.id).items()} == {
        "net": "net-1",
        "srv": "srv-2",
    }
    leftover = resources.claim(net.id, "late-worker", 60, START)
    assert leftover is not None
    final = stacks.get(stack.id)
    assert final is not None
    found = check_integrity(final, resources.by_stack(stack.id), resources.leases(stack.id))
    assert found == [
        "resource 'net' (generation 0) is leased by 'late-worker' "
        "while the stack is UPDATE_COMPLETE"
    ]

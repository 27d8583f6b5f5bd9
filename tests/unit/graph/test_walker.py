"""The async walker: each node once, prerequisites first, failures stop new work."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.graph.dag import find_cycles
from kiln.graph.walker import walk


@st.composite
def dags(draw: st.DrawFn) -> dict[int, frozenset[int]]:
    size = draw(st.integers(1, 25))
    return {
        node: frozenset(draw(st.sets(st.integers(0, node - 1), max_size=3)) if node else set())
        for node in range(size)
    }


def _downstream(graph: dict[int, frozenset[int]], roots: set[int]) -> set[int]:
    closure = set(roots)
    changed = True
    while changed:
        changed = False
        for node, required in graph.items():
            if node not in closure and required & closure:
                closure.add(node)
                changed = True
    return closure


@settings(max_examples=150, deadline=None)
@given(
    graph=dags(),
    failing=st.sets(st.integers(0, 24), max_size=3),
    limit=st.sampled_from([None, 1, 2, 5]),
)
def test_walker_invariants(
    graph: dict[int, frozenset[int]], failing: set[int], limit: int | None
) -> None:
    failing &= set(graph)
    started: list[int] = []
    finished: set[int] = set()
    active = 0
    most_active = 0

    async def run(node: int) -> None:
        nonlocal active, most_active
        assert graph[node] <= finished, "started before its prerequisites"
        started.append(node)
        active += 1
        most_active = max(most_active, active)
        await asyncio.sleep(0)
        active -= 1
        if node in failing:
            raise RuntimeError(node)
        finished.add(node)

    result = asyncio.run(walk(graph, run, limit=limit))
    assert len(started) == len(set(started)), "a node ran twice"
    assert set(result.done) == finished
    assert set(result.failed) == {n for n in failing if n in started}
    if limit is not None:
        assert most_active <= limit
    if not failing:
        assert result.succeeded and sorted(result.done) == sorted(graph)
    else:
        # Nothing downstream of a failure ever starts.
        assert not (_downstream(graph, set(result.failed)) - set(result.failed)) & set(started)
    assert set(result.done) | set(result.failed) | set(result.skipped) == set(graph)


def test_stop_request_lets_running_nodes_finish() -> None:
    stop = False
    graph = {"a": frozenset(), "b": frozenset(), "c": frozenset({"a"})}

    async def run(node: str) -> None:
        nonlocal stop
        await asyncio.sleep(0.01 if node == "a" else 0)
        stop = True

    result = asyncio.run(walk(graph, run, should_stop=lambda: stop))
    assert result.stopped
    assert "c" in result.skipped
    assert set(result.done) >= {"a"} or set(result.done) >= {"b"}


def test_cycle_is_skipped_not_hung() -> None:
    graph = {"a": frozenset({"b"}), "b": frozenset({"a"}), "c": frozenset()}
    assert find_cycles(graph)

    async def run(node: str) -> None:
        return None

    result = asyncio.run(walk(graph, run))
    assert result.done == ["c"]
    assert sorted(result.skipped) == ["a", "b"]


@pytest.mark.parametrize("width", [1, 50])
def test_independent_nodes_run_concurrently_without_a_cap(width: int) -> None:
    graph = {i: frozenset[int]() for i in range(width)}
    active = 0
    most_active = 0
    release = asyncio.Event()

    async def run(node: int) -> None:
        nonlocal active, most_active
        active += 1
        most_active = max(most_active, active)
        if most_active == width:
            release.set()
        await release.wait()
        active -= 1

    asyncio.run(walk(graph, run))
    assert most_active == width

"""Cycle finding and ordering on adjacency maps ("a depends on b" edges)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiln.graph.dag import find_cycles, strongly_connected_components, topological_order


@pytest.mark.parametrize(
    ("edges", "cycles"),
    [
        pytest.param({"a": ["b"], "b": []}, [], id="no-cycle"),
        pytest.param({"a": ["a"]}, [["a", "a"]], id="self-loop"),
        pytest.param({"a": ["b"], "b": ["a"]}, [["a", "b", "a"]], id="two"),
        pytest.param(
            {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]},
            [["a", "b", "c", "a"]],
            id="three-and-tail",
        ),
        pytest.param(
            {"a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"]},
            [["a", "b", "a"], ["c", "d", "c"]],
            id="two-cycles",
        ),
        pytest.param({"a": ["missing"]}, [], id="edge-to-unknown-vertex-ignored"),
    ],
)
def test_find_cycles(edges: dict[str, list[str]], cycles: list[list[str]]) -> None:
    found = find_cycles(edges)
    normalised = sorted(_rotate(cycle) for cycle in found)
    assert normalised == sorted(cycles)


def _rotate(cycle: list[str]) -> list[str]:
    """Start a cycle at its smallest vertex so the expected values are stable."""
    body = cycle[:-1]
    start = body.index(min(body))
    rotated = body[start:] + body[:start]
    return [*rotated, rotated[0]]


def test_long_chain_does_not_recurse() -> None:
    edges = {i: [i + 1] for i in range(20_000)}
    edges[20_000] = [0]
    (cycle,) = find_cycles(edges)
    assert len(cycle) == 20_002
    assert cycle[0] == cycle[-1]


def test_topological_order_puts_dependencies_first() -> None:
    order = topological_order({"web": ["db", "net"], "db": ["net"], "net": []})
    assert order.index("net") < order.index("db") < order.index("web")


def test_topological_order_refuses_cycles() -> None:
    with pytest.raises(ValueError, match="cycle"):
        topological_order({"a": ["b"], "b": ["a"]})


@given(st.dictionaries(st.integers(0, 15), st.lists(st.integers(0, 15), max_size=4), max_size=16))
def test_every_reported_cycle_is_a_real_cycle(edges: dict[int, list[int]]) -> None:
    for cycle in find_cycles(edges):
        assert cycle[0] == cycle[-1]
        for source, target in itertools.pairwise(cycle):
            assert target in edges[source]
    acyclic = not find_cycles(edges)
    if acyclic:
        order = topological_order(edges)
        position = {vertex: index for index, vertex in enumerate(order)}
        for source, targets in edges.items():
            for target in targets:
                if target in edges:
                    assert position[target] < position[source]
    components = strongly_connected_components(edges)
    assert sorted(v for component in components for v in component) == sorted(edges)

"""Cycle finding and ordering over graphs given as adjacency maps.

Vertices are any hashable values; an edge ``a -> b`` means "a depends on b".
Iterative algorithms only, so a 5,000-node chain cannot hit the recursion limit.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

Vertex = TypeVar("Vertex", bound=Hashable)


def strongly_connected_components(
    edges: Mapping[Vertex, Iterable[Vertex]],
) -> list[list[Vertex]]:
    """Tarjan's algorithm, iterative; components come out in reverse topological order."""
    index_of: dict[Vertex, int] = {}
    lowlink: dict[Vertex, int] = {}
    on_stack: set[Vertex] = set()
    stack: list[Vertex] = []
    components: list[list[Vertex]] = []
    successors = {vertex: [t for t in targets if t in edges] for vertex, targets in edges.items()}
    counter = 0
    for root in edges:
        if root in index_of:
            continue
        work: list[tuple[Vertex, int]] = [(root, 0)]
        while work:
            vertex, position = work.pop()
            if position == 0:
                index_of[vertex] = lowlink[vertex] = counter
                counter += 1
                stack.append(vertex)
                on_stack.add(vertex)
            targets = successors[vertex]
            if position < len(targets):
                work.append((vertex, position + 1))
                target = targets[position]
                if target not in index_of:
                    work.append((target, 0))
                elif target in on_stack:
                    lowlink[vertex] = min(lowlink[vertex], index_of[target])
                continue
            if lowlink[vertex] == index_of[vertex]:
                component: list[Vertex] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == vertex:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[vertex])
    return components


def find_cycles(edges: Mapping[Vertex, Iterable[Vertex]]) -> list[list[Vertex]]:
    """One concrete cycle per strongly connected component that has one.

    Each cycle is returned as the path ``[a, b, ..., a]`` so it can be shown
    whole; self-loops count.
    """
    cycles: list[list[Vertex]] = []
    for component in strongly_connected_components(edges):
        members = set(component)
        start = component[-1]
        if len(component) == 1 and start not in set(edges.get(start, ())):
            continue
        cycles.append(_walk_cycle(edges, start, members))
    return cycles


def _walk_cycle(
    edges: Mapping[Vertex, Iterable[Vertex]], start: Vertex, members: set[Vertex]
) -> list[Vertex]:
    """Breadth-first search back to ``start`` inside one component (shortest cycle)."""
    parents: dict[Vertex, Vertex] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        next_frontier: list[Vertex] = []
        for vertex in frontier:
            for target in edges.get(vertex, ()):
                if target not in members:
                    continue
                if target == start:
                    path = [vertex]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    path.reverse()
                    return [*path, start]
                if target not in seen:
                    seen.add(target)
                    parents[target] = vertex
                    next_frontier.append(target)
        frontier = next_frontier
    return [start, start]


def topological_order(edges: Mapping[Vertex, Iterable[Vertex]]) -> list[Vertex]:
    """Dependencies first; raises ValueError if the graph has a cycle."""
    remaining = {vertex: {t for t in targets if t in edges} for vertex, targets in edges.items()}
    dependents: dict[Vertex, list[Vertex]] = {vertex: [] for vertex in edges}
    for vertex, targets in remaining.items():
        for target in targets:
            dependents[target].append(vertex)
    ready = [vertex for vertex, targets in remaining.items() if not targets]
    order: list[Vertex] = []
    while ready:
        vertex = ready.pop()
        order.append(vertex)
        for dependent in dependents[vertex]:
            remaining[dependent].discard(vertex)
            if not remaining[dependent]:
                ready.append(dependent)
    if len(order) != len(remaining):
        raise ValueError("graph has a cycle")
    return order

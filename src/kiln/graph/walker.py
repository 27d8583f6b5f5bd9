"""Walk a dependency graph with asyncio: every node as soon as its prerequisites are done.

Generic: nodes are any hashable keys and the work is a callback. After the
first failure, or once ``should_stop`` says so (cancel, timeout), no new node
starts; nodes already running finish and are recorded; the rest are skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Node = TypeVar("Node", bound=Hashable)


@dataclass
class WalkResult(Generic[Node]):
    done: list[Node] = field(default_factory=list)
    failed: dict[Node, BaseException] = field(default_factory=dict)
    skipped: list[Node] = field(default_factory=list)
    #: True when ``should_stop`` ended the walk early.
    stopped: bool = False

    @property
    def succeeded(self) -> bool:
        return not self.failed and not self.skipped and not self.stopped


async def walk(
    requires: Mapping[Node, frozenset[Node]],
    run: Callable[[Node], Awaitable[None]],
    *,
    limit: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> WalkResult[Node]:
    """Run ``run(node)`` for every node, prerequisites first, up to ``limit`` at once.

    Edges to nodes outside ``requires`` are ignored. A cycle leaves its nodes
    skipped rather than hanging.
    """
    waiting = {node: {r for r in required if r in requires} for node, required in requires.items()}
    dependents: dict[Node, list[Node]] = {node: [] for node in requires}
    for node, required in waiting.items():
        for prerequisite in required:
            dependents[prerequisite].append(node)
    ready = [node for node, required in waiting.items() if not required]
    running: dict[asyncio.Task[None], Node] = {}
    result: WalkResult[Node] = WalkResult()
    halted = False
    while ready or running:
        if not halted and (result.failed or should_stop()):
            halted = True
            result.stopped = not result.failed
        while ready and not halted and (limit is None or len(running) < limit):
            node = ready.pop()
            running[asyncio.ensure_future(run(node))] = node
        if not running:
            break
        finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        for task in finished:
            node = running.pop(task)
            error = task.exception()
            if error is not None:
                result.failed[node] = error
                continue
            result.done.append(node)
            for dependent in dependents[node]:
                waiting[dependent].discard(node)
                if not waiting[dependent]:
                    ready.append(dependent)
    finished_nodes = set(result.done) | set(result.failed)
    result.skipped = [node for node in requires if node not in finished_nodes]
    return result

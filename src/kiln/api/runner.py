"""Runs stack operations inside the server's event loop.

A request records an operation (the service's compare-and-swap) and asks the
runner to run it; the runner starts an engine for the stack in the server's
loop unless one already runs it here. An engine that finds the stack held by
another (in this process or another worker) steps aside: the holder takes the
operation up, at its latest once it has given the lease back (see
:meth:`kiln.engine.operation.Engine.run`). It also looks, now and then, for
operations whose engine died (their lease expired, here or in another
process) and resumes them. On shutdown every engine stops at its next wait:
the steps in flight finish and are recorded, leases are given back, and
whatever is unfinished is resumed by the next engine to look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from kiln.engine.operation import Engine
from kiln.persistence.stacks import StackRepository

LOG = logging.getLogger(__name__)


class EngineRunner:
    def __init__(
        self,
        make_engine: Callable[[], Engine],
        stacks: StackRepository,
        recover_every: float = 5.0,
    ) -> None:
        self.make_engine = make_engine
        self.stacks = stacks
        self.recover_every = recover_every
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._engines: dict[str, Engine] = {}
        self._recovery: asyncio.Task[None] | None = None
        self._stopping = False
        #: Stacks launched while an engine of theirs was still winding down here.
        self._again: set[str] = set()

    def start(self) -> None:
        """Bind to the running loop and start looking for stalled operations."""
        self._loop = asyncio.get_running_loop()
        self._recovery = asyncio.ensure_future(self._recover_forever())

    def launch(self, stack_id: str) -> None:
        """Run the stack's operation here (callable from any thread)."""
        loop = self._loop
        if loop is None or self._stopping:
            return
        loop.call_soon_threadsafe(self._start, stack_id)

    def running(self) -> list[str]:
        return [stack_id for stack_id, task in self._tasks.items() if not task.done()]

    def _start(self, stack_id: str) -> None:
        current = self._tasks.get(stack_id)
        if current is not None and not current.done():
            # That engine takes up an operation recorded while it runs, unless it was
            # already past its last look: then the stack runs again once it is done.
            self._again.add(stack_id)
            return
        engine = self.make_engine()
        self._engines[stack_id] = engine
        self._tasks[stack_id] = asyncio.ensure_future(self._run(stack_id, engine))

    async def _run(self, stack_id: str, engine: Engine) -> None:
        try:
            await engine.run(stack_id)
        except Exception:
            LOG.exception("the operation of stack %s stopped with an error", stack_id)
        finally:
            self._engines.pop(stack_id, None)
            if stack_id in self._again and not self._stopping:
                self._again.discard(stack_id)
                # After this task is done, so that ``_start`` does not find it running.
                asyncio.get_running_loop().call_soon(self._start, stack_id)

    async def _recover_forever(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.recover_every)
            try:
                stalled = await asyncio.to_thread(
                    self.stacks.orphaned_operations, datetime.now(UTC)
                )
            except Exception:
                LOG.exception("looking for stalled operations failed")
                continue
            for stack in stalled:
                self._start(stack.id)

    async def shutdown(self, grace_seconds: float = 30.0) -> None:
        """Stop every engine at its next wait and wait (at most ``grace_seconds``) for them."""
        self._stopping = True
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
        for engine in list(self._engines.values()):
            engine.stop()
        pending = [task for task in self._tasks.values() if not task.done()]
        if not pending:
            return
        _, still_running = await asyncio.wait(pending, timeout=grace_seconds)
        for task in still_running:
            task.cancel()
        if still_running:
            await asyncio.gather(*still_running, return_exceptions=True)

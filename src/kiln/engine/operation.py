"""Drive one stack's operation to its end: converge, then complete, fail or roll back.

Converging means: plan from the template and what is recorded, walk the
plan, and plan again, until the plan has nothing left to change. Because
the plan is recomputed from the database each round, the same code resumes
an operation a dead process left behind, and picks up replacements that
were only decided while applying.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from kiln.config import DEFAULT_API_URL, TemplateLimits
from kiln.engine.action_steps import RECORD_ACTIONS, act, action_order
from kiln.engine.context import OperationContext
from kiln.engine.hooks import HookSignals
from kiln.engine.nested import NestedStackClient
from kiln.engine.observe import as_observed, observe
from kiln.engine.parent_attributes import attributes_needed, refresh_parent_attributes
from kiln.engine.resource_steps import (
    StepFailed,
    StepInterrupted,
    provider_context,
    record_restricted,
    recorded_plugin,
    refresh_attributes,
    replacement_needed,
    run_step,
)
from kiln.engine.restore_steps import restorable, restore_contents
from kiln.engine.scope import recorded_scope
from kiln.engine.software_config import software_config_clients
from kiln.engine.store import RepositoryStore
from kiln.engine.validation import validate_stack
from kiln.errors import Diagnostic, EvaluationError
from kiln.graph.walker import Node, walk
from kiln.persistence.database import Database
from kiln.persistence.events import EventRepository
from kiln.persistence.locks import LockRepository
from kiln.persistence.secrets import SecretBox
from kiln.persistence.signals import SignalRepository
from kiln.persistence.snapshots import SnapshotRepository
from kiln.persistence.stacks import StackRepository
from kiln.plan.desired import deletion_policies, desired_resources
from kiln.plan.planner import RESTRICTED_REPLACE, RESTRICTED_UPDATE, plan_changes
from kiln.plan.state import Action, StackRecord, Status
from kiln.plan.steps import Plan, Step, StepKey
from kiln.providers.context import Cancellation, Clock, SystemClock
from kiln.providers.registry import PluginRegistry
from kiln.template.functions.base import Resolver
from kiln.template.references import dependency_map
from kiln.template.validate import ValidationResult

#: Rounds of plan-and-walk before an operation counts as not converging.
MAX_ROUNDS = 5
#: The planner's codes for a change that ``restricted_actions`` forbid, by the action
#: Heat names; the diagnostic's path names the resource.
RESTRICTED = {RESTRICTED_UPDATE: "update", RESTRICTED_REPLACE: "replace"}
#: How often a running operation checks whether it was cancelled or superseded.
WATCH_INTERVAL = 0.25


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    reason: str = ""
    #: The operation was superseded (cancel, a newer operation): do nothing more.
    superseded: bool = False


def resource_facade(result: ValidationResult, name: str) -> dict[str, Any]:
    """What ``resource_facade`` reads in a nested stack: the sections of its parent resource."""
    template = result.template
    if template is None or result.scope is None or name not in template.resources:
        return {}
    declaration = template.resources[name]
    resolver = Resolver(result.scope, result.limits)
    facade: dict[str, Any] = {}
    for section in ("metadata", "deletion_policy", "update_policy"):
        try:
            facade[section] = resolver.resolve(getattr(declaration, section))
        except EvaluationError:
            facade[section] = None
    facade["deletion_policy"] = facade["deletion_policy"] or "Delete"
    facade["metadata"] = facade["metadata"] or {}
    facade["update_policy"] = facade["update_policy"] or {}
    return facade


class Engine:
    """Runs stack operations in this process; several engines may share one database."""

    def __init__(
        self,
        database: Database,
        plugins: PluginRegistry,
        secrets: SecretBox,
        *,
        engine_id: str | None = None,
        clock: Clock | None = None,
        concurrency: int | None = None,
        lease_seconds: float = 30.0,
        limits: TemplateLimits | None = None,
        children: dict[str, asyncio.Task[StackRecord | None]] | None = None,
        clients: Mapping[str, Any] | None = None,
        api_url: str = DEFAULT_API_URL,
    ) -> None:
        self.limits = limits
        #: The API's URL as servers reach it: the base of the signal URLs handed out.
        self.api_url = api_url
        #: The configured cloud clients every plugin gets (``ctx.clients["local"]``).
        self.clients: Mapping[str, Any] = clients or {}
        self.database = database
        self.plugins = plugins
        self.engine_id = engine_id or f"engine-{uuid.uuid4()}"
        self.clock = clock or SystemClock()
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.stacks = StackRepository(database, secrets)
        self.locks = LockRepository(database)
        self.events = EventRepository(database)
        self.signals = SignalRepository(database)
        self.snapshots = SnapshotRepository(database)
        self.store = RepositoryStore(database, secrets, self._secret_data_keys)
        self.secrets = secrets
        #: Nested stacks this process runs, shared by the engines of one tree of
        #: stacks; the engine that made the map waits for them before it returns.
        self._owns_children = children is None
        self._children: dict[str, asyncio.Task[StackRecord | None]] = (
            {} if children is None else children
        )
        #: The leases of the operations running now, and the engines of their nested
        #: stacks: what :meth:`stop` winds down.
        self._running: set[Cancellation] = set()
        self._child_engines: list[Engine] = []
        self._stopped = False

    def stop(self) -> None:
        """Wind down: each operation stops at its next wait, with the steps in flight
        finished and recorded, and gives its lease back for another engine to resume."""
        self._stopped = True
        for cancellation in list(self._running):
            cancellation.cancel()
        for child in self._child_engines:
            child.stop()

    async def run(self, stack_id: str) -> StackRecord | None:
        """Drive the stack's current operation to its end, resuming wherever it stands.

        Returns the final record, or the record as it stands when another live engine
        holds the stack (that engine runs the operation).

        An operation recorded after this engine's last look but before it gave its
        lease back finds the lease still held, and its own engine steps aside: so,
        once the lease is given back, this engine looks once more and runs it (unless
        another engine got the lease first). The commits order the two sides: either
        the operation is seen by that look, or it was recorded after the lease was
        given back and its own engine got the lease.
        """
        ran = False
        while self.locks.acquire(stack_id, self.engine_id, self.lease_seconds, _now()):
            ran = True
            if not await self._run_leased(stack_id) or not self._operation_waiting(stack_id):
                break
        if not ran:
            return self.stacks.get(stack_id)
        if self._owns_children:
            await self._settle_children()
        return self.stacks.get(stack_id, include_deleted=True)

    async def _run_leased(self, stack_id: str) -> bool:
        """Run the stack's operations while holding its lease, then give the lease back.

        False when this engine was stopped or lost the lease, with work possibly left.
        """
        cancellation = Cancellation(self.clock)
        self._running.add(cancellation)
        heartbeat = asyncio.ensure_future(self._heartbeat(stack_id, cancellation))
        try:
            await self._run_locked(stack_id, cancellation)
        finally:
            heartbeat.cancel()
            self._running.discard(cancellation)
            self.locks.release(stack_id, self.engine_id)
        return not cancellation.is_cancelled() and not self._stopped

    def _operation_waiting(self, stack_id: str) -> bool:
        """Whether an operation was recorded that nobody has finished (read after the
        lease was given back)."""
        stack = self.stacks.get(stack_id)
        return (
            stack is not None
            and stack.status is Status.IN_PROGRESS
            and bool(stack.current_traversal)
        )

    def _secret_data_keys(self, type_name: str) -> frozenset[str]:
        plugin_class = self.plugins.get(type_name)
        return plugin_class.secret_data_keys if plugin_class is not None else frozenset()

    def launch(self, stack_id: str) -> None:
        """Run a (nested) stack's operation in this process unless it already runs here."""
        running = self._children.get(stack_id)
        if running is not None and not running.done():
            return
        child = Engine(
            self.database,
            self.plugins,
            self.secrets,
            clock=self.clock,
            concurrency=self.concurrency,
            lease_seconds=self.lease_seconds,
            limits=self.limits,
            children=self._children,
            clients=self.clients,
            api_url=self.api_url,
        )
        self._child_engines.append(child)
        self._children[stack_id] = asyncio.ensure_future(child.run(stack_id))

    async def _settle_children(self) -> None:
        """Wait for nested stacks still running (their parents are done with them)."""
        while pending := [task for task in self._children.values() if not task.done()]:
            await asyncio.gather(*pending, return_exceptions=True)
        tasks = list(self._children.values())
        self._children.clear()
        for task in tasks:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error

    async def _heartbeat(self, stack_id: str, cancellation: Cancellation) -> None:
        """Renew the lease; losing it (another engine took over) stops this one."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            if not self.locks.renew(stack_id, self.engine_id, self.lease_seconds, _now()):
                cancellation.cancel()
                return

    async def _run_locked(self, stack_id: str, lease_lost: Cancellation) -> None:
        stack = self.stacks.get(stack_id)
        while stack is not None and stack.status is Status.IN_PROGRESS and stack.current_traversal:
            outcome = await self._converge(stack, lease_lost)
            if outcome.superseded:
                stack = self.stacks.get(stack_id)
                if lease_lost.is_cancelled():
                    return
                continue
            concluded = self._conclude(stack, outcome)
            if concluded is None and outcome.succeeded and stack.parent_id:
                await refresh_parent_attributes(
                    stack, self.stacks, self.store.resources, self.plugins, self.limits, self.launch
                )
            # An update may have preempted the operation just as it ended: run it too.
            stack = concluded if concluded is not None else self.stacks.get(stack_id)

    def _conclude(self, stack: StackRecord, outcome: Outcome) -> StackRecord | None:
        """Record the result; start the rollback a failed create or update asks for."""
        traversal = stack.current_traversal or ""
        if outcome.succeeded:
            if stack.action is Action.ROLLBACK and stack.previous_template:
                # Back to the definition the failed update started from, before the
                # rollback is seen complete; unless an update has meanwhile saved a
                # newer definition, which takes over from the rollback.
                self.stacks.save_definition(
                    replace(converging_to(stack), previous_template=""), unchanged_since=stack
                )
            reason = _complete_reason(stack.action)
            if not self.stacks.finish_operation(
                stack.id, traversal, Status.COMPLETE, reason, record_event=True
            ):
                return self.stacks.get(stack.id)
            if stack.action is Action.DELETE:
                self.stacks.soft_delete(stack.id)
            return None
        if not self.stacks.finish_operation(
            stack.id, traversal, Status.FAILED, outcome.reason, record_event=True
        ):
            return self.stacks.get(stack.id)
        if stack.action in (Action.CREATE, Action.UPDATE) and not stack.disable_rollback:
            rollback = str(uuid.uuid4())
            if self.stacks.begin_operation(
                stack.id,
                Action.ROLLBACK,
                traversal,
                rollback,
                None,
                reason="rollback started",
                record_event=True,
            ):
                return self.stacks.get(stack.id)
        return None

    async def _converge(self, stack: StackRecord, lease_lost: Cancellation) -> Outcome:
        """One operation (traversal); stops early when superseded (cancel) or the lease is lost."""
        traversal = stack.current_traversal or ""
        cancellation = Cancellation(self.clock)
        watcher = asyncio.ensure_future(self._watch(stack.id, traversal, lease_lost, cancellation))
        try:
            return await self._converge_watched(stack, traversal, cancellation)
        finally:
            watcher.cancel()

    async def _watch(
        self, stack_id: str, traversal: str, lease_lost: Cancellation, cancellation: Cancellation
    ) -> None:
        """Cancel the operation's waits once another operation preempts it, so that one
        starts at once.

        A stack stopped without an operation of its own (Heat's cancel without
        rollback) only stops new steps from starting: as in Heat, the steps in
        flight go on to their end, until another operation comes along.
        """
        while not cancellation.is_cancelled():
            await asyncio.sleep(WATCH_INTERVAL)
            if lease_lost.is_cancelled():
                cancellation.cancel()
            elif self.stacks.traversal(stack_id) != traversal:
                current = self.stacks.get(stack_id)
                if current is None or current.status is Status.IN_PROGRESS:
                    cancellation.cancel()

    async def _converge_watched(
        self, stack: StackRecord, traversal: str, cancellation: Cancellation
    ) -> Outcome:
        result = validate_stack(converging_to(stack), self.plugins, self.limits)
        if not result.ok:
            return Outcome(False, f"the template is not valid: {result.errors[0].render()}")
        context = OperationContext(
            stack=stack,
            traversal=traversal,
            result=result,
            store=self.store,
            plugins=self.plugins,
            cancellation=cancellation,
            clock=self.clock,
            deadline=self._deadline(stack),
            attributes_needed=attributes_needed(result),
            dependencies=dependency_map(result.template) if result.template else {},
            stack_client=lambda resource: NestedStackClient(
                converging_to(stack),
                resource,
                self.stacks,
                self.store.resources,
                self.plugins,
                self.limits,
                self.launch,
                resource_facade(result, resource),
                api_url=self.api_url,
            ),
            software_configs=software_config_clients(
                self.database, converging_to(stack), self.api_url
            ),
            hooks=HookSignals(self.events, self.signals, stack.id, traversal),
            clients=self.clients,
        )
        self.store.load(stack.id)
        if stack.action in RECORD_ACTIONS:
            return await self._act(context, stack.action)
        if stack.action is Action.UPDATE and stack.converge:
            await self._observe(context)
        outcome = await self._apply(context)
        if outcome.succeeded and stack.action is Action.RESTORE:
            return await self._restore(context)
        return outcome

    async def _apply(self, context: OperationContext) -> Outcome:
        """Plan and walk until the resources match the definition."""
        for _ in range(MAX_ROUNDS):
            await refresh_attributes(context)
            plan, problems = self._plan(context)
            if problems:
                restricted = await self._record_restrictions(context, problems)
                if restricted:
                    return Outcome(
                        False, f"Resource {context.stack.action} failed: {restricted[0]}"
                    )
                return Outcome(False, problems[0].message)
            if not plan.changes():
                # Unchanged resources still take the new template's dependencies.
                for step in plan:
                    await run_step(context, step)
                return Outcome(True)
            context.diverged = False
            outcome = await self._walk(context, plan.steps)
            if outcome is not None:
                return outcome
            if not context.diverged:
                # Every step did what the plan said, so planning again would find nothing.
                return Outcome(True)
        return Outcome(False, "the stack did not converge")

    async def _record_restrictions(
        self, context: OperationContext, problems: Sequence[Diagnostic]
    ) -> list[str]:
        """An update or replacement the environment's ``restricted_actions`` forbid leaves
        the resource as it is; as in Heat, only an event of the resource says why.
        The failures, worded as Heat words them."""
        live = self.store.live(context.stack.id)
        failures = []
        for problem in problems:
            action = RESTRICTED.get(problem.code)
            name = str(problem.path[1]) if len(problem.path) > 1 else ""
            record = live.get(name)
            if action is None or record is None:
                continue
            if action == "update" and replacement_needed(context, name):
                # The plugin, not the schema, asks for a replacement: Heat names that.
                action = "replace"
            failures.append(await record_restricted(context, record, action))
        return failures

    async def _restore(self, context: OperationContext) -> Outcome:
        """After a restore's update: each resource that kept a snapshot gets its contents back."""
        snapshot = self.snapshots.restoring(context.stack.id, context.traversal)
        if snapshot is None:
            return Outcome(True)
        targets = restorable(context, snapshot.data.get("resources", {}))

        async def run(name: str) -> None:
            await restore_contents(context, name, targets[name])

        requires: dict[str, frozenset[str]] = {name: frozenset() for name in targets}
        return await self._walked(context, requires, run) or Outcome(True)

    def _plan(self, context: OperationContext) -> tuple[Plan, list[Diagnostic]]:
        stack = context.stack
        records = self.store.all(stack.id)
        scope = recorded_scope(
            context.result, self.store.live(stack.id), self.plugins, planning=True
        )
        template = context.result.template
        policies = deletion_policies(template, scope) if template is not None else {}
        if stack.action is Action.DELETE or (
            stack.action is Action.ROLLBACK and not stack.previous_template
        ):
            return plan_changes([], records, previous_deletion_policies=policies)
        desired, problems = desired_resources(context.result, self.plugins.schemas(), scope)
        if problems:
            return Plan(), problems
        return plan_changes(desired, records, previous_deletion_policies=policies)

    async def _observe(self, context: OperationContext) -> None:
        """Replace the cached records by what each plugin reads (not saved: only planned on)."""
        for record in list(context.store.live(context.stack.id).values()):
            if record.status is not Status.COMPLETE:
                continue
            plugin = recorded_plugin(context, record)
            drift = await observe(
                record,
                self.plugins,
                lambda observed: provider_context(context, observed),
                plugin,
            )
            context.store.observed(as_observed(record, drift))

    async def _act(self, context: OperationContext, action: Action) -> Outcome:
        """Suspend, resume, check or snapshot every live resource (the definition stays)."""
        live = context.store.live(context.stack.id)
        snapshot = None
        if action is Action.SNAPSHOT:
            snapshot = self.snapshots.in_progress(context.stack.id)
            if snapshot is None:
                return Outcome(False, "there is no snapshot to take")
            context.snapshot_id = snapshot.id

        async def run(name: str) -> None:
            await act(context, name, action)

        outcome = await self._walked(context, action_order(live, action), run) or Outcome(True)
        if snapshot is not None and not outcome.superseded:
            data = dict(snapshot.data)
            resources = {name: dict(entry) for name, entry in data.get("resources", {}).items()}
            for name, taken in context.resource_snapshots.items():
                resources.setdefault(name, {})["snapshot_id"] = taken
            data["resources"] = resources
            status = Status.COMPLETE if outcome.succeeded else Status.FAILED
            self.snapshots.finish(snapshot.id, status, outcome.reason, data)
        return outcome

    async def _walk(
        self, context: OperationContext, steps: Mapping[StepKey, Step]
    ) -> Outcome | None:
        """One walk of a plan; None when it finished and the stack should be planned again."""

        async def run(key: StepKey) -> None:
            await run_step(context, steps[key])

        return await self._walked(context, {k: s.requires for k, s in steps.items()}, run)

    async def _walked(
        self,
        context: OperationContext,
        requires: Mapping[Node, frozenset[Node]],
        run: Callable[[Node], Awaitable[None]],
    ) -> Outcome | None:
        """Walk the graph; how it ended, or None when every node was done."""
        stack_id = context.stack.id

        def superseded() -> bool:
            return self.stacks.traversal(stack_id) != context.traversal

        def should_stop() -> bool:
            return context.cancellation.is_cancelled() or context.timed_out() or superseded()

        result = await walk(requires, run, limit=self.concurrency, should_stop=should_stop)
        if result.failed and all(isinstance(e, StepInterrupted) for e in result.failed.values()):
            return Outcome(False, "superseded", superseded=True)
        if result.failed:
            error = next(e for e in result.failed.values() if not isinstance(e, StepInterrupted))
            if not isinstance(error, StepFailed):
                raise error
            return Outcome(False, f"Resource {context.stack.action} failed: {error}")
        if superseded() or context.cancellation.is_cancelled():
            return Outcome(False, "superseded", superseded=True)
        if context.timed_out():
            return Outcome(False, "Timed out")
        return None

    def _deadline(self, stack: StackRecord) -> float | None:
        if stack.deadline_at is None:
            return None
        left = (stack.deadline_at - _now()).total_seconds()
        return self.clock.monotonic() + left


def converging_to(stack: StackRecord) -> StackRecord:
    """What an operation converges to: a rolled-back update returns to the previous definition."""
    if stack.action is Action.ROLLBACK and stack.previous_template:
        return replace(
            stack,
            template=stack.previous_template,
            files=stack.previous_files,
            environments=stack.previous_environments,
            parameters=stack.previous_parameters,
        )
    return stack


def _complete_reason(action: Action) -> str:
    return f"Stack {action} completed successfully"


def _now() -> datetime:
    return datetime.now(UTC)

"""Hooks: breakpoints set in the environment that pause a resource until cleared.

``resource_registry: {resources: {web: {hooks: [pre-create]}}}`` makes the
engine stop before creating ``web``: an event says it is paused, and the step
waits (cancellable) until ``kiln stack hook clear`` or a signal
``{"unset_hook": "pre-create"}`` to the resource clears it for the current
operation. Clearing is recorded as a signal, so any engine process sees it.
"""

from __future__ import annotations

from kiln.engine.context import OperationContext
from kiln.persistence.events import EventDraft, EventRepository
from kiln.persistence.signals import SignalRepository
from kiln.plan.state import Action, Status
from kiln.plan.steps import Operation

#: The action each kind of step performs, which names its hooks (pre-create, post-create, ...).
_ACTION_OF_STEP: dict[Operation, Action] = {
    Operation.CREATE: Action.CREATE,
    Operation.CREATE_REPLACEMENT: Action.CREATE,
    Operation.UPDATE: Action.UPDATE,
    Operation.DELETE: Action.DELETE,
    Operation.DELETE_REPLACED: Action.DELETE,
}
#: Seconds between two looks for the clearing signal.
POLL_SECONDS = 0.1


_PAUSED = "paused until Hook {} is cleared"


def paused_reason(hook: str) -> str:
    return _PAUSED.format(hook)


def paused_hook(reason: str) -> str | None:
    """The hook an event says a resource waits for, if it says so."""
    prefix, suffix = _PAUSED.split("{}")
    if reason.startswith(prefix) and reason.endswith(suffix):
        return reason[len(prefix) : len(reason) - len(suffix)]
    return None


class HookSignals:
    """Hooks of one operation: cleared by a signal naming this traversal."""

    def __init__(
        self, events: EventRepository, signals: SignalRepository, stack_id: str, traversal: str
    ) -> None:
        self.events, self.signals = events, signals
        self.stack_id, self.traversal = stack_id, traversal

    def cleared(self, resource: str, hook: str) -> bool:
        return any(
            signal.get("unset_hook") == hook and signal.get("traversal") == self.traversal
            for signal in self.signals.list(self.stack_id, resource)
        )

    def pause(self, event: EventDraft) -> None:
        self.events.append(self.stack_id, event)


async def wait_for_hook(
    context: OperationContext, resource: str, operation: Operation, when: str
) -> bool:
    """Stop here (``when`` is "pre" or "post") while the environment sets a hook for this
    step and it is not cleared. False when the operation was cancelled or superseded."""
    action = _ACTION_OF_STEP.get(operation)
    environment = context.result.environment
    if action is None or environment is None or context.hooks is None:
        return True
    hook = f"{when}-{action.value.lower()}"
    if hook not in environment.resource_registry.hooks_for(resource):
        return True
    if context.hooks.cleared(resource, hook):
        return True
    context.hooks.pause(
        EventDraft(
            resource_name=resource,
            action=action,
            status=Status.IN_PROGRESS,
            status_reason=paused_reason(hook),
        )
    )
    while not context.hooks.cleared(resource, hook):
        if await context.cancellation.wait(POLL_SECONDS):
            return False
    return True

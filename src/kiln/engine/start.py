"""Starting an operation: what the service does for a user and a parent does for its child."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from kiln.persistence.stacks import StackRepository
from kiln.plan.state import Action, StackRecord


def start_operation(
    stacks: StackRepository,
    stack: StackRecord,
    action: Action,
    expected_traversal: str | None,
    *,
    allow_in_progress: bool = False,
) -> bool:
    """Record ``action`` as the stack's operation (a new traversal, its deadline, the
    "started" event); False when another operation got there first."""
    deadline = None
    if stack.timeout_mins:
        deadline = datetime.now(UTC) + timedelta(minutes=stack.timeout_mins)
    return stacks.begin_operation(
        stack.id,
        action,
        expected_traversal,
        str(uuid.uuid4()),
        deadline,
        allow_in_progress=allow_in_progress,
        reason=f"Stack {action} started",
        record_event=True,
    )

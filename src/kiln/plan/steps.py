"""The plan as data: steps, why each exists, and the order between them.

Preview renders exactly these values and apply executes them, so what a user
was shown is what happens (Pulumi's steps idea). Ordering lives in
``requires`` edges, including replacement order, never in branches inside
the executor.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field


class Operation(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    #: Create the new incarnation of a resource that is being replaced.
    CREATE_REPLACEMENT = "create-replacement"
    #: Delete the old incarnation once nothing points at it any more.
    DELETE_REPLACED = "delete-replaced"
    #: Make a replaced incarnation live again (rolling an update back).
    RESTORE = "restore"
    DELETE = "delete"
    #: Forget the resource without deleting it (``deletion_policy: Retain``).
    RETAIN = "retain"
    SAME = "same"


class Phase(enum.StrEnum):
    """Which incarnation a step works on when a name has two (replacement)."""

    CURRENT = "current"
    NEW = "new"
    OLD = "old"


@dataclass(frozen=True, order=True)
class StepKey:
    resource: str
    phase: Phase = Phase.CURRENT
    #: Tells apart several old incarnations of one name waiting for deletion.
    incarnation: str = ""

    def __str__(self) -> str:
        return self.resource if self.phase is Phase.CURRENT else f"{self.resource}({self.phase})"


@dataclass(frozen=True)
class Step:
    key: StepKey
    operation: Operation
    type: str
    #: Property names whose value changes (update and replace).
    changed: frozenset[str] = frozenset()
    #: Why this operation was chosen, in words a user reads in a preview.
    reason: str = ""
    #: Steps that must finish first.
    requires: frozenset[StepKey] = frozenset()
    #: True when the choice between update and replace waits for values
    #: that are only known once earlier steps have run.
    decided_at_apply: bool = False
    #: The recorded incarnation the step works on (None for a create).
    record_id: str | None = None
    #: A delete that takes a snapshot first (``deletion_policy: Snapshot``).
    snapshot: bool = False


@dataclass(frozen=True)
class Plan:
    steps: Mapping[StepKey, Step] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps.values())

    def by_operation(self, operation: Operation) -> list[Step]:
        return [step for step in self.steps.values() if step.operation is operation]

    def changes(self) -> list[Step]:
        return [step for step in self.steps.values() if step.operation is not Operation.SAME]

    def render(self) -> str:
        """Stable text, one step a line, dependencies first (golden tests, previews)."""
        from kiln.graph.dag import topological_order

        edges = {key: step.requires for key, step in self.steps.items()}
        depth: dict[StepKey, int] = {}
        for key in topological_order(edges):
            depth[key] = 1 + max((depth[r] for r in edges[key] if r in depth), default=-1)
        ranked = sorted(self.steps, key=lambda key: (depth[key], key))
        lines = []
        for key in ranked:
            step = self.steps[key]
            line = f"{step.operation:<18} {key} ({step.type})"
            if step.reason:
                line += f": {step.reason}"
            if step.requires:
                line += f" [after {', '.join(str(k) for k in sorted(step.requires))}]"
            lines.append(line)
        return "\n".join(lines)

"""Desired state and recorded state → a :class:`Plan`, by Heat's update rules.

- a resource only in the template is created; one only in the record is
  deleted (or retained, by its deletion policy);
- a changed property whose schema allows updates is updated in place; any
  other change, a type that now means another implementation, or a resource
  left FAILED is replaced; a new type name for the same implementation (two
  aliases of one type, two provider templates) is an update;
- a nested stack is always updated: its own resources decide what changes
  (the files map or the environment it inherits may have changed);
- a replacement creates the new incarnation first and deletes the old one
  after everything that depended on it has moved (delete-first when the
  plugin requires it);
- ``restricted_actions`` from the environment turn a would-be update or
  replacement into an error, and immutable properties never change.

Values still unknown (they depend on resources changed by the same plan)
leave the update-or-replace choice to apply time, and the step says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from kiln.errors import Diagnostic, TemplatePath
from kiln.graph.dag import find_cycles
from kiln.plan.state import Action, ResourceRecord, Status
from kiln.plan.steps import Operation, Phase, Plan, Step, StepKey
from kiln.schema.resource_schema import ResourceSchema
from kiln.schema.types import UpdatePolicy
from kiln.schema.values import contains_unknown
from kiln.template.resource_registry import TEMPLATE_SUFFIXES

#: Diagnostic codes of a change the environment's ``restricted_actions`` forbid; the
#: engine records the refusal on the resource, by these codes (see README's code table).
RESTRICTED_UPDATE = "U9002"
RESTRICTED_REPLACE = "U9004"

#: Record actions that mean "being brought under management": a create, or an
#: adopt (the record holds an existing physical id to take over).
_CREATING = frozenset({Action.CREATE, Action.ADOPT})


@dataclass(frozen=True)
class DesiredResource:
    """One resource as the new template wants it, properties resolved as far as possible."""

    name: str
    type: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    depends_on: frozenset[str] = frozenset()
    schema: ResourceSchema | None = None
    deletion_policy: str = "Delete"
    #: The ``update_policy`` section, resolved; a change to it alone is an update.
    update_policy: Mapping[str, Any] = field(default_factory=dict)
    restricted_actions: frozenset[str] = frozenset()
    #: The plugin cannot have two incarnations at once (a fixed name, a port...).
    replace_delete_first: bool = False
    #: What ``type`` resolves to through the environment: a plugin's type or a
    #: provider template's location ("" means ``type`` itself).
    implementation: str = ""


@dataclass(frozen=True)
class _Decision:
    operation: Operation
    changed: frozenset[str] = frozenset()
    reason: str = ""
    decided_at_apply: bool = False
    #: For a restore: the replaced incarnation that becomes live again.
    restore_id: str | None = None
    #: For a delete: take a snapshot first (``deletion_policy: Snapshot``).
    snapshot: bool = False


def plan_changes(
    desired: Sequence[DesiredResource],
    recorded: Iterable[ResourceRecord],
    *,
    previous_deletion_policies: Mapping[str, str] | None = None,
) -> tuple[Plan, list[Diagnostic]]:
    """The steps that turn ``recorded`` into ``desired``, and every reason it can't."""
    records = list(recorded)
    live = {record.name: record for record in records if record.replaced_by is None}
    superseded = [record for record in records if record.replaced_by is not None]
    wanted = {resource.name: resource for resource in desired}
    diagnostics: list[Diagnostic] = []
    decisions: dict[str, _Decision] = {}
    for resource in desired:
        current = live.get(resource.name)
        decision, problems = _decide(resource, current)
        restorable = _restorable(resource, current, superseded)
        if restorable is not None and decision.operation is not Operation.SAME:
            reason = "the incarnation it replaced still matches the template"
            decision, problems = (
                _Decision(Operation.RESTORE, reason=reason, restore_id=restorable),
                [],
            )
        decisions[resource.name] = decision
        diagnostics += problems
    policies = previous_deletion_policies or {}
    for name in live:
        if name not in wanted:
            decisions[name] = _removal(policies.get(name, "Delete"))
    steps = _Ordering(wanted, live, decisions, superseded).steps()
    plan = Plan(steps)
    for cycle in find_cycles({key: step.requires for key, step in steps.items()}):
        shown = " -> ".join(str(key) for key in cycle)
        diagnostics.append(Diagnostic("U9003", f"the plan has a dependency cycle: {shown}"))
    return plan, diagnostics


def _restorable(
    resource: DesiredResource, current: ResourceRecord | None, superseded: list[ResourceRecord]
) -> str | None:
    """A replaced incarnation of this resource that already is what the template wants."""
    if current is None:
        return None
    for record in superseded:
        if (
            record.replaced_by == current.id
            and record.type == resource.type
            and record.status is Status.COMPLETE
            and record.physical_id is not None
            and not _changed_properties(record.properties, resource.properties)
        ):
            return record.id
    return None


def _removal(policy: str) -> _Decision:
    if policy.lower() == "retain":
        return _Decision(
            Operation.RETAIN, reason="removed from the template; deletion_policy Retain"
        )
    if policy.lower() == "snapshot":
        return _Decision(
            Operation.DELETE,
            reason="removed from the template; snapshot, then delete",
            snapshot=True,
        )
    return _Decision(Operation.DELETE, reason="removed from the template")


def _decide(
    resource: DesiredResource, record: ResourceRecord | None
) -> tuple[_Decision, list[Diagnostic]]:
    path = TemplatePath(("resources", resource.name))
    if record is None:
        return _Decision(Operation.CREATE, reason="new in the template"), []
    if record.status is Status.IN_PROGRESS and record.action in _CREATING:
        return _Decision(Operation.CREATE, reason="resuming an interrupted create"), []
    if (
        record.physical_id is None
        and record.status is not Status.COMPLETE
        and record.replaces is None
        and record.type == resource.type
    ):
        return _Decision(Operation.CREATE, reason="new in the template"), []
    if record.status is Status.IN_PROGRESS and record.action is Action.UPDATE:
        changed = _changed_properties(record.properties, resource.properties)
        return _Decision(Operation.UPDATE, changed, "resuming an interrupted update"), []
    if not _same_implementation(record, resource):
        reason = f"type changes from {record.type} to {resource.type}"
        if record.type == resource.type:
            reason = f"type {record.type} now means {resource.implementation or resource.type}"
        return _restricted(resource, _Decision(Operation.CREATE_REPLACEMENT, reason=reason), path)
    if record.status is Status.FAILED:
        reason = f"it is {record.state}"
        schema = resource.schema
        if schema is not None and not schema.replace_when_failed and record.physical_id:
            # A nested stack is updated back into shape, never rebuilt from nothing.
            changed = _changed_properties(record.properties, resource.properties)
            decision = _Decision(Operation.UPDATE, changed, f"{reason}: updating it in place")
            return _restricted(resource, decision, path)
        return _restricted(resource, _Decision(Operation.CREATE_REPLACEMENT, reason=reason), path)
    changed = _changed_properties(record.properties, resource.properties)
    if changed:
        return _decide_change(resource, record, changed, path)
    if _changed_properties(record.update_policy, resource.update_policy):
        decision = _Decision(Operation.UPDATE, reason="update_policy changed")
        return _restricted(resource, decision, path)
    if record.type != resource.type:
        reason = f"type changes from {record.type} to {resource.type}, the same implementation"
        return _restricted(resource, _Decision(Operation.UPDATE, reason=reason), path)
    if is_nested_stack(resource.schema) and "update" not in resource.restricted_actions:
        reason = "a nested stack is always updated: its own resources decide what changes"
        return _Decision(Operation.UPDATE, reason=reason), []
    return _Decision(Operation.SAME), []


def is_nested_stack(schema: ResourceSchema | None) -> bool:
    """Types backed by a nested stack are the ones never replaced for failing (their
    members are repaired instead); Heat always sends their updates down to the child."""
    return schema is not None and not schema.replace_when_failed


def _same_implementation(record: ResourceRecord, resource: DesiredResource) -> bool:
    """Whether the recorded resource and the desired one are made by the same code.

    As in Heat, every provider template is one implementation (a nested
    stack that is updated to the new template). A record from before
    implementations were kept is judged by its declared type.
    """
    if not record.implementation:
        return record.type == resource.type
    old, new = record.implementation, resource.implementation or resource.type
    return old == new or (old.endswith(TEMPLATE_SUFFIXES) and new.endswith(TEMPLATE_SUFFIXES))


def _decide_change(
    resource: DesiredResource,
    record: ResourceRecord,
    changed: frozenset[str],
    path: TemplatePath,
) -> tuple[_Decision, list[Diagnostic]]:
    schema = resource.schema
    known = {name for name in changed if not contains_unknown(resource.properties.get(name))}
    diagnostics = [
        Diagnostic(
            "U9001",
            f"property {name!r} is immutable and cannot change",
            path / "properties" / name,
        )
        for name in sorted(known)
        if schema is not None and _policy(schema, name) is UpdatePolicy.IMMUTABLE
    ]
    if diagnostics:
        return _Decision(Operation.SAME), diagnostics
    replacing = sorted(n for n in known if _policy(schema, n) is UpdatePolicy.REPLACE)
    maybe = sorted(n for n in changed - known if _policy(schema, n) is UpdatePolicy.REPLACE)
    if replacing:
        reason = f"{', '.join(replacing)} cannot be updated in place"
        decision = _Decision(Operation.CREATE_REPLACEMENT, changed, reason)
    elif maybe:
        reason = f"{', '.join(maybe)} may change once earlier steps have run"
        decision = _Decision(Operation.UPDATE, changed, reason, decided_at_apply=True)
    else:
        decision = _Decision(Operation.UPDATE, changed, f"{', '.join(sorted(changed))} changed")
    return _restricted(resource, decision, path)


def _policy(schema: ResourceSchema | None, name: str) -> UpdatePolicy:
    """Unknown types and undeclared properties are replaced, the safe choice."""
    if schema is None:
        return UpdatePolicy.REPLACE
    if schema.accepts_any_properties:
        return UpdatePolicy.IN_PLACE
    declared = schema.properties.get(name)
    return declared.update_policy if declared is not None else UpdatePolicy.REPLACE


def _restricted(
    resource: DesiredResource, decision: _Decision, path: TemplatePath
) -> tuple[_Decision, list[Diagnostic]]:
    replacing = decision.operation is Operation.CREATE_REPLACEMENT
    action, code = ("replace", RESTRICTED_REPLACE) if replacing else ("update", RESTRICTED_UPDATE)
    if action in resource.restricted_actions:
        message = (
            f"{action} of {resource.name!r} is restricted by the environment ({decision.reason})"
        )
        return _Decision(Operation.SAME), [Diagnostic(code, message, path)]
    return decision, []


def _changed_properties(old: Mapping[str, Any], new: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(
        name
        for name in set(old) | set(new)
        if contains_unknown(new.get(name)) or old.get(name) != new.get(name)
    )


class _Ordering:
    """Turns per-resource decisions into steps with ``requires`` edges."""

    def __init__(
        self,
        wanted: Mapping[str, DesiredResource],
        live: Mapping[str, ResourceRecord],
        decisions: Mapping[str, _Decision],
        superseded: Sequence[ResourceRecord] = (),
    ) -> None:
        self.wanted = wanted
        self.live = live
        self.decisions = decisions
        self.superseded = superseded

    def key(self, name: str) -> StepKey:
        """The step others wait for when they need ``name`` to be in its new state."""
        if self.decisions[name].operation is Operation.CREATE_REPLACEMENT:
            return StepKey(name, Phase.NEW)
        return StepKey(name)

    def steps(self) -> dict[StepKey, Step]:
        steps: dict[StepKey, Step] = {}
        for name, decision in self.decisions.items():
            for step in self._steps_for(name, decision):
                steps[step.key] = step
        for record in self.superseded:
            if any(d.restore_id == record.id for d in self.decisions.values()):
                continue
            step = self._superseded(record)
            steps[step.key] = step
        return steps

    def _superseded(self, record: ResourceRecord) -> Step:
        """An old incarnation left from an earlier operation: delete it once unused."""
        requires = set(self._dependents_moved(record.name, incarnation=record))
        if record.name in self.decisions:
            requires.add(self.key(record.name))
        return Step(
            StepKey(record.name, Phase.OLD, record.id),
            Operation.DELETE_REPLACED,
            record.type,
            reason="replaced earlier",
            requires=frozenset(requires),
            record_id=record.id,
        )

    def _type(self, name: str) -> str:
        return self.wanted[name].type if name in self.wanted else self.live[name].type

    def _dependencies(self, name: str) -> frozenset[StepKey]:
        return frozenset(self.key(d) for d in self.wanted[name].depends_on if d in self.decisions)

    def _dependents_moved(
        self,
        name: str,
        *,
        wanted_too: bool = True,
        incarnation: ResourceRecord | None = None,
    ) -> frozenset[StepKey]:
        """Steps after which nothing refers to the old incarnation of ``name``.

        ``wanted_too=False`` leaves out resources that stay in the template:
        with delete-first replacement they can only move once the new
        incarnation exists, which is after the old one is gone.
        ``incarnation`` is the record going away (default: the live one);
        recorded resources that cannot refer to it are left out.
        """
        incarnation = incarnation or self.live.get(name)
        keys: set[StepKey] = set()
        for other, resource in self.wanted.items():
            if wanted_too and name in resource.depends_on and other != name:
                keys.add(self.key(other))
        for other, record in self.live.items():
            if name in record.depends_on and other != name and self._may_refer(record, incarnation):
                decision = self.decisions[other]
                if decision.operation in (Operation.DELETE, Operation.RETAIN):
                    keys.add(StepKey(other))
                elif decision.operation is Operation.CREATE_REPLACEMENT:
                    keys.add(StepKey(other, Phase.OLD))
                elif decision.operation is Operation.RESTORE:
                    # A rolled-back incarnation still refers to it until it is deleted.
                    keys.add(StepKey(other, Phase.OLD, record.id))
                elif wanted_too and decision.operation in (Operation.SAME, Operation.UPDATE):
                    # It still records the dependency until its own step has run.
                    keys.add(StepKey(other))
        for record in self.superseded:
            restored = any(d.restore_id == record.id for d in self.decisions.values())
            refers = name in record.depends_on and self._may_refer(record, incarnation)
            if refers and record.name != name and not restored:
                # An incarnation an earlier operation left: it is deleted first.
                keys.add(StepKey(record.name, Phase.OLD, record.id))
        return frozenset(keys)

    def _may_refer(self, dependent: ResourceRecord, incarnation: ResourceRecord | None) -> bool:
        """Whether ``dependent`` can still refer to ``incarnation`` of a name it depends on.

        A record's dependencies are written when it is created or updated, always
        to the incarnation live at that time, and a replaced record is not written
        again once its successor exists. So it cannot refer to an incarnation born
        after its own successor, nor to one that already had a newer sibling when
        it was created. Without times, assume it does: an extra edge only orders
        deletes, a missing one could delete something still in use.
        """
        if incarnation is None or incarnation.created_at is None:
            return True
        born = incarnation.created_at
        successor = self._created(dependent.replaced_by)
        if successor is not None and born > successor:
            return False
        if dependent.created_at is None:
            return True
        return not any(
            sibling.id != incarnation.id
            and sibling.created_at is not None
            and born < sibling.created_at < dependent.created_at
            for sibling in self._incarnations(incarnation.name)
        )

    def _incarnations(self, name: str) -> list[ResourceRecord]:
        records = [record for record in self.superseded if record.name == name]
        if name in self.live:
            records.append(self.live[name])
        return records

    def _created(self, record_id: str | None) -> datetime | None:
        if record_id is None:
            return None
        for record in [*self.live.values(), *self.superseded]:
            if record.id == record_id:
                return record.created_at
        return None

    def _record_id(self, name: str) -> str | None:
        record = self.live.get(name)
        return record.id if record is not None else None

    def _steps_for(self, name: str, decision: _Decision) -> list[Step]:
        kind = self._type(name)
        operation = decision.operation
        if operation in (Operation.DELETE, Operation.RETAIN):
            requires = self._dependents_moved(name)
            step = Step(
                StepKey(name),
                operation,
                kind,
                reason=decision.reason,
                requires=requires,
                snapshot=decision.snapshot,
            )
            return [replace(step, record_id=self._record_id(name))]
        if operation is Operation.RESTORE:
            return self._restore(name, decision, kind)
        if operation is not Operation.CREATE_REPLACEMENT:
            step = Step(
                StepKey(name),
                operation,
                kind,
                decision.changed,
                decision.reason,
                self._dependencies(name),
                decision.decided_at_apply,
            )
            return [replace(step, record_id=self._record_id(name))]
        return self._replacement(name, decision, kind)

    def _restore(self, name: str, decision: _Decision, kind: str) -> list[Step]:
        restore = StepKey(name)
        current = self.live[name]
        dropped = StepKey(name, Phase.OLD, current.id)
        return [
            Step(
                restore,
                Operation.RESTORE,
                kind,
                reason=decision.reason,
                requires=self._dependencies(name),
                record_id=decision.restore_id,
            ),
            Step(
                dropped,
                Operation.DELETE_REPLACED,
                current.type,
                reason="rolled back",
                requires=self._dependents_moved(name) | {restore},
                record_id=current.id,
            ),
        ]

    def _replacement(self, name: str, decision: _Decision, kind: str) -> list[Step]:
        new, old = StepKey(name, Phase.NEW), StepKey(name, Phase.OLD)
        old_type = self.live[name].type
        record_id = self.live[name].id
        if self.wanted[name].replace_delete_first:
            dependents = self._dependents_moved(name, wanted_too=False) - {new}
            reason = f"{decision.reason}; the old one goes first"
            return [
                Step(
                    old,
                    Operation.DELETE_REPLACED,
                    old_type,
                    reason=reason,
                    requires=dependents,
                    record_id=record_id,
                ),
                Step(
                    new,
                    Operation.CREATE_REPLACEMENT,
                    kind,
                    decision.changed,
                    decision.reason,
                    self._dependencies(name) | {old},
                    record_id=record_id,
                ),
            ]
        dependents = self._dependents_moved(name) - {new}
        return [
            Step(
                new,
                Operation.CREATE_REPLACEMENT,
                kind,
                decision.changed,
                decision.reason,
                self._dependencies(name),
                record_id=record_id,
            ),
            Step(
                old,
                Operation.DELETE_REPLACED,
                old_type,
                reason="replaced",
                requires=dependents | {new},
                record_id=record_id,
            ),
        ]

"""Heat's resource and event lists (filters, nested stacks, sorting and pages), and the
templates a template nests (Heat's ``validate`` with ``show_nested``).

Filters follow Heat's: each is "any of these values"; a status may be given
alone (``COMPLETE``) or with its action (``CREATE_COMPLETE``), and the action
then counts as an action filter too. A type filter matches any type that
contains the text. Events sort by ``event_time`` or ``resource_type`` (other
keys are ignored, as Heat ignores them), oldest first unless told otherwise;
``marker`` is the id of the last event of the previous page.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kiln.config import TemplateLimits
from kiln.engine.resource_steps import resolved_type
from kiln.errors import KilnError
from kiln.plan.state import EventRecord, ResourceRecord, StackRecord
from kiln.service.stacks import StackDefinition, StackService
from kiln.template.validate import ValidationResult

#: The statuses a ``status`` filter may end with (Heat's).
_STATUSES = ("COMPLETE", "FAILED", "IN_PROGRESS")
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_EVENT_SORT_KEYS: dict[str, Callable[[EventRecord], Any]] = {
    "event_time": lambda event: event.created_at or _EARLIEST,
    "resource_type": lambda event: event.resource_type,
}


def _states(statuses: Collection[str], actions: Collection[str]) -> tuple[set[str], set[str]]:
    """The statuses asked for, and the actions (those given and those in ``ACTION_STATUS``)."""
    found_statuses: set[str] = set()
    found_actions = set(actions)
    for value in statuses:
        for status in _STATUSES:
            index = value.rfind(status)
            if index != -1:
                found_statuses.add(value[index:])
                if index > 1:
                    found_actions.add(value[: index - 1])
                break
    return found_statuses, found_actions


def _state_matches(
    statuses: Collection[str], actions: Collection[str], action: str, status: str
) -> bool:
    wanted_statuses, wanted_actions = _states(statuses, actions)
    if statuses and status not in wanted_statuses:
        return False
    return not wanted_actions or action in wanted_actions


def _one_of(values: Collection[str], value: str | None) -> bool:
    return not values or value in values


def _depth(service: StackService, nested_depth: int) -> int:
    return min(max(nested_depth, 0), (service.limits or TemplateLimits()).max_stack_nesting_depth)


@dataclass(frozen=True)
class ResourceFilters:
    names: Collection[str] = ()
    statuses: Collection[str] = ()
    actions: Collection[str] = ()
    types: Collection[str] = ()
    ids: Collection[str] = ()
    physical_ids: Collection[str] = ()

    def matches(self, record: ResourceRecord) -> bool:
        return (
            _one_of(self.names, record.name)
            and _one_of(self.ids, record.id)
            and _one_of(self.physical_ids, record.physical_id)
            and (not self.types or any(text in record.type for text in self.types))
            and _state_matches(
                self.statuses, self.actions, record.action.value, record.status.value
            )
        )


def list_resources(
    service: StackService,
    stack: StackRecord,
    nested_depth: int = 0,
    filters: ResourceFilters | None = None,
) -> list[tuple[StackRecord, ResourceRecord]]:
    """The live resources of the stack and of its nested stacks, each with its stack."""
    filters = filters or ResourceFilters()
    return [
        (member, record)
        for member in service.family(stack, _depth(service, nested_depth))
        for record in service.resource_records(member)
        if filters.matches(record)
    ]


@dataclass(frozen=True)
class EventQuery:
    names: Collection[str] = ()
    statuses: Collection[str] = ()
    actions: Collection[str] = ()
    types: Collection[str] = ()
    sort_keys: Sequence[str] = ()
    sort_dir: str = "asc"
    limit: int | None = None
    marker: str | None = None
    nested_depth: int = 0

    def matches(self, event: EventRecord) -> bool:
        return (
            _one_of(self.names, event.resource_name)
            and _one_of(self.types, event.resource_type)
            and _state_matches(self.statuses, self.actions, event.action.value, event.status.value)
        )


def list_events(
    service: StackService, stack: StackRecord, query: EventQuery | None = None
) -> list[tuple[StackRecord, EventRecord]]:
    """Events of the stack (and its nested stacks), each with its stack, sorted and paged."""
    query = query or EventQuery()
    if query.sort_dir not in ("asc", "desc"):
        raise KilnError(f"Unknown sort direction {query.sort_dir!r}: use asc or desc.")
    members = service.family(stack, _depth(service, query.nested_depth))
    order = {member.id: index for index, member in enumerate(members)}
    found = [
        (member, event)
        for member in members
        for event in service.event_records(member)
        if query.matches(event)
    ]
    keys = [_EVENT_SORT_KEYS[key] for key in query.sort_keys if key in _EVENT_SORT_KEYS]
    keys = keys or [_EVENT_SORT_KEYS["event_time"]]

    def sort_key(pair: tuple[StackRecord, EventRecord]) -> tuple[Any, ...]:
        member, event = pair
        return (*(key(event) for key in keys), order[member.id], event.sequence)

    found.sort(key=sort_key, reverse=query.sort_dir == "desc")
    ids = [event.id for _, event in found]
    if query.marker is not None and query.marker in ids:
        found = found[ids.index(query.marker) + 1 :]
    return found if query.limit is None else found[: query.limit]


@dataclass(frozen=True)
class NestedTemplate:
    """A resource backed by a provider template, and that template validated on its own."""

    resource: str
    type_name: str
    result: ValidationResult
    nested: tuple[NestedTemplate, ...] = ()


def nested_templates(
    service: StackService,
    definition: StackDefinition,
    result: ValidationResult,
    depth: int | None = None,
) -> list[NestedTemplate]:
    """Each resource of ``result`` whose type is a template in the files map, with the
    templates that one nests in turn, down to the nesting limit. Parameter values are
    not given to them: a form shows what each nested template asks for."""
    if depth is None:
        depth = (service.limits or TemplateLimits()).max_stack_nesting_depth
    if result.template is None or depth <= 0:
        return []
    found = []
    for name, declaration in result.template.resources.items():
        location, is_template = resolved_type(result, service.plugins, name)
        if not is_template or location not in definition.files:
            continue
        child = StackDefinition(template=definition.files[location], files=definition.files)
        checked = service.check_template(child)
        deeper = nested_templates(service, child, checked, depth - 1)
        found.append(NestedTemplate(name, declaration.type, checked, tuple(deeper)))
    return found

"""The evaluation scope during an operation: recorded ids and attributes, not placeholders.

A resource's properties are evaluated when its step starts, after the
resources it depends on have run, so references to them resolve to what was
recorded; resources not created yet still read as Unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from kiln.plan.state import Action, ResourceRecord, StackRecord, Status
from kiln.providers.registry import PluginRegistry
from kiln.schema.values import Unknown
from kiln.template.scope import StaticScope
from kiln.template.validate import StackIdentity, ValidationResult


def stack_identity(stack: StackRecord, region: str = "RegionOne") -> StackIdentity:
    return StackIdentity(
        stack_name=stack.name,
        stack_id=stack.id,
        project_id=stack.project_id,
        region=region,
        account_id=stack.project_id,
        facade=stack.facade,
    )


def live_records(records: Iterable[ResourceRecord]) -> dict[str, ResourceRecord]:
    """The current incarnation of each logical resource (replacements included)."""
    return {record.name: record for record in records if record.replaced_by is None}


def _usable(record: ResourceRecord) -> bool:
    """A resource others may read: it exists and its create finished (updates keep old values)."""
    if record.physical_id is None:
        return False
    return not (
        record.action in (Action.CREATE, Action.ADOPT) and record.status is not Status.COMPLETE
    )


class _References(Mapping[str, Any]):
    """``get_resource`` values, computed on access from the live records (no copying)."""

    def __init__(self, live: Mapping[str, ResourceRecord], plugins: PluginRegistry | None) -> None:
        self._live = live
        self._plugins = plugins

    def __getitem__(self, name: str) -> Any:
        record = self._live[name]
        if not _usable(record):
            raise KeyError(name)
        plugins = self._plugins
        # A type no plugin registers is a provider template, whose reference is its own.
        plugin_class = (
            (plugins.get(record.type) or plugins.template_plugin(record.type))
            if plugins is not None
            else None
        )
        if plugin_class is None:
            return record.physical_id
        return plugin_class().reference_id(name, record.physical_id, record.provider_data)

    def __contains__(self, name: object) -> bool:
        record = self._live.get(name) if isinstance(name, str) else None
        return record is not None and _usable(record)

    def __iter__(self) -> Iterator[str]:
        return (name for name, record in self._live.items() if _usable(record))

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Attributes(Mapping[str, Mapping[str, Any]]):
    """Recorded attributes of the resources others may read."""

    def __init__(self, live: Mapping[str, ResourceRecord]) -> None:
        self._live = live

    def __getitem__(self, name: str) -> Mapping[str, Any]:
        record = self._live[name]
        if not _usable(record):
            raise KeyError(name)
        return record.attributes

    def __iter__(self) -> Iterator[str]:
        return (name for name, record in self._live.items() if _usable(record))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def recorded_scope(
    result: ValidationResult,
    records: Iterable[ResourceRecord] | Mapping[str, ResourceRecord],
    plugins: PluginRegistry | None = None,
    *,
    planning: bool = False,
) -> StaticScope:
    """``result``'s scope with references and attributes taken from the records.

    ``records`` may be the live records by name, which the scope reads
    without copying (the engine passes its cache). ``get_resource`` gives
    what the plugin says a reference is (the physical id for most types, the
    generated string for ``OS::Heat::RandomString``).
    """
    base = result.scope
    if base is None:
        raise ValueError("the template did not validate")
    live = records if isinstance(records, Mapping) else live_records(records)
    scope_class = PlanningScope if planning else StaticScope
    return scope_class(
        parameters=base.parameters,
        resource_names=base.resource_names,
        physical_ids=_References(live, plugins),
        attributes=_Attributes(live),
        conditions=base.conditions,
        files=base.files,
        mappings=base.mappings,
        pseudo_parameters=base.pseudo_parameters,
        exports=base.exports,
        zones=base.zones,
        facade=base.facade,
    )


class PlanningScope(StaticScope):
    """Reads an attribute the records lack as Unknown rather than an error.

    While planning, a resource about to be replaced (by another type, say)
    cannot report the attributes its successor will have; the step that
    needs them resolves them again once that successor exists.
    """

    def resource_attribute(self, name: str, attribute: str) -> Any:
        try:
            return super().resource_attribute(name, attribute)
        except KeyError:
            self._check_resource(name)
            return Unknown(f"{name}.{attribute}")

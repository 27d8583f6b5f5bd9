"""The evaluation scope during an operation: recorded ids and attributes, not placeholders.

A resource's properties are evaluated when its step starts, after the
resources it depends on have run, so references to them resolve to what was
recorded; resources not created yet still read as Unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kiln.plan.state import Action, ResourceRecord, StackRecord, Status
from kiln.providers.registry import PluginRegistry
from kiln.template.scope import StaticScope
from kiln.template.validate import StackIdentity, ValidationResult


def stack_identity(stack: StackRecord, region: str = "RegionOne") -> StackIdentity:
    return StackIdentity(
        stack_name=stack.name,
        stack_id=stack.id,
        project_id=stack.project_id,
        region=region,
        account_id=stack.project_id,
    )


def live_records(records: Iterable[ResourceRecord]) -> dict[str, ResourceRecord]:
    """The current incarnation of each logical resource (replacements included)."""
    return {record.name: record for record in records if record.replaced_by is None}


def _usable(record: ResourceRecord) -> bool:
    """A resource others may read: it exists and its create finished (updates keep old values)."""
    if record.physical_id is None:
        return False
    return not (record.action is Action.CREATE and record.status is not Status.COMPLETE)


def recorded_scope(
    result: ValidationResult,
    records: Iterable[ResourceRecord],
    plugins: PluginRegistry | None = None,
) -> StaticScope:
    """``result``'s scope with references and attributes taken from the records.

    ``get_resource`` gives what the plugin says a reference is (the physical
    id for most types, the generated string for ``OS::Heat::RandomString``).
    """
    base = result.scope
    if base is None:
        raise ValueError("the template did not validate")
    live = live_records(records)
    physical_ids: dict[str, Any] = {}
    usable = {name: record for name, record in live.items() if _usable(record)}
    for name, record in usable.items():
        plugin_class = plugins.get(record.type) if plugins is not None else None
        physical_ids[name] = (
            plugin_class().reference_id(name, record.physical_id, record.provider_data)
            if plugin_class is not None
            else record.physical_id
        )
    attributes: dict[str, Mapping[str, Any]] = {
        name: record.attributes for name, record in usable.items()
    }
    scope = StaticScope(
        parameters=base.parameters,
        resource_names=base.resource_names,
        physical_ids=physical_ids,
        attributes=attributes,
        conditions=base.conditions,
        files=base.files,
        mappings=base.mappings,
        pseudo_parameters=base.pseudo_parameters,
        exports=base.exports,
        zones=base.zones,
        facade=base.facade,
    )
    return scope

"""Real state against recorded state: drift detection, and ``update --converge``.

Each plugin's ``read`` says what the resource looks like now. A resource is
IN_SYNC when every property the plugin reports equals the recorded one,
MODIFIED when some differ (each difference listed), DELETED when the plugin
cannot find it, and NOT_CHECKED when no plugin can read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kiln.plan.state import ResourceRecord, Status
from kiln.providers.context import ProviderContext
from kiln.providers.errors import ProviderError
from kiln.providers.protocol import ReadRequest, ResourcePlugin
from kiln.providers.registry import PluginRegistry
from kiln.schema.properties import validate_properties

IN_SYNC, MODIFIED, DELETED, NOT_CHECKED = "IN_SYNC", "MODIFIED", "DELETED", "NOT_CHECKED"


@dataclass(frozen=True)
class PropertyDrift:
    name: str
    recorded: Any
    actual: Any


@dataclass(frozen=True)
class ResourceDrift:
    resource: str
    type: str
    status: str
    differences: tuple[PropertyDrift, ...] = ()
    reason: str = ""


async def observe(
    record: ResourceRecord,
    plugins: PluginRegistry,
    context: Callable[[ResourceRecord], ProviderContext],
    plugin: ResourcePlugin | None = None,
) -> ResourceDrift:
    """How ``record`` compares with what its plugin reads now."""
    plugin_class = plugins.get(record.type)
    plugin = plugin or (plugin_class() if plugin_class is not None else None)
    if plugin is None or record.physical_id is None:
        return ResourceDrift(record.name, record.type, NOT_CHECKED)
    recorded, _ = validate_properties(plugin.schema, dict(record.properties), plugins.schemas())
    request = ReadRequest(
        name=record.name,
        physical_id=record.physical_id,
        properties=recorded,
        provider_data=record.provider_data,
    )
    try:
        actual = await plugin.read(context(record), request)
    except ProviderError as error:
        return ResourceDrift(record.name, record.type, NOT_CHECKED, reason=str(error))
    if actual is None:
        return ResourceDrift(record.name, record.type, DELETED)
    differences = tuple(
        PropertyDrift(name, recorded.get(name), value)
        for name, value in sorted(actual.properties.items())
        if recorded.get(name) != value
    )
    return ResourceDrift(
        record.name, record.type, MODIFIED if differences else IN_SYNC, differences
    )


def as_observed(record: ResourceRecord, drift: ResourceDrift) -> ResourceRecord:
    """The record as reality has it, for planning a converging update.

    A modified resource carries the values read, so the plan updates them
    back; a deleted one is failed, so the plan replaces it.
    """
    if drift.status == MODIFIED:
        actual: Mapping[str, Any] = {d.name: d.actual for d in drift.differences}
        return record.evolve(properties={**record.properties, **actual})
    if drift.status == DELETED:
        return record.evolve(
            status=Status.FAILED,
            status_reason="the resource no longer exists (found while converging)",
        )
    return record

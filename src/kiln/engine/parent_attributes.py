"""Which attributes a template reads, and keeping a parent's copy of its child's fresh.

A resource's attributes are recorded when it is created or updated, so that
outputs resolve without asking the cloud on every ``stack show``. A nested
stack can change outside any operation of its parent (a group resized by a
scaling signal); when such a change ends, the parent resource's recorded
attributes (a group's sizes, member lists, outputs) are read again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from kiln.config import TemplateLimits
from kiln.engine.live_attributes import read_attributes
from kiln.engine.nested import NestedStackClient
from kiln.engine.scope import live_records
from kiln.engine.validation import validate_stack
from kiln.persistence.resources import ResourceRepository
from kiln.persistence.stacks import StackRepository
from kiln.plan.state import StackRecord, Status
from kiln.providers.errors import ProviderError
from kiln.providers.protocol import KEY_SEPARATOR
from kiln.providers.registry import PluginRegistry
from kiln.template.functions.hot_core import is_member_reference
from kiln.template.validate import ValidationResult

#: How long the refresh may hold the parent resource's lease.
LEASE_SECONDS = 30.0


def attributes_needed(result: ValidationResult) -> dict[str, frozenset[str]]:
    """Which attributes of which resources the template reads (get_attr, Fn::GetAtt, Sub)."""
    needed: dict[str, set[str]] = {}
    if result.template is None:
        return {}
    for _, reference in result.template.references:
        if reference.kind == "attribute" and reference.attribute is not None:
            names = needed.setdefault(reference.name, set())
            names.add(reference.attribute)
            if reference.key is not None:
                # Groups answer ``[group, attributes, name]`` from a member output per name.
                names.add(f"{reference.attribute}{KEY_SEPARATOR}{reference.key}")
                if is_member_reference(reference.attribute):
                    # ``[group, resource.0, value]`` reads ``resource.0.value``.
                    names.add(f"{reference.attribute}.{reference.key}")
    return {name: frozenset(names) for name, names in needed.items()}


async def refresh_parent_attributes(
    child: StackRecord,
    stacks: StackRepository,
    resources: ResourceRepository,
    plugins: PluginRegistry,
    limits: TemplateLimits | None,
    launch: Callable[[str], None],
) -> None:
    """Read again the attributes the parent records for ``child``, when no operation of the
    parent's will (an operation in progress reads them itself when it gets there)."""
    parent = stacks.get(child.parent_id or "")
    if parent is None or parent.status is Status.IN_PROGRESS or child.parent_resource is None:
        return
    record = live_records(resources.by_stack(parent.id)).get(child.parent_resource)
    if record is None or record.physical_id != child.id or record.status is not Status.COMPLETE:
        return
    plugin_class = plugins.get(record.type) or plugins.template_plugin(record.type)
    result = validate_stack(parent, plugins, limits)
    if plugin_class is None or not result.ok:
        return
    plugin = plugin_class()
    names = frozenset(
        name
        for name in attributes_needed(result).get(record.name, frozenset())
        if plugin.schema.has_attribute(name)
    )
    if not names:
        return
    fence = resources.claim(record.id, f"refresh-{uuid.uuid4()}", LEASE_SECONDS, datetime.now(UTC))
    if fence is None:
        return  # a signal or an engine is at work on it, and records what it finds
    try:
        client = NestedStackClient(
            parent, record.name, stacks, resources, plugins, limits, launch=launch
        )
        try:
            fetched = await read_attributes(plugins, client, plugin, record, names)
        except ProviderError:
            return
        resources.set_attributes(record.id, fence, {**record.attributes, **fetched})
    finally:
        resources.unclaim(record.id, fence)

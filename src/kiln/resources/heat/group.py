"""``OS::Heat::ResourceGroup`` and ``OS::Heat::ResourceChain``: members in a nested stack.

The members are the resources of a generated nested template, named
``"0"``, ``"1"``, ... For a group, ``count`` copies of ``resource_def`` with
``index_var`` replaced by each member's name; members named in
``removal_policies`` are removed and their names never reused (kept as
``removed_rsrc_list``); scaling down removes the highest names first. With a
``batch_create`` or ``rolling_update`` policy, members are created (or
updated) ``max_batch_size`` at a time: each batch depends on the one before.
A chain's members each depend on the previous one unless ``concurrent``.

The generated template has an output for every attribute the parent stack
reads (``refs``, ``refs_map``, ``resource.N``, ``resource.N.attr``, or an
attribute name, which gives that attribute of every member as a list).
``[group, resource.N, attr]`` reads as ``[group, resource.N.attr]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from kiln.providers.context import ProviderContext
from kiln.providers.nested import ChildStack
from kiln.providers.protocol import (
    KEY_SEPARATOR,
    AttributeRequest,
    CreateRequest,
    UpdateRequest,
)
from kiln.resources.nested import NestedStackPlugin
from kiln.schema.constraints import AllowedValues, Range
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

_IN_PLACE = UpdatePolicy.IN_PLACE
MEMBER_TEMPLATE_VERSION = "2015-04-30"
#: Prefix of the generated outputs that answer the parent's attribute reads.
OUTPUT_PREFIX = "attribute."
#: Attributes whose path names a member attribute: a map (or list) of its values.
KEYED_ATTRIBUTES = frozenset({"attributes", "outputs", "outputs_list"})
REMOVED = "removed"

_BATCH = {
    "max_batch_size": PropertySchema(
        PropertyType.INTEGER, "Members changed at once.", default=1, constraints=(Range(min=1),)
    ),
    "pause_time": PropertySchema(
        PropertyType.NUMBER, "Seconds between batches.", default=0, constraints=(Range(min=0),)
    ),
}

_MEMBER_ATTRIBUTES = {
    "refs": AttributeSchema("The members' references, in member order.", PropertyType.LIST),
    "refs_map": AttributeSchema("Member name -> reference.", PropertyType.MAP),
    "attributes": AttributeSchema("Member name -> an attribute's value.", PropertyType.MAP),
}

GROUP_SCHEMA = ResourceSchema(
    "OS::Heat::ResourceGroup",
    description="Creates one or more identically configured nested resources.",
    properties={
        "count": PropertySchema(
            PropertyType.INTEGER,
            "How many members.",
            default=1,
            constraints=(Range(min=0),),
            update_policy=_IN_PLACE,
        ),
        "index_var": PropertySchema(
            PropertyType.STRING,
            "Replaced by each member's index in its definition.",
            default="%index%",
            update_policy=_IN_PLACE,
        ),
        "resource_def": PropertySchema(
            PropertyType.MAP,
            "The members' definition.",
            required=True,
            update_policy=_IN_PLACE,
            properties={
                "type": PropertySchema(PropertyType.STRING, "The members' type.", required=True),
                "properties": PropertySchema(PropertyType.MAP, "The members' properties."),
                "metadata": PropertySchema(PropertyType.MAP, "The members' metadata."),
            },
        ),
        "removal_policies": PropertySchema(
            PropertyType.LIST,
            "Members to remove: [{resource_list: [names]}].",
            default=[],
            update_policy=_IN_PLACE,
        ),
        "removal_policies_mode": PropertySchema(
            PropertyType.STRING,
            "append adds to the members removed before; update replaces that list.",
            default="append",
            constraints=(AllowedValues(("append", "update")),),
            update_policy=_IN_PLACE,
        ),
    },
    attributes={
        **_MEMBER_ATTRIBUTES,
        "removed_rsrc_list": AttributeSchema("Names of the members removed.", PropertyType.LIST),
    },
    dynamic_attributes=True,
    replace_when_failed=False,
    update_policy={
        "rolling_update": PropertySchema(
            PropertyType.MAP,
            "Update members in batches.",
            properties={
                "min_in_service": PropertySchema(
                    PropertyType.INTEGER, "Members kept in service.", default=0
                ),
                **_BATCH,
            },
        ),
        "batch_create": PropertySchema(
            PropertyType.MAP, "Create members in batches.", properties=dict(_BATCH)
        ),
    },
)

CHAIN_SCHEMA = ResourceSchema(
    "OS::Heat::ResourceChain",
    description="Resources of the listed types, each created after the one before.",
    properties={
        "resources": PropertySchema(
            PropertyType.LIST,
            "The members' types, in order.",
            required=True,
            update_policy=_IN_PLACE,
        ),
        "concurrent": PropertySchema(
            PropertyType.BOOLEAN,
            "Create the members at once instead of one after another.",
            default=False,
            update_policy=_IN_PLACE,
        ),
        "resource_properties": PropertySchema(
            PropertyType.MAP, "Properties every member gets.", default={}, update_policy=_IN_PLACE
        ),
    },
    attributes=dict(_MEMBER_ATTRIBUTES),
    dynamic_attributes=True,
    replace_when_failed=False,
)


class MembersPlugin(NestedStackPlugin):
    """Members in a generated nested stack, with the attributes groups share."""

    def members(
        self, properties: Mapping[str, Any], removed: Sequence[str], batch: int | None
    ) -> dict[str, dict[str, Any]]:
        raise NotImplementedError

    def member_template(
        self,
        properties: Mapping[str, Any],
        removed: Sequence[str],
        batch: int | None,
        needed: frozenset[str],
    ) -> str:
        return members_template(self.members(properties, removed, batch), needed, self.schema)

    def child(self, ctx: ProviderContext, properties: Mapping[str, Any]) -> ChildStack:
        return ChildStack(self.member_template(properties, (), None, frozenset()))

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        outputs = await self.outputs(ctx, request)
        values = {name: outputs.get(OUTPUT_PREFIX + name) for name in request.names}
        for name in request.names & KEYED_ATTRIBUTES:
            # ``[group, attributes, key]``: the value by key, which the path then selects.
            prefix = f"{OUTPUT_PREFIX}{name}{KEY_SEPARATOR}"
            values[name] = {
                output[len(prefix) :]: value
                for output, value in outputs.items()
                if output.startswith(prefix)
            }
        if "removed_rsrc_list" in request.names:
            values["removed_rsrc_list"] = list(request.provider_data.get(REMOVED, []))
        return values


def members_template(
    members: Mapping[str, Mapping[str, Any]],
    needed: frozenset[str],
    schema: ResourceSchema,
    *,
    by_index: bool = False,
) -> str:
    """The nested template of ``members``, with an output for each attribute ``needed``
    that the members answer (the group answers its own other attributes).

    ``by_index``: ``resource.N`` names the Nth member in order, not the member
    named ``N`` (Heat's scaling groups, whose members are renamed as they come
    and go); such a group has no attribute that lists one attribute of every
    member except ``outputs`` and ``outputs_list``.
    """
    own = frozenset(schema.attributes) - {"refs", "refs_map"}
    outputs = {
        OUTPUT_PREFIX + name: {"value": value}
        for name in sorted(needed - own)
        if (value := _output(name, list(members), by_index)) is not None
    }
    template = {
        "heat_template_version": MEMBER_TEMPLATE_VERSION,
        "resources": dict(members),
        "outputs": outputs,
    }
    return json.dumps(template, sort_keys=True)


def _output(attribute: str, names: list[str], by_index: bool = False) -> Any:
    keyed, separator, key = attribute.partition(KEY_SEPARATOR)
    if separator and keyed in KEYED_ATTRIBUTES:
        if keyed == "outputs_list":
            return [{"get_attr": [name, key]} for name in names]
        return {name: {"get_attr": [name, key]} for name in names}
    if separator:
        return None
    if attribute == "refs":
        return [{"get_resource": name} for name in names]
    if attribute == "refs_map":
        return {name: {"get_resource": name} for name in names}
    if attribute in ("removed_rsrc_list", *KEYED_ATTRIBUTES):
        return None
    if attribute.startswith("resource."):
        return _member_output(attribute, names, by_index)
    if by_index:
        return None
    return [{"get_attr": [name, attribute]} for name in names]


def _member_output(attribute: str, names: list[str], by_index: bool) -> Any:
    """``resource.M`` (the member's reference) or ``resource.M.attr`` (its attribute)."""
    parts = attribute.split(".", 2)
    member = parts[1]
    if by_index:
        if not member.isdigit() or int(member) >= len(names):
            return None
        member = names[int(member)]
    elif member not in names:
        return None
    if len(parts) == 2:
        return {"get_resource": member}
    return {"get_attr": [member, parts[2]]}


def _batched(names: list[str], batch: int | None) -> dict[str, list[str]]:
    """Each member's dependencies: every member of the batch before its own."""
    if not batch:
        return {name: [] for name in names}
    return {
        name: names[(index // batch - 1) * batch : (index // batch) * batch]
        if index >= batch
        else []
        for index, name in enumerate(names)
    }


def _replace_index(value: Any, index_var: str, index: str) -> Any:
    if isinstance(value, str):
        return value.replace(index_var, index)
    if isinstance(value, list):
        return [_replace_index(item, index_var, index) for item in value]
    if isinstance(value, dict):
        return {key: _replace_index(item, index_var, index) for key, item in value.items()}
    return value


class ResourceGroup(MembersPlugin):
    type_name = "OS::Heat::ResourceGroup"
    schema = GROUP_SCHEMA

    def members(
        self, properties: Mapping[str, Any], removed: Sequence[str], batch: int | None
    ) -> dict[str, dict[str, Any]]:
        count = int(self.property_value(properties, "count"))
        index_var = self.property_value(properties, "index_var")
        definition = self.property_value(properties, "resource_def") or {}
        names: list[str] = []
        index = 0
        while len(names) < count:
            if str(index) not in removed:
                names.append(str(index))
            index += 1
        after = _batched(names, batch)
        members: dict[str, dict[str, Any]] = {}
        for name in names:
            member: dict[str, Any] = {"type": definition.get("type")}
            for section in ("properties", "metadata"):
                if definition.get(section):
                    member[section] = _replace_index(definition[section], index_var, name)
            if after[name]:
                member["depends_on"] = after[name]
            members[name] = member
        return members

    def _removed(self, properties: Mapping[str, Any], before: Sequence[str]) -> list[str]:
        named = [
            str(name)
            for policy in self.property_value(properties, "removal_policies") or []
            if isinstance(policy, Mapping)
            for name in policy.get("resource_list") or []
        ]
        if self.property_value(properties, "removal_policies_mode") == "update":
            return sorted(set(named), key=_member_order)
        return sorted(set(before) | set(named), key=_member_order)

    def kept_data(
        self, ctx: ProviderContext, request: CreateRequest | UpdateRequest
    ) -> dict[str, Any]:
        if isinstance(request, UpdateRequest):
            before = list(request.provider_data.get(REMOVED, []))
            properties = request.new_properties
        else:
            before, properties = [], request.properties
        return {**super().kept_data(ctx, request), REMOVED: self._removed(properties, before)}

    def child_for_create(self, ctx: ProviderContext, request: CreateRequest) -> ChildStack:
        removed = self._removed(request.properties, [])
        batch = _batch_size(request.update_policy, "batch_create")
        template = self.member_template(
            request.properties, removed, batch, request.attributes_needed
        )
        return ChildStack(template)

    def child_for_validation(
        self, ctx: ProviderContext, properties: Mapping[str, Any]
    ) -> ChildStack | None:
        """The first member alone, as Heat checks a group: none for a group of no members,
        so that ``count: 0`` can switch off a member whose definition would not validate."""
        if not int(self.property_value(properties, "count") or 0):
            return None
        first = self.members({**properties, "count": 1}, self._removed(properties, []), None)
        return ChildStack(members_template(first, frozenset(), self.schema))

    def child_for_update(self, ctx: ProviderContext, request: UpdateRequest) -> ChildStack:
        removed = self._removed(request.new_properties, request.provider_data.get(REMOVED, []))
        batch = _batch_size(request.update_policy, "rolling_update")
        template = self.member_template(
            request.new_properties, removed, batch, request.attributes_needed
        )
        return ChildStack(template)


class ResourceChain(MembersPlugin):
    type_name = "OS::Heat::ResourceChain"
    schema = CHAIN_SCHEMA

    def members(
        self, properties: Mapping[str, Any], removed: Sequence[str], batch: int | None
    ) -> dict[str, dict[str, Any]]:
        types = list(self.property_value(properties, "resources") or [])
        concurrent = bool(self.property_value(properties, "concurrent"))
        shared = dict(self.property_value(properties, "resource_properties") or {})
        members: dict[str, dict[str, Any]] = {}
        for index, type_name in enumerate(types):
            member: dict[str, Any] = {"type": type_name}
            if shared:
                member["properties"] = shared
            if index and not concurrent:
                member["depends_on"] = [str(index - 1)]
            members[str(index)] = member
        return members

    def child_for_create(self, ctx: ProviderContext, request: CreateRequest) -> ChildStack:
        return ChildStack(
            self.member_template(request.properties, (), None, request.attributes_needed)
        )

    def child_for_update(self, ctx: ProviderContext, request: UpdateRequest) -> ChildStack:
        return ChildStack(
            self.member_template(request.new_properties, (), None, request.attributes_needed)
        )

    def child_for_validation(
        self, ctx: ProviderContext, properties: Mapping[str, Any]
    ) -> ChildStack | None:
        """Every member: each may have a type of its own."""
        return self.child(ctx, properties) if self.members(properties, (), None) else None


def _batch_size(policy: Mapping[str, Any], name: str) -> int | None:
    section = policy.get(name)
    if not isinstance(section, Mapping):
        return None
    size = section.get("max_batch_size")
    return int(size) if size else None


def _member_order(name: str) -> tuple[int, str]:
    return (int(name), name) if name.isdigit() else (1 << 62, name)

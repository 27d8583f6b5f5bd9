"""``OS::Heat::AutoScalingGroup`` and ``OS::Heat::ScalingPolicy``: groups that resize on signals.

A scaling group keeps ``desired_capacity`` (else ``min_size``) members of
``resource`` in a nested stack, named ``"0"``, ``"1"``, ... in creation order.
A policy's ``alarm_url`` (or ``stack resource signal``) signals the policy,
which works out the new size as Heat does (``change_in_capacity``,
``exact_capacity``, ``percent_change_in_capacity`` with
``min_adjustment_step``), bounded by the group's ``min_size`` and
``max_size``, and signals the group to resize. Scaling down removes the
oldest members first. A policy's or group's ``cooldown`` ignores signals
that come too soon after the last resize (or, for a group, after its create
or update); a group whose stack is in the middle of an operation refuses to
resize.

``get_attr [group, resource.N]`` is the reference of the Nth member in
creation order (the oldest first) and ``resource.N.attr`` its attribute,
as in Heat, whatever the members are called.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from kiln.providers.context import ProviderContext
from kiln.providers.errors import ResourceFailed
from kiln.providers.nested import ChildStack
from kiln.providers.protocol import (
    AttributeRequest,
    CheckRequest,
    CreateRequest,
    Progress,
    SignalRequest,
    SignalResult,
    UpdateRequest,
)
from kiln.resources.heat.group import MembersPlugin, members_template
from kiln.resources.heat.signal_target import ENDPOINT, SignalTarget, presigned_url
from kiln.resources.nested import stacks_client
from kiln.schema.constraints import AllowedValues, Range
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

_IN_PLACE = UpdatePolicy.IN_PLACE
MEMBERS, NEXT, LAST_SCALED = "members", "next", "last_scaled"
ADJUSTMENT_TYPES = ("change_in_capacity", "exact_capacity", "percent_change_in_capacity")

GROUP_SCHEMA = ResourceSchema(
    "OS::Heat::AutoScalingGroup",
    description="A group of resources that scaling policies resize.",
    properties={
        "resource": PropertySchema(
            PropertyType.MAP,
            "The members' definition (type and properties).",
            required=True,
            update_policy=_IN_PLACE,
        ),
        "max_size": PropertySchema(
            PropertyType.INTEGER,
            "Most members.",
            required=True,
            constraints=(Range(min=0),),
            update_policy=_IN_PLACE,
        ),
        "min_size": PropertySchema(
            PropertyType.INTEGER,
            "Fewest members.",
            required=True,
            constraints=(Range(min=0),),
            update_policy=_IN_PLACE,
        ),
        "desired_capacity": PropertySchema(
            PropertyType.INTEGER, "Members wanted now.", update_policy=_IN_PLACE
        ),
        "cooldown": PropertySchema(
            PropertyType.INTEGER,
            "Seconds after a resize when signals are ignored.",
            update_policy=_IN_PLACE,
        ),
        "rolling_updates": PropertySchema(
            PropertyType.MAP,
            "Update members in batches.",
            update_policy=_IN_PLACE,
            properties={
                "min_in_service": PropertySchema(
                    PropertyType.INTEGER, "Kept in service.", default=0
                ),
                "max_batch_size": PropertySchema(PropertyType.INTEGER, "At once.", default=1),
                "pause_time": PropertySchema(PropertyType.NUMBER, "Seconds between.", default=0),
            },
        ),
    },
    attributes={
        "current_size": AttributeSchema("How many members there are.", PropertyType.INTEGER),
        "refs": AttributeSchema("The members' references.", PropertyType.LIST),
        "refs_map": AttributeSchema("Member name -> reference.", PropertyType.MAP),
        "outputs": AttributeSchema("Member name -> an attribute's value.", PropertyType.MAP),
        "outputs_list": AttributeSchema("An attribute of every member.", PropertyType.LIST),
    },
    # ``resource.N`` (the Nth member's reference) and ``resource.N.attr``, as in Heat;
    # any other name must be one of the attributes above.
    attribute_prefixes=("resource.",),
    replace_when_failed=False,
)


def new_capacity(
    current: int,
    adjustment_type: str,
    adjustment: float,
    min_step: int | None,
    lower: int,
    upper: int,
) -> int:
    """Heat's arithmetic: the size a signal asks for, within the group's bounds."""
    if adjustment_type == "exact_capacity":
        wanted = int(adjustment)
    elif adjustment_type == "percent_change_in_capacity":
        delta = current * adjustment / 100.0
        if abs(delta) < 1.0:
            step = math.ceil(delta) if delta > 0 else math.floor(delta)
        else:
            step = math.floor(delta) if delta > 0 else math.ceil(delta)
        if min_step and abs(step) < min_step:
            step = min_step if step >= 0 else -min_step
        wanted = current + int(step)
    else:
        wanted = current + int(adjustment)
    return max(lower, min(upper, wanted))


class AutoScalingGroup(MembersPlugin):
    type_name = "OS::Heat::AutoScalingGroup"
    schema = GROUP_SCHEMA

    def _members(
        self, properties: Mapping[str, Any], names: Sequence[str], batch: int | None
    ) -> dict[str, dict[str, Any]]:
        definition = dict(self.property_value(properties, "resource") or {})
        members: dict[str, dict[str, Any]] = {}
        for index, name in enumerate(names):
            member = {
                key: value
                for key, value in definition.items()
                if key in ("type", "properties", "metadata")
            }
            if batch and index >= batch:
                start = (index // batch - 1) * batch
                member["depends_on"] = list(names[start : start + batch])
            members[name] = member
        return members

    def _resized(self, data: Mapping[str, Any], size: int) -> tuple[list[str], int]:
        """Members after resizing to ``size``: new ones appended, the oldest dropped."""
        names = [str(name) for name in data.get(MEMBERS, [])]
        following = int(data.get(NEXT, len(names)))
        while len(names) < size:
            names.append(str(following))
            following += 1
        return names[len(names) - size :] if size < len(names) else names, following

    def _capacity(self, properties: Mapping[str, Any], current: int | None) -> int:
        lower = int(self.property_value(properties, "min_size"))
        upper = int(self.property_value(properties, "max_size"))
        if upper < lower:
            raise ResourceFailed("max_size can not be less than min_size")
        desired = self.property_value(properties, "desired_capacity")
        wanted = int(desired) if desired is not None else (lower if current is None else current)
        return max(lower, min(upper, wanted))

    def _child(
        self, properties: Mapping[str, Any], names: Sequence[str], needed: frozenset[str]
    ) -> ChildStack:
        rolling = self.property_value(properties, "rolling_updates") or {}
        batch = rolling.get("max_batch_size") if isinstance(rolling, Mapping) else None
        members = self._members(properties, names, batch)
        return ChildStack(members_template(members, needed, self.schema, by_index=True))

    def child(self, ctx: ProviderContext, properties: Mapping[str, Any]) -> ChildStack:
        names, _ = self._resized({}, self._capacity(properties, None))
        return self._child(properties, names, frozenset())

    def kept_data(
        self, ctx: ProviderContext, request: CreateRequest | UpdateRequest
    ) -> dict[str, Any]:
        if isinstance(request, CreateRequest):
            names, following = self._resized({}, self._capacity(request.properties, None))
            return {MEMBERS: names, NEXT: following, "needed": sorted(request.attributes_needed)}
        current = len(request.provider_data.get(MEMBERS, []))
        names, following = self._resized(
            request.provider_data, self._capacity(request.new_properties, current)
        )
        return {
            **request.provider_data,
            MEMBERS: names,
            NEXT: following,
            "needed": sorted(request.attributes_needed),
        }

    def child_for_create(self, ctx: ProviderContext, request: CreateRequest) -> ChildStack:
        names = self.kept_data(ctx, request)[MEMBERS]
        return self._child(request.properties, names, request.attributes_needed)

    def child_for_update(self, ctx: ProviderContext, request: UpdateRequest) -> ChildStack:
        names = self.kept_data(ctx, request)[MEMBERS]
        return self._child(request.new_properties, names, request.attributes_needed)

    async def check_create(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return _cooling(ctx, request, await super().check_create(ctx, request))

    async def check_update(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return _cooling(ctx, request, await super().check_update(ctx, request))

    async def signal(self, ctx: ProviderContext, request: SignalRequest) -> SignalResult:
        details = request.details if isinstance(request.details, Mapping) else {}
        adjustment_type = details.get("adjustment_type", "change_in_capacity")
        if adjustment_type not in ADJUSTMENT_TYPES:
            raise ResourceFailed(f"unknown adjustment_type {adjustment_type!r}")
        data = request.provider_data
        current = len(data.get(MEMBERS, []))
        now = ctx.clock.now()
        cooldown = self.property_value(request.properties, "cooldown") or 0
        if now - float(data.get(LAST_SCALED, 0)) < float(cooldown):
            return SignalResult({"result": "cooldown", "size": current})
        size = new_capacity(
            current,
            adjustment_type,
            float(details.get("scaling_adjustment", 0)),
            details.get("min_adjustment_step"),
            int(self.property_value(request.properties, "min_size")),
            int(self.property_value(request.properties, "max_size")),
        )
        if size == current:
            return SignalResult({"result": "no change", "size": current})
        client = stacks_client(ctx)
        if client.operation_in_progress():
            raise ResourceFailed("the stack is in the middle of an operation; scale later")
        names, following = self._resized(data, size)
        if request.physical_id is None:
            raise ResourceFailed("the group has no members' stack")
        needed = frozenset(data.get("needed", []))
        await client.update(request.physical_id, self._child(request.properties, names, needed))
        kept = {"result": "resized", "from": current, "to": size}
        return SignalResult(
            kept, provider_data={**data, MEMBERS: names, NEXT: following, LAST_SCALED: now}
        )

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        values = dict(await super().attributes(ctx, request))
        if "current_size" in request.names:
            values["current_size"] = len(request.provider_data.get(MEMBERS, []))
        return values


def _cooling(ctx: ProviderContext, request: CheckRequest, progress: Progress) -> Progress:
    """As in Heat, a group's cooldown also starts when its create or update ends."""
    if not progress.done:
        return progress
    kept = progress.provider_data if progress.provider_data is not None else {}
    return replace(
        progress, provider_data={**request.provider_data, **kept, LAST_SCALED: ctx.clock.now()}
    )


POLICY_SCHEMA = ResourceSchema(
    "OS::Heat::ScalingPolicy",
    description="Resizes an autoscaling group when signalled.",
    properties={
        "auto_scaling_group_id": PropertySchema(
            PropertyType.STRING, "The group (get_resource of it).", required=True
        ),
        "adjustment_type": PropertySchema(
            PropertyType.STRING,
            "How scaling_adjustment is read.",
            required=True,
            constraints=(AllowedValues(ADJUSTMENT_TYPES),),
            update_policy=_IN_PLACE,
        ),
        "scaling_adjustment": PropertySchema(
            PropertyType.NUMBER, "The size change.", required=True, update_policy=_IN_PLACE
        ),
        "cooldown": PropertySchema(
            PropertyType.NUMBER,
            "Seconds after a resize when signals are ignored.",
            update_policy=_IN_PLACE,
        ),
        "min_adjustment_step": PropertySchema(
            PropertyType.INTEGER,
            "Smallest change a percent adjustment makes.",
            constraints=(Range(min=0),),
            update_policy=_IN_PLACE,
        ),
    },
    attributes={
        "alarm_url": AttributeSchema("A pre-signed URL that signals the policy."),
        "signal_url": AttributeSchema("The policy's signal URL (needs a token)."),
    },
)


class ScalingPolicy(SignalTarget):
    type_name = "OS::Heat::ScalingPolicy"
    schema = POLICY_SCHEMA

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        values = {
            "signal_url": request.provider_data.get(ENDPOINT),
            "alarm_url": presigned_url(request.provider_data),
        }
        return {name: values.get(name) for name in request.names}

    async def signal(self, ctx: ProviderContext, request: SignalRequest) -> SignalResult:
        now = ctx.clock.now()
        cooldown = self.property_value(request.properties, "cooldown") or 0
        last = float(request.provider_data.get(LAST_SCALED, 0))
        if now - last < float(cooldown):
            return SignalResult({"result": "cooldown"})
        details = {
            "adjustment_type": self.property_value(request.properties, "adjustment_type"),
            "scaling_adjustment": self.property_value(request.properties, "scaling_adjustment"),
            "min_adjustment_step": self.property_value(request.properties, "min_adjustment_step"),
        }
        group = str(self.property_value(request.properties, "auto_scaling_group_id"))
        outcome = await stacks_client(ctx).signal(group, details)
        kept = {"alarm": request.details, **outcome}
        return SignalResult(kept, provider_data={**request.provider_data, LAST_SCALED: now})


__all__ = ["AutoScalingGroup", "ScalingPolicy", "new_capacity"]

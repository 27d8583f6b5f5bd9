"""``OS::Heat::SoftwareDeploymentGroup`` and friends: one deployment per server, as a group.

The members are the deployments of a generated nested template, one per
entry of ``servers`` and named by its key, each with the group's other
properties and that entry's server id. ``batch_create`` and
``rolling_update`` deploy ``max_batch_size`` servers at a time, as a
``ResourceGroup`` creates its members. The attributes are maps by server
key: ``deploy_stdouts``, ``deploy_stderrs``, ``deploy_status_codes``, and
for any other name a deployment has (a config's output, say) that
attribute of every member. ``OS::Heat::SoftwareDeployments`` and
``OS::Heat::StructuredDeployments`` are Heat's older names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from kiln.providers.context import ProviderContext
from kiln.providers.nested import ChildStack
from kiln.providers.protocol import KEY_SEPARATOR, CreateRequest, UpdateRequest
from kiln.resources.heat.group import (
    _BATCH,
    MEMBER_TEMPLATE_VERSION,
    OUTPUT_PREFIX,
    MembersPlugin,
    _batch_size,
    _batched,
)
from kiln.resources.heat.software_deployment import (
    DEPLOYMENT_PROPERTIES,
    STRUCTURED_PROPERTIES,
)
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import (
    SUPPORTED,
    PropertyType,
    SupportState,
    SupportStatus,
    UpdatePolicy,
)

#: Group attribute -> the member attribute it gathers (other names gather themselves).
GATHERED = {
    "deploy_stdouts": "deploy_stdout",
    "deploy_stderrs": "deploy_stderr",
    "deploy_status_codes": "deploy_status_code",
}


def group_schema(
    type_name: str, structured: bool, support_status: SupportStatus | None = None
) -> ResourceSchema:
    deployment = dict(DEPLOYMENT_PROPERTIES)
    deployment.pop("server")
    if structured:
        deployment.update(STRUCTURED_PROPERTIES)
    batches = PropertySchema(PropertyType.MAP, "Deploy in batches.", properties=dict(_BATCH))
    return ResourceSchema(
        type_name,
        description="Applies a config to each of a map of servers.",
        properties={
            "servers": PropertySchema(
                PropertyType.MAP,
                "Server key -> server id; each key names the deployment to that server.",
                required=True,
                update_policy=UpdatePolicy.IN_PLACE,
            ),
            **deployment,
        },
        attributes={
            name: AttributeSchema(f"Server key -> the member's {member}.", PropertyType.MAP)
            for name, member in GATHERED.items()
        },
        dynamic_attributes=True,
        replace_when_failed=False,
        update_policy={"rolling_update": batches, "batch_create": batches},
        support_status=support_status or SUPPORTED,
    )


class SoftwareDeploymentGroup(MembersPlugin):
    type_name = "OS::Heat::SoftwareDeploymentGroup"
    schema = group_schema("OS::Heat::SoftwareDeploymentGroup", False)
    member_type: ClassVar[str] = "OS::Heat::SoftwareDeployment"

    def members(
        self, properties: Mapping[str, Any], removed: Sequence[str], batch: int | None
    ) -> dict[str, dict[str, Any]]:
        servers = dict(self.property_value(properties, "servers") or {})
        names = sorted(str(name) for name in servers)
        shared = {
            name: value
            for name, value in properties.items()
            if name != "servers" and value is not None
        }
        after = _batched(names, batch)
        members: dict[str, dict[str, Any]] = {}
        for name in names:
            member: dict[str, Any] = {
                "type": self.member_type,
                "properties": {**shared, "server": servers[name]},
            }
            if after[name]:
                member["depends_on"] = after[name]
            members[name] = member
        return members

    def member_template(
        self,
        properties: Mapping[str, Any],
        removed: Sequence[str],
        batch: int | None,
        needed: frozenset[str],
    ) -> str:
        """The members, with an output gathering each attribute ``needed`` into a map."""
        members = self.members(properties, removed, batch)
        outputs = {
            OUTPUT_PREFIX + name: {
                "value": {
                    member: {"get_attr": [member, GATHERED.get(name, name)]} for member in members
                }
            }
            # ``name/key`` entries only say which key a path reads: the map has them all.
            for name in sorted(needed)
            if KEY_SEPARATOR not in name
        }
        template = {
            "heat_template_version": MEMBER_TEMPLATE_VERSION,
            "resources": members,
            "outputs": outputs,
        }
        return json.dumps(template, sort_keys=True)

    def child_for_create(self, ctx: ProviderContext, request: CreateRequest) -> ChildStack:
        batch = _batch_size(request.update_policy, "batch_create")
        return ChildStack(
            self.member_template(request.properties, (), batch, request.attributes_needed)
        )

    def child_for_update(self, ctx: ProviderContext, request: UpdateRequest) -> ChildStack:
        batch = _batch_size(request.update_policy, "rolling_update")
        return ChildStack(
            self.member_template(request.new_properties, (), batch, request.attributes_needed)
        )


class StructuredDeploymentGroup(SoftwareDeploymentGroup):
    type_name = "OS::Heat::StructuredDeploymentGroup"
    schema = group_schema("OS::Heat::StructuredDeploymentGroup", True)
    member_type: ClassVar[str] = "OS::Heat::StructuredDeployment"


class SoftwareDeployments(SoftwareDeploymentGroup):
    type_name = "OS::Heat::SoftwareDeployments"
    schema = group_schema(
        "OS::Heat::SoftwareDeployments",
        False,
        SupportStatus(SupportState.HIDDEN, "7.0.0", "Use OS::Heat::SoftwareDeploymentGroup."),
    )


class StructuredDeployments(StructuredDeploymentGroup):
    type_name = "OS::Heat::StructuredDeployments"
    schema = group_schema(
        "OS::Heat::StructuredDeployments",
        True,
        SupportStatus(
            SupportState.DEPRECATED, "2014.2", "Use OS::Heat::StructuredDeploymentGroup."
        ),
    )

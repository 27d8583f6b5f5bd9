"""``AWS::CloudFormation::Stack``: a nested stack from a template in the files map.

``TemplateURL`` names the template; Kiln reads it from the files map sent with
the stack (templates are never fetched over the network). ``Parameters`` are
the child's parameters and ``TimeoutInMinutes`` its timeout; each output is
the attribute ``Outputs.<Name>``, and ``Ref`` gives the nested stack's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.providers.context import ProviderContext
from kiln.providers.errors import ResourceFailed
from kiln.providers.nested import ChildStack
from kiln.providers.protocol import AttributeRequest
from kiln.resources.nested import NestedStackPlugin, stacks_client
from kiln.schema.resource_schema import PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

_IN_PLACE = UpdatePolicy.IN_PLACE
OUTPUTS_PREFIX = "Outputs."

SCHEMA = ResourceSchema(
    "AWS::CloudFormation::Stack",
    description="A nested stack whose template comes from the files map.",
    properties={
        "TemplateURL": PropertySchema(
            PropertyType.STRING,
            "The nested template's name in the files map.",
            required=True,
            update_policy=_IN_PLACE,
        ),
        "Parameters": PropertySchema(
            PropertyType.MAP, "Parameter values for the nested stack.", update_policy=_IN_PLACE
        ),
        "TimeoutInMinutes": PropertySchema(
            PropertyType.NUMBER,
            "Minutes the nested stack's operations may take.",
            update_policy=_IN_PLACE,
        ),
        "NotificationARNs": PropertySchema(
            PropertyType.LIST,
            "Accepted for compatibility; Kiln sends no notifications.",
            update_policy=_IN_PLACE,
        ),
        "Tags": PropertySchema(
            PropertyType.LIST, "Tags of the nested stack.", update_policy=_IN_PLACE
        ),
    },
    dynamic_attributes=True,
    replace_when_failed=False,
)


class CloudFormationStack(NestedStackPlugin):
    type_name = "AWS::CloudFormation::Stack"
    schema = SCHEMA

    def child(self, ctx: ProviderContext, properties: Mapping[str, Any]) -> ChildStack:
        location = self.property_value(properties, "TemplateURL")
        template = stacks_client(ctx).file(location)
        if template is None:
            raise ResourceFailed(
                f"Could not fetch remote template {location!r}: it is not in the files map"
            )
        timeout = self.property_value(properties, "TimeoutInMinutes")
        return ChildStack(
            template=template,
            parameters=dict(self.property_value(properties, "Parameters") or {}),
            timeout_mins=int(timeout) if timeout is not None else None,
        )

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        outputs = await self.outputs(ctx, request)
        return {
            name: outputs.get(name.removeprefix(OUTPUTS_PREFIX))
            if name.startswith(OUTPUTS_PREFIX)
            else None
            for name in request.names
        }

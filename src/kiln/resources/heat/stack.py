"""``OS::Heat::Stack`` and provider templates: resources whose backend is a stack.

``OS::Heat::Stack`` creates a stack from an inline template (often
``get_file``), with ``parameters`` and a ``timeout``; its attributes are
``stack_name`` and ``outputs`` (a map, read further with a path). Every
property updates in place: the child's own resources decide what changes.

A provider template is a resource whose type is a template file, directly or
mapped in the environment's ``resource_registry``: its properties are the
template's parameters, and each template output is an attribute. As in Heat,
``resource.NAME`` and ``resource.NAME.ATTR`` read the nested stack's resource
NAME, and ``get_resource`` gives the template's ``OS::stack_id`` output, or
else the nested stack's ARN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from kiln.providers.context import ProviderContext
from kiln.providers.errors import ResourceFailed
from kiln.providers.nested import ChildStack
from kiln.providers.protocol import AttributeRequest, CheckRequest, Progress, ResourcePlugin
from kiln.resources.nested import (
    NestedStackPlugin,
    nested_resource_value,
    stack_arn,
    stacks_client,
)
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

_IN_PLACE = UpdatePolicy.IN_PLACE
#: A provider template's output that, when there, is what ``get_resource`` gives.
STACK_ID_OUTPUT = "OS::stack_id"
#: Where a provider template resource keeps its reference in ``provider_data``.
REFERENCE = "reference"

SCHEMA = ResourceSchema(
    "OS::Heat::Stack",
    description="A stack created from a template, as a resource of this one.",
    properties={
        "template": PropertySchema(
            PropertyType.STRING,
            "The template of the stack, inline or from get_file.",
            required=True,
            update_policy=_IN_PLACE,
        ),
        "parameters": PropertySchema(
            PropertyType.MAP, "Parameter values for the stack.", default={}, update_policy=_IN_PLACE
        ),
        "timeout": PropertySchema(
            PropertyType.INTEGER,
            "Minutes the stack's operations may take.",
            update_policy=_IN_PLACE,
        ),
        "context": PropertySchema(
            PropertyType.MAP,
            "Where the stack runs (region_name); stacks run in this region here.",
            properties={
                "region_name": PropertySchema(PropertyType.STRING, "Region of the stack."),
            },
        ),
    },
    attributes={
        "stack_name": AttributeSchema("The name of the stack."),
        "outputs": AttributeSchema("The stack's outputs, by name.", PropertyType.MAP),
    },
    replace_when_failed=False,
)


class HeatStack(NestedStackPlugin):
    type_name = "OS::Heat::Stack"
    schema = SCHEMA

    def child(self, ctx: ProviderContext, properties: Mapping[str, Any]) -> ChildStack:
        timeout = self.property_value(properties, "timeout")
        return ChildStack(
            template=self.property_value(properties, "template"),
            parameters=dict(self.property_value(properties, "parameters") or {}),
            timeout_mins=int(timeout) if timeout is not None else None,
        )

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        values: dict[str, Any] = {}
        if "outputs" in request.names:
            values["outputs"] = await self.outputs(ctx, request)
        if "stack_name" in request.names and request.physical_id is not None:
            state = await stacks_client(ctx).state(request.physical_id)
            values["stack_name"] = state.name if state is not None else None
        return values


class TemplateResource(NestedStackPlugin):
    """A provider template; :func:`template_resource` makes one class per location."""

    location: ClassVar[str]

    def child(self, ctx: ProviderContext, properties: Mapping[str, Any]) -> ChildStack:
        template = stacks_client(ctx).file(self.location)
        if template is None:
            raise ResourceFailed(f"provider template {self.location!r} is not in the files map")
        return ChildStack(template=template, parameters=dict(properties))

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        outputs = await self.outputs(ctx, request)
        values = {name: outputs.get(name) for name in request.names}
        for name in request.names:
            if name.startswith("resource.") and name not in outputs and request.physical_id:
                values[name] = await nested_resource_value(
                    stacks_client(ctx), request.physical_id, name
                )
        return values

    async def check_create(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._with_reference(ctx, request, await super().check_create(ctx, request))

    async def check_update(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._with_reference(ctx, request, await super().check_update(ctx, request))

    async def _with_reference(
        self, ctx: ProviderContext, request: CheckRequest, progress: Progress
    ) -> Progress:
        """Once the child is there, keep what ``get_resource`` gives: the child's
        ``OS::stack_id`` output when it has one, else the child's ARN (Heat's rule)."""
        if not progress.done or request.physical_id is None:
            return progress
        client = stacks_client(ctx)
        reference = (await client.outputs(request.physical_id)).get(STACK_ID_OUTPUT)
        if reference is None:
            state = await client.state(request.physical_id)
            name = state.name if state is not None else ""
            project = state.project_id if state is not None else ""
            reference = stack_arn(project, name, request.physical_id)
        kept = progress.provider_data if progress.provider_data is not None else {}
        data = {**request.provider_data, **kept, REFERENCE: str(reference)}
        return replace(progress, provider_data=data)

    def reference_id(
        self, name: str, physical_id: str | None, provider_data: Mapping[str, Any]
    ) -> str:
        if physical_id is None:
            return name
        return str(provider_data.get(REFERENCE) or physical_id)


def template_resource(location: str) -> type[ResourcePlugin]:
    schema = ResourceSchema(
        location,
        description=f"The provider template {location}.",
        accepts_any_properties=True,
        dynamic_attributes=True,
        replace_when_failed=False,
    )
    return type(
        "TemplateResource",
        (TemplateResource,),
        {"type_name": location, "schema": schema, "location": location},
    )

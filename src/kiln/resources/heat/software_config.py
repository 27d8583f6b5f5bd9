"""``OS::Heat::SoftwareConfig`` and ``OS::Heat::StructuredConfig``: configs stored for deployments.

A config resource stores one immutable config (a script, or a map for a
structured config, with the ``inputs`` it expects, the ``outputs`` it
produces and tool ``options``) and its physical id is the stored config's
id, which deployments, ``MultipartMime`` parts and servers' ``user_data``
refer to. Configs cannot change, so any property change makes a new one; a
delete removes the stored config, and one already gone counts as deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from kiln.providers.context import ProviderContext
from kiln.providers.errors import ResourceFailed
from kiln.providers.protocol import (
    AttributeRequest,
    CreateRequest,
    DeleteRequest,
    FindRequest,
    Progress,
    ReadRequest,
    ReadResult,
    ResourcePlugin,
    UpdateRequest,
)
from kiln.providers.software_config import (
    DEFAULT_GROUP,
    SOFTWARE_CONFIG_CLIENT,
    SoftwareConfigClient,
    stored_inputs,
    stored_outputs,
)
from kiln.schema.constraints import AllowedValues
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType

IO_TYPES = ("String", "Number", "CommaDelimitedList", "Json", "Boolean")
#: Names config ids: the same resource incarnation always stores under the same id.
_CONFIG_NAMESPACE = uuid.UUID("5d0c3f6e-8a41-4e8e-9b57-0e3a1f7c2b64")

_IO_TYPE = PropertySchema(
    PropertyType.STRING,
    "The type of the value.",
    default="String",
    constraints=(AllowedValues(IO_TYPES),),
)


def _io(kind: str, extra: Mapping[str, PropertySchema]) -> PropertySchema:
    """An input or output: a name, a description and a type, and what else ``kind`` has."""
    return PropertySchema(
        PropertyType.MAP,
        f"An {kind} of the config.",
        properties={
            "name": PropertySchema(PropertyType.STRING, f"The {kind}'s name.", required=True),
            "description": PropertySchema(PropertyType.STRING, f"What the {kind} is."),
            "type": _IO_TYPE,
            **extra,
        },
    )


INPUT = _io(
    "input",
    {
        "default": PropertySchema(PropertyType.JSON, "The value when the deployment gives none."),
        "replace_on_change": PropertySchema(
            PropertyType.BOOLEAN,
            "Replace the deployment instead of updating it when the value changes.",
            default=False,
        ),
    },
)
OUTPUT = _io(
    "output",
    {
        "error_output": PropertySchema(
            PropertyType.BOOLEAN,
            "A value for this output means the deployment failed.",
            default=False,
        ),
    },
)

GROUP = PropertySchema(
    PropertyType.STRING,
    "The namespace the config is grouped by on a server (often its configuration tool).",
    default=DEFAULT_GROUP,
)

CONFIG_ATTRIBUTES = {"config": AttributeSchema("The config value of the stored config.")}


def config_properties(config: PropertySchema) -> dict[str, PropertySchema]:
    """The properties every plain or structured config has, with its ``config``."""
    return {
        "group": GROUP,
        "config": config,
        "options": PropertySchema(PropertyType.MAP, "Options for the configuration tool."),
        "inputs": PropertySchema(PropertyType.LIST, "The inputs the config expects.", item=INPUT),
        "outputs": PropertySchema(
            PropertyType.LIST, "The outputs the config produces.", item=OUTPUT
        ),
    }


SOFTWARE_CONFIG_SCHEMA = ResourceSchema(
    "OS::Heat::SoftwareConfig",
    description="A script or manifest stored for software deployments to apply.",
    properties=config_properties(
        PropertySchema(PropertyType.STRING, "The script or manifest the configuration runs.")
    ),
    attributes=CONFIG_ATTRIBUTES,
)

STRUCTURED_CONFIG_SCHEMA = ResourceSchema(
    "OS::Heat::StructuredConfig",
    description="A config whose content is a map, stored as JSON.",
    properties=config_properties(
        # Heat declares a map; a list is taken too, since tools such as chef
        # (whose run list is one) get structured configs that are lists.
        PropertySchema(PropertyType.JSON, "The configuration data, serialised as JSON.")
    ),
    attributes=CONFIG_ATTRIBUTES,
)


def software_configs(ctx: ProviderContext) -> SoftwareConfigClient:
    client = ctx.clients.get(SOFTWARE_CONFIG_CLIENT)
    if client is None:
        raise ResourceFailed("software configs are not available here")
    return client  # type: ignore[no-any-return]


def config_id_for(token: str) -> str:
    return str(uuid.uuid5(_CONFIG_NAMESPACE, token))


class ConfigPlugin(ResourcePlugin):
    """Stores a config when created and deletes it when deleted; subclasses say what it holds."""

    async def content(self, ctx: ProviderContext, properties: Mapping[str, Any]) -> dict[str, Any]:
        """The stored config's ``group``, ``config``, ``inputs``, ``outputs`` and ``options``."""
        return {
            "group": self.property_value(properties, "group") or DEFAULT_GROUP,
            "config": self.property_value(properties, "config"),
            "inputs": stored_inputs(self.property_value(properties, "inputs") or []),
            "outputs": stored_outputs(self.property_value(properties, "outputs") or []),
            "options": dict(self.property_value(properties, "options") or {}),
        }

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        content = await self.content(ctx, request.properties)
        stored = await software_configs(ctx).create_config(
            request.physical_name, config_id=config_id_for(request.idempotency_token), **content
        )
        return Progress(done=True, physical_id=stored.id)

    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        # Every property replaces the resource: there is nothing to change in place.
        return Progress(done=True)

    async def delete(self, ctx: ProviderContext, request: DeleteRequest) -> Progress:
        if request.physical_id is not None:
            await software_configs(ctx).delete_config(request.physical_id)
        return Progress(done=True)

    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        stored = await software_configs(ctx).get_config(config_id_for(request.idempotency_token))
        return None if stored is None else stored.id

    async def read(self, ctx: ProviderContext, request: ReadRequest) -> ReadResult | None:
        if request.physical_id is None:
            return None
        stored = await software_configs(ctx).get_config(request.physical_id)
        return None if stored is None else ReadResult(dict(request.properties))

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        stored = None
        if request.physical_id is not None:
            stored = await software_configs(ctx).get_config(request.physical_id)
        config = None if stored is None else stored.config
        return {name: config if name == "config" else None for name in request.names}


class SoftwareConfig(ConfigPlugin):
    type_name = "OS::Heat::SoftwareConfig"
    schema = SOFTWARE_CONFIG_SCHEMA

    async def content(self, ctx: ProviderContext, properties: Mapping[str, Any]) -> dict[str, Any]:
        content = await super().content(ctx, properties)
        if content["config"] is None:
            content["config"] = ""
        return content


class StructuredConfig(ConfigPlugin):
    type_name = "OS::Heat::StructuredConfig"
    schema = STRUCTURED_CONFIG_SCHEMA

    async def content(self, ctx: ProviderContext, properties: Mapping[str, Any]) -> dict[str, Any]:
        content = await super().content(ctx, properties)
        if content["config"] is None:
            content["config"] = {}
        return content

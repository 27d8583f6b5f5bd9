"""``OS::Heat::CloudConfig`` and ``OS::Heat::MultipartMime``: boot configs for cloud-init.

A cloud config stores ``cloud_config`` as cloud-init's YAML, after the
``#cloud-config`` line cloud-init looks for. A multipart config stores a MIME
multipart message, the form cloud-init takes several parts in: each part is
literal text or the id of another stored config (whose config is used), and
a part of type ``multipart`` is itself a message whose parts are copied in.
Both are stored like any config, so ``get_resource`` of either can be a
server's ``user_data`` or another multipart config's part.
"""

from __future__ import annotations

import email
import json
import posixpath
import uuid
from collections.abc import Mapping
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

import yaml

from kiln.providers.context import ProviderContext
from kiln.providers.software_config import DEFAULT_GROUP, SoftwareConfigClient
from kiln.resources.heat.software_config import (
    CONFIG_ATTRIBUTES,
    GROUP,
    ConfigPlugin,
    software_configs,
)
from kiln.schema.constraints import AllowedValues
from kiln.schema.resource_schema import PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType

CLOUD_CONFIG_HEADER = "#cloud-config\n"
TEXT, MULTIPART = "text", "multipart"

CLOUD_CONFIG_SCHEMA = ResourceSchema(
    "OS::Heat::CloudConfig",
    description="cloud-init's cloud-config, stored as a config for servers to boot with.",
    properties={
        "cloud_config": PropertySchema(
            PropertyType.MAP, "The cloud-config data, written out as YAML."
        ),
    },
    attributes=CONFIG_ATTRIBUTES,
)

MULTIPART_SCHEMA = ResourceSchema(
    "OS::Heat::MultipartMime",
    description="Several configs assembled into one MIME multipart message.",
    properties={
        "parts": PropertySchema(
            PropertyType.LIST,
            "The message's parts, in order.",
            default=[],
            item=PropertySchema(
                PropertyType.MAP,
                "One part.",
                properties={
                    "config": PropertySchema(
                        PropertyType.STRING,
                        "The part's content, or the id of a stored config whose config it is.",
                        required=True,
                    ),
                    "filename": PropertySchema(PropertyType.STRING, "A file name for the part."),
                    "type": PropertySchema(
                        PropertyType.STRING,
                        "text, or multipart to copy in the parts of a multipart message.",
                        default=TEXT,
                        constraints=(AllowedValues((TEXT, MULTIPART)),),
                    ),
                    "subtype": PropertySchema(
                        PropertyType.STRING, "The MIME subtype of a text part."
                    ),
                },
            ),
        ),
        "group": GROUP,
    },
    attributes=CONFIG_ATTRIBUTES,
)


def cloud_config_text(cloud_config: Mapping[str, Any]) -> str:
    return CLOUD_CONFIG_HEADER + yaml.safe_dump(dict(cloud_config), default_flow_style=False)


class CloudConfig(ConfigPlugin):
    type_name = "OS::Heat::CloudConfig"
    schema = CLOUD_CONFIG_SCHEMA

    async def content(self, ctx: ProviderContext, properties: Mapping[str, Any]) -> dict[str, Any]:
        cloud_config = self.property_value(properties, "cloud_config") or {}
        return {"group": DEFAULT_GROUP, "config": cloud_config_text(cloud_config)}


class MultipartMime(ConfigPlugin):
    type_name = "OS::Heat::MultipartMime"
    schema = MULTIPART_SCHEMA

    async def content(self, ctx: ProviderContext, properties: Mapping[str, Any]) -> dict[str, Any]:
        configs = software_configs(ctx)
        parts: list[Message] = []
        for item in self.property_value(properties, "parts") or []:
            text = await _part_text(configs, str(item.get("config", "")))
            if item.get("type", TEXT) == MULTIPART:
                parts.extend(_copied_parts(text))
            else:
                parts.append(_text_part(text, item.get("subtype"), item.get("filename")))
        message = MIMEMultipart(_subparts=parts)
        group = self.property_value(properties, "group") or DEFAULT_GROUP
        return {"group": group, "config": message.as_string()}


async def _part_text(configs: SoftwareConfigClient, config: str) -> str:
    """The stored config's config when ``config`` is the id of one, else ``config`` itself."""
    if not _is_uuid(config):
        return config
    stored = await configs.get_config(config)
    if stored is None:
        return config
    content = stored.config
    return content if isinstance(content, str) else json.dumps(content)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _text_part(text: str, subtype: str | None, filename: str | None) -> MIMEText:
    # Heat's rule: without a subtype, a file name's stem is the subtype ("boot.sh" -> boot).
    if not subtype and filename:
        subtype = posixpath.splitext(filename)[0]
    part = MIMEText(text, _subtype=subtype) if subtype else MIMEText(text)
    if filename:
        part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def _copied_parts(text: str) -> list[Message]:
    """The parts of a multipart message, each made again as a text part; none for other text."""
    message = email.message_from_string(text)
    if not message.is_multipart():
        return []
    copied: list[Message] = []
    for part in message.get_payload():
        if isinstance(part, Message):
            payload = part.get_payload(decode=True)
            charset = part.get_content_charset() or "utf-8"
            body = payload.decode(charset) if isinstance(payload, bytes) else ""
            copied.append(_text_part(body, part.get_content_subtype(), part.get_filename()))
    return copied

"""``Local::Volume`` and ``Local::VolumeAttachment``: directories as Cinder-like volumes.

Shaped like ``OS::Cinder::Volume`` and ``OS::Cinder::VolumeAttachment`` so
templates read the same: a volume has a ``size`` in GiB that can grow in
place but never shrink, a name, a description and metadata; an attachment
joins a volume (``volume_id``) to a ``Local::Server`` (``instance_uuid``) at
a ``mountpoint``, here a path inside the server's working directory where
the volume's files appear. The size is a quota checked by measuring the
files: a volume over it is in error, and ``read`` (a stack check) says so.

As Heat's attachment does, changing any attachment property detaches from
the old place and attaches to the new one, in place; the volume's data stays
where it is. ``deletion_policy: Snapshot`` keeps a tar.gz of the volume's
files, which a stack restore puts back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.clients.local.volumes import (
    VOLUME_ERROR,
    AttachmentInfo,
    LocalVolumes,
    VolumeInfo,
    VolumeSpec,
    check_mountpoint,
)
from kiln.errors import Diagnostic, TemplatePath
from kiln.providers.context import ProviderContext
from kiln.providers.errors import NotFound, ResourceFailed
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
from kiln.resources.local.calls import (
    REFUSED,
    CloudCalls,
    LocalCloudPlugin,
    call,
    local_cloud,
    selected,
)
from kiln.schema.constraints import Range
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

_IN_PLACE = UpdatePolicy.IN_PLACE

VOLUME_SCHEMA = ResourceSchema(
    "Local::Volume",
    description="A size-limited directory on the machine Kiln runs on, attachable to a server.",
    properties={
        "size": PropertySchema(
            PropertyType.INTEGER,
            "The size of the volume in GiB (a quota on its files); it can grow, not shrink.",
            required=True,
            constraints=(Range(min=1),),
            update_policy=_IN_PLACE,
        ),
        "name": PropertySchema(
            PropertyType.STRING,
            "Volume name; the resource's physical name when not given.",
            update_policy=_IN_PLACE,
        ),
        "description": PropertySchema(
            PropertyType.STRING, "A description of the volume.", update_policy=_IN_PLACE
        ),
        "metadata": PropertySchema(
            PropertyType.MAP,
            "Key/value pairs to associate with the volume.",
            default={},
            update_policy=_IN_PLACE,
        ),
    },
    attributes={
        "size": AttributeSchema("The size of the volume in GiB.", PropertyType.INTEGER),
        "status": AttributeSchema("available, in-use or error.", PropertyType.STRING),
        "attachments": AttributeSchema("The volume's attachments.", PropertyType.LIST),
        "attachments_list": AttributeSchema("The volume's attachments.", PropertyType.LIST),
        "name": AttributeSchema("Name of the volume.", PropertyType.STRING),
        "display_name": AttributeSchema("Name of the volume.", PropertyType.STRING),
        "display_description": AttributeSchema("Description of the volume.", PropertyType.STRING),
        "metadata_values": AttributeSchema("The volume's metadata.", PropertyType.MAP),
        "created_at": AttributeSchema("When the volume was created.", PropertyType.STRING),
        "used_bytes": AttributeSchema("Bytes the volume's files hold.", PropertyType.INTEGER),
        "path": AttributeSchema(
            "The directory that holds the volume's files.", PropertyType.STRING
        ),
        "show": AttributeSchema("Everything known about the volume.", PropertyType.MAP),
    },
    supports_snapshot=True,
)

ATTACHMENT_SCHEMA = ResourceSchema(
    "Local::VolumeAttachment",
    description="Makes a Local::Volume's files appear inside a Local::Server's working directory.",
    properties={
        "instance_uuid": PropertySchema(
            PropertyType.STRING,
            "The ID of the Local::Server to which the volume attaches.",
            required=True,
            update_policy=_IN_PLACE,
        ),
        "volume_id": PropertySchema(
            PropertyType.STRING,
            "The ID of the Local::Volume to be attached.",
            required=True,
            update_policy=_IN_PLACE,
        ),
        "mountpoint": PropertySchema(
            PropertyType.STRING,
            "Where the volume appears, relative to the server's working directory; "
            "volumes/<volume name> when not given.",
            update_policy=_IN_PLACE,
        ),
    },
    attributes={
        "path": AttributeSchema(
            "Where the volume appears on the machine, inside the server's working directory.",
            PropertyType.STRING,
        ),
        "show": AttributeSchema("Everything known about the attachment.", PropertyType.MAP),
    },
)


class LocalVolume(LocalCloudPlugin):
    type_name = "Local::Volume"
    schema = VOLUME_SCHEMA
    noun = "volume"

    def cloud_calls(self, ctx: ProviderContext) -> CloudCalls:
        volumes = _volumes(ctx)
        return CloudCalls(
            delete=volumes.delete_volume,
            find=volumes.find_volume,
            snapshot=volumes.snapshot_volume,
            restore=volumes.restore_volume,
            delete_snapshot=volumes.delete_snapshot,
        )

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        properties = request.properties
        spec = VolumeSpec(
            name=self.property_value(properties, "name") or request.physical_name,
            size=int(self.property_value(properties, "size")),
            description=self.property_value(properties, "description") or "",
            metadata=self.property_value(properties, "metadata") or {},
        )
        volume_id = await call(_volumes(ctx).create_volume, request.idempotency_token, spec)
        ctx.logger.info("created volume %s", volume_id)
        return Progress(done=True, physical_id=volume_id)

    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        volume = await _volume(ctx, request.physical_id)
        if volume is None:
            raise NotFound("the volume does not exist any more")
        new = request.new_properties
        await call(
            _volumes(ctx).update_volume,
            volume.id,
            self.property_value(new, "name") or volume.name,
            self.property_value(new, "description") or "",
            self.property_value(new, "metadata") or {},
            int(self.property_value(new, "size")),
        )
        return Progress(done=True)

    async def read(self, ctx: ProviderContext, request: ReadRequest) -> ReadResult | None:
        """The volume's properties; a volume over its size fails (a stack check reports it)."""
        volume = await _volume(ctx, request.physical_id)
        if volume is None:
            return None
        if volume.status == VOLUME_ERROR:
            raise ResourceFailed(volume.reason)
        return ReadResult(
            {
                "size": volume.size,
                "name": volume.name if request.properties.get("name") else None,
                "description": volume.description
                if request.properties.get("description") is not None
                else None,
                "metadata": dict(volume.metadata),
            }
        )

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        volume = await _volume(ctx, request.physical_id)
        if volume is None:
            return selected(None, request.names)
        attachments = [attachment.show() for attachment in volume.attachments]
        values: dict[str, Any] = {
            "size": volume.size,
            "status": volume.status,
            "attachments": attachments,
            "attachments_list": attachments,
            "name": volume.name,
            "display_name": volume.name,
            "display_description": volume.description,
            "metadata_values": dict(volume.metadata),
            "created_at": volume.created_at,
            "used_bytes": volume.used_bytes,
            "path": str(volume.path),
        }
        values["show"] = {
            "id": volume.id,
            **{k: v for k, v in values.items() if k not in ("display_name", "attachments_list")},
            "description": volume.description,
            "status_reason": volume.reason,
        }
        return selected(values, request.names)


class LocalVolumeAttachment(ResourcePlugin):
    type_name = "Local::VolumeAttachment"
    schema = ATTACHMENT_SCHEMA
    #: A volume attaches to one server at a time: the old attachment must go first.
    replace_delete_first = True

    def validate(self, properties: Mapping[str, Any]) -> list[Diagnostic]:
        """A mountpoint must stay inside the server; an empty one means the default
        place, as an attach takes it (Heat too treats an empty mountpoint as none)."""
        mountpoint = properties.get("mountpoint")
        if not isinstance(mountpoint, str) or not mountpoint:
            return []
        problem = check_mountpoint(mountpoint)
        if problem is None:
            return []
        return [Diagnostic(REFUSED, problem, TemplatePath(("mountpoint",)))]

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        volumes = _volumes(ctx)
        attachment_id = volumes.attachment_id(request.idempotency_token)
        attached = await self._attach(ctx, attachment_id, request.properties)
        ctx.logger.info("attached volume %s at %s", attached.volume_id, attached.path)
        return Progress(done=True, physical_id=attachment_id)

    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        """Detach from the old server, volume or mountpoint and attach to the new (data kept)."""
        if request.physical_id is None:
            raise NotFound("the attachment was never created")
        await self._attach(ctx, request.physical_id, request.new_properties)
        return Progress(done=True)

    async def _attach(
        self, ctx: ProviderContext, attachment_id: str, properties: Mapping[str, Any]
    ) -> AttachmentInfo:
        return await call(
            _volumes(ctx).attach,
            attachment_id,
            self.property_value(properties, "volume_id"),
            self.property_value(properties, "instance_uuid"),
            self.property_value(properties, "mountpoint") or None,
        )

    async def delete(self, ctx: ProviderContext, request: DeleteRequest) -> Progress:
        if request.physical_id is None:
            return Progress(done=True)
        volumes = _volumes(ctx)
        detached = await call(volumes.detach, request.physical_id)
        if detached is not None:
            ctx.logger.info("detached volume %s from %s", detached.volume_id, detached.path)
            volume = await call(volumes.volume, detached.volume_id)
            if volume is not None and volume.status == VOLUME_ERROR:
                ctx.logger.warning("%s", volume.reason)
        return Progress(done=True)

    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        return await call(_volumes(ctx).find_attachment, request.idempotency_token)

    async def read(self, ctx: ProviderContext, request: ReadRequest) -> ReadResult | None:
        """The attachment as it is; None once its link or its server is gone."""
        attachment = await _attachment(ctx, request.physical_id)
        if attachment is None:
            return None
        return ReadResult(
            {
                "instance_uuid": attachment.server_id,
                "volume_id": attachment.volume_id,
                "mountpoint": attachment.mountpoint
                if request.properties.get("mountpoint")
                else None,
            }
        )

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        attachment = await _attachment(ctx, request.physical_id)
        if attachment is None:
            return selected(None, request.names)
        values = {"path": str(attachment.path), "show": attachment.show()}
        return selected(values, request.names)


def _volumes(ctx: ProviderContext) -> LocalVolumes:
    return LocalVolumes(local_cloud(ctx))


async def _volume(ctx: ProviderContext, physical_id: str | None) -> VolumeInfo | None:
    if physical_id is None:
        return None
    return await call(_volumes(ctx).volume, physical_id)


async def _attachment(ctx: ProviderContext, physical_id: str | None) -> AttachmentInfo | None:
    if physical_id is None:
        return None
    volumes = _volumes(ctx)
    attachment = await call(volumes.attachment, physical_id)
    if attachment is None or not await call(volumes.server_exists, attachment.server_id):
        return None
    return attachment

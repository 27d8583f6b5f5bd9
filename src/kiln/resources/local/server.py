"""``Local::Server``: a server that is a supervised process group on this machine.

In the spirit of ``OS::Nova::Server``: ``user_data`` (a script, or
``#cloud-config`` with ``write_files`` and ``runcmd``) runs first, then the
optional long-running ``command``, in the server's own working directory,
with the server's own loopback address. The attributes follow Nova's
(``first_address``, ``networks``, ``console_log``, ``show``...).

As for Nova, the name and metadata change in place (the metadata file is
rewritten); user_data, command, environment and address replace the server.
A replacement deletes the old server first: a fixed address cannot be held
by two incarnations at once. A server whose processes ended no longer does
its job, so ``read`` reports it gone: ``stack check`` fails it and a
converging update creates it again. A stack suspend stops the server's
processes where they are (SIGSTOP) and a resume lets them go on, the way
Nova suspends a server.

With ``user_data_format: SOFTWARE_CONFIG`` the server also runs Kiln's
agent (:mod:`kiln.clients.local.agent`), Heat's in-guest tools in one
process: it polls the server's deployment metadata from Kiln's API
(``software_config_transport: POLL_SERVER_HEAT``) with a credential that
reads nothing else, runs each ``script`` deployment and signals its outputs.
The credential's secret is kept, encrypted, in ``provider_data``.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from typing import Any

from kiln.clients.local import (
    ACTIVE,
    BUILD,
    SUSPENDED,
    AgentSpec,
    LocalCloud,
    ServerInfo,
    ServerSpec,
)
from kiln.providers.context import ProviderContext
from kiln.providers.errors import NotFound, ResourceFailed
from kiln.providers.nested import STACKS_CLIENT
from kiln.providers.protocol import (
    ActionRequest,
    AttributeRequest,
    CheckRequest,
    CreateRequest,
    Progress,
    ReadRequest,
    ReadResult,
    UpdateRequest,
)
from kiln.providers.software_config import (
    SERVER_SECRET_KEY,
    parse_server_credential,
    server_credential,
)
from kiln.resources.local.calls import (
    CloudCalls,
    LocalCloudPlugin,
    call,
    local_cloud,
    selected,
)
from kiln.schema.constraints import AllowedValues
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

#: Seconds between two looks at a booting server.
BOOT_POLL = 0.2
#: ``user_data_format`` values, and the one ``software_config_transport`` (Heat's names).
RAW, SOFTWARE_CONFIG, POLL_SERVER_HEAT = "RAW", "SOFTWARE_CONFIG", "POLL_SERVER_HEAT"

SCHEMA = ResourceSchema(
    "Local::Server",
    description="A server run as a supervised process group on the machine Kiln runs on.",
    properties={
        "name": PropertySchema(
            PropertyType.STRING,
            "Server name; the resource's physical name when not given.",
            update_policy=UpdatePolicy.IN_PLACE,
        ),
        "user_data": PropertySchema(
            PropertyType.STRING,
            "A shell script, or #cloud-config (write_files, runcmd), run when the server starts.",
            default="",
        ),
        "command": PropertySchema(
            PropertyType.STRING,
            "A long-running shell command started after user_data; the server is off once it ends.",
        ),
        "metadata": PropertySchema(
            PropertyType.MAP,
            "Written as JSON to the file named by KILN_METADATA_FILE.",
            default={},
            update_policy=UpdatePolicy.IN_PLACE,
        ),
        "environment": PropertySchema(
            PropertyType.MAP,
            "Extra environment variables for user_data and command.",
            default={},
        ),
        "address": PropertySchema(
            PropertyType.STRING,
            "A fixed loopback address from the Local address range; allocated when not given.",
        ),
        "user_data_format": PropertySchema(
            PropertyType.STRING,
            "RAW runs user_data as it is; SOFTWARE_CONFIG also runs Kiln's agent, which "
            "applies the server's software deployments (group script) and signals them.",
            default=RAW,
            constraints=(AllowedValues((RAW, SOFTWARE_CONFIG)),),
        ),
        "software_config_transport": PropertySchema(
            PropertyType.STRING,
            "How the agent gets its deployments: POLL_SERVER_HEAT polls Kiln's API.",
            default=POLL_SERVER_HEAT,
            constraints=(AllowedValues((POLL_SERVER_HEAT,)),),
        ),
    },
    attributes={
        "name": AttributeSchema("Name of the server.", PropertyType.STRING),
        "first_address": AttributeSchema("The server's address.", PropertyType.STRING),
        "networks": AttributeSchema(
            'Addresses by network: {"local": [address]}.', PropertyType.MAP
        ),
        "addresses": AttributeSchema("Addresses by network, as Nova shows them.", PropertyType.MAP),
        "console_log": AttributeSchema(
            "The end of the output of user_data and command.", PropertyType.STRING
        ),
        "pid": AttributeSchema("Process id of the server's supervisor.", PropertyType.INTEGER),
        "status": AttributeSchema(
            "ACTIVE, BUILD, SUSPENDED, SHUTOFF or ERROR.", PropertyType.STRING
        ),
        "show": AttributeSchema("Everything known about the server.", PropertyType.MAP),
    },
    supports_snapshot=True,
)


class LocalServer(LocalCloudPlugin):
    type_name = "Local::Server"
    schema = SCHEMA
    noun = "server"
    replace_delete_first = True
    secret_data_keys = frozenset({SERVER_SECRET_KEY})

    def cloud_calls(self, ctx: ProviderContext) -> CloudCalls:
        cloud = local_cloud(ctx)
        return CloudCalls(
            delete=cloud.delete_server,
            find=cloud.find_server,
            snapshot=cloud.snapshot_server,
            restore=cloud.restore_server,
            delete_snapshot=cloud.delete_snapshot,
        )

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        properties = request.properties
        cloud = local_cloud(ctx)
        data: dict[str, Any] = {}
        agent = None
        if self.property_value(properties, "user_data_format") == SOFTWARE_CONFIG:
            server_id = cloud.server_id(request.idempotency_token)
            # A retried create finds the server an earlier attempt started: its agent
            # already holds a secret, which the resource must keep.
            started = await _agent_secret(cloud, server_id)
            data[SERVER_SECRET_KEY] = started or secrets.token_urlsafe(24)
            agent = _agent(ctx, request.name, server_id, data[SERVER_SECRET_KEY])
        spec = ServerSpec(
            name=self.property_value(properties, "name") or request.physical_name,
            user_data=self.property_value(properties, "user_data") or "",
            command=self.property_value(properties, "command") or None,
            metadata=self.property_value(properties, "metadata") or {},
            environment=self.property_value(properties, "environment") or {},
            address=self.property_value(properties, "address") or None,
            agent=agent,
        )
        server_id = await call(cloud.create_server, request.idempotency_token, spec)
        ctx.logger.info("started server %s", server_id)
        return Progress(done=False, physical_id=server_id, provider_data=data, poll_after=BOOT_POLL)

    async def check_create(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        server = await _server(ctx, request.physical_id)
        if server is None:
            raise ResourceFailed(f"server {request.physical_id} vanished while starting")
        if server.status == BUILD:
            return Progress(done=False, poll_after=BOOT_POLL)
        if server.status != ACTIVE:
            raise ResourceFailed(f"server {server.id} is {server.status}: {server.reason}")
        return Progress(done=True, provider_data=await _with_agent_secret(ctx, server, request))

    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        if request.physical_id is None:
            raise NotFound("the server was never created")
        name = self.property_value(request.new_properties, "name") or _recorded_name(
            await _server(ctx, request.physical_id)
        )
        metadata = self.property_value(request.new_properties, "metadata") or {}
        await call(local_cloud(ctx).update_server, request.physical_id, name, metadata)
        return Progress(done=True)

    async def read(self, ctx: ProviderContext, request: ReadRequest) -> ReadResult | None:
        """The server's name and metadata; None once its processes no longer run."""
        server = await _server(ctx, request.physical_id)
        if server is None or server.status not in (ACTIVE, BUILD, SUSPENDED):
            return None
        return ReadResult(
            {
                "name": server.name if request.properties.get("name") else None,
                "metadata": dict(server.metadata),
            }
        )

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        server = await _server(ctx, request.physical_id)
        if server is None:
            return selected(None, request.names)
        cloud = local_cloud(ctx)
        values: dict[str, Any] = {
            "name": server.name,
            "first_address": server.address,
            "networks": {"local": [server.address]},
            "addresses": {"local": [{"addr": server.address, "version": 4}]},
            "pid": server.pid,
            "status": server.status,
        }
        if "console_log" in request.names or "show" in request.names:
            values["console_log"] = await asyncio.to_thread(cloud.console_log, server.id)
        if "show" in request.names:
            values["show"] = _show(server)
        return selected(values, request.names)

    async def suspend(self, ctx: ProviderContext, request: ActionRequest) -> Progress:
        if request.physical_id is None:
            raise NotFound("the server was never created")
        await call(local_cloud(ctx).suspend_server, request.physical_id)
        return Progress(done=True)

    async def resume(self, ctx: ProviderContext, request: ActionRequest) -> Progress:
        if request.physical_id is None:
            raise NotFound("the server was never created")
        await call(local_cloud(ctx).resume_server, request.physical_id)
        return Progress(done=True)


def _agent(ctx: ProviderContext, resource_name: str, server_id: str, secret: str) -> AgentSpec:
    """Where the server's agent reads its deployments, and the credential it reads them with.

    The resource's signal URL names the project and the stack; the
    credential names the resource, whose ``provider_data`` keeps the secret.
    """
    stacks = ctx.clients.get(STACKS_CLIENT)
    if stacks is None:
        raise ResourceFailed("software deployments are not available here")
    endpoint = str(stacks.signal_endpoint())
    project_url, _, stack_part = endpoint.partition("/stacks/")
    stack_id = stack_part.split("/")[1]
    return AgentSpec(
        metadata_url=f"{project_url}/software_deployments/metadata/{server_id}",
        credential=server_credential(stack_id, resource_name, secret),
    )


async def _agent_secret(cloud: LocalCloud, server_id: str) -> str | None:
    """The secret in the credential the server's agent was started with, if it has one."""
    credential = await call(cloud.agent_credential, server_id)
    parsed = parse_server_credential(credential) if credential else None
    return parsed[2] if parsed else None


async def _with_agent_secret(
    ctx: ProviderContext, server: ServerInfo, request: CheckRequest
) -> dict[str, Any] | None:
    """The provider data with the agent's secret as the server holds it: a create that
    was interrupted, then found the server again, did not record it."""
    secret = await _agent_secret(local_cloud(ctx), server.id)
    if secret is None or request.provider_data.get(SERVER_SECRET_KEY) == secret:
        return None
    return {**request.provider_data, SERVER_SECRET_KEY: secret}


async def _server(ctx: ProviderContext, physical_id: str | None) -> ServerInfo | None:
    if physical_id is None:
        return None
    return await call(local_cloud(ctx).server, physical_id)


def _recorded_name(server: ServerInfo | None) -> str:
    if server is None:
        raise NotFound("the server does not exist any more")
    return server.name


def _show(server: ServerInfo) -> dict[str, Any]:
    return {
        "id": server.id,
        "name": server.name,
        "status": server.status,
        "status_reason": server.reason,
        "addresses": {"local": [{"addr": server.address, "version": 4}]},
        "metadata": dict(server.metadata),
        "pid": server.pid,
        "command_pid": server.command_pid,
        "directory": str(server.work),
    }

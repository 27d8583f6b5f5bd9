"""``OS::Heat::SoftwareDeployment`` and ``OS::Heat::StructuredDeployment``: a config on a server.

For each lifecycle action named in ``actions`` (CREATE and UPDATE unless told
otherwise) the deployment stores a derived config for the server (see
:mod:`derived_config`), points its stored deployment at it with status
``IN_PROGRESS`` and waits until the server signals the outcome to this
resource: ``COMPLETE`` ends the action, ``FAILED`` fails it with Heat's
"Deployment to server failed" reason, and the stack's timeout bounds the
wait. With ``NO_SIGNAL`` the deployment is complete at once. An action not
in ``actions`` deploys nothing, as in Heat.

The physical id is the stored deployment's id (derived from the idempotency
token, so an interrupted create finds it again); the signal URL's token is
kept encrypted in ``provider_data``. Deleting runs a DELETE deployment first
when ``actions`` asks for one, then removes the deployment and its derived
config. Signals are taken while the resource is being deleted (Heat's
``no_signal_actions`` is empty for deployments).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from kiln.errors import ROOT
from kiln.providers.context import ProviderContext
from kiln.providers.errors import NotFound, ProviderError, ResourceFailed
from kiln.providers.protocol import (
    ActionRequest,
    AttributeRequest,
    CheckRequest,
    CreateRequest,
    DeleteRequest,
    FindRequest,
    Progress,
    ReadRequest,
    ReadResult,
    ResourcePlugin,
    SignalRequest,
    SignalResult,
    UpdateRequest,
)
from kiln.providers.software_config import (
    COMPLETE,
    DEFAULT_GROUP,
    DEPLOYMENT_MARK,
    FAILED,
    IN_PROGRESS,
    DeploymentChange,
    SoftwareConfig,
    SoftwareConfigClient,
    SoftwareDeployment,
)
from kiln.resources.heat.derived_config import (
    NO_SIGNAL,
    Deployment,
    derived_inputs,
    derived_outputs,
    input_values_of,
    signal_outcome,
    substituted,
)
from kiln.resources.heat.signal_target import ENDPOINT, TOKEN, presigned_url
from kiln.resources.heat.software_config import software_configs
from kiln.schema.constraints import AllowedValues
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

_IN_PLACE = UpdatePolicy.IN_PLACE
SIGNAL_TRANSPORTS = ("CFN_SIGNAL", "TEMP_URL_SIGNAL", "HEAT_SIGNAL", NO_SIGNAL, "ZAQAR_SIGNAL")
DEPLOY_ACTIONS = ("CREATE", "UPDATE", "DELETE", "SUSPEND", "RESUME")
#: First and longest pause between two looks at a deployment (seconds).
FIRST_POLL, LONGEST_POLL = 0.05, 1.0
#: ``provider_data`` keys: the resource's physical name (the derived configs' default
#: name) and the current pause between looks.
PHYSICAL_NAME, POLL = "physical_name", "poll"
#: Names deployment ids: the same resource incarnation always deploys under the same id.
_DEPLOYMENT_NAMESPACE = uuid.UUID("0f5e2c9a-7d3b-4a61-b8e4-3c2d9a1f6e57")

DEPLOYMENT_PROPERTIES = {
    "config": PropertySchema(
        PropertyType.STRING, "The id of the config to apply.", update_policy=_IN_PLACE
    ),
    "server": PropertySchema(
        PropertyType.STRING, "The id of the server to apply it to.", required=True
    ),
    "input_values": PropertySchema(
        PropertyType.MAP, "Values of the config's inputs.", update_policy=_IN_PLACE
    ),
    "actions": PropertySchema(
        PropertyType.LIST,
        "The lifecycle actions of this resource that deploy the config.",
        default=["CREATE", "UPDATE"],
        constraints=(AllowedValues(DEPLOY_ACTIONS),),
        update_policy=_IN_PLACE,
    ),
    "name": PropertySchema(
        PropertyType.STRING,
        "The derived config's name; a server's configs are ordered by it.",
        update_policy=_IN_PLACE,
    ),
    "signal_transport": PropertySchema(
        PropertyType.STRING,
        "How the server signals the outcome; every transport but NO_SIGNAL posts to this "
        "resource's signal URL, NO_SIGNAL does not wait for one.",
        default="CFN_SIGNAL",
        constraints=(AllowedValues(SIGNAL_TRANSPORTS),),
    ),
}

STRUCTURED_PROPERTIES = {
    "input_key": PropertySchema(
        PropertyType.STRING,
        "The key of the maps in a structured config that are replaced by an input's value.",
        default="get_input",
    ),
    "input_values_validate": PropertySchema(
        PropertyType.STRING,
        "STRICT fails on a reference to an input that has no value; LAX gives null.",
        default="LAX",
        constraints=(AllowedValues(("LAX", "STRICT")),),
    ),
}

DEPLOYMENT_ATTRIBUTES = {
    "deploy_stdout": AttributeSchema("What the configuration wrote to standard output."),
    "deploy_stderr": AttributeSchema("What the configuration wrote to standard error."),
    "deploy_status_code": AttributeSchema("The exit status of the configuration."),
}


def deployment_schema(type_name: str, description: str, structured: bool) -> ResourceSchema:
    properties = dict(DEPLOYMENT_PROPERTIES)
    if structured:
        properties.update(STRUCTURED_PROPERTIES)
    return ResourceSchema(
        type_name,
        description=description,
        properties=properties,
        attributes=DEPLOYMENT_ATTRIBUTES,
        # The config's outputs are attributes too, whatever their names.
        dynamic_attributes=True,
    )


class Error(ProviderError):
    """The server reported the deployment failed.

    Named after the exception Heat raises, so that the status reason reads as Heat's.
    """


def deployment_id_for(token: str) -> str:
    return str(uuid.uuid5(_DEPLOYMENT_NAMESPACE, token))


class SoftwareDeploymentPlugin(ResourcePlugin):
    """A config deployed to a server for each action in ``actions``."""

    type_name = "OS::Heat::SoftwareDeployment"
    schema = deployment_schema(
        "OS::Heat::SoftwareDeployment", "Applies a software config to a server.", False
    )
    secret_data_keys = frozenset({TOKEN})
    #: Resource actions during which signals are refused: none, so a DELETE
    #: deployment can be signalled while the resource is being deleted.
    no_signal_actions: ClassVar[frozenset[str]] = frozenset()
    #: What a config without content is, when none is given.
    empty_config: ClassVar[Any] = ""

    # -- what is deployed -----------------------------------------------------------

    def derived_content(
        self, properties: Mapping[str, Any], source: Any, inputs: list[dict[str, Any]]
    ) -> Any:
        """The derived config's config (a structured deployment fills its inputs in)."""
        return source

    async def _deploy(
        self,
        ctx: ProviderContext,
        action: str,
        name: str,
        properties: Mapping[str, Any],
        physical_id: str,
        data: Mapping[str, Any],
    ) -> Progress:
        """Deploy for ``action`` if ``actions`` names it: done, or waiting for the signal."""
        if action not in (self.property_value(properties, "actions") or []):
            return Progress(done=True, physical_id=physical_id, provider_data=dict(data))
        configs = software_configs(ctx)
        existing = await configs.get_deployment(physical_id)
        derived = await self._derived_config(configs, action, name, properties, data)
        waits = self.property_value(properties, "signal_transport") != NO_SIGNAL
        status = IN_PROGRESS if waits else COMPLETE
        reason = "Deploy data available" if waits else "Not waiting for outputs signal"
        values = dict(self.property_value(properties, "input_values") or {})
        if existing is None:
            await configs.create_deployment(
                physical_id,
                server_id=str(self.property_value(properties, "server")),
                config_id=derived.id,
                input_values=values,
                action=action,
                status=status,
                status_reason=reason,
            )
        else:
            change = DeploymentChange(
                config_id=derived.id,
                input_values=values,
                action=action,
                status=status,
                status_reason=reason,
            )
            await configs.update_deployment(physical_id, change)
            # A derived config is the deployment's own: it goes when the deployment moves on.
            await configs.delete_config(existing.config_id)
        kept = {**data, DEPLOYMENT_MARK: True}
        if not waits:
            return Progress(done=True, physical_id=physical_id, provider_data=kept)
        return Progress(
            done=False,
            physical_id=physical_id,
            provider_data={**kept, POLL: FIRST_POLL},
            poll_after=FIRST_POLL,
        )

    async def _derived_config(
        self,
        configs: SoftwareConfigClient,
        action: str,
        name: str,
        properties: Mapping[str, Any],
        data: Mapping[str, Any],
    ) -> SoftwareConfig:
        source = await _source_config(configs, self.property_value(properties, "config"))
        transport = str(self.property_value(properties, "signal_transport"))
        deployment = Deployment(
            server_id=str(self.property_value(properties, "server")),
            action=action,
            stack_path=configs.stack_path(),
            resource_name=name,
            signal_transport=transport,
            signal_url=None if transport == NO_SIGNAL else presigned_url(data),
        )
        inputs = derived_inputs(
            source.inputs if source else (),
            self.property_value(properties, "input_values") or {},
            deployment,
        )
        content = self.derived_content(properties, source.config if source else None, inputs)
        return await configs.create_config(
            self.property_value(properties, "name")
            or (source.name if source else None)
            or str(data.get(PHYSICAL_NAME) or name),
            group=(source.group if source else None) or DEFAULT_GROUP,
            config=content if content is not None else self.empty_config,
            inputs=inputs,
            outputs=derived_outputs(source.outputs if source else ()),
            options=dict(source.options) if source else {},
        )

    async def _look(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        """Done once the deployment is COMPLETE; Heat's error once it FAILED."""
        deployment = await self._deployment(ctx, request.physical_id)
        if deployment is None:
            raise NotFound(f"software deployment {request.physical_id} does not exist")
        if deployment.status == COMPLETE:
            return Progress(done=True, provider_data=_without_poll(request.provider_data))
        if deployment.status == FAILED:
            raise Error(f"Deployment to server failed: {deployment.status_reason}")
        pause = min(float(request.provider_data.get(POLL, FIRST_POLL)) * 1.5, LONGEST_POLL)
        return Progress(
            done=False, provider_data={**request.provider_data, POLL: pause}, poll_after=pause
        )

    async def _deployment(
        self, ctx: ProviderContext, physical_id: str | None
    ) -> SoftwareDeployment | None:
        if physical_id is None:
            return None
        return await software_configs(ctx).get_deployment(physical_id)

    # -- lifecycle ------------------------------------------------------------------

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        data = {
            TOKEN: secrets.token_urlsafe(24),
            ENDPOINT: software_configs(ctx).signal_endpoint(),
            PHYSICAL_NAME: request.physical_name,
        }
        physical_id = deployment_id_for(request.idempotency_token)
        return await self._deploy(
            ctx, "CREATE", request.name, request.properties, physical_id, data
        )

    async def check_create(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._look(ctx, request)

    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        if request.physical_id is None:
            raise ResourceFailed("the deployment was never created")
        return await self._deploy(
            ctx,
            "UPDATE",
            request.name,
            request.new_properties,
            request.physical_id,
            request.provider_data,
        )

    async def check_update(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._look(ctx, request)

    async def suspend(self, ctx: ProviderContext, request: ActionRequest) -> Progress:
        return await self._run_action(ctx, request, "SUSPEND")

    async def check_suspend(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._look(ctx, request)

    async def resume(self, ctx: ProviderContext, request: ActionRequest) -> Progress:
        return await self._run_action(ctx, request, "RESUME")

    async def check_resume(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._look(ctx, request)

    async def _run_action(
        self, ctx: ProviderContext, request: ActionRequest, action: str
    ) -> Progress:
        if request.physical_id is None:
            return Progress(done=True)
        return await self._deploy(
            ctx,
            action,
            request.name,
            request.properties,
            request.physical_id,
            request.provider_data,
        )

    async def delete(self, ctx: ProviderContext, request: DeleteRequest) -> Progress:
        """A DELETE deployment first when ``actions`` asks for one, then the records go."""
        deployment = await self._deployment(ctx, request.physical_id)
        if deployment is None or request.physical_id is None:
            return Progress(done=True)
        if "DELETE" in (self.property_value(request.properties, "actions") or []):
            progress = await self._deploy(
                ctx,
                "DELETE",
                request.name,
                request.properties,
                request.physical_id,
                request.provider_data,
            )
            if not progress.done:
                return progress
        await _remove(software_configs(ctx), request.physical_id)
        return Progress(done=True)

    async def check_delete(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        if await self._deployment(ctx, request.physical_id) is None:
            return Progress(done=True)
        progress = await self._look(ctx, request)
        if progress.done and request.physical_id is not None:
            await _remove(software_configs(ctx), request.physical_id)
        return progress

    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        deployment = await self._deployment(ctx, deployment_id_for(request.idempotency_token))
        return None if deployment is None else deployment.id

    async def read(self, ctx: ProviderContext, request: ReadRequest) -> ReadResult | None:
        if request.physical_id is None:
            return None
        deployment = await self._deployment(ctx, request.physical_id)
        if deployment is None and request.provider_data.get(DEPLOYMENT_MARK):
            return None
        # An action not in ``actions`` made no deployment: there is nothing to be missing.
        return ReadResult(dict(request.properties))

    # -- outputs and signals ----------------------------------------------------------

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        deployment = await self._deployment(ctx, request.physical_id)
        outputs = {} if deployment is None else deployment.output_values
        return {name: outputs.get(name) for name in request.names}

    async def signal(self, ctx: ProviderContext, request: SignalRequest) -> SignalResult:
        """The server's outcome: outputs by name and the three ``deploy_*`` values."""
        details = request.details if request.details is not None else {}
        if not isinstance(details, Mapping):
            raise ResourceFailed("a deployment signal must be a JSON object")
        configs = software_configs(ctx)
        deployment = await self._deployment(ctx, request.physical_id)
        if deployment is None:
            raise ResourceFailed(f"software deployment {request.physical_id} does not exist")
        if deployment.status != IN_PROGRESS:
            # As in Heat, outputs are only taken while the deployment waits for them:
            # a late or repeated signal is accepted and changes nothing.
            reason = (
                f"deployment {deployment.id} is {deployment.action} {deployment.status}, "
                "not waiting for a signal; ignored"
            )
            return SignalResult({"status": deployment.status, "reason": reason})
        derived = await configs.get_config(deployment.config_id)
        outcome = signal_outcome(
            deployment.id, details, derived.outputs if derived else (), deployment.output_values
        )
        change = DeploymentChange(
            output_values=outcome.output_values,
            status=outcome.status,
            status_reason=outcome.status_reason,
        )
        updated = await configs.update_deployment(
            deployment.id, change, expected_status=IN_PROGRESS
        )
        if updated is None:
            raise ResourceFailed(f"deployment {deployment.id} took another signal meanwhile")
        return SignalResult({"status": outcome.status, "reason": outcome.event_reason})


class StructuredDeploymentPlugin(SoftwareDeploymentPlugin):
    """A deployment of a structured config whose ``{get_input: name}`` maps get the values."""

    type_name = "OS::Heat::StructuredDeployment"
    schema = deployment_schema(
        "OS::Heat::StructuredDeployment",
        "Applies a structured config to a server, its input references replaced by values.",
        True,
    )
    empty_config: ClassVar[Any] = {}

    def derived_content(
        self, properties: Mapping[str, Any], source: Any, inputs: list[dict[str, Any]]
    ) -> Any:
        return substituted(
            source,
            input_values_of(inputs),
            str(self.property_value(properties, "input_key")),
            strict=self.property_value(properties, "input_values_validate") == "STRICT",
            path=ROOT / "config",
        )


async def _source_config(configs: SoftwareConfigClient, config_id: Any) -> SoftwareConfig | None:
    if not config_id:
        return None
    source = await configs.get_config(str(config_id))
    if source is None:
        raise ResourceFailed(f"Software config with id {config_id} not found")
    return source


async def _remove(configs: SoftwareConfigClient, deployment_id: str) -> None:
    deployment = await configs.get_deployment(deployment_id)
    if deployment is None:
        return
    await configs.delete_deployment(deployment_id)
    await configs.delete_config(deployment.config_id)


def _without_poll(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key != POLL}


__all__ = [
    "Error",
    "SoftwareDeploymentPlugin",
    "StructuredDeploymentPlugin",
    "deployment_id_for",
]

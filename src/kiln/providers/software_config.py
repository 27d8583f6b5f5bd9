"""What a plugin uses for software configs and deployments (``ctx.clients["software_config"]``).

Heat keeps configs and deployments in its own database, behind its own API,
and the ``OS::Heat::*Config`` and ``*Deployment`` resources are that API's
users. Kiln's plugins never see the database, so the engine hands them this
client for the stack of the resource at hand: configs and deployments made
through it belong to that stack's project and remember the stack.

A config is immutable once stored; a deployment is a config applied to a
server, with the state the server last reported (``IN_PROGRESS`` until it
signals, then ``COMPLETE`` or ``FAILED``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = [
    "COMPLETE",
    "DEFAULT_GROUP",
    "DEPLOYMENT_MARK",
    "FAILED",
    "IN_PROGRESS",
    "SOFTWARE_CONFIG_CLIENT",
    "DeploymentChange",
    "SoftwareConfig",
    "SoftwareConfigClient",
    "SoftwareDeployment",
    "server_credential",
    "stored_inputs",
    "stored_outputs",
]

#: The key of the client in ``ProviderContext.clients``.
SOFTWARE_CONFIG_CLIENT = "software_config"
#: Set in ``provider_data`` by a resource whose physical id names a stored deployment,
#: so that the state check can match resources and deployments both ways.
DEPLOYMENT_MARK = "software_deployment"
#: The group of a config that names none (Heat's).
DEFAULT_GROUP = "Heat::Ungrouped"
#: A deployment's statuses, as Heat's API reports them.
IN_PROGRESS, COMPLETE, FAILED = "IN_PROGRESS", "COMPLETE", "FAILED"


@dataclass(frozen=True)
class DeploymentChange:
    """What an update of a deployment sets; None leaves a value as it is."""

    config_id: str | None = None
    input_values: Mapping[str, Any] | None = None
    output_values: Mapping[str, Any] | None = None
    action: str | None = None
    status: str | None = None
    status_reason: str | None = None

    def values(self) -> dict[str, Any]:
        """The values it sets, by name."""
        changed = {
            "config_id": self.config_id,
            "input_values": None if self.input_values is None else dict(self.input_values),
            "output_values": None if self.output_values is None else dict(self.output_values),
            "action": self.action,
            "status": self.status,
            "status_reason": self.status_reason,
        }
        return {key: value for key, value in changed.items() if value is not None}


class SoftwareConfig(Protocol):
    """A stored config as a plugin reads it."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def group(self) -> str: ...
    @property
    def config(self) -> Any:
        """The script or manifest: text, or a map for structured configs."""
        ...

    @property
    def inputs(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def outputs(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def options(self) -> Mapping[str, Any]: ...


class SoftwareDeployment(Protocol):
    """A stored deployment as a plugin reads it."""

    @property
    def id(self) -> str: ...
    @property
    def server_id(self) -> str: ...
    @property
    def config_id(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def status_reason(self) -> str: ...
    @property
    def input_values(self) -> Mapping[str, Any]: ...
    @property
    def output_values(self) -> Mapping[str, Any]: ...
    @property
    def updated_at(self) -> datetime | None: ...


class SoftwareConfigClient(Protocol):
    """Configs and deployments of one resource's stack."""

    async def create_config(
        self,
        name: str,
        *,
        group: str,
        config: Any,
        inputs: Sequence[Mapping[str, Any]] = (),
        outputs: Sequence[Mapping[str, Any]] = (),
        options: Mapping[str, Any] | None = None,
        config_id: str | None = None,
    ) -> SoftwareConfig:
        """Store a config; with ``config_id``, the config already stored under it if any."""
        ...

    async def get_config(self, config_id: str) -> SoftwareConfig | None:
        """The config, or None when there is no such config in this project."""
        ...

    async def delete_config(self, config_id: str) -> bool:
        """Delete the config; False when it was already gone."""
        ...

    async def create_deployment(
        self,
        deployment_id: str,
        *,
        server_id: str,
        config_id: str,
        input_values: Mapping[str, Any],
        action: str,
        status: str,
        status_reason: str,
    ) -> SoftwareDeployment: ...

    async def get_deployment(self, deployment_id: str) -> SoftwareDeployment | None: ...

    async def update_deployment(
        self, deployment_id: str, change: DeploymentChange, *, expected_status: str | None = None
    ) -> SoftwareDeployment | None:
        """Apply ``change``; None when the deployment is gone or, with
        ``expected_status``, no longer in that status (a signal lost a race)."""
        ...

    async def delete_deployment(self, deployment_id: str) -> bool:
        """Delete the deployment; False when it was already gone."""
        ...

    def signal_endpoint(self) -> str:
        """The URL of this resource's signal route in Kiln's API."""
        ...

    def stack_path(self) -> str:
        """``stack_name/stack_id`` of the resource's stack (Heat's ``deploy_stack_id``)."""
        ...


def stored_inputs(inputs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Inputs as Heat stores them: unset keys left out, ``replace_on_change`` only when true."""
    return [
        {
            key: value
            for key, value in entry.items()
            if value is not None and not (key == "replace_on_change" and value is False)
        }
        for entry in inputs
    ]


def stored_outputs(outputs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Outputs as Heat stores them: unset keys left out."""
    return [{key: value for key, value in entry.items() if value is not None} for entry in outputs]


#: The ``provider_data`` key of the secret a server reads its deployment metadata with.
SERVER_SECRET_KEY = "metadata_secret"
SERVER_CREDENTIAL_PREFIX = "server"


def server_credential(stack_id: str, resource_name: str, secret: str) -> str:
    """The token a server presents to read its own deployment metadata (Heat gives a
    server's agent a stack user's credentials for this): it names the server's
    resource, whose ``provider_data`` keeps ``secret`` under :data:`SERVER_SECRET_KEY`."""
    return f"{SERVER_CREDENTIAL_PREFIX}:{stack_id}:{secret}:{resource_name}"


def parse_server_credential(credential: str) -> tuple[str, str, str] | None:
    """``(stack_id, resource_name, secret)`` of a :func:`server_credential`, or None."""
    parts = credential.split(":", 3)
    if len(parts) != 4 or parts[0] != SERVER_CREDENTIAL_PREFIX or not all(parts[1:]):
        return None
    return parts[1], parts[3], parts[2]

"""Software configs and deployments for the plugins of one stack: the engine's client.

The plugins of ``OS::Heat::*Config`` and ``*Deployment`` resources store
through this client what Heat's software config service would: each config
and deployment lands in the stack's project and names the stack, so the
state check can match a stack's deployment resources with their rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from kiln.config import DEFAULT_API_URL
from kiln.persistence.database import Database
from kiln.persistence.errors import PersistenceError
from kiln.persistence.software_config import (
    SoftwareConfigRecord,
    SoftwareConfigRepository,
    SoftwareDeploymentRecord,
)
from kiln.plan.state import StackRecord, new_id
from kiln.providers.errors import ResourceFailed
from kiln.providers.software_config import (
    DEFAULT_GROUP,
    DeploymentChange,
    SoftwareConfigClient,
)


class StoredSoftwareConfigs:
    """What the plugin of the resource ``resource`` of ``stack`` may do with configs."""

    def __init__(
        self,
        repository: SoftwareConfigRepository,
        stack: StackRecord,
        resource: str,
        api_url: str = DEFAULT_API_URL,
    ) -> None:
        self.repository = repository
        self.stack = stack
        self.resource = resource
        self.api_url = api_url.rstrip("/")

    @property
    def project_id(self) -> str:
        return self.stack.project_id

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
    ) -> SoftwareConfigRecord:
        if config_id is not None:
            stored = self.repository.config(self.project_id, config_id)
            if stored is not None:
                return stored
        record = SoftwareConfigRecord(
            id=config_id or new_id(),
            project_id=self.project_id,
            name=name,
            group=group or DEFAULT_GROUP,
            config=config,
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            options=dict(options or {}),
            stack_id=self.stack.id,
        )
        with _refused():
            return self.repository.add_config(record)

    async def get_config(self, config_id: str) -> SoftwareConfigRecord | None:
        return self.repository.config(self.project_id, config_id)

    async def delete_config(self, config_id: str) -> bool:
        with _refused():
            return self.repository.delete_config(self.project_id, config_id)

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
    ) -> SoftwareDeploymentRecord:
        record = SoftwareDeploymentRecord(
            id=deployment_id,
            project_id=self.project_id,
            server_id=server_id,
            config_id=config_id,
            stack_id=self.stack.id,
            action=action,
            status=status,
            status_reason=status_reason,
            input_values=dict(input_values),
        )
        with _refused():
            return self.repository.add_deployment(record)

    async def get_deployment(self, deployment_id: str) -> SoftwareDeploymentRecord | None:
        return self.repository.deployment(self.project_id, deployment_id)

    async def update_deployment(
        self, deployment_id: str, change: DeploymentChange, *, expected_status: str | None = None
    ) -> SoftwareDeploymentRecord | None:
        return self.repository.update_deployment(
            self.project_id, deployment_id, change, expected_status=expected_status
        )

    async def delete_deployment(self, deployment_id: str) -> bool:
        return self.repository.delete_deployment(self.project_id, deployment_id)

    def signal_endpoint(self) -> str:
        stack = self.stack
        return (
            f"{self.api_url}/v1/{stack.project_id}/stacks/{stack.name}/{stack.id}"
            f"/resources/{self.resource}/signal"
        )

    def stack_path(self) -> str:
        return f"{self.stack.name}/{self.stack.id}"


@contextmanager
def _refused() -> Iterator[None]:
    """What the repository refuses (an id taken, a config in use) fails the plugin's call."""
    try:
        yield
    except PersistenceError as error:
        raise ResourceFailed(str(error)) from error


def software_config_clients(
    database: Database, stack: StackRecord, api_url: str = DEFAULT_API_URL
) -> Callable[[str], SoftwareConfigClient]:
    """The client for each resource of ``stack`` (``ctx.clients["software_config"]``)."""
    repository = SoftwareConfigRepository(database)
    return lambda resource: StoredSoftwareConfigs(repository, stack, resource, api_url)

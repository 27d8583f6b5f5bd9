"""Software config and deployment use cases shared by the CLI and the API (Heat's
``software_configs`` and ``software_deployments``), every one scoped to a project.

Configs made here are checked against the ``OS::Heat::SoftwareConfig``
schema first, as the OpenStack client validates a one-resource template
before it creates one. ``metadata`` is what a server's agent polls: the
derived configs of every deployment to that server, in the order Heat
serves them (group, then name, then creation time).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from kiln.errors import KilnError, NotFoundError
from kiln.persistence.database import Database
from kiln.persistence.software_config import (
    SoftwareConfigRecord,
    SoftwareConfigRepository,
    SoftwareDeploymentRecord,
)
from kiln.plan.state import new_id
from kiln.providers.registry import PluginRegistry
from kiln.providers.software_config import (
    DEFAULT_GROUP,
    DeploymentChange,
    stored_inputs,
    stored_outputs,
)
from kiln.schema.properties import validate_properties

#: The type whose schema a config made through the API must satisfy.
CONFIG_TYPE = "OS::Heat::SoftwareConfig"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class SoftwareConfigNotFound(NotFoundError):
    def __init__(self, config_id: str) -> None:
        super().__init__(f"Software config with id {config_id} not found")


class SoftwareDeploymentNotFound(NotFoundError):
    def __init__(self, deployment_id: str) -> None:
        super().__init__(f"Deployment with id {deployment_id} not found")


class SoftwareConfigService:
    def __init__(
        self, database: Database, plugins: PluginRegistry, project_id: str = "default"
    ) -> None:
        self.plugins = plugins
        self.project_id = project_id
        self.repository = SoftwareConfigRepository(database)

    # -- configs -----------------------------------------------------------------

    def list_configs(
        self, *, limit: int | None = None, marker: str | None = None
    ) -> list[SoftwareConfigRecord]:
        return self.repository.configs(self.project_id, limit=limit, marker=marker)

    def show_config(self, config_id: str) -> SoftwareConfigRecord:
        found = self.repository.config(self.project_id, config_id)
        if found is None:
            raise SoftwareConfigNotFound(config_id)
        return found

    def create_config(
        self,
        name: str,
        *,
        group: str = DEFAULT_GROUP,
        config: Any = "",
        inputs: Sequence[Mapping[str, Any]] = (),
        outputs: Sequence[Mapping[str, Any]] = (),
        options: Mapping[str, Any] | None = None,
    ) -> SoftwareConfigRecord:
        """Store a config after checking it as a ``OS::Heat::SoftwareConfig``'s properties."""
        checked = self._checked(
            {
                "group": group,
                "config": config,
                "inputs": list(inputs),
                "outputs": list(outputs),
                "options": dict(options or {}),
            }
        )
        return self.repository.add_config(
            SoftwareConfigRecord(
                id=new_id(),
                project_id=self.project_id,
                name=name,
                group=checked.get("group") or DEFAULT_GROUP,
                config=checked.get("config", ""),
                inputs=tuple(stored_inputs(checked.get("inputs") or [])),
                outputs=tuple(stored_outputs(checked.get("outputs") or [])),
                options=dict(checked.get("options") or {}),
            )
        )

    def delete_config(self, config_id: str) -> None:
        if not self.repository.delete_config(self.project_id, config_id):
            raise SoftwareConfigNotFound(config_id)

    def _checked(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        schema = self.plugins.schemas().get(CONFIG_TYPE)
        if schema is None:
            return dict(properties)
        converted, problems = validate_properties(schema, properties, self.plugins.schemas())
        errors = [d for d in problems if d.severity.value == "error"]
        if errors:
            first = errors[0]
            where = f"{first.path}: " if first.path else ""
            raise KilnError(f"Invalid software config: {where}{first.message}")
        return converted

    # -- deployments -------------------------------------------------------------

    def list_deployments(self, server_id: str | None = None) -> list[SoftwareDeploymentRecord]:
        return self.repository.deployments(self.project_id, server_id)

    def show_deployment(self, deployment_id: str) -> SoftwareDeploymentRecord:
        found = self.repository.deployment(self.project_id, deployment_id)
        if found is None:
            raise SoftwareDeploymentNotFound(deployment_id)
        return found

    def create_deployment(
        self,
        server_id: str,
        config_id: str,
        *,
        input_values: Mapping[str, Any] | None = None,
        action: str = "INIT",
        status: str = "COMPLETE",
        status_reason: str = "",
        deployment_id: str | None = None,
    ) -> SoftwareDeploymentRecord:
        self.show_config(config_id)
        return self.repository.add_deployment(
            SoftwareDeploymentRecord(
                id=deployment_id or new_id(),
                project_id=self.project_id,
                server_id=server_id,
                config_id=config_id,
                action=action,
                status=status,
                status_reason=status_reason,
                input_values=dict(input_values or {}),
            )
        )

    def update_deployment(
        self, deployment_id: str, change: DeploymentChange
    ) -> SoftwareDeploymentRecord:
        if change.config_id is not None:
            self.show_config(change.config_id)
        updated = self.repository.update_deployment(self.project_id, deployment_id, change)
        if updated is None:
            raise SoftwareDeploymentNotFound(deployment_id)
        return updated

    def delete_deployment(self, deployment_id: str) -> None:
        if not self.repository.delete_deployment(self.project_id, deployment_id):
            raise SoftwareDeploymentNotFound(deployment_id)

    def output(self, deployment_id: str, name: str) -> Any:
        """One of the outputs the server reported; KilnError for one it did not."""
        outputs = self.show_deployment(deployment_id).output_values
        if name not in outputs:
            raise KilnError(f"Output {name} does not exist in deployment {deployment_id}")
        return outputs[name]

    def metadata(self, server_id: str) -> list[dict[str, Any]]:
        """The derived configs of the server's deployments, as Heat serves them to the server."""
        entries = []
        for deployment in self.repository.deployments(self.project_id, server_id):
            config = self.repository.config(self.project_id, deployment.config_id)
            if config is not None:
                entries.append((config, deployment))
        entries.sort(key=lambda entry: (entry[0].group, entry[0].name, _created(entry[0])))
        return [_metadata_entry(config, deployment) for config, deployment in entries]


def config_document(config: SoftwareConfigRecord) -> dict[str, Any]:
    """A config as Heat's API shows it."""
    return {
        "id": config.id,
        "name": config.name,
        "group": config.group,
        "config": config.config,
        "inputs": [dict(entry) for entry in config.inputs],
        "outputs": [dict(entry) for entry in config.outputs],
        "options": dict(config.options),
        "creation_time": _time(config.created_at),
    }


def deployment_document(deployment: SoftwareDeploymentRecord) -> dict[str, Any]:
    """A deployment as Heat's API shows it."""
    return {
        "id": deployment.id,
        "server_id": deployment.server_id,
        "config_id": deployment.config_id,
        "creation_time": _time(deployment.created_at),
        "updated_time": _time(deployment.updated_at),
        "status": deployment.status,
        "status_reason": deployment.status_reason,
        "input_values": dict(deployment.input_values),
        "output_values": dict(deployment.output_values),
        "action": deployment.action,
    }


def _metadata_entry(
    config: SoftwareConfigRecord, deployment: SoftwareDeploymentRecord
) -> dict[str, Any]:
    return {**config_document(config), "updated_time": _time(deployment.updated_at)}


def _time(moment: datetime | None) -> str | None:
    return moment.strftime(TIME_FORMAT) if moment is not None else None


def _created(config: SoftwareConfigRecord) -> datetime:
    return config.created_at or datetime.min.replace(tzinfo=UTC)

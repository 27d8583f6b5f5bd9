"""``kiln software config|deployment ...``: the ``openstack software`` verbs, in either mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml

from kiln.cli.backend import ModeGroup, Software
from kiln.cli.backend import software as software_backend
from kiln.cli.formatting import format_option, print_fields, print_rows
from kiln.errors import KilnError, NotFoundError

CONFIG_FIELDS = ("id", "name", "group", "config", "inputs", "outputs", "options", "creation_time")
DEPLOYMENT_FIELDS = (
    "id",
    "server_id",
    "config_id",
    "creation_time",
    "updated_time",
    "status",
    "status_reason",
    "input_values",
    "action",
)


def _service() -> Software:
    return software_backend()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise click.FileError(str(path), hint=error.strerror or str(error)) from error


def _deleted_each(kind: str, ids: tuple[str, ...], delete: Any) -> None:
    """Delete every id, reporting the ones that fail, and fail if any did (as the client does)."""
    failures = 0
    for item in ids:
        try:
            delete(item)
        except KilnError as error:
            click.echo(str(error), err=True)
            failures += 1
    if failures:
        raise click.ClickException(f"Unable to delete {failures} of the {len(ids)} {kind}.")


@click.group(cls=ModeGroup)
def software() -> None:
    """Software configs and the deployments that apply them to servers.

    On the local database (embedded mode), or on a kiln serve with --url
    or KILN_URL set (client mode).
    """


@software.group("config")
def config() -> None:
    """Software configs."""


@config.command("list")
@click.option("--limit", type=int, help="At most this many configs.")
@click.option("--marker", help="Start after the config with this id.")
@format_option
def config_list(limit: int | None, marker: str | None, output_format: str) -> None:
    columns = ("id", "name", "group", "creation_time")
    configs = _service().list_configs(limit=limit, marker=marker)
    print_rows(columns, [[c[column] for column in columns] for c in configs], output_format)


@config.command("show")
@click.argument("config_id")
@click.option("--config-only", is_flag=True, help="Only the config's content.")
@format_option
def config_show(config_id: str, config_only: bool, output_format: str) -> None:
    try:
        document = _service().show_config(config_id)
    except NotFoundError as error:
        raise click.ClickException(f"Configuration not found: {config_id}") from error
    if config_only:
        content = document["config"]
        click.echo(content if isinstance(content, str) else json.dumps(content, indent=2))
        return
    print_fields([(name, document[name]) for name in CONFIG_FIELDS], output_format)


@config.command("create")
@click.argument("name")
@click.option(
    "--config-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The config's script or data.",
)
@click.option(
    "--definition-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML or JSON map of the config's inputs, outputs and options.",
)
@click.option("--group", default="Heat::Ungrouped", show_default=True, help="The config's tool.")
@format_option
def config_create(
    name: str,
    config_file: Path | None,
    definition_file: Path | None,
    group: str,
    output_format: str,
) -> None:
    definition: Any = {}
    if definition_file is not None:
        try:
            definition = yaml.safe_load(_read(definition_file)) or {}
        except yaml.YAMLError as error:
            raise click.ClickException(f"{definition_file}: {error}") from error
        if not isinstance(definition, dict):
            raise click.ClickException(f"{definition_file}: expected a map")
    try:
        document = _service().create_config(
            name,
            {
                "group": group,
                "config": _read(config_file) if config_file is not None else "",
                "inputs": definition.get("inputs") or [],
                "outputs": definition.get("outputs") or [],
                "options": definition.get("options") or {},
            },
        )
    except KilnError as error:
        raise click.ClickException(str(error)) from error
    print_fields([(field, document[field]) for field in CONFIG_FIELDS], output_format)


@config.command("delete")
@click.argument("config_ids", nargs=-1, required=True)
def config_delete(config_ids: tuple[str, ...]) -> None:
    _deleted_each("software configs", config_ids, _service().delete_config)


@software.group("deployment")
def deployment() -> None:
    """Software deployments."""


@deployment.command("list")
@click.option("--server", help="Only the deployments to this server.")
@click.option("--long", "long_listing", is_flag=True, help="Also creation time and reason.")
@format_option
def deployment_list(server: str | None, long_listing: bool, output_format: str) -> None:
    columns = ["id", "config_id", "server_id", "action", "status"]
    if long_listing:
        columns += ["creation_time", "status_reason"]
    documents = _service().list_deployments(server)
    print_rows(columns, [[d[column] for column in columns] for d in documents], output_format)


@deployment.command("show")
@click.argument("deployment_id")
@click.option("--long", "long_listing", is_flag=True, help="Also the output values.")
@format_option
def deployment_show(deployment_id: str, long_listing: bool, output_format: str) -> None:
    try:
        shown = _service().show_deployment(deployment_id)
    except NotFoundError as error:
        raise click.ClickException(f"Software Deployment not found: {deployment_id}") from error
    fields = [*DEPLOYMENT_FIELDS, "output_values"] if long_listing else list(DEPLOYMENT_FIELDS)
    print_fields([(field, shown[field]) for field in fields], output_format)


@deployment.command("metadata")
@click.argument("server")
def deployment_metadata(server: str) -> None:
    """The configs deployed to SERVER, as its agent reads them."""
    click.echo(json.dumps(_service().metadata(server), indent=2))


@deployment.command("output-show")
@click.argument("deployment_id")
@click.argument("output")
@format_option
def deployment_output_show(deployment_id: str, output: str, output_format: str) -> None:
    """One output the server reported for DEPLOYMENT_ID."""
    try:
        value = _service().output(deployment_id, output)
    except KilnError as error:
        raise click.ClickException(str(error)) from error
    print_fields([(output, value)], output_format)


@deployment.command("delete")
@click.argument("deployment_ids", nargs=-1, required=True)
def deployment_delete(deployment_ids: tuple[str, ...]) -> None:
    """Delete deployments and the configs they applied (as the OpenStack client does)."""
    service = _service()

    def delete(deployment_id: str) -> None:
        config_id = service.show_deployment(deployment_id)["config_id"]
        service.delete_deployment(deployment_id)
        try:
            service.delete_config(config_id)
        except KilnError as error:
            click.echo(
                f"Failed to delete the config {config_id} of deployment {deployment_id}: {error}",
                err=True,
            )

    _deleted_each("deployments", deployment_ids, delete)

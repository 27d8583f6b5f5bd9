"""``kiln project|user|role|token ...``: who may call ``kiln serve``, in embedded mode.

``kiln token create`` prints the token's secret once; only a hash of it is
kept, so a lost token is revoked and replaced, never shown again.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from kiln.cli.embedded import Embedded
from kiln.cli.formatting import format_option, print_fields, print_rows
from kiln.errors import KilnError
from kiln.persistence.identity import ProjectRecord, TokenRecord, UserRecord
from kiln.service.identity import IdentityService, Role

T = TypeVar("T")

TOKEN_COLUMNS = ("id", "user", "project", "role", "created_at", "expires_at", "revoked")
ROLES = click.Choice([role.value for role in Role])


def _service() -> IdentityService:
    return IdentityService(Embedded(dict(os.environ)).database)


def _run(work: Callable[[IdentityService], T]) -> T:
    """``work`` on the identity service, with Kiln's errors as command errors."""
    try:
        return work(_service())
    except KilnError as error:
        raise click.ClickException(str(error)) from error


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "kiln"


def _token_row(token: TokenRecord) -> tuple[Any, ...]:
    return (
        token.id,
        token.user_name,
        token.project_name,
        token.role,
        token.created_at,
        token.expires_at,
        token.revoked,
    )


Named = ProjectRecord | UserRecord


def _named_group(
    group: click.Group,
    id_help: str,
    create: Callable[[IdentityService, str, str | None], Named],
    listing: Callable[[IdentityService], Sequence[Named]],
) -> click.Group:
    """Give ``group`` its ``create NAME [--id ID]`` and ``list`` commands."""

    @group.command("create", help=f"Create a {group.name} named NAME.")
    @click.argument("name")
    @click.option("--id", "given_id", help=id_help)
    @format_option
    def create_command(name: str, given_id: str | None, output_format: str) -> None:
        created = _run(lambda service: create(service, name, given_id))
        print_fields([("id", created.id), ("name", created.name)], output_format)

    @group.command("list", help=f"List every {group.name}.")
    @format_option
    def list_command(output_format: str) -> None:
        found = _run(listing)
        print_rows(("id", "name"), [(item.id, item.name) for item in found], output_format)

    return group


@click.group()
def project() -> None:
    """Projects: what /v1/{project_id} names in the API."""


@click.group()
def user() -> None:
    """Users: whom tokens are made for."""


_named_group(
    project,
    "The ID in API URLs (default: the name).",
    IdentityService.create_project,
    IdentityService.list_projects,
)
_named_group(
    user,
    "The user's ID (default: the name).",
    IdentityService.create_user,
    IdentityService.list_users,
)


@click.group()
def role() -> None:
    """Roles users hold on projects: admin, member or reader."""


@role.command("add")
@click.option("--user", "user_name", required=True, help="User name or ID.")
@click.option("--project", "project_name", required=True, help="Project name or ID.")
@click.option("--role", "role_name", required=True, type=ROLES)
def role_add(user_name: str, project_name: str, role_name: str) -> None:
    """Give the user the role on the project."""
    _run(lambda service: service.assign_role(user_name, project_name, role_name))


@click.group()
def token() -> None:
    """API tokens, sent as X-Auth-Token to kiln serve."""


@token.command("create")
@click.option("--project", "project_name", required=True, help="Project name or ID.")
@click.option("--role", "role_name", default=Role.MEMBER.value, show_default=True, type=ROLES)
@click.option("--user", "user_name", help="User name or ID (default: your login name).")
@click.option(
    "--expires-in",
    type=click.IntRange(min=1),
    metavar="SECONDS",
    help="Expire this many seconds from now (default: never).",
)
@format_option
def token_create(
    project_name: str,
    role_name: str,
    user_name: str | None,
    expires_in: int | None,
    output_format: str,
) -> None:
    """Make a token, creating the user, the project and the role assignment when missing.

    The token is printed once and cannot be shown again.
    """
    name = user_name or _default_user()

    def create(service: IdentityService) -> Any:
        found_user = service.ensure_user(name)
        found_project = service.ensure_project(project_name)
        held = service.highest_role(found_user.id, found_project.id)
        if held is None or held.rank < Role(role_name).rank:
            service.assign_role(found_user.id, found_project.id, role_name)
        return service.create_token(found_user.id, found_project.id, role_name, expires_in)

    issued = _run(create)
    record = issued.token
    fields = [
        ("id", record.id),
        ("user", record.user_name),
        ("project", record.project_name),
        ("project_id", record.project_id),
        ("role", record.role),
        ("expires_at", record.expires_at),
        ("token", issued.secret),
    ]
    print_fields(fields, output_format)
    click.echo("The token is shown only now: keep it somewhere safe.", err=True)


@token.command("list")
@format_option
def token_list(output_format: str) -> None:
    """Every token (never its secret)."""
    tokens = _run(lambda service: service.list_tokens())
    print_rows(TOKEN_COLUMNS, [_token_row(t) for t in tokens], output_format)


@token.command("revoke")
@click.argument("token_ids", nargs=-1, required=True)
def token_revoke(token_ids: tuple[str, ...]) -> None:
    """Revoke tokens: they are refused from now on."""

    def revoke(service: IdentityService) -> None:
        for token_id in token_ids:
            service.revoke_token(token_id)

    _run(revoke)


def add_identity_commands(group: click.Group) -> None:
    """``kiln project``, ``kiln user``, ``kiln role`` and ``kiln token``."""
    for command in (project, user, role, token):
        group.add_command(command)

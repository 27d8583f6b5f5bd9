"""Projects, users, the roles users hold on projects, and API tokens.

A token is stored as the SHA-256 of its secret, never as the secret: what
this module is handed and hands back is the hash, so a copy of the database
lets nobody call the API.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.persistence.database import Database
from kiln.persistence.errors import DuplicateRecord
from kiln.persistence.models import ApiTokenRow, ProjectRow, RoleAssignmentRow, UserRow


@dataclass(frozen=True)
class ProjectRecord:
    id: str
    name: str


@dataclass(frozen=True)
class UserRecord:
    id: str
    name: str


@dataclass(frozen=True)
class RoleAssignment:
    user_id: str
    project_id: str
    role: str


@dataclass(frozen=True)
class TokenRecord:
    """An API token as stored; ``user_name`` and ``project_name`` are filled in when read."""

    id: str
    user_id: str
    project_id: str
    role: str
    secret_hash: str = field(repr=False)
    created_at: datetime
    expires_at: datetime | None = None
    revoked: bool = False
    user_name: str = ""
    project_name: str = ""


class IdentityRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    # -- projects and users -------------------------------------------------------

    def add_project(self, project: ProjectRecord) -> ProjectRecord:
        """Store ``project``; :class:`DuplicateRecord` when its id or name is taken."""
        self._insert(
            ProjectRow, {"id": project.id, "name": project.name}, f"project {project.name!r}"
        )
        return project

    def add_user(self, user: UserRecord) -> UserRecord:
        """Store ``user``; :class:`DuplicateRecord` when its id or name is taken."""
        self._insert(UserRow, {"id": user.id, "name": user.name}, f"user {user.name!r}")
        return user

    def find_project(self, id_or_name: str) -> ProjectRecord | None:
        """The project with this id, else the one with this name."""
        row = self._find(ProjectRow, id_or_name)
        return None if row is None else ProjectRecord(row.id, row.name)

    def find_user(self, id_or_name: str) -> UserRecord | None:
        """The user with this id, else the one with this name."""
        row = self._find(UserRow, id_or_name)
        return None if row is None else UserRecord(row.id, row.name)

    def projects(self) -> builtins.list[ProjectRecord]:
        query = select(ProjectRow).order_by(ProjectRow.name)
        return self.database.read(
            lambda session: [ProjectRecord(row.id, row.name) for row in session.scalars(query)]
        )

    def users(self) -> builtins.list[UserRecord]:
        query = select(UserRow).order_by(UserRow.name)
        return self.database.read(
            lambda session: [UserRecord(row.id, row.name) for row in session.scalars(query)]
        )

    # -- roles ----------------------------------------------------------------------

    def assign_role(self, assignment: RoleAssignment) -> bool:
        """Record the assignment; False when the user held that role on the project already."""
        values = {
            "user_id": assignment.user_id,
            "project_id": assignment.project_id,
            "role": assignment.role,
        }
        exists = select(RoleAssignmentRow.role).filter_by(**values)

        def write(session: Session) -> bool:
            if session.execute(exists).first() is not None:
                return False
            session.connection().execute(insert(RoleAssignmentRow), values)
            return True

        try:
            return self.database.write(write)
        except IntegrityError:
            # Assigned at the same moment by someone else, or an unknown user or project.
            if self.database.read(lambda session: session.execute(exists).first()) is not None:
                return False
            raise

    def roles(self, user_id: str, project_id: str) -> builtins.list[str]:
        query = (
            select(RoleAssignmentRow.role)
            .where(RoleAssignmentRow.user_id == user_id, RoleAssignmentRow.project_id == project_id)
            .order_by(RoleAssignmentRow.role)
        )
        return self.database.read(lambda session: list(session.scalars(query)))

    # -- tokens ---------------------------------------------------------------------

    def add_token(self, token: TokenRecord) -> TokenRecord:
        values = {
            "id": token.id,
            "user_id": token.user_id,
            "project_id": token.project_id,
            "role": token.role,
            "secret_hash": token.secret_hash,
            "created_at": token.created_at,
            "expires_at": token.expires_at,
            "revoked": token.revoked,
        }
        self.database.write(
            lambda session: session.connection().execute(insert(ApiTokenRow), values)
        )
        return token

    def token(self, token_id: str) -> TokenRecord | None:
        query = _token_query().where(ApiTokenRow.id == token_id)
        return self.database.read(
            lambda session: next((_token(row) for row in session.execute(query)), None)
        )

    def tokens(self) -> builtins.list[TokenRecord]:
        """Every token, oldest first."""
        query = _token_query().order_by(ApiTokenRow.created_at, ApiTokenRow.id)
        return self.database.read(lambda session: [_token(row) for row in session.execute(query)])

    def revoke_token(self, token_id: str) -> bool:
        """Mark the token revoked; False when there is no such token."""
        statement = update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(revoked=True)
        return self.database.write(
            lambda session: session.connection().execute(statement).rowcount == 1
        )

    # -- helpers --------------------------------------------------------------------

    def _insert(self, model: Any, values: dict[str, Any], what: str) -> None:
        try:
            self.database.write(lambda session: session.connection().execute(insert(model), values))
        except IntegrityError:
            raise DuplicateRecord(f"{what} already exists") from None

    def _find(self, model: Any, id_or_name: str) -> Any:
        def find(session: Session) -> Any:
            by_id = session.scalars(select(model).where(model.id == id_or_name)).first()
            if by_id is not None:
                return by_id
            return session.scalars(select(model).where(model.name == id_or_name)).first()

        return self.database.read(find)


def _token_query() -> Any:
    return (
        select(ApiTokenRow, UserRow.name, ProjectRow.name)
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .join(ProjectRow, ProjectRow.id == ApiTokenRow.project_id)
    )


def _token(result: Any) -> TokenRecord:
    row, user_name, project_name = result
    return TokenRecord(
        id=row.id,
        user_id=row.user_id,
        project_id=row.project_id,
        role=row.role,
        secret_hash=row.secret_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked=bool(row.revoked),
        user_name=user_name,
        project_name=project_name,
    )

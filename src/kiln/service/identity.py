"""Who may call the API: projects, users, their roles, and the tokens they call with.

A token's secret is ``<token id>.<random part>``; only its SHA-256 is
stored. :meth:`IdentityService.authenticate` looks the token up by the id in
front and compares the hashes in constant time, so neither the database nor
the time an answer takes tells anything about a secret. The secret is handed
out once, by :meth:`IdentityService.create_token`, and never logged.

Roles rank ``reader`` < ``member`` < ``admin``: a token may carry any role up
to the highest one its user holds on its project. An admin token acts in every
project; the others only in their own.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from kiln.errors import KilnError, NotFoundError
from kiln.persistence.database import Clock, Database, utc_now
from kiln.persistence.identity import (
    IdentityRepository,
    ProjectRecord,
    RoleAssignment,
    TokenRecord,
    UserRecord,
)
from kiln.persistence.resources import ResourceRepository
from kiln.persistence.secrets import SecretBox
from kiln.persistence.stacks import StackRepository
from kiln.plan.state import new_id
from kiln.providers.software_config import SERVER_SECRET_KEY, parse_server_credential

#: Longer "secrets" are refused before hashing; real ones are about 80 characters.
MAX_SECRET_LENGTH = 512
#: A token's ID is a UUID in its usual 36-character spelling.
TOKEN_ID_LENGTH = 36
#: Where a resource that takes signals from outside keeps its signal token.
SIGNAL_TOKEN_KEY = "token"


class Role(enum.StrEnum):
    READER = "reader"
    MEMBER = "member"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class IdentityError(KilnError):
    """A request about projects, users, roles or tokens that cannot be carried out."""


class IdentityNotFound(NotFoundError):
    def __init__(self, kind: str, id_or_name: str, *, named: bool = True) -> None:
        looked_up = "a name or ID" if named else "an ID"
        super().__init__(f"No {kind} with {looked_up} of '{id_or_name}' exists.")


@dataclass(frozen=True)
class Identity:
    """Who a token speaks for: a user, in a project, with a role."""

    user_id: str
    project_id: str
    role: Role


@dataclass(frozen=True)
class IssuedToken:
    """A new token; ``secret`` exists only here, and only until it is shown."""

    token: TokenRecord
    secret: str = field(repr=False)


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise IdentityError(f"Unknown role '{value}' (known roles: {known}).") from None


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class IdentityService:
    def __init__(self, database: Database, clock: Clock = utc_now) -> None:
        self.repository = IdentityRepository(database)
        self.clock = clock

    # -- projects and users -------------------------------------------------------

    def create_project(self, name: str, project_id: str | None = None) -> ProjectRecord:
        """A new project; its ID (the one in API URLs) is its name unless given."""
        return self.repository.add_project(ProjectRecord(project_id or name, _named(name)))

    def create_user(self, name: str, user_id: str | None = None) -> UserRecord:
        return self.repository.add_user(UserRecord(user_id or name, _named(name)))

    def project(self, id_or_name: str) -> ProjectRecord:
        found = self.repository.find_project(id_or_name)
        if found is None:
            raise IdentityNotFound("project", id_or_name)
        return found

    def user(self, id_or_name: str) -> UserRecord:
        found = self.repository.find_user(id_or_name)
        if found is None:
            raise IdentityNotFound("user", id_or_name)
        return found

    def ensure_project(self, id_or_name: str) -> ProjectRecord:
        """The project with this ID or name, created (ID and name both ``id_or_name``) if none."""
        return self.repository.find_project(id_or_name) or self.create_project(id_or_name)

    def ensure_user(self, id_or_name: str) -> UserRecord:
        return self.repository.find_user(id_or_name) or self.create_user(id_or_name)

    def list_projects(self) -> list[ProjectRecord]:
        return self.repository.projects()

    def list_users(self) -> list[UserRecord]:
        return self.repository.users()

    # -- roles ----------------------------------------------------------------------

    def assign_role(self, user: str, project: str, role: str) -> RoleAssignment:
        """Give the user (ID or name) the role on the project (ID or name); idempotent."""
        assignment = RoleAssignment(
            self.user(user).id, self.project(project).id, parse_role(role).value
        )
        self.repository.assign_role(assignment)
        return assignment

    def highest_role(self, user_id: str, project_id: str) -> Role | None:
        held = [Role(value) for value in self.repository.roles(user_id, project_id)]
        return max(held, key=lambda role: role.rank, default=None)

    # -- tokens ---------------------------------------------------------------------

    def create_token(
        self, user: str, project: str, role: str, expires_in: float | None = None
    ) -> IssuedToken:
        """A token for the user on the project with ``role``, which the user must hold (or
        a higher one); it expires ``expires_in`` seconds from now, or never."""
        wanted = parse_role(role)
        found_user, found_project = self.user(user), self.project(project)
        held = self.highest_role(found_user.id, found_project.id)
        if held is None or held.rank < wanted.rank:
            raise IdentityError(
                f"User '{found_user.name}' does not hold the {wanted} role "
                f"on project '{found_project.name}'."
            )
        if expires_in is not None and expires_in <= 0:
            raise IdentityError("A token must expire in a positive number of seconds.")
        token_id = new_id()
        secret = f"{token_id}.{secrets.token_urlsafe(32)}"
        now = self.clock()
        record = TokenRecord(
            id=token_id,
            user_id=found_user.id,
            project_id=found_project.id,
            role=wanted.value,
            secret_hash=secret_hash(secret),
            created_at=now,
            expires_at=None if expires_in is None else now + timedelta(seconds=expires_in),
            user_name=found_user.name,
            project_name=found_project.name,
        )
        return IssuedToken(self.repository.add_token(record), secret)

    def list_tokens(self) -> list[TokenRecord]:
        return self.repository.tokens()

    def revoke_token(self, token_id: str) -> TokenRecord:
        if not self.repository.revoke_token(token_id):
            raise IdentityNotFound("token", token_id, named=False)
        revoked = self.repository.token(token_id)
        assert revoked is not None
        return revoked

    def authenticate(self, secret: str) -> Identity | None:
        """Who the secret speaks for; None for an unknown, expired or revoked token."""
        token_id, dot, _ = secret.partition(".")
        if not dot or len(secret) > MAX_SECRET_LENGTH or len(token_id) > TOKEN_ID_LENGTH:
            return None
        token = self.repository.token(token_id)
        if token is None:
            return None
        if not hmac.compare_digest(token.secret_hash, secret_hash(secret)):
            return None
        if token.revoked or (token.expires_at is not None and token.expires_at <= self.clock()):
            return None
        return Identity(token.user_id, token.project_id, Role(token.role))


class SignalTokens:
    """Checks the token a resource's signal URL carries (kept encrypted with the resource)."""

    def __init__(self, database: Database, secret_box: SecretBox) -> None:
        self.stacks = StackRepository(database, secret_box)
        self.resources = ResourceRepository(database, secret_box)

    def matches(
        self, project_id: str, stack_name: str, stack_id: str, resource_name: str, presented: str
    ) -> bool:
        """Whether ``presented`` is the signal token of that resource of that live stack."""
        stack = self.stacks.get(stack_id)
        if stack is None or stack.project_id != project_id:
            return False
        if stack_name not in (stack.name, stack.id):
            return False
        record = self.resources.current(stack.id).get(resource_name)
        expected = None if record is None else record.provider_data.get(SIGNAL_TOKEN_KEY)
        if not isinstance(expected, str) or not expected:
            return False
        return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))

    def server_credential_matches(self, project_id: str, server_id: str, presented: str) -> bool:
        """Whether ``presented`` is the credential of the live server ``server_id`` of a
        stack of ``project_id`` (see :func:`server_credential`)."""
        parsed = parse_server_credential(presented)
        if parsed is None:
            return False
        stack_id, resource_name, secret = parsed
        stack = self.stacks.get(stack_id)
        if stack is None or stack.project_id != project_id:
            return False
        record = self.resources.current(stack.id).get(resource_name)
        if record is None or record.physical_id != server_id:
            return False
        expected = record.provider_data.get(SERVER_SECRET_KEY)
        if not isinstance(expected, str) or not expected:
            return False
        return hmac.compare_digest(expected.encode("utf-8"), secret.encode("utf-8"))


def _named(name: str) -> str:
    if not name.strip():
        raise IdentityError("A name must not be empty.")
    return name

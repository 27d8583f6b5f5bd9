"""Projects, users, role assignments and API tokens, stored and checked on real databases."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from persistence_support import START, Clock
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from kiln.persistence.database import Database
from kiln.persistence.errors import DuplicateRecord
from kiln.persistence.identity import (
    IdentityRepository,
    ProjectRecord,
    RoleAssignment,
    TokenRecord,
    UserRecord,
)
from kiln.service.identity import (
    Identity,
    IdentityError,
    IdentityNotFound,
    IdentityService,
    Role,
    secret_hash,
)

#: Children first, so that emptying them never trips a foreign key.
IDENTITY_TABLES = ("api_tokens", "role_assignments", "users", "projects")


@pytest.fixture
def repository(database: Database) -> Iterator[IdentityRepository]:
    """The repository on a migrated database; the shared server databases are emptied after."""
    yield IdentityRepository(database)
    with database.engine.begin() as connection:
        for table in IDENTITY_TABLES:
            connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def service(repository: IdentityRepository, clock: Clock) -> IdentityService:
    return IdentityService(repository.database, clock)


def _token(token_id: str = "t-1", **changes: object) -> TokenRecord:
    values: dict[str, object] = {
        "id": token_id,
        "user_id": "u-1",
        "project_id": "p-1",
        "role": "member",
        "secret_hash": "ab" * 32,
        "created_at": START,
    }
    values.update(changes)
    return TokenRecord(**values)  # type: ignore[arg-type]


def _people(repository: IdentityRepository) -> None:
    repository.add_project(ProjectRecord("p-1", "demo"))
    repository.add_user(UserRecord("u-1", "alice"))


# -- projects and users ------------------------------------------------------------------


def test_projects_and_users_are_found_by_id_or_name(repository: IdentityRepository) -> None:
    repository.add_project(ProjectRecord("p-2", "web"))
    repository.add_project(ProjectRecord("p-1", "db"))
    repository.add_user(UserRecord("u-1", "alice"))
    assert repository.find_project("p-2") == ProjectRecord("p-2", "web")
    assert repository.find_project("web") == ProjectRecord("p-2", "web")
    assert repository.find_project("nope") is None
    assert (
        repository.find_user("alice") == repository.find_user("u-1") == UserRecord("u-1", "alice")
    )
    assert repository.projects() == [ProjectRecord("p-1", "db"), ProjectRecord("p-2", "web")]
    assert repository.users() == [UserRecord("u-1", "alice")]


def test_an_id_wins_over_another_projects_name(repository: IdentityRepository) -> None:
    repository.add_project(ProjectRecord("web", "first"))
    repository.add_project(ProjectRecord("p-2", "web"))
    assert repository.find_project("web") == ProjectRecord("web", "first")


@pytest.mark.parametrize(
    "taken",
    [
        pytest.param(ProjectRecord("p-1", "other"), id="id"),
        pytest.param(ProjectRecord("p-9", "demo"), id="name"),
    ],
)
def test_project_ids_and_names_are_unique(
    repository: IdentityRepository, taken: ProjectRecord
) -> None:
    repository.add_project(ProjectRecord("p-1", "demo"))
    with pytest.raises(DuplicateRecord, match="already exists"):
        repository.add_project(taken)


def test_user_names_are_unique(repository: IdentityRepository) -> None:
    repository.add_user(UserRecord("u-1", "alice"))
    with pytest.raises(DuplicateRecord, match="user 'alice' already exists"):
        repository.add_user(UserRecord("u-2", "alice"))


def test_names_differing_in_case_are_different_everywhere(repository: IdentityRepository) -> None:
    repository.add_project(ProjectRecord("Demo", "Demo"))
    repository.add_project(ProjectRecord("demo", "demo"))
    assert repository.find_project("demo") == ProjectRecord("demo", "demo")
    assert [project.name for project in repository.projects()] == ["Demo", "demo"]


# -- roles -------------------------------------------------------------------------------


def test_assigning_a_role_twice_records_it_once(repository: IdentityRepository) -> None:
    _people(repository)
    assignment = RoleAssignment("u-1", "p-1", "member")
    assert repository.assign_role(assignment) is True
    assert repository.assign_role(assignment) is False
    assert repository.assign_role(RoleAssignment("u-1", "p-1", "reader")) is True
    assert repository.roles("u-1", "p-1") == ["member", "reader"]
    assert repository.roles("u-1", "elsewhere") == []


def test_a_role_needs_a_known_user_and_project(repository: IdentityRepository) -> None:
    _people(repository)
    with pytest.raises(IntegrityError):
        repository.assign_role(RoleAssignment("u-1", "missing", "member"))
    with pytest.raises(IntegrityError):
        repository.assign_role(RoleAssignment("missing", "p-1", "member"))


def test_concurrent_assignments_have_exactly_one_winner(repository: IdentityRepository) -> None:
    _people(repository)
    contenders = 6
    barrier = threading.Barrier(contenders, timeout=20)
    results: list[bool] = []

    def assign() -> None:
        barrier.wait()
        results.append(repository.assign_role(RoleAssignment("u-1", "p-1", "admin")))

    threads = [threading.Thread(target=assign) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * (contenders - 1) + [True]
    assert repository.roles("u-1", "p-1") == ["admin"]


# -- tokens ------------------------------------------------------------------------------


def test_tokens_round_trip_with_names_oldest_first(repository: IdentityRepository) -> None:
    _people(repository)
    expires = START + timedelta(hours=1, microseconds=7)
    repository.add_token(_token("t-2", created_at=START + timedelta(seconds=1)))
    repository.add_token(_token("t-1", expires_at=expires, role="reader"))
    first = repository.token("t-1")
    assert first == _token(
        "t-1", expires_at=expires, role="reader", user_name="alice", project_name="demo"
    )
    assert first is not None and first.expires_at == expires and first.created_at == START
    assert [token.id for token in repository.tokens()] == ["t-1", "t-2"]
    assert repository.token("nope") is None


def test_revoking(repository: IdentityRepository) -> None:
    _people(repository)
    repository.add_token(_token())
    assert repository.revoke_token("t-1") is True
    assert repository.revoke_token("t-1") is True
    assert repository.revoke_token("nope") is False
    revoked = repository.token("t-1")
    assert revoked is not None and revoked.revoked is True


def test_removing_a_project_or_user_removes_its_tokens_and_roles(
    repository: IdentityRepository,
) -> None:
    _people(repository)
    repository.add_user(UserRecord("u-2", "bob"))
    repository.assign_role(RoleAssignment("u-1", "p-1", "member"))
    repository.assign_role(RoleAssignment("u-2", "p-1", "member"))
    repository.add_token(_token("t-1"))
    repository.add_token(_token("t-2", user_id="u-2"))
    with repository.database.engine.begin() as connection:
        connection.execute(text("DELETE FROM users WHERE id = 'u-2'"))
    assert [token.id for token in repository.tokens()] == ["t-1"]
    assert repository.roles("u-2", "p-1") == []
    with repository.database.engine.begin() as connection:
        connection.execute(text("DELETE FROM projects WHERE id = 'p-1'"))
    assert repository.tokens() == []
    assert repository.roles("u-1", "p-1") == []


# -- the service on top: creating and checking tokens ---------------------------------------


def _member_token(service: IdentityService, expires_in: float | None = None) -> str:
    service.create_project("demo")
    service.create_user("alice")
    service.assign_role("alice", "demo", "member")
    return service.create_token("alice", "demo", "member", expires_in).secret


def test_a_token_authenticates_as_its_user_project_and_role(service: IdentityService) -> None:
    secret = _member_token(service)
    assert service.authenticate(secret) == Identity("alice", "demo", Role.MEMBER)


def test_only_a_hash_of_the_secret_is_stored(service: IdentityService) -> None:
    secret = _member_token(service)
    with service.repository.database.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_tokens")).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert secret not in stored
    assert secret.partition(".")[2] not in stored
    assert secret_hash(secret) in stored
    assert secret not in repr(service.list_tokens())


@pytest.mark.parametrize(
    "presented",
    [
        pytest.param(
            lambda secret: secret[:-1] + ("A" if secret[-1] != "A" else "B"), id="altered"
        ),
        pytest.param(lambda secret: secret.partition(".")[0], id="id-alone"),
        pytest.param(lambda secret: "no-such-id." + secret.partition(".")[2], id="unknown-id"),
        pytest.param(lambda secret: secret + "x" * 600, id="too-long"),
        pytest.param(lambda secret: "", id="empty"),
        pytest.param(lambda secret: "é." + secret, id="not-ascii"),
    ],
)
def test_anything_but_the_secret_is_refused(
    service: IdentityService, presented: Callable[[str], str]
) -> None:
    secret = _member_token(service)
    assert service.authenticate(presented(secret)) is None


def test_expired_and_revoked_tokens_are_refused(service: IdentityService, clock: Clock) -> None:
    expiring = _member_token(service, expires_in=60)
    lasting = service.create_token("alice", "demo", "reader").secret
    clock.advance(59)
    assert service.authenticate(expiring) is not None
    clock.advance(1)
    assert service.authenticate(expiring) is None
    assert service.authenticate(lasting) == Identity("alice", "demo", Role.READER)
    token_id = lasting.partition(".")[0]
    assert service.revoke_token(token_id).revoked is True
    assert service.authenticate(lasting) is None
    with pytest.raises(IdentityNotFound):
        service.revoke_token("no-such-token")


def test_a_token_carries_at_most_the_role_its_user_holds(service: IdentityService) -> None:
    _member_token(service)
    assert service.create_token("alice", "demo", "reader").token.role == "reader"
    with pytest.raises(IdentityError, match="does not hold the admin role"):
        service.create_token("alice", "demo", "admin")
    service.create_project("other")
    with pytest.raises(IdentityError, match="does not hold the reader role on project 'other'"):
        service.create_token("alice", "other", "reader")
    with pytest.raises(IdentityError, match="Unknown role 'owner'"):
        service.create_token("alice", "demo", "owner")
    with pytest.raises(IdentityNotFound, match="No user with a name or ID of 'bob'"):
        service.create_token("bob", "demo", "reader")
    with pytest.raises(IdentityError, match="positive"):
        service.create_token("alice", "demo", "member", expires_in=0)


def test_ensure_makes_what_is_missing_only(service: IdentityService) -> None:
    service.create_project("demo", project_id="3f1c")
    assert service.ensure_project("demo").id == "3f1c"
    assert service.ensure_project("3f1c").name == "demo"
    assert service.ensure_project("fresh").id == "fresh"
    assert service.ensure_user("alice") == service.ensure_user("alice")
    assert [project.name for project in service.list_projects()] == ["demo", "fresh"]
    with pytest.raises(IdentityError, match="must not be empty"):
        service.create_user(" ")

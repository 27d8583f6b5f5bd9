"""``kiln project|user|role|token``, run as real processes on a private KILN_HOME."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from cli_support import TIMESTAMP, UUID, Kiln, output

from kiln.persistence.database import Database
from kiln.service.identity import Identity, IdentityService, Role


def _authenticate(kiln: Kiln, secret: str) -> Identity | None:
    database = Database.open(f"sqlite:///{kiln.home / 'kiln.db'}")
    try:
        return IdentityService(database).authenticate(secret)
    finally:
        database.dispose()


def _time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")


def test_projects_and_users_are_created_and_listed(kiln: Kiln) -> None:
    assert kiln.data("project", "create", "demo") == {"id": "demo", "name": "demo"}
    created, user, again, other_user = kiln.run_all(
        [
            ("project", "create", "web", "--id", "3f1c0a", "-f", "json"),
            ("user", "create", "alice", "-f", "json"),
            ("project", "create", "demo"),
            ("user", "create", "bob", "--id", "b-1", "-f", "json"),
        ]
    )
    assert json.loads(output(created)) == {"id": "3f1c0a", "name": "web"}
    assert json.loads(output(user)) == {"id": "alice", "name": "alice"}
    assert json.loads(output(other_user)) == {"id": "b-1", "name": "bob"}
    assert (again.returncode, again.stderr) == (1, "Error: project 'demo' already exists\n")
    assert kiln.data("project", "list") == [
        {"id": "demo", "name": "demo"},
        {"id": "3f1c0a", "name": "web"},
    ]
    assert [u["name"] for u in kiln.data("user", "list")] == ["alice", "bob"]
    assert output(kiln.run("project", "list", "-f", "value")) == "demo demo\n3f1c0a web\n"


def test_roles_are_given_to_known_users_on_known_projects(kiln: Kiln) -> None:
    kiln.data("project", "create", "demo")
    kiln.data("user", "create", "alice")
    given, unknown_user, unknown_role = kiln.run_all(
        [
            ("role", "add", "--user", "alice", "--project", "demo", "--role", "reader"),
            ("role", "add", "--user", "bob", "--project", "demo", "--role", "reader"),
            ("role", "add", "--user", "alice", "--project", "demo", "--role", "owner"),
        ]
    )
    assert (given.returncode, given.stdout, given.stderr) == (0, "", "")
    assert (unknown_user.returncode, unknown_user.stderr) == (
        1,
        "Error: No user with a name or ID of 'bob' exists.\n",
    )
    assert unknown_role.returncode == 2
    assert "'owner' is not one of 'reader', 'member', 'admin'" in unknown_role.stderr
    # A reader's token is fine; a member's needs the member role, which token create gives.
    reader = kiln.data(
        "token", "create", "--project", "demo", "--user", "alice", "--role", "reader"
    )
    assert _authenticate(kiln, reader["token"]) == Identity("alice", "demo", Role.READER)
    member = kiln.data("token", "create", "--project", "demo", "--user", "alice")
    assert _authenticate(kiln, member["token"]) == Identity("alice", "demo", Role.MEMBER)


def test_token_create_makes_what_is_missing_and_shows_the_secret_once(kiln: Kiln) -> None:
    made = kiln.run(
        "token", "create", "--project", "ops", "--role", "admin", "--user", "carol", "-f", "json"
    )
    assert made.stderr == "The token is shown only now: keep it somewhere safe.\n"
    created = json.loads(output(made))
    assert re.fullmatch(UUID, created["id"])
    secret = created.pop("token")
    assert re.fullmatch(rf"{created['id']}\.[A-Za-z0-9_-]{{43}}", secret)
    assert created == {
        "id": created["id"],
        "user": "carol",
        "project": "ops",
        "project_id": "ops",
        "role": "admin",
        "expires_at": None,
    }
    assert _authenticate(kiln, secret) == Identity("carol", "ops", Role.ADMIN)

    expiring = kiln.data("token", "create", "--project", "ops", "--expires-in", "3600")
    listing, projects, users = kiln.run_all(
        [
            ("token", "list", "-f", "json"),
            ("project", "list", "-f", "json"),
            ("user", "list", "-f", "json"),
        ]
    )
    assert [p["id"] for p in json.loads(output(projects))] == ["ops"]
    assert len(json.loads(output(users))) == 2
    tokens = json.loads(output(listing))
    assert [(t["id"], t["user"], t["project"], t["role"]) for t in tokens] == [
        (created["id"], "carol", "ops", "admin"),
        (expiring["id"], expiring["user"], "ops", "member"),
    ]
    for token in tokens:
        assert re.fullmatch(TIMESTAMP, token["created_at"])
        assert token["revoked"] is False
    later = _time(tokens[1]["expires_at"]) - _time(tokens[1]["created_at"])
    assert timedelta(seconds=3599) <= later <= timedelta(seconds=3601)
    assert tokens[0]["expires_at"] is None
    shown = output(listing) + output(kiln.run("token", "list"))
    assert secret not in shown and expiring["token"] not in shown
    stored = b"".join(path.read_bytes() for path in kiln.home.glob("kiln.db*"))
    assert secret.encode() not in stored
    assert secret.partition(".")[2].encode() not in stored


def test_revoked_tokens_stop_working(kiln: Kiln) -> None:
    first = kiln.data("token", "create", "--project", "demo")
    second = kiln.data("token", "create", "--project", "demo", "--role", "reader")
    revoked = kiln.run("token", "revoke", first["id"], second["id"])
    assert (revoked.returncode, revoked.stdout, revoked.stderr) == (0, "", "")
    assert [t["revoked"] for t in kiln.data("token", "list")] == [True, True]
    assert _authenticate(kiln, first["token"]) is None
    assert _authenticate(kiln, second["token"]) is None
    missing = kiln.run("token", "revoke", "no-such-token")
    assert (missing.returncode, missing.stderr) == (
        1,
        "Error: No token with an ID of 'no-such-token' exists.\n",
    )
    refused = kiln.run("token", "create", "--project", "demo", "--expires-in", "0")
    assert refused.returncode == 2

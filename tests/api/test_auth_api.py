"""``kiln serve --auth token``: who may do what, over real HTTP against a real server."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from api_support import SOURCE, Api, Server

from kiln.api.app import ServerSettings, create_app, open_state
from kiln.api.auth import RedactTokens
from kiln.cli.serve import AUTH_NONE_WARNING
from kiln.persistence.database import Database
from kiln.service.identity import IdentityService

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "resources": {"said": {"type": "OS::Heat::Value", "properties": {"value": "hello"}}},
}

HANDLES = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "handle": {"type": "OS::Heat::WaitConditionHandle"},
        "other": {"type": "OS::Heat::WaitConditionHandle"},
    },
    "outputs": {"token": {"value": {"get_attr": ["handle", "token"]}}},
}

SIGNAL_ROUTE = "/v1/{project_id}/stacks/{stack_name}/{stack_id}/resources/{resource}/signal"

#: Makes a token: (project, role, user=None, expires_in=None) -> its secret.
Issue = Callable[..., str]


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(home=tmp_path_factory.mktemp("kiln-token"), auth="token")
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def identities(token_server: Server) -> Iterator[IdentityService]:
    """The identity service on the server's own database."""
    database = Database.open(f"sqlite:///{token_server.home / 'kiln.db'}")
    yield IdentityService(database)
    database.dispose()


@pytest.fixture(scope="module")
def issued() -> list[str]:
    """Every secret the tests made, to look for in the server's log at the end."""
    return []


@pytest.fixture
def issue(identities: IdentityService, issued: list[str]) -> Issue:
    def make(
        project: str, role: str, user: str | None = None, expires_in: float | None = None
    ) -> str:
        who = identities.ensure_user(user or f"{role}-of-{project}")
        where = identities.ensure_project(project)
        identities.assign_role(who.id, where.id, role)
        secret = identities.create_token(who.id, where.id, role, expires_in).secret
        issued.append(secret)
        return secret

    return make


def _project() -> str:
    return f"p-{uuid.uuid4().hex[:8]}"


def _create(api: Api, name: str, template: dict[str, Any] = TEMPLATE) -> dict[str, Any]:
    created = api.post("/stacks", {"stack_name": name, "template": template})
    assert created.status_code == 201, created.text
    stack: dict[str, Any] = created.json()["stack"]
    return stack


def _refused(response: httpx.Response, status: int, error_type: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["code"], body["error"]["type"]) == (status, error_type)
    assert body["title"] == {401: "Unauthorized", 403: "Forbidden"}[status]


def test_the_version_document_needs_no_token(token_server: Server) -> None:
    assert httpx.get(f"{token_server.url}/").status_code == 300


def test_no_token_or_an_unknown_one_is_unauthorized(token_server: Server, issue: Issue) -> None:
    project = _project()
    _refused(token_server.client(project).get("/stacks"), 401, "Unauthorized")
    _refused(token_server.client(project).post("/stacks", {}), 401, "Unauthorized")
    _refused(token_server.client(project).get("/build_info"), 401, "Unauthorized")
    real = issue(project, "member")
    for bogus in ("nonsense", real[:-2], f"{uuid.uuid4()}.{real.partition('.')[2]}"):
        answer = token_server.client(project, bogus).get("/stacks")
        _refused(answer, 401, "Unauthorized")
        assert bogus not in answer.text


def test_a_member_reads_and_writes_its_project(token_server: Server, issue: Issue) -> None:
    project = _project()
    api = token_server.client(project, issue(project, "member"))
    stack = _create(api, "web")
    assert api.wait("web")["stack_status"] == "CREATE_COMPLETE"
    listed = api.get("/stacks").json()["stacks"]
    assert [s["stack_name"] for s in listed] == ["web"]
    assert "project" not in listed[0]
    assert api.delete(f"/stacks/web/{stack['id']}").status_code == 204


def test_a_reader_may_only_read(token_server: Server, issue: Issue) -> None:
    project = _project()
    member = token_server.client(project, issue(project, "member"))
    stack = _create(member, "web")
    member.wait("web")
    reader = token_server.client(project, issue(project, "reader"))
    assert reader.get("/stacks").status_code == 200
    assert reader.stack("web")["id"] == stack["id"]
    base = f"/stacks/web/{stack['id']}"
    _refused(reader.post("/stacks", {"stack_name": "x", "template": TEMPLATE}), 403, "Forbidden")
    _refused(reader.patch(base, {"parameters": {}}), 403, "Forbidden")
    _refused(reader.delete(base), 403, "Forbidden")
    assert member.stack("web")["stack_status"] == "CREATE_COMPLETE"


@pytest.mark.parametrize("role", ["member", "reader"])
def test_a_token_of_another_project_is_forbidden(
    token_server: Server, issue: Issue, role: str
) -> None:
    mine, theirs = _project(), _project()
    owner = token_server.client(theirs, issue(theirs, "member"))
    _create(owner, "private")
    intruder = token_server.client(theirs, issue(mine, role))
    _refused(intruder.get("/stacks"), 403, "Forbidden")
    _refused(intruder.get("/stacks/private", follow_redirects=True), 403, "Forbidden")
    _refused(intruder.post("/stacks", {"stack_name": "x", "template": TEMPLATE}), 403, "Forbidden")


def test_an_admin_acts_in_every_project_and_lists_them_all(
    token_server: Server, issue: Issue
) -> None:
    first, second, home = _project(), _project(), _project()
    for project in (first, second):
        _create(token_server.client(project, issue(project, "member")), f"in-{project}")
    admin_token = issue(home, "admin")
    admin = token_server.client(first, admin_token)
    assert [s["stack_name"] for s in admin.get("/stacks").json()["stacks"]] == [f"in-{first}"]
    _create(admin, "by-admin")

    every = token_server.client(home, admin_token).get(
        "/stacks", params={"global_tenant": "true", "with_count": "true"}
    )
    assert every.status_code == 200, every.text
    found = {s["stack_name"]: s["project"] for s in every.json()["stacks"]}
    assert {f"in-{first}": first, f"in-{second}": second, "by-admin": first}.items() <= (
        found.items()
    )
    assert every.json()["count"] >= 3

    for role in ("member", "reader"):
        ordinary = token_server.client(first, issue(first, role))
        refused = ordinary.get("/stacks", params={"global_tenant": "true"})
        _refused(refused, 403, "Forbidden")


def test_revoked_and_expired_tokens_are_refused(
    token_server: Server, issue: Issue, identities: IdentityService
) -> None:
    project = _project()
    secret = issue(project, "member")
    api = token_server.client(project, secret)
    assert api.get("/stacks").status_code == 200
    identities.revoke_token(secret.partition(".")[0])
    _refused(api.get("/stacks"), 401, "Unauthorized")

    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    past = IdentityService(identities.repository.database, clock=lambda: an_hour_ago)
    stale = past.create_token(f"member-of-{project}", project, "member", expires_in=60).secret
    _refused(token_server.client(project, stale).get("/stacks"), 401, "Unauthorized")
    brief = issue(project, "member", expires_in=1)
    assert token_server.client(project, brief).get("/stacks").status_code == 200
    time.sleep(1.1)
    _refused(token_server.client(project, brief).get("/stacks"), 401, "Unauthorized")


def _kiln(home: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``kiln`` command of this checkout, on ``home``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
    env = {**base, "PYTHONPATH": str(SOURCE), "KILN_HOME": home}
    return subprocess.run(
        [sys.executable, "-m", "kiln.cli", *args], env=env, capture_output=True, text=True
    )


def test_tokens_from_the_command_line_work_until_revoked(
    token_server: Server, issued: list[str]
) -> None:
    project = _project()
    home = str(token_server.home)
    made = _kiln(home, "token", "create", "--project", project, "--user", "cli", "-f", "value")
    assert made.returncode == 0, made.stderr
    lines = made.stdout.splitlines()
    token_id, secret = lines[0], lines[-1]
    issued.append(secret)
    api = token_server.client(project, secret)
    _create(api, "from-cli")
    assert api.get("/stacks").status_code == 200
    revoked = _kiln(home, "token", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stderr
    _refused(api.get("/stacks"), 401, "Unauthorized")


def test_a_signal_token_opens_its_own_resources_signal_route_only(
    token_server: Server, issue: Issue
) -> None:
    project = _project()
    member = token_server.client(project, issue(project, "member"))
    stack = _create(member, "waiting", HANDLES)
    shown = member.wait("waiting")
    signal_token = {o["output_key"]: o["output_value"] for o in shown["outputs"]}["token"]
    assert signal_token

    # Anywhere but a signal route it is no API token.
    as_api_token = token_server.client(project, signal_token)
    _refused(as_api_token.get("/stacks"), 401, "Unauthorized")
    _refused(
        as_api_token.post("/stacks", {"stack_name": "x", "template": TEMPLATE}), 401, "Unauthorized"
    )

    # The signal route, served by an app built as `kiln serve` builds it, on the same database.
    api_tokens = {role: issue(project, role) for role in ("member", "reader")}
    answers = asyncio.run(
        _signal_answers(token_server, project, stack["id"], signal_token, api_tokens)
    )
    assert answers == {
        "own resource, token in the header": 200,
        "own resource, token in the query": 200,
        "own resource, a wrong token": 401,
        "own resource, but a GET": 401,
        "another resource": 401,
        "the same path in another project": 401,
        "the stack list": 401,
        "a member's API token": 200,
        "a reader's API token": 403,
    }


async def _signal_answers(
    token_server: Server, project: str, stack_id: str, token: str, api_tokens: dict[str, str]
) -> dict[str, int]:
    settings = ServerSettings(environ={"KILN_HOME": str(token_server.home)}, auth="token")
    app = create_app(settings)

    def signalled(resource: str) -> dict[str, str]:
        return {"signalled": resource}

    app.add_api_route(SIGNAL_ROUTE, signalled, methods=["POST", "GET"])
    app.state.kiln = open_state(settings)
    base = f"/v1/{project}/stacks/waiting/{stack_id}/resources"
    header = {"X-Auth-Token": token}
    elsewhere = f"/v1/{_project()}/stacks/waiting/{stack_id}/resources/handle/signal"
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://kiln") as client:
            tried = {
                "own resource, token in the header": client.post(
                    f"{base}/handle/signal", headers=header, json={}
                ),
                "own resource, token in the query": client.post(
                    f"{base}/handle/signal", params={"token": token}, json={}
                ),
                "own resource, a wrong token": client.post(
                    f"{base}/handle/signal", params={"token": "wrong"}
                ),
                "own resource, but a GET": client.get(f"{base}/handle/signal", headers=header),
                "another resource": client.post(f"{base}/other/signal", headers=header),
                "the same path in another project": client.post(elsewhere, headers=header),
                "the stack list": client.get(f"/v1/{project}/stacks", headers=header),
                **{
                    f"a {role}'s API token": client.post(
                        f"{base}/handle/signal", headers={"X-Auth-Token": api_token}, json={}
                    )
                    for role, api_token in api_tokens.items()
                },
            }
            return {what: (await request).status_code for what, request in tried.items()}
    finally:
        app.state.kiln.database.dispose()


def test_auth_none_warns_at_start_and_lets_everyone_in_as_admin(
    server: Server, token_server: Server
) -> None:
    assert AUTH_NONE_WARNING in server.log()
    assert AUTH_NONE_WARNING not in token_server.log()
    api = server.client()
    _create(api, "open")
    every = api.get("/stacks", params={"global_tenant": "true"})
    assert every.status_code == 200
    assert {"open": api.project}.items() <= {
        s["stack_name"]: s["project"] for s in every.json()["stacks"]
    }.items()


def test_signal_tokens_in_access_log_lines_are_masked() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5000",
            "POST",
            "/v1/p/stacks/s/i/resources/h/signal?a=1&token=s3cr3t",
            "1.1",
            200,
        ),
        None,
    )
    assert RedactTokens().filter(record)
    assert "s3cr3t" not in record.getMessage()
    assert "signal?a=1&token=*** HTTP/1.1" in record.getMessage()


def test_no_token_ever_reaches_the_servers_log(token_server: Server, issued: list[str]) -> None:
    log = token_server.log()
    assert issued
    assert not [secret for secret in issued if secret in log]

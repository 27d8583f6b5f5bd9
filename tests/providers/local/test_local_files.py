"""The Local cloud's files: a spec holding a credential, and scripts, are never readable
by others, not even while they are written."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiln.clients.local import AgentSpec, LocalCloud, ServerSpec
from kiln.clients.local.agent import run_script
from kiln.clients.local.files import read_json, write_json
from kiln.clients.local.supervisor import SPEC_FILE
from kiln.clients.local.user_data import prepare

CREDENTIAL = "server-credential-secret"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave every new file readable and writable by anyone."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_json_files_are_the_owners_alone_and_replace_a_wider_file(
    tmp_path: Path, open_umask: None
) -> None:
    target = tmp_path / "record.json"
    target.write_text("{}")
    target.chmod(0o644)
    write_json(target, {"secret": "s"})
    assert mode(target) == 0o600
    assert read_json(target) == {"secret": "s"}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["record.json"]


def test_a_servers_spec_with_its_agent_credential_is_the_owners_alone(
    cloud: LocalCloud, open_umask: None
) -> None:
    agent = AgentSpec(metadata_url="http://127.0.0.1:9/metadata", credential=CREDENTIAL)
    server_id = cloud.create_server(str(uuid.uuid4()), ServerSpec(name="web", agent=agent))
    spec = cloud.servers_directory / server_id / SPEC_FILE
    assert CREDENTIAL in spec.read_text()
    assert mode(spec) == 0o600
    assert cloud.agent_credential(server_id) == CREDENTIAL

    cloud.update_server(server_id, "web2", {"role": "db"})
    assert mode(spec) == 0o600
    assert read_json(spec)["name"] == "web2"


def test_a_user_data_script_is_runnable_by_its_owner_alone(
    tmp_path: Path, open_umask: None
) -> None:
    stale = tmp_path / "user_data"
    stale.write_text("old")
    stale.chmod(0o755)
    commands = prepare("#!/bin/sh\necho $PASSWORD\n", tmp_path, lambda message: None)
    assert commands == [[str(stale)]]
    assert mode(stale) == 0o700
    assert stale.read_text() == "#!/bin/sh\necho $PASSWORD\n"


def test_a_deployment_script_is_runnable_by_its_owner_alone(
    tmp_path: Path, open_umask: None
) -> None:
    outcome = run_script("config-1", "echo done", {}, [], tmp_path, {"PATH": os.defpath})
    assert outcome["deploy_stdout"] == "done\n"
    assert mode(tmp_path / "config-1") == 0o700

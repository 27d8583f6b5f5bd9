"""Local::Server through its plugin, against real processes on this machine."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import signal
import tarfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from local_support import (
    Driver,
    address_range,
    clean_up,
    context,
    marked_processes,
    new_cloud,
    properties,
    wait_until,
)

from kiln.clients.local import LocalCloud, processes
from kiln.providers.context import ProviderContext
from kiln.providers.errors import InvalidInput, ResourceFailed
from kiln.providers.protocol import (
    ActionRequest,
    CreateRequest,
    FindRequest,
    SnapshotDeleteRequest,
    SnapshotRequest,
    UpdateRequest,
)
from kiln.providers.testing import ContractCase, run_contract
from kiln.resources.local.server import LocalServer

BOOT = "#!/bin/sh\necho booted as $KILN_SERVER_NAME at $KILN_SERVER_ADDRESS\n"

SERVE = """\
#!/bin/sh
echo "page of $KILN_SERVER_NAME" > index.html
python3 -m http.server --bind "$KILN_SERVER_ADDRESS" 8080 >/dev/null 2>&1 &
"""


def fetch(url: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return str(response.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_the_plugin_passes_the_provider_contract(cloud: LocalCloud) -> None:
    names = frozenset(
        {"name", "first_address", "networks", "addresses", "console_log", "pid", "status", "show"}
    )
    case = ContractCase(
        LocalServer,
        {"name": "web", "user_data": BOOT, "metadata": {"role": "web"}},
        {"name": "web2", "user_data": BOOT, "metadata": {"role": "db"}},
        names,
    )
    result = asyncio.run(run_contract(case, lambda: context(cloud)))
    attributes = result.attributes
    address = attributes["first_address"]
    assert ipaddress.IPv4Address(address) in ipaddress.IPv4Network(cloud.addresses.network)
    assert attributes["networks"] == {"local": [address]}
    assert attributes["addresses"] == {"local": [{"addr": address, "version": 4}]}
    assert (attributes["name"], attributes["status"]) == ("web", "ACTIVE")
    assert f"booted as web at {address}" in attributes["console_log"]
    assert attributes["show"]["metadata"] == {"role": "web"}
    assert isinstance(attributes["pid"], int)
    updated = result.updated_attributes
    assert (updated["name"], updated["show"]["metadata"], updated["pid"]) == (
        "web2",
        {"role": "db"},
        attributes["pid"],
    )
    assert marked_processes(result.physical_id) == []
    assert list(cloud.servers_directory.iterdir()) == []
    assert list((cloud.root / "addresses").iterdir()) == []


def test_servers_listen_on_the_same_port_each_at_its_own_address(cloud: LocalCloud) -> None:
    driver = Driver(cloud)
    first = driver.create({"name": "one", "user_data": SERVE})
    second = driver.create({"name": "two", "user_data": SERVE})
    addresses = [driver.attributes(i, "first_address")["first_address"] for i in (first, second)]
    assert addresses[0] != addresses[1]
    pages = [fetch(f"http://{address}:8080/index.html") for address in addresses]
    assert pages == ["page of one\n", "page of two\n"]

    driver.delete(first)
    assert marked_processes(first) == []
    assert fetch(f"http://{addresses[1]}:8080/index.html") == "page of two\n"
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://{addresses[0]}:8080/", timeout=2)


def test_cloud_config_writes_files_runs_commands_and_exports_the_server(
    cloud: LocalCloud,
) -> None:
    user_data = """\
#cloud-config
packages: [nginx]
write_files:
  - path: /etc/app.conf
    content: "listen=8080\\n"
    permissions: "0600"
runcmd:
  - cat etc/app.conf
  - [sh, -c, "cat $KILN_METADATA_FILE; echo; echo $GREETING"]
"""
    driver = Driver(cloud)
    server_id = driver.create(
        {"user_data": user_data, "metadata": {"tier": 1}, "environment": {"GREETING": "hello"}}
    )
    work = cloud.servers_directory / server_id / "work"
    assert (work / "etc" / "app.conf").read_text() == "listen=8080\n"
    assert (work / "etc" / "app.conf").stat().st_mode & 0o777 == 0o600
    log = driver.attributes(server_id, "console_log")["console_log"]
    assert "cloud-config key 'packages' is not supported by Local::Server and was ignored" in log
    assert "listen=8080\n" in log
    assert '{"tier": 1}\nhello\n' in log
    assert json.loads((work / "metadata.json").read_text()) == {"tier": 1}


def test_a_second_cloud_finds_the_server_again_and_deletes_it(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    driver = Driver(cloud)
    server_id = driver.create({"user_data": BOOT, "command": "sleep 60"})
    before = driver.attributes(server_id, "pid", "status", "first_address", "show")

    restarted = LocalCloud(cloud.root, address_range=str(cloud.addresses.network))
    again = Driver(restarted)
    assert again.attributes(server_id, "pid", "status", "first_address", "show") == before
    assert before["status"] == "ACTIVE" and before["show"]["command_pid"] is not None
    assert again.read(server_id, {"user_data": BOOT}) is not None
    processes = marked_processes(server_id)
    assert before["pid"] in processes and before["show"]["command_pid"] in processes

    again.delete(server_id)
    assert marked_processes(server_id) == []
    assert not (cloud.servers_directory / server_id).exists()
    again.delete(server_id)  # already gone: still a success


def test_a_retried_create_finds_the_server_instead_of_starting_another(
    cloud: LocalCloud,
) -> None:
    driver = Driver(cloud)
    token = str(uuid.uuid4())
    server_id = driver.create({"command": "sleep 60"}, token)
    processes = sorted(marked_processes(server_id))
    assert driver.create({"command": "sleep 60"}, token) == server_id
    assert sorted(marked_processes(server_id)) == processes
    assert len(list(cloud.servers_directory.iterdir())) == 1

    found = asyncio.run(LocalServer().find(context(cloud), _find_request(token)))
    assert found == server_id
    assert asyncio.run(LocalServer().find(context(cloud), _find_request("other"))) is None


def _find_request(token: str) -> FindRequest:
    return FindRequest(name="server", idempotency_token=token, physical_name="x", properties={})


def stopped(cloud: LocalCloud, server_id: str) -> bool:
    """Killed, as the process table and the cloud both see it: a process that is
    exiting leaves /proc's environ before its state stops saying it runs."""
    server = cloud.server(server_id)
    return (
        marked_processes(server_id) == []
        and cloud.processes(server_id) == []
        and (server is None or server.status != "ACTIVE")
    )


def test_a_killed_server_reads_as_gone_and_reports_shutoff(cloud: LocalCloud) -> None:
    driver = Driver(cloud)
    server_id = driver.create({"command": "sleep 60"})
    pid = driver.attributes(server_id, "pid")["pid"]
    os.killpg(pid, signal.SIGKILL)
    wait_until(lambda: stopped(cloud, server_id))

    assert driver.read(server_id, {"command": "sleep 60"}) is None
    assert driver.attributes(server_id, "status", "pid") == {"status": "SHUTOFF", "pid": None}
    show = driver.attributes(server_id, "show")["show"]
    assert show["status_reason"] == "the server's supervisor is gone"
    driver.delete(server_id)
    assert list(cloud.servers_directory.iterdir()) == []


def test_a_command_that_fails_puts_the_server_in_error(cloud: LocalCloud) -> None:
    driver = Driver(cloud)
    server_id = driver.create({"command": "sleep 0.3; exit 3"})
    wait_until(lambda: driver.attributes(server_id, "status")["status"] == "ERROR")
    show = driver.attributes(server_id, "show")["show"]
    assert show["status_reason"] == "the command exited with status 3"
    assert driver.read(server_id, {"command": "sleep 0.3; exit 3"}) is None


def test_failing_user_data_fails_the_create(cloud: LocalCloud) -> None:
    driver = Driver(cloud)
    with pytest.raises(ResourceFailed) as failure:
        driver.create({"user_data": "#!/bin/sh\necho oops\nexit 7\n", "command": "sleep 60"})
    assert str(failure.value).endswith("is ERROR: user_data exited with status 7")
    (server_id,) = [d.name for d in cloud.servers_directory.iterdir()]
    assert marked_processes(server_id) == []
    assert "oops" in driver.attributes(server_id, "console_log")["console_log"]


def test_a_fixed_address_outside_the_range_names_the_property(cloud: LocalCloud) -> None:
    with pytest.raises(InvalidInput) as failure:
        Driver(cloud).create({"address": "127.0.0.1"})
    assert str(failure.value) == (
        f"address: address 127.0.0.1 is outside the Local address range {cloud.addresses.network}"
    )
    assert list(cloud.servers_directory.iterdir()) == []


def test_a_fixed_address_already_taken_names_the_property(cloud: LocalCloud) -> None:
    driver = Driver(cloud)
    address = str(next(cloud.addresses.network.hosts()))
    first = driver.create({"address": address})
    assert driver.attributes(first, "first_address") == {"first_address": address}
    with pytest.raises(InvalidInput) as failure:
        driver.create({"address": address})
    assert str(failure.value) == f"address: address {address} is already taken by server {first}"
    assert [d.name for d in cloud.servers_directory.iterdir()] == [first]


def test_an_exhausted_range_fails_clearly(tmp_path: Path) -> None:
    network = address_range(30)  # two usable addresses
    small = new_cloud(tmp_path / "small", network)
    try:
        driver = Driver(small)
        driver.create({})
        driver.create({})
        with pytest.raises(InvalidInput) as failure:
            driver.create({})
        assert str(failure.value) == (
            f"address: the Local address range {network} has no free address left"
        )
    finally:
        clean_up(small)


def test_name_and_metadata_update_in_place(cloud: LocalCloud) -> None:
    driver = Driver(cloud)
    old = properties({"name": "a", "metadata": {"v": 1}, "command": "sleep 60"})
    server_id = driver.create(old)
    pid = driver.attributes(server_id, "pid")["pid"]
    new = properties({"name": "b", "metadata": {"v": 2}, "command": "sleep 60"})
    request = UpdateRequest(
        name="server",
        physical_id=server_id,
        old_properties=old,
        new_properties=new,
        changed=frozenset({"name", "metadata"}),
    )
    assert asyncio.run(LocalServer().update(context(cloud), request)).done
    assert driver.attributes(server_id, "name", "pid") == {"name": "b", "pid": pid}
    work = cloud.servers_directory / server_id / "work"
    assert json.loads((work / "metadata.json").read_text()) == {"v": 2}
    read = driver.read(server_id, new)
    assert read is not None and read.properties == {"name": "b", "metadata": {"v": 2}}
    replaced = {
        name: LocalServer.schema.properties[name].update_policy.value
        for name in ("user_data", "command", "environment", "address", "name", "metadata")
    }
    assert replaced == {
        "user_data": "replace",
        "command": "replace",
        "environment": "replace",
        "address": "replace",
        "name": "in_place",
        "metadata": "in_place",
    }


def test_a_snapshot_archives_the_working_directory(cloud: LocalCloud) -> None:
    driver = Driver(cloud)
    server_id = driver.create({"user_data": "#!/bin/sh\necho data > kept.txt\n"})
    plugin = LocalServer()
    request = SnapshotRequest(
        name="server", physical_id=server_id, properties={}, idempotency_token="t1"
    )
    snapshot_id = asyncio.run(plugin.snapshot(context(cloud), request)).physical_id
    assert snapshot_id is not None
    assert asyncio.run(plugin.snapshot(context(cloud), request)).physical_id == snapshot_id
    archive = cloud.snapshots_directory / f"{snapshot_id}.tar.gz"
    with tarfile.open(archive) as opened:
        kept = opened.extractfile("./kept.txt")
        assert kept is not None and kept.read() == b"data\n"
    driver.delete(server_id)
    assert archive.exists()
    asyncio.run(
        plugin.delete_snapshot(
            context(cloud), SnapshotDeleteRequest(name="server", snapshot_id=snapshot_id)
        )
    )
    assert not archive.exists()


def test_without_a_local_client_the_plugin_says_so() -> None:
    request = CreateRequest(
        name="server", properties=properties({}), idempotency_token="t", physical_name="n"
    )
    with pytest.raises(ResourceFailed) as failure:
        asyncio.run(LocalServer().create(ProviderContext.create(), request))
    assert str(failure.value) == "the Local provider is not configured in this Kiln"


def process_states(pids: list[int]) -> set[str]:
    states = set()
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            states.add(stat.read().rsplit(")", 1)[1].split()[0])
    return states


def test_suspend_stops_the_processes_and_resume_lets_them_go_on(cloud: LocalCloud) -> None:
    driver = Driver(cloud)
    server_id = driver.create({"user_data": SERVE, "command": "sleep 60"})
    address = driver.attributes(server_id, "first_address")["first_address"]
    assert fetch(f"http://{address}:8080/index.html") == "page of srv-1\n"
    plugin = LocalServer()
    request = ActionRequest(name="server", physical_id=server_id, properties={})

    assert asyncio.run(plugin.suspend(context(cloud), request)).done
    assert driver.attributes(server_id, "status") == {"status": "SUSPENDED"}
    assert process_states(marked_processes(server_id)) == {"T"}
    assert driver.read(server_id, {"user_data": SERVE, "command": "sleep 60"}) is not None

    assert asyncio.run(plugin.resume(context(cloud), request)).done
    assert driver.attributes(server_id, "status") == {"status": "ACTIVE"}
    assert "T" not in process_states(marked_processes(server_id))
    assert fetch(f"http://{address}:8080/index.html") == "page of srv-1\n"

    asyncio.run(plugin.suspend(context(cloud), request))
    driver.delete(server_id)  # a suspended server still stops
    assert marked_processes(server_id) == []


def test_a_server_that_is_off_cannot_be_suspended(cloud: LocalCloud) -> None:
    driver = Driver(cloud)
    server_id = driver.create({"command": "sleep 60"})
    os.killpg(driver.attributes(server_id, "pid")["pid"], signal.SIGKILL)
    wait_until(lambda: stopped(cloud, server_id))
    request = ActionRequest(name="server", physical_id=server_id, properties={})
    with pytest.raises(ResourceFailed) as failure:
        asyncio.run(LocalServer().suspend(context(cloud), request))
    assert str(failure.value) == f"server {server_id} cannot be suspended: it is SHUTOFF"


def test_servers_created_at_once_get_distinct_addresses(cloud: LocalCloud) -> None:
    plugin = LocalServer()

    async def create_all() -> list[str]:
        requests = [
            CreateRequest(
                name=f"server{n}",
                properties=properties({"command": "sleep 60"}),
                idempotency_token=str(uuid.uuid4()),
                physical_name=f"server{n}",
            )
            for n in range(4)
        ]
        started = await asyncio.gather(*(plugin.create(context(cloud), r) for r in requests))
        return [progress.physical_id or "" for progress in started]

    server_ids = asyncio.run(create_all())
    servers = [cloud.server(server_id) for server_id in server_ids]
    assert len({server.address for server in servers if server is not None}) == 4


def test_a_process_group_is_recognised_by_its_leader_start_time_not_its_pid(
    cloud: LocalCloud,
) -> None:
    server_id = Driver(cloud).create({"command": "sleep 60"})
    pid = Driver(cloud).attributes(server_id, "pid")["pid"]
    start = processes.start_ticks(pid)
    assert start is not None
    group = processes.members(pid, start, b"-")
    assert pid in group and len(group) >= 2
    # A group whose leader started at another time is someone else's.
    assert processes.members(pid, start - 1, b"-") == []
    assert sorted(processes.members(pid, start - 1, f"KILN_SERVER_ID={server_id}".encode())) == (
        sorted(group)
    )

"""``kiln serve --workers N``: several worker processes, each the API and an engine,
sharing one database.

Which worker served a request is read from the operating system, not from
anything Kiln says: each test keeps its HTTP connections open and looks up,
in ``/proc``, which worker process holds the server end of each.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from api_support import SOURCE, Api, Server, until

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads worker processes from /proc"
)

T = TypeVar("T")

#: Three resources in a chain, each taking a moment: operations overlap.
CHAIN = {
    "heat_template_version": "2018-08-31",
    "resources": {
        f"step{index}": {
            "type": "OS::Heat::TestResource",
            "properties": {"value": f"v{index}", "wait_secs": 0.3},
            **({"depends_on": [f"step{index - 1}"]} if index else {}),
        }
        for index in range(3)
    },
    "outputs": {"last": {"value": {"get_attr": ["step2", "output"]}}},
}

#: Slower: an operation is surely in flight when a worker is stopped.
SLOW_CHAIN = {
    "heat_template_version": "2018-08-31",
    "resources": {
        f"step{index}": {
            "type": "OS::Heat::TestResource",
            "properties": {"value": f"v{index}", "wait_secs": 1},
            **({"depends_on": [f"step{index - 1}"]} if index else {}),
        }
        for index in range(4)
    },
}


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (in parentheses) may hold spaces; the parent id is the
    # second field after it.
    return int(stat.rsplit(")", 1)[1].split()[1])


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def worker_pids(server: Server) -> list[int]:
    """The worker processes uvicorn started for ``server`` (not its resource tracker)."""
    assert server.process is not None
    master = server.process.pid
    found = []
    for entry in Path("/proc").iterdir():
        pid = int(entry.name) if entry.name.isdigit() else None
        if pid and _parent_of(pid) == master and "spawn_main" in _command_line(pid):
            found.append(pid)
    return sorted(found)


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of the established TCP connections whose local port is ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes


def connections_by_worker(server: Server, workers: Iterable[int]) -> dict[int, set[str]]:
    """The open client connections (socket inodes) each worker process holds."""
    inodes = _established_inodes(server.port)
    held: dict[int, set[str]] = {}
    for pid in workers:
        held[pid] = set()
        for descriptor in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(descriptor)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                held[pid].add(target[8:-1])
    return held


def started_workers(server: Server, count: int) -> list[int]:
    """Wait until ``count`` workers have started up, and give their pids."""
    until(lambda: server.log().count("Application startup complete") >= count)
    pids = until(lambda: (found := worker_pids(server)) and len(found) == count and found)
    return list(pids)


def clients_per_worker(server: Server, project: str, workers: list[int]) -> dict[int, list[Api]]:
    """Open connections (one client each) until every worker holds some, by worker.

    The kernel hands each new connection to whichever worker accepts first, so
    clients are added until each worker has at least two.
    """
    by_worker: dict[int, list[Api]] = {pid: [] for pid in workers}
    for _ in range(60):
        before = connections_by_worker(server, workers)
        api = server.client(project)
        assert api.get("/stacks").status_code == 200
        after = connections_by_worker(server, workers)
        gained = [pid for pid in workers if after[pid] - before[pid]]
        assert len(gained) == 1, (before, after)
        by_worker[gained[0]].append(api)
        if all(len(apis) >= 2 for apis in by_worker.values()):
            return by_worker
    raise AssertionError(f"the connections did not reach every worker: {by_worker}")


def in_parallel(work: Callable[[Any], T], items: list[Any]) -> list[T]:
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(work, items))


def _statuses(api: Api, **query: str) -> dict[str, str]:
    answer = api.get("/stacks", params=query)
    assert answer.status_code == 200, answer.text
    return {stack["stack_name"]: stack["stack_status"] for stack in answer.json()["stacks"]}


def _resource_events(api: Api, path: str) -> list[tuple[str, str]]:
    answer = api.get(f"{path}/events")
    assert answer.status_code == 200, answer.text
    return [
        (event["resource_name"], event["resource_status"])
        for event in answer.json()["events"]
        if event["resource_type"] == "OS::Heat::TestResource"
    ]


def test_workers_share_the_stacks_and_each_runs_operations(tmp_path: Path) -> None:
    server = Server(home=tmp_path / "home", log_level="info", workers=2)
    server.start()
    try:
        workers = started_workers(server, 2)
        clients = clients_per_worker(server, "shared", workers)
        # Stacks are created through both workers at once: each worker's engine runs
        # the ones created through it.
        jobs = [
            (f"s{pid}-{index}", pid, api)
            for pid, apis in clients.items()
            for index, api in enumerate(apis[:3])
        ]

        def create(job: tuple[str, int, Api]) -> str:
            name, _, api = job
            answer = api.post("/stacks", {"stack_name": name, "template": CHAIN})
            assert answer.status_code == 201, answer.text
            return f"/stacks/{name}/{answer.json()['stack']['id']}"

        paths = in_parallel(create, jobs)
        # Both workers still hold connections they answered requests on.
        held = connections_by_worker(server, workers)
        assert all(held[pid] for pid in workers), held

        api = clients[workers[0]][0]
        names = {name for name, _, _ in jobs}
        until(
            lambda: (
                (found := _statuses(api)).keys() == names
                and all(status == "CREATE_COMPLETE" for status in found.values())
            ),
            timeout=60,
        )
        # Every worker sees every stack, whoever ran it; each resource was created once.
        for pid in workers:
            other = clients[pid][-1]
            for path in paths:
                shown = other.get(path)
                assert shown.status_code == 200, shown.text
                stack = shown.json()["stack"]
                assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
                assert stack["outputs"][0]["output_value"] == "v2"
        for path in paths:
            events = _resource_events(api, path)
            for step in ("step0", "step1", "step2"):
                assert events.count((step, "CREATE_COMPLETE")) == 1, events

        # Deleted through the other worker than the one each was created through (on
        # new connections: idle ones may have been closed meanwhile).
        deleters = clients_per_worker(server, "shared", workers)

        def delete(job: tuple[tuple[str, int, Api], str]) -> None:
            (_, creator, _), path = job
            other = next(pid for pid in workers if pid != creator)
            assert deleters[other][0].delete(path).status_code == 204

        in_parallel(delete, list(zip(jobs, paths, strict=True)))
        until(lambda: not _statuses(api), timeout=60)
        final = _statuses(api, show_deleted="true")
        assert final.keys() == names
        assert set(final.values()) == {"DELETE_COMPLETE"}, final
    finally:
        assert server.stop() in (0, -15)
    assert "Traceback" not in server.log()


def test_a_stack_deleted_through_one_worker_while_another_creates_it(tmp_path: Path) -> None:
    server = Server(home=tmp_path / "home", log_level="info", workers=2)
    server.start()
    try:
        workers = started_workers(server, 2)
        clients = clients_per_worker(server, "crossing", workers)
        creator, deleter = clients[workers[0]][0], clients[workers[1]][0]
        answer = creator.post("/stacks", {"stack_name": "busy", "template": SLOW_CHAIN})
        assert answer.status_code == 201, answer.text
        path = f"/stacks/busy/{answer.json()['stack']['id']}"
        until(lambda: ("step0", "CREATE_COMPLETE") in _resource_events(creator, path))

        assert deleter.delete(path).status_code == 204
        # The engine working on the create (in the other worker) holds the stack's
        # lease: it takes up the delete, which ends the stack.
        until(lambda: not _statuses(deleter), timeout=60)
        final = _statuses(creator, show_deleted="true")
        assert final == {"busy": "DELETE_COMPLETE"}
    finally:
        assert server.stop() in (0, -15)
    assert "Traceback" not in server.log()


def test_sigterm_to_the_master_stops_every_worker_gracefully(tmp_path: Path) -> None:
    home = tmp_path / "home"
    server = Server(home=home, log_level="info", workers=2)
    server.start()
    workers = started_workers(server, 2)
    clients = clients_per_worker(server, "stopping", workers)
    created = {}
    for pid in workers:
        api = clients[pid][0]
        name = f"slow{pid}"
        answer = api.post("/stacks", {"stack_name": name, "template": SLOW_CHAIN})
        assert answer.status_code == 201, answer.text
        created[name] = f"/stacks/{name}/{answer.json()['stack']['id']}"
    api = clients[workers[0]][0]
    for path in created.values():
        until(lambda path=path: ("step0", "CREATE_COMPLETE") in _resource_events(api, path))

    # uvicorn's master passes SIGTERM on to each worker and waits for it: each one
    # stops its engine at the next wait, records the step in flight and exits.
    assert server.stop(timeout=60) in (0, -15)
    log = server.log()
    for pid in workers:
        assert not _alive(pid)
        assert f"Finished server process [{pid}]" in log
    assert log.count("Application shutdown complete") == 2
    assert "Traceback" not in log

    # What they left unfinished, one server takes up again.
    again = Server(home=home, port=server.port)
    again.start()
    try:
        resumed = again.client("stopping")
        for name in created:
            stack = resumed.wait(name, timeout=60)
            assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    finally:
        again.stop()


def test_a_killed_worker_s_operations_are_resumed_by_another(tmp_path: Path) -> None:
    # A short lease, so that the dead worker's lease runs out soon.
    server = Server(
        home=tmp_path / "home",
        log_level="info",
        workers=2,
        environ={"KILN_ENGINE_LEASE_SECONDS": "2"},
    )
    server.start()
    try:
        workers = started_workers(server, 2)
        clients = clients_per_worker(server, "killing", workers)
        victim = workers[0]
        api = clients[workers[1]][0]
        answer = clients[victim][0].post(
            "/stacks", {"stack_name": "orphan", "template": SLOW_CHAIN}
        )
        assert answer.status_code == 201, answer.text
        path = f"/stacks/orphan/{answer.json()['stack']['id']}"
        until(lambda: ("step0", "CREATE_COMPLETE") in _resource_events(api, path))

        os.kill(victim, signal.SIGKILL)
        until(lambda: f"Child process [{victim}] died" in server.log())
        stack = api.wait("orphan", timeout=90)
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
        events = _resource_events(api, path)
        for step in ("step0", "step1", "step2", "step3"):
            assert events.count((step, "CREATE_COMPLETE")) == 1, events
        # uvicorn replaced the dead worker.
        until(lambda: server.log().count("Application startup complete") == 3)
        replaced = worker_pids(server)
        assert len(replaced) == 2 and victim not in replaced
    finally:
        assert server.stop() in (0, -15)


def test_workers_refuse_a_database_only_one_process_can_see(tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
    env = {
        **base,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SOURCE), base.get("PYTHONPATH")])),
        "KILN_HOME": str(tmp_path),
        "KILN_DATABASE_URL": "sqlite://",
    }
    done = subprocess.run(
        [sys.executable, "-m", "kiln.cli", "serve", "--workers", "2", "--auth", "none"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--workers needs a database the workers share" in done.stderr


def _quick(value: str) -> dict[str, Any]:
    return {
        "heat_template_version": "2018-08-31",
        "resources": {
            "only": {
                "type": "OS::Heat::TestResource",
                "properties": {"value": value, "wait_secs": 0.1},
            }
        },
        "outputs": {"value": {"value": {"get_attr": ["only", "output"]}}},
    }


def test_updates_through_alternating_workers_start_without_waiting_for_recovery(
    tmp_path: Path,
) -> None:
    # Recovery comes only once a minute: every update here must be started by the
    # engines' hand-offs, whichever worker each request reaches and whatever the
    # other worker's engine is doing at that moment.
    server = Server(
        home=tmp_path / "home",
        log_level="info",
        workers=2,
        environ={"KILN_RECOVER_EVERY_SECONDS": "60"},
    )
    server.start()
    try:
        workers = started_workers(server, 2)
        clients = clients_per_worker(server, "handoff", workers)
        first, second = clients[workers[0]][0], clients[workers[1]][0]
        path = first.created("handoff", _quick("v0"))
        for index in range(1, 13):
            api = (first, second)[index % 2]
            answer = api.put(path, {"template": _quick(f"v{index}")})
            assert answer.status_code == 202, answer.text
            # Sometimes at once, sometimes just as the update before ends.
            time.sleep((0.02, 0.1, 0.15, 0.3)[index % 4])
        started = time.monotonic()
        stack = second.wait("handoff", timeout=20)
        assert time.monotonic() - started < 10
        assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
        assert stack["outputs"][0]["output_value"] == "v12"
    finally:
        assert server.stop() in (0, -15)
    assert "Traceback" not in server.log()

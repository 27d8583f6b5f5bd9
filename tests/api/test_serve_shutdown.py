"""Stopping ``kiln serve`` in the middle of an operation, and starting it again."""

from __future__ import annotations

import time
from pathlib import Path

from api_support import Server

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


def test_a_stopped_server_leaves_work_another_engine_resumes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # Recovery looks every 5 s by default; the restarted server resumes at its first look.
    first = Server(home=home, log_level="info")
    first.start()
    api = first.client("demo")
    created = api.post("/stacks", {"stack_name": "slow", "template": SLOW_CHAIN})
    assert created.status_code == 201, created.text
    deadline = time.monotonic() + 20
    while True:
        resources = api.get(f"/stacks/slow/{created.json()['stack']['id']}/resources")
        done = (
            [
                r
                for r in resources.json().get("resources", [])
                if r["resource_status"] == "CREATE_COMPLETE"
            ]
            if resources.status_code == 200
            else []
        )
        if done:
            break
        assert time.monotonic() < deadline, "no resource completed"
        time.sleep(0.1)

    # SIGTERM: the step in flight finishes and is recorded, then the server exits
    # (uvicorn re-raises the signal once it has shut down, hence -15).
    assert first.stop() in (0, -15)
    assert "Application shutdown complete" in first.log()
    assert "Traceback" not in first.log()

    second = Server(home=home, port=first.port)
    second.start()
    try:
        again = second.client("demo")
        stack = again.wait("slow", timeout=60)
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
        names = [
            r["resource_name"]
            for r in again.get(f"/stacks/slow/{stack['id']}/resources").json()["resources"]
        ]
        assert sorted(names) == ["step0", "step1", "step2", "step3"]
        events = again.get(f"/stacks/slow/{stack['id']}/events").json()["events"]
        created_once = [
            e
            for e in events
            if e["resource_name"] == "step0" and e["resource_status"] == "CREATE_COMPLETE"
        ]
        # Nothing was created twice.
        assert len(created_once) == 1
    finally:
        second.stop()

"""The API under load: a real ``kiln serve`` over loopback, timed from outside.

Writes ``bench/results/api.json``:

- latency (median, p99) of stack list with 1,000 stacks, stack show, and the
  event list of a 1,000-resource stack (first 1,000 events, and all of them);
- create-to-CREATE_COMPLETE of a 100-resource stack through the API;
- stack show requests per second under 16 concurrent clients, the load made
  by a second process.

The stacks are made beforehand through the service on the server's own
database file, so that the figures are the API's, not the seeding's. The stack
list is asked for as Heat's clients ask by default, with no ``limit``: Heat has
no default page size for stacks, so all 1,000 come back in one answer (the
project's stack limit, 512 by default as in Heat, is raised for this).
Targets on the reference machine: stack list p99 under 50 ms; event list of
1,000 events under 100 ms (median and p99).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from harness import Bench, free_port, wait_until_serving, write_report
from kiln.config import TemplateLimits
from kiln.persistence.secrets import SecretBox
from kiln.service.stacks import StackDefinition

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "api.json"

ONE = "heat_template_version: 2018-08-31\nresources:\n  only: {type: OS::Heat::None}\n"


def _many(count: int) -> str:
    lines = ["heat_template_version: 2018-08-31", "resources:"]
    lines += [f"  r{index}: {{type: OS::Heat::None}}" for index in range(count)]
    return "\n".join(lines) + "\n"


def _timed(client: httpx.Client, path: str, rounds: int) -> dict[str, float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        answer = client.get(path)
        samples.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples) * 1000, 2),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000, 2),
        "rounds": rounds,
    }


LOAD = """
import asyncio, sys, time, httpx
url, seconds, workers = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
async def worker(client, deadline, counts):
    while time.perf_counter() < deadline:
        answer = await client.get(url)
        counts[answer.status_code == 200] += 1
async def main():
    counts = {True: 0, False: 0}
    limits = httpx.Limits(max_connections=workers)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(worker(client, deadline, counts) for _ in range(workers)))
    print(counts[True], counts[False])
asyncio.run(main())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stacks", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--load-seconds", type=float, default=10.0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        key = SecretBox.generate_key()
        # Past Heat's default of 512 stacks per project: the listing is measured at 1,000.
        limits = TemplateLimits(max_stacks_per_project=options.stacks + 10)
        bench = Bench(directory, limits, key)
        seeded = time.perf_counter()
        for index in range(options.stacks):
            bench.run(bench.service.create(f"s{index:04d}", StackDefinition(ONE)))
        _, big = bench.run(bench.service.create("big", StackDefinition(_many(1000))))
        assert big.state == "CREATE_COMPLETE", big.status_reason
        seeding = time.perf_counter() - seeded
        bench.database.dispose()
        figures = _measure(directory, key.decode(), big.id, options)
        figures["seeding_seconds"] = round(seeding, 1)
    write_report(RESULTS, figures)


def _measure(directory: Path, key: str, big_id: str, options: Any) -> dict[str, Any]:
    port = free_port()
    env = {
        **os.environ,
        "KILN_HOME": str(directory),
        "KILN_DATABASE_URL": f"sqlite:///{directory / 'bench.db'}",
        "KILN_SECRET_KEY": key,
        "KILN_MAX_STACKS_PER_PROJECT": str(options.stacks + 10),
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
        ),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiln.cli",
            "serve",
            "--auth",
            "none",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base)
        with httpx.Client(base_url=f"{base}/v1/default", timeout=60) as client:
            listing = _timed(client, "/stacks", options.rounds)
            count = len(client.get("/stacks").json()["stacks"])
            show = _timed(client, f"/stacks/big/{big_id}", options.rounds)
            # As many rounds as the stack list: with 50, the p99 was the first (cold) request.
            events_page = _timed(client, f"/stacks/big/{big_id}/events?limit=1000", options.rounds)
            events_all = _timed(client, f"/stacks/big/{big_id}/events", 50)
            create = _create_through_api(client)
            rps = _load(f"{base}/v1/default/stacks/s0000/{_id_of(client, 's0000')}", options)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {
        "stack_list": {**listing, "stacks": count, "target_p99_ms": 50},
        "stack_show": show,
        "event_list_1000": {**events_page, "target_ms": 100},
        "event_list_all": events_all,
        "create_100_resources_seconds": create,
        "stack_show_rps_16_clients": rps,
    }


def _id_of(client: httpx.Client, name: str) -> str:
    found = client.get(f"/stacks/{name}")
    return str(found.headers["location"].rsplit("/", 1)[-1])


def _create_through_api(client: httpx.Client) -> float:
    started = time.perf_counter()
    created = client.post("/stacks", json={"stack_name": "hundred", "template": _many(100)})
    assert created.status_code == 201, created.text
    stack_id = created.json()["stack"]["id"]
    while True:
        status = client.get(f"/stacks/hundred/{stack_id}").json()["stack"]["stack_status"]
        if status != "CREATE_IN_PROGRESS":
            assert status == "CREATE_COMPLETE", status
            return round(time.perf_counter() - started, 3)
        time.sleep(0.01)


def _load(url: str, options: Any) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", LOAD, url, str(options.load_seconds), "16"],
        capture_output=True,
        text=True,
        check=True,
    )
    ok, failed = (int(part) for part in done.stdout.split())
    return {
        "requests_per_second": round(ok / options.load_seconds, 1),
        "failed": failed,
        "seconds": options.load_seconds,
    }


if __name__ == "__main__":
    main()

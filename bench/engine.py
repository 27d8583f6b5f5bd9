"""Engine benchmark on SQLite; writes bench/results/engine.json.

- create and delete of stacks of 10, 100, 1,000 and 5,000 ``OS::Heat::None``;
- a 20-deep chain and a 200-wide fan of ``OS::Heat::TestResource`` waiting
  0.2 s on create, reported as wall time / critical-path lower bound (median
  of three runs);
- a one-property update in a 1,000-resource stack;
- peak RSS of the process.

Targets on the reference machine (2 cores): chain and fan within 10% of
the lower bound; 1,000 no-op resources created in under 2 s.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import harness
from harness import write_report
from kiln.config import TemplateLimits
from kiln.plan.state import StackRecord
from kiln.service.stacks import StackDefinition

RESULTS = Path(__file__).resolve().parent / "results" / "engine.json"
WAIT = 0.2
LIMITS = TemplateLimits(max_resources_per_stack=10_000, max_template_bytes=16 * 1024 * 1024)


class Bench(harness.Bench):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory, LIMITS)

    def create(self, name: str, template: str) -> tuple[float, float, StackRecord]:
        started = time.perf_counter()
        stack = self.service.create(name, StackDefinition(template))
        accepted = time.perf_counter() - started
        elapsed, final = self.run(stack)
        assert final.state == "CREATE_COMPLETE", (final.state, final.status_reason)
        return accepted, elapsed, final


def none_stack(count: int) -> str:
    lines = ["heat_template_version: 2018-08-31", "resources:"]
    lines += [f"  r{i}: {{type: OS::Heat::None}}" for i in range(count)]
    return "\n".join(lines) + "\n"


def waiting_stack(count: int, chained: bool) -> str:
    lines = ["heat_template_version: 2018-08-31", "resources:"]
    for i in range(count):
        lines.append(f"  t{i}:")
        lines.append("    type: OS::Heat::TestResource")
        lines.append(f"    properties: {{action_wait_secs: {{create: {WAIT}, delete: 0}}}}")
        if chained and i:
            lines.append(f"    depends_on: t{i - 1}")
    return "\n".join(lines) + "\n"


def measure_sizes(bench: Bench) -> list[dict[str, Any]]:
    rows = []
    for count in (10, 100, 1000, 5000):
        accepted, created, stack = bench.create(f"none-{count}", none_stack(count))
        deleted, final = bench.run(bench.service.delete(stack.id))
        assert final.state == "DELETE_COMPLETE"
        rows.append(
            {
                "resources": count,
                "validate_and_accept_seconds": round(accepted, 3),
                "create_seconds": round(created, 3),
                "delete_seconds": round(deleted, 3),
            }
        )
        print(f"{count:5} x OS::Heat::None: create {created:.3f}s, delete {deleted:.3f}s")
    return rows


#: Runs of each wait scenario; the median is reported (the first run of a process warms caches).
WAIT_RUNS = 3


def measure_waits(bench: Bench) -> dict[str, Any]:
    results = {}
    for name, count, chained, bound in (("chain", 20, True, 20 * WAIT), ("fan", 200, False, WAIT)):
        runs = [
            bench.create(f"{name}-{run}", waiting_stack(count, chained))[1]
            for run in range(WAIT_RUNS)
        ]
        elapsed = statistics.median(runs)
        results[name] = {
            "resources": count,
            "wait_per_resource_seconds": WAIT,
            "lower_bound_seconds": bound,
            "wall_seconds": round(elapsed, 3),
            "wall_seconds_per_run": [round(run, 3) for run in runs],
            "ratio": round(elapsed / bound, 3),
            "within_10_percent": elapsed <= bound * 1.1,
        }
        print(
            f"{name}: {elapsed:.3f}s against a lower bound of {bound:.1f}s ({elapsed / bound:.2f}x)"
        )
    return results


def measure_update(bench: Bench) -> dict[str, Any]:
    template = waiting_stack(0, False) + "".join(
        f"  v{i}:\n    type: OS::Heat::Value\n    properties: {{value: {i}}}\n" for i in range(1000)
    )
    _, _, stack = bench.create("update-1000", template)
    changed = template.replace("properties: {value: 500}", "properties: {value: five hundred}")
    elapsed, final = bench.run(bench.service.update(stack.id, StackDefinition(changed)))
    assert final.state == "UPDATE_COMPLETE"
    print(f"one-property update in 1000 resources: {elapsed:.3f}s")
    return {"resources": 1000, "update_seconds": round(elapsed, 3)}


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        bench = Bench(Path(directory))
        sizes = measure_sizes(bench)
        waits = measure_waits(bench)
        update = measure_update(bench)
    create_1000 = next(row["create_seconds"] for row in sizes if row["resources"] == 1000)
    figures = {
        "targets": {
            "create_1000_none_seconds": 2.0,
            "chain_and_fan_ratio": 1.1,
        },
        "create_1000_within_target": create_1000 < 2.0,
        "sizes": sizes,
        "waits": waits,
        "update": update,
    }
    write_report(RESULTS, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

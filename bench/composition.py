"""Composition benchmark on SQLite; writes bench/results/composition.json.

- ``OS::Heat::ResourceGroup`` of 100 and 1,000 ``OS::Heat::None`` members:
  create, scale up by 10%, delete;
- 100 nested stacks (``OS::Heat::Stack``) of 10 resources each;
- a chain of 10 nested levels (the nesting limit raised to allow it).

Target on the reference machine (2 cores): a 1,000-member group created in
under 5 s.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness import Bench, write_report
from kiln.config import TemplateLimits
from kiln.plan.state import StackRecord
from kiln.service.stacks import StackDefinition

RESULTS = Path(__file__).resolve().parent / "results" / "composition.json"
LIMITS = replace(TemplateLimits(), max_stack_nesting_depth=12, max_resources_per_stack=10_000)

GROUP = """\
heat_template_version: 2018-08-31
parameters:
  count: {type: number}
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: count}
      resource_def: {type: OS::Heat::None}
"""


def measure_groups(bench: Bench) -> list[dict[str, Any]]:
    rows = []
    for count in (100, 1000):
        definition = StackDefinition(GROUP, parameters={"count": count})
        created, stack = bench.run(bench.service.create(f"group-{count}", definition))
        assert stack.state == "CREATE_COMPLETE", stack.status_reason
        bigger = StackDefinition(GROUP, parameters={"count": count + count // 10})
        scaled, stack = bench.run(bench.service.update(stack.id, bigger))
        assert stack.state == "UPDATE_COMPLETE", _story(bench, stack)
        deleted, stack = bench.run(bench.service.delete(stack.id))
        assert stack.state == "DELETE_COMPLETE", stack.status_reason
        rows.append(
            {
                "members": count,
                "create_seconds": round(created, 3),
                "scale_up_10_percent_seconds": round(scaled, 3),
                "delete_seconds": round(deleted, 3),
            }
        )
        print(f"group of {count}: create {created:.2f}s, +10% {scaled:.2f}s, delete {deleted:.2f}s")
    return rows


def _story(bench: Bench, stack: StackRecord) -> str:
    """What happened, for an assertion message."""
    return "\n".join(
        f"{e.resource_name} {e.action}_{e.status} {e.status_reason}"
        for e in bench.service.event_records(stack)
    )


def many_nested(count: int, size: int) -> StackDefinition:
    child = "heat_template_version: 2018-08-31\nresources:\n" + "".join(
        f"  r{i}: {{type: OS::Heat::None}}\n" for i in range(size)
    )
    parent = "heat_template_version: 2018-08-31\nresources:\n" + "".join(
        f"  n{i}:\n    type: OS::Heat::Stack\n"
        "    properties: {template: {get_file: child.yaml}}\n"
        for i in range(count)
    )
    return StackDefinition(parent, files={"child.yaml": child})


def deep_nesting(levels: int) -> StackDefinition:
    files = {}
    for level in range(levels):
        body = "heat_template_version: 2018-08-31\nresources:\n  here: {type: OS::Heat::None}\n"
        if level + 1 < levels:
            body += (
                "  deeper:\n    type: OS::Heat::Stack\n"
                f"    properties: {{template: {{get_file: level{level + 1}.yaml}}}}\n"
            )
        files[f"level{level}.yaml"] = body
    return StackDefinition(files["level0.yaml"], files=files)


def measure_nesting(bench: Bench) -> dict[str, Any]:
    results = {}
    for name, definition, stacks in (
        ("100_nested_stacks_of_10", many_nested(100, 10), 101),
        ("10_levels_deep", deep_nesting(10), 10),
    ):
        created, stack = bench.run(bench.service.create(name.replace("_", "-"), definition))
        assert stack.state == "CREATE_COMPLETE", stack.status_reason
        deleted, stack = bench.run(bench.service.delete(stack.id))
        assert stack.state == "DELETE_COMPLETE", stack.status_reason
        results[name] = {
            "stacks": stacks,
            "create_seconds": round(created, 3),
            "delete_seconds": round(deleted, 3),
        }
        print(f"{name}: create {created:.2f}s, delete {deleted:.2f}s")
    return results


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        bench = Bench(Path(directory), LIMITS)
        groups = measure_groups(bench)
        nesting = measure_nesting(bench)
    create_1000 = next(row["create_seconds"] for row in groups if row["members"] == 1000)
    figures = {
        "targets": {"create_1000_member_group_seconds": 5.0},
        "create_1000_member_group_within_target": create_1000 < 5.0,
        "groups": groups,
        "nesting": nesting,
    }
    write_report(RESULTS, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

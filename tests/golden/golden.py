"""Golden cases: whole templates -> the exact diagnostics (and resolved form) Kiln gives.

``python tests/golden/golden.py`` rewrites the expected files; review the diff.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from kiln.providers.registry import load_schema_registry
from kiln.template.render import render_resolved
from kiln.template.validate import SourceText, validate_template

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases.yaml"
TEMPLATES = HERE / "templates"
EXPECTED = HERE / "expected"


def cases() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    return loaded


def run_case(case: dict[str, Any]) -> dict[str, Any]:
    def source(name: str) -> SourceText:
        return SourceText(name, (TEMPLATES / name).read_bytes())

    files = {name: (TEMPLATES / name).read_text(encoding="utf-8") for name in case.get("files", [])}
    result = validate_template(
        source(case["template"]),
        registry=load_schema_registry(),
        environments=[source(name) for name in case.get("environments", [])],
        parameters=case.get("parameters", {}),
        files=files,
        lint=case.get("lint", False),
    )
    output: dict[str, Any] = {"diagnostics": [d.render() for d in result.diagnostics]}
    if result.ok:
        output["resolved"] = render_resolved(result)
    return output


def expected_path(case: dict[str, Any]) -> Path:
    return EXPECTED / f"{case['name']}.json"


def main() -> int:
    for case in cases():
        text = json.dumps(run_case(case), indent=2, sort_keys=False, default=str) + "\n"
        expected_path(case).write_text(text, encoding="utf-8")
        print(f"wrote {expected_path(case).relative_to(HERE.parents[1])}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())

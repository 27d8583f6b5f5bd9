"""Parse + validate time of the template layer; writes bench/results/template.json.

Measures the largest templates of the corpus (beside the project in
../shared/corpus) and a generated 5,000-resource HOT template whose resources
chain values through get_attr, str_replace and list_join. Target: the
generated template in under 1 s on the reference machine (2 cores).
"""

from __future__ import annotations

import gc
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from kiln.cli.files_map import gather_files
from kiln.config import TemplateLimits
from kiln.providers.registry import load_schema_registry
from kiln.template.source import parse_document
from kiln.template.validate import SourceText, validate_template

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
RESULTS = ROOT / "bench" / "results" / "template.json"
TARGET_SECONDS = 1.0
REPEATS = 5


def generated_template(count: int) -> str:
    resources: dict[str, Any] = {}
    for index in range(count):
        properties: dict[str, Any] = {
            "value": {
                "str_replace": {
                    "template": "node-$index of $app",
                    "params": {"$index": index, "$app": {"get_param": "app"}},
                }
            }
        }
        if index:
            properties["value"] = {
                "list_join": ["/", [{"get_attr": [f"node_{index - 1}", "value"]}, f"node-{index}"]]
            }
        resources[f"node_{index}"] = {"type": "OS::Heat::Value", "properties": properties}
    template = {
        "heat_template_version": "2021-04-16",
        "parameters": {"app": {"type": "string", "default": "bench"}},
        "resources": resources,
        "outputs": {"last": {"value": {"get_attr": [f"node_{count - 1}", "value"]}}},
    }
    return yaml.safe_dump(template, sort_keys=False)


def measure(
    name: str, text: bytes, files: dict[str, str], limits: TemplateLimits
) -> dict[str, Any]:
    registry = load_schema_registry()
    parse_times: list[float] = []
    total_times: list[float] = []
    result = None
    for _ in range(REPEATS):
        # Each run is a fresh request: drop the previous result (and its garbage) first.
        result = None
        gc.collect()
        started = time.perf_counter()
        parse_document(text, name, limits)
        parse_times.append(time.perf_counter() - started)
        gc.collect()
        started = time.perf_counter()
        result = validate_template(
            SourceText(name, text), registry=registry, files=files, lint=True, limits=limits
        )
        total_times.append(time.perf_counter() - started)
    assert result is not None
    return {
        "template": name,
        "bytes": len(text),
        "resources": len(result.template.resources) if result.template else 0,
        "diagnostics": len(result.diagnostics),
        "errors": len(result.errors),
        "parse_seconds_median": round(statistics.median(parse_times), 4),
        "parse_and_validate_seconds_median": round(statistics.median(total_times), 4),
        "parse_and_validate_seconds_max": round(max(total_times), 4),
    }


def largest_corpus_templates(count: int) -> list[Path]:
    index = json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))
    paths = [CORPUS / entry["path"] for entry in index if entry.get("resolvable")]
    return sorted(paths, key=lambda path: path.stat().st_size, reverse=True)[:count]


def main() -> int:
    limits = TemplateLimits(max_resources_per_stack=10_000, max_template_bytes=8 * 1024 * 1024)
    rows = []
    if (CORPUS / "index.json").exists():
        for path in largest_corpus_templates(5):
            files = gather_files(path)
            rows.append(measure(str(path.relative_to(CORPUS)), path.read_bytes(), files, limits))
    generated = generated_template(5000).encode()
    generated_row = measure("generated-5000-resources.yaml", generated, {}, limits)
    rows.append(generated_row)
    report = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
        "target": {"generated_5000_seconds": TARGET_SECONDS},
        "generated_5000_within_target": generated_row["parse_and_validate_seconds_median"]
        < TARGET_SECONDS,
        "results": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for row in rows:
        seconds = row["parse_and_validate_seconds_median"]
        print(f"{seconds:8.4f}s  {row['resources']:5} resources  {row['template']}")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

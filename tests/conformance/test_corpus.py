"""Every resolvable corpus template loads, uses only its version's functions and
resolves all its references; in lint mode its only diagnostics are warnings
about resource types Kiln has no provider for yet (listed in
unknown_resource_types.txt, which shrinks as providers arrive)."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import RESULTS, corpus_index, load_case, resolvable_entries

from kiln.providers.registry import load_schema_registry
from kiln.template.validate import validate_template

KNOWN_UNKNOWN_TYPES = Path(__file__).with_name("unknown_resource_types.txt")
REGISTRY = load_schema_registry()
UNKNOWN_TYPES_SEEN: set[str] = set()

pytestmark = pytest.mark.skipif(
    not corpus_index(), reason="template corpus not found beside the project"
)


def _known_unknown_types() -> set[str]:
    lines = KNOWN_UNKNOWN_TYPES.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


@pytest.mark.corpus
@pytest.mark.parametrize("entry", resolvable_entries(), ids=lambda entry: entry["path"])
def test_template_conforms(entry: dict[str, object]) -> None:
    case = load_case(entry)
    result = validate_template(
        case.template,
        registry=REGISTRY,
        environments=case.environments,
        files=case.files,
        lint=True,
    )
    unexpected = [d.render() for d in result.diagnostics if d.code != "S6001"]
    unknown_types = {
        d.message.removeprefix("unknown resource type ").split(" ")[0]
        for d in result.diagnostics
        if d.code == "S6001"
    }
    UNKNOWN_TYPES_SEEN.update(unknown_types)
    outcome = "failed" if unexpected or not result.template else "passed"
    RESULTS[(str(entry["format"]), str(entry["syntax"]), outcome)] += 1
    assert result.template is not None
    assert unexpected == []
    assert all(d.severity.value == "warning" for d in result.diagnostics)
    assert unknown_types <= _known_unknown_types()


@pytest.mark.corpus
def test_unknown_type_list_has_no_stale_entries() -> None:
    """Runs after the templates (file order): a type Kiln now knows must leave the list."""
    if not UNKNOWN_TYPES_SEEN:
        pytest.skip("run together with test_template_conforms")
    assert _known_unknown_types() - UNKNOWN_TYPES_SEEN == set()

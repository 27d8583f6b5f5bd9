"""Every resolvable corpus template loads, uses only its version's functions and
resolves all its references. In lint mode its only diagnostics (informational
notes aside) are warnings about provider vocabulary Kiln does not have yet:
resource types (unknown_resource_types.txt) and custom constraints
(unknown_custom_constraints.txt); both lists shrink as providers arrive.

Templates with genuine defects that Heat or CloudFormation only notice late, or
never, are listed in known_defects.txt with the exact codes Kiln must report.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from corpus import RESULTS, corpus_index, load_case, resolvable_entries

from kiln.errors import Severity
from kiln.providers.registry import load_schema_registry
from kiln.template.validate import ValidationResult, validate_template

HERE = Path(__file__).resolve().parent
REGISTRY = load_schema_registry()
PROVIDER_VOCABULARY = {
    "S6001": "unknown_resource_types.txt",
    "V5004": "unknown_custom_constraints.txt",
    "S6006": "unknown_custom_constraints.txt",
}
SEEN: dict[str, set[str]] = {name: set() for name in set(PROVIDER_VOCABULARY.values())}

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not corpus_index(), reason="template corpus not found beside the project"),
]


def _listed(name: str) -> set[str]:
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def known_defects() -> dict[str, set[str]]:
    """path -> the codes Kiln must report for it (``path | CODE CODE | why``)."""
    defects: dict[str, set[str]] = {}
    for line in _listed("known_defects.txt"):
        path, codes, _reason = (part.strip() for part in line.split("|", 2))
        defects[path] = set(codes.split())
    return defects


def _quoted_name(message: str) -> str:
    match = re.search(r"'([^']+)'|type (\S+)", message)
    return next(group for group in match.groups() if group) if match else message


def _validate(entry: dict[str, object]) -> ValidationResult:
    case = load_case(entry)
    return validate_template(
        case.template,
        registry=REGISTRY,
        environments=case.environments,
        files=case.files,
        lint=True,
    )


@pytest.mark.parametrize("entry", resolvable_entries(), ids=lambda entry: str(entry["path"]))
def test_template_conforms(entry: dict[str, object]) -> None:
    result = _validate(entry)
    reported = [d for d in result.diagnostics if d.severity is not Severity.INFO]
    vocabulary = [d for d in reported if d.code in PROVIDER_VOCABULARY]
    for diagnostic in vocabulary:
        SEEN[PROVIDER_VOCABULARY[diagnostic.code]].add(_quoted_name(diagnostic.message))
    unexpected = [d for d in reported if d.code not in PROVIDER_VOCABULARY]
    expected_defects = known_defects().get(str(entry["path"]))
    outcome = "passed" if result.template is not None and not unexpected else "failed"
    RESULTS[(str(entry["format"]), str(entry["syntax"]), outcome)] += 1
    if expected_defects is not None:
        assert {d.code for d in unexpected} == expected_defects, [d.render() for d in unexpected]
        return
    assert result.template is not None
    assert [d.render() for d in unexpected] == []
    assert all(d.severity is Severity.WARNING for d in vocabulary)
    for diagnostic in vocabulary:
        assert _quoted_name(diagnostic.message) in _listed(PROVIDER_VOCABULARY[diagnostic.code])


def test_vocabulary_lists_have_no_stale_entries() -> None:
    """Runs after the templates (file order): a name Kiln now knows must leave its list."""
    if not any(SEEN.values()):
        pytest.skip("run together with test_template_conforms")
    for name, seen in SEEN.items():
        assert _listed(name) - seen == set(), name

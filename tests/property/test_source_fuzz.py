"""parse_document on arbitrary input: a Document or a located ParseError, never anything else."""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiln.config import TemplateLimits
from kiln.errors import ParseError
from kiln.template.source import Document, parse_document

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Small limits so that the limit paths are reached by small generated inputs too.
TIGHT = TemplateLimits(
    max_template_bytes=4096, max_document_nodes=200, max_nesting_depth=8, max_integer_digits=30
)
#: Characters with a meaning in YAML or JSON, so mutations break structure, not just text.
SIGNIFICANT = "{}[],:-?!&*|>'\"#%@`\\ \t\n\r.<=~0e+\x00\x85\ufeff"

keys = st.text(max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
trees = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=25,
)


def _outcome(text: str | bytes, limits: TemplateLimits | None = None) -> Document | None:
    """The Document, or None after checking that the ParseError is located."""
    try:
        return parse_document(text, "fuzz.yaml", limits)
    except ParseError as error:
        assert error.diagnostics
        assert any(found.span is not None for found in error.diagnostics)
        assert all(found.source == "fuzz.yaml" for found in error.diagnostics)
        return None


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        position = draw(st.integers(min_value=0, max_value=len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        character = draw(st.sampled_from(SIGNIFICANT) | st.characters())
        if action == "insert":
            text = text[:position] + character + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + 1 :]
        else:
            text = text[:position] + character + text[position + 1 :]
    return text


def _dumped(data: Any, style: str) -> str:
    if style == "json":
        return json.dumps(data)
    return yaml.safe_dump(data, default_flow_style=style == "flow", allow_unicode=True)


@FUZZ
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_escape(data: bytes) -> None:
    _outcome(data)
    _outcome(data, TIGHT)


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text_never_escapes(text: str) -> None:
    _outcome(text)
    _outcome(text, TIGHT)


@FUZZ
@given(trees, st.sampled_from(["json", "block", "flow"]), st.data())
def test_mutated_documents_never_escape(data: Any, style: str, draw: st.DataObject) -> None:
    text = draw.draw(mutated(_dumped(data, style)))
    _outcome(text)
    _outcome(text, TIGHT)


class _HeatLoader(yaml.SafeLoader):
    """Heat's reading of YAML: SafeLoader with timestamps kept as strings."""


_HeatLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


@FUZZ
@given(st.dictionaries(keys, trees, max_size=5), st.sampled_from(["json", "block"]))
def test_dumped_mappings_read_as_heat_reads_them(data: dict[str, Any], style: str) -> None:
    text = _dumped(data, style)
    document = parse_document(text)
    if text.lstrip().startswith("{"):
        assert (document.syntax, document.data) == ("json", json.loads(text))
    else:
        assert (document.syntax, document.data) == ("yaml", yaml.load(text, Loader=_HeatLoader))
    for key in document.data:
        assert (key,) in document.source_map.spans

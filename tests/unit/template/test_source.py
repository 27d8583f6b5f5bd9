"""parse_document: data as Heat reads it, exact located diagnostics, source maps and limits."""

from __future__ import annotations

import time
from typing import Any

import pytest

from kiln.config import TemplateLimits
from kiln.errors import ParseError, Span, TemplatePath
from kiln.template.source import Document, SourceMap, parse_document

Expected = tuple[str, str, int, int, str]


def diagnostics_of(text: str | bytes, limits: TemplateLimits | None = None) -> list[Expected]:
    with pytest.raises(ParseError) as caught:
        parse_document(text, "t.yaml", limits)
    found = caught.value.diagnostics
    assert all(diagnostic.source == "t.yaml" for diagnostic in found)
    return [
        (d.code, str(d.path), d.span.line, d.span.column, d.message)
        for d in found
        if d.span is not None
    ]


def path(*segments: str | int) -> TemplatePath:
    return TemplatePath(segments)


DATA_CASES = [
    pytest.param(
        "heat_template_version: 2013-05-23\n",
        {"heat_template_version": "2013-05-23"},
        id="timestamps-stay-strings",
    ),
    pytest.param(
        "when: 2001-12-14t21:59:43.10-05:00\n",
        {"when": "2001-12-14t21:59:43.10-05:00"},
        id="full-timestamp-string",
    ),
    pytest.param(
        "on: yes\noff: no\nTrue: On\n",
        {"on": True, "off": False, "True": True},
        id="yaml11-booleans-as-values-not-keys",
    ),
    pytest.param(
        "1: a\n~: b\nnull: c\n", {"1": "a", "~": "b", "null": "c"}, id="keys-kept-as-written"
    ),
    pytest.param(
        "x: [0x1f, 017, 1_000, 190:20:30, +12, -0, 0b101]\n",
        {"x": [31, 15, 1000, 685230, 12, 0, 5]},
        id="yaml11-integers",
    ),
    pytest.param(
        "x: [2.5, 1e3, 6.8523015e+5, 1_000.5, .5, -.5]\n",
        {"x": [2.5, "1e3", 685230.15, 1000.5, 0.5, "-.5"]},
        id="yaml11-floats-need-a-dot",
    ),
    pytest.param(
        "x: [~, null, Null, '']\ny:\n", {"x": [None, None, None, ""], "y": None}, id="nulls"
    ),
    pytest.param(
        "a: '1'\nb: \"yes\"\nc: ! 12\nd: !!str 12\ne: !!int '12'\nf: !!float '1'\n",
        {"a": "1", "b": "yes", "c": 12, "d": "12", "e": 12, "f": 1.0},
        id="quotes-and-explicit-tags-non-specific-tag-resolves-like-plain",
    ),
    pytest.param(
        "a: |\n  one\n  two\nb: >\n  one\n  two\n",
        {"a": "one\ntwo\n", "b": "one two\n"},
        id="block-scalars",
    ),
    pytest.param(
        "base: &base {x: 1, y: 2}\nc:\n  y: 3\n  <<: *base\n",
        {"base": {"x": 1, "y": 2}, "c": {"x": 1, "y": 3}},
        id="merge-key-explicit-wins-merged-first",
    ),
    pytest.param(
        "a: &a {k: a, only_a: 1}\nb: &b {k: b, only_b: 2}\nc:\n  <<: [*a, *b]\n",
        {
            "a": {"k": "a", "only_a": 1},
            "b": {"k": "b", "only_b": 2},
            "c": {"k": "a", "only_b": 2, "only_a": 1},
        },
        id="merge-list-earlier-wins",
    ),
    pytest.param(
        "a: &x [1, {b: 2}]\nc: *x\n", {"a": [1, {"b": 2}], "c": [1, {"b": 2}]}, id="alias"
    ),
    pytest.param("- a\n- [b, c]\n", ["a", ["b", "c"]], id="top-level-list-returned"),
    pytest.param("just text\n", "just text", id="top-level-scalar-returned"),
    pytest.param("", None, id="empty"),
    pytest.param("# only a comment\n", None, id="comment-only"),
    pytest.param("---\n...\n", None, id="explicit-empty-document"),
    pytest.param("\ufeffa: 1\n", {"a": 1}, id="str-with-bom"),
    pytest.param(b"\xef\xbb\xbfa: \xc3\xa9\n", {"a": "\u00e9"}, id="utf8-bytes-with-bom"),
    pytest.param(
        '{"a": [1, 2.5e3, "x\\/y", true, null],\t"b": {"c": "\\u00e9"}}',
        {"a": [1, 2500.0, "x/y", True, None], "b": {"c": "\u00e9"}},
        id="json-escapes-tabs-exponents",
    ),
    pytest.param(
        '  \n {"heat_template_version": "2013-05-23", "n": -0, "big": 1e308}  \n',
        {"heat_template_version": "2013-05-23", "n": 0, "big": 1e308},
        id="json-surrounding-whitespace",
    ),
    pytest.param(
        b'\xef\xbb\xbf{"on": "yes", "k": "' + b"v" * 5000 + b'"}',
        {"on": "yes", "k": "v" * 5000},
        id="json-bytes-bom-long-line",
    ),
    pytest.param("[1, 1e5]\n", [1, "1e5"], id="flow-list-is-yaml"),
]


@pytest.mark.parametrize(("text", "expected"), DATA_CASES)
def test_data(text: str | bytes, expected: Any) -> None:
    assert parse_document(text).data == expected


@pytest.mark.parametrize(
    ("text", "syntax"),
    [
        pytest.param("a: 1", "yaml", id="yaml"),
        pytest.param(' \n{"a": 1}', "json", id="json-after-whitespace"),
        pytest.param("# c\n{a: 1}", "yaml", id="comment-first-is-yaml"),
    ],
)
def test_syntax_is_chosen_as_heat_does(text: str, syntax: str) -> None:
    document = parse_document(text, "x.template")
    assert (document.syntax, document.name) == (syntax, "x.template")


def test_alias_targets_are_copied_not_shared() -> None:
    data = parse_document("a: &x {b: [1]}\nc: *x\n").data
    assert data["a"] == data["c"]
    assert data["a"] is not data["c"]
    assert data["a"]["b"] is not data["c"]["b"]


SHORT_FORMS = [
    "Sub",
    "Join",
    "Select",
    "Split",
    "If",
    "Equals",
    "And",
    "Or",
    "Not",
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Length",
    "ToJsonString",
    "Transform",
    "Contains",
    "EachMemberEquals",
    "EachMemberIn",
    "RefAll",
    "ValueOf",
    "ValueOfAll",
]


@pytest.mark.parametrize("name", SHORT_FORMS)
def test_short_forms_on_scalars_sequences_and_mappings(name: str) -> None:
    text = f"s: !{name} text\nq: !{name} [a, 1]\nm: !{name} {{k: v}}\n"
    assert parse_document(text).data == {
        "s": {f"Fn::{name}": "text"},
        "q": {f"Fn::{name}": ["a", 1]},
        "m": {f"Fn::{name}": {"k": "v"}},
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("x: !Ref Name", {"Ref": "Name"}, id="ref"),
        pytest.param("x: !Ref 12", {"Ref": "12"}, id="ref-scalar-stays-text"),
        pytest.param("x: !Condition IsProd", {"Condition": "IsProd"}, id="condition"),
        pytest.param(
            "x: !GetAtt Web.Outputs.Url",
            {"Fn::GetAtt": ["Web", "Outputs.Url"]},
            id="getatt-first-dot",
        ),
        pytest.param("x: !GetAtt Web", {"Fn::GetAtt": ["Web"]}, id="getatt-no-dot"),
        pytest.param("x: !GetAtt [Web, Arn]", {"Fn::GetAtt": ["Web", "Arn"]}, id="getatt-sequence"),
        pytest.param("x: !GetAZs", {"Fn::GetAZs": ""}, id="getazs-empty"),
        pytest.param("x: !GetAZs ''", {"Fn::GetAZs": ""}, id="getazs-quoted-empty"),
        pytest.param(
            "x: !If [C, !Ref A, !Select [0, !GetAZs '']]",
            {"Fn::If": ["C", {"Ref": "A"}, {"Fn::Select": [0, {"Fn::GetAZs": ""}]}]},
            id="nested",
        ),
        pytest.param(
            "x: !Sub\n  - '${A}-${B}'\n  - B: !Ref R\n",
            {"Fn::Sub": ["${A}-${B}", {"B": {"Ref": "R"}}]},
            id="sub-with-map",
        ),
    ],
)
def test_short_form_details(text: str, expected: Any) -> None:
    assert parse_document(text).data == {"x": expected}


SYNTAX_CASES = [
    pytest.param(
        "a: 1\nb: 2\nc: d: e\n",
        [("P1001", "", 3, 5, "mapping values are not allowed here")],
        id="mapping-values",
    ),
    pytest.param(
        "a: 'unterminated\n",
        [
            (
                "P1001",
                "",
                2,
                1,
                "found unexpected end of stream (while scanning a quoted scalar at line 1)",
            )
        ],
        id="unterminated-quote",
    ),
    pytest.param(
        "a:\n\t- x\n",
        [("P1001", "", 2, 1, "found character '\\t' that cannot start any token")],
        id="tab-indent",
    ),
    pytest.param(
        "a: [1, 2\n",
        [
            (
                "P1001",
                "",
                2,
                1,
                "expected ',' or ']', but got '<stream end>'"
                " (while parsing a flow sequence at line 1)",
            )
        ],
        id="unclosed-flow",
    ),
    pytest.param(
        "a: 1\n---\nb: 2\n",
        [("P1001", "", 2, 1, "expected a single document in the stream, but found another")],
        id="two-documents",
    ),
    pytest.param(
        "a: *nothing\n",
        [("P1001", "", 1, 4, "found undefined alias 'nothing'")],
        id="undefined-alias",
    ),
    pytest.param(
        "a: &x [1, *x]\n",
        [("P1014", "", 1, 11, "the alias *x refers to a node that contains it")],
        id="recursive-alias",
    ),
    pytest.param(
        "a: &x 1\nb: &x 2\n",
        [("P1001", "", 2, 4, "found duplicate anchor 'x' (first defined at line 1)")],
        id="duplicate-anchor",
    ),
    pytest.param(
        "x: \x07\n",
        [("P1004", "", 1, 4, "unacceptable character #x0007: special characters are not allowed")],
        id="control-character",
    ),
    pytest.param(
        b"a: 1\nb: \xff\n",
        [("P1003", "", 2, 4, "the document is not valid UTF-8 (byte 0xff)")],
        id="not-utf8",
    ),
]

JSON_CASES = [
    pytest.param('{"a": }', [("P1002", "a", 1, 7, "Expecting value")], id="expecting-value"),
    pytest.param('{"a": [1,]}', [("P1002", "a[1]", 1, 10, "Expecting value")], id="trailing-comma"),
    pytest.param(
        '{"a": 1,}',
        [("P1002", "", 1, 9, "Expecting property name enclosed in double quotes")],
        id="trailing-comma-object",
    ),
    pytest.param('{"a" 1}', [("P1002", "", 1, 6, "Expecting ':' delimiter")], id="missing-colon"),
    pytest.param(
        '{"a": 1 "b": 2}', [("P1002", "", 1, 9, "Expecting ',' delimiter")], id="missing-comma"
    ),
    pytest.param('{"a": 1}\n{"b": 2}', [("P1002", "", 2, 1, "Extra data")], id="extra-data"),
    pytest.param(
        '{"a": "x\ny"}', [("P1002", "", 1, 9, "Invalid control character at")], id="control"
    ),
    pytest.param(
        '{\n  "a": "open',
        [("P1002", "", 2, 8, "Unterminated string starting at")],
        id="unterminated",
    ),
    pytest.param('{"a": "\\q"}', [("P1002", "", 1, 8, "Invalid \\escape")], id="bad-escape"),
    pytest.param(
        "{a: 1}",
        [("P1002", "", 1, 2, "Expecting property name enclosed in double quotes")],
        id="yaml-flow-is-json",
    ),
]

NOT_FINITE = "the number is not finite; infinity and NaN are not allowed"

VALUE_CASES = [
    pytest.param(
        "x: 1\ny:\n  image: a\n  other: 1\n  image: b\n",
        [("P1010", "y.image", 5, 3, "duplicate key 'image' (first defined at line 3)")],
        id="duplicate-yaml",
    ),
    pytest.param(
        "a: 1\n'a': 2\n",
        [("P1010", "a", 2, 1, "duplicate key 'a' (first defined at line 1)")],
        id="duplicate-quoted-and-plain",
    ),
    pytest.param(
        '{"r": {"image": 1,\n "image": 2}}',
        [("P1010", "r.image", 2, 2, "duplicate key 'image' (first defined at line 1)")],
        id="duplicate-json",
    ),
    pytest.param("x: !Foo bar\n", [("P1011", "x", 1, 4, "unknown tag '!Foo'")], id="unknown-tag"),
    pytest.param(
        "x:\n  - !Rain::Embed f.py\n",
        [("P1011", "x[0]", 2, 5, "unknown tag '!Rain::Embed'")],
        id="unknown-tag-in-list",
    ),
    pytest.param(
        "x: !Foo [1]\n", [("P1011", "x", 1, 4, "unknown tag '!Foo'")], id="unknown-tag-list"
    ),
    pytest.param(
        "x: !!binary aGVsbG8=\n",
        [("P1011", "x", 1, 4, "the tag !!binary is not supported")],
        id="binary",
    ),
    pytest.param(
        "x: !!set {a: null}\n", [("P1011", "x", 1, 4, "the tag !!set is not supported")], id="set"
    ),
    pytest.param(
        "x: !!int twelve\n", [("P1013", "x", 1, 4, "the value is not a valid !!int")], id="bad-int"
    ),
    pytest.param(
        "x: !!bool maybe\n",
        [("P1013", "x", 1, 4, "the value is not a valid !!bool")],
        id="bad-bool",
    ),
    pytest.param(
        "x: !!float abc\n",
        [("P1013", "x", 1, 4, "the value is not a valid !!float")],
        id="bad-float",
    ),
    pytest.param(
        "x: !!map [1]\n",
        [("P1013", "x", 1, 4, "the tag !!map cannot be used on a list")],
        id="map-tag-on-list",
    ),
    pytest.param(
        "x: =\n",
        [
            (
                "P1013",
                "x",
                1,
                4,
                "a plain '=' is only meaningful as a mapping key; quote it to use a string",
            )
        ],
        id="value-indicator",
    ),
    pytest.param(
        "x:\n  <<: 3\n",
        [("P1013", 'x["<<"]', 2, 3, "a merge key ('<<') needs a mapping or a list of mappings")],
        id="merge-scalar",
    ),
    pytest.param(
        "!Ref a: 1\n",
        [("P1012", "a", 1, 1, "the tag !Ref cannot be used on a mapping key")],
        id="tagged-key",
    ),
    pytest.param(
        "? [a, b]\n: 1\n",
        [("P1012", "", 1, 3, "a mapping key must be a scalar, not a list")],
        id="sequence-key",
    ),
    pytest.param(
        "a: &k [1]\n*k : 2\n",
        [("P1012", "", 2, 1, "the alias *k used as a mapping key must refer to a scalar")],
        id="alias-key-to-list",
    ),
    pytest.param("x: .inf\n", [("P1009", "x", 1, 4, NOT_FINITE)], id="yaml-inf"),
    pytest.param("x: [1, .NaN]\n", [("P1009", "x[1]", 1, 8, NOT_FINITE)], id="yaml-nan"),
    pytest.param("x: 1.0e+999\n", [("P1009", "x", 1, 4, NOT_FINITE)], id="yaml-overflow"),
    pytest.param('{"x": 1e999}', [("P1009", "x", 1, 7, NOT_FINITE)], id="json-overflow"),
    pytest.param(
        '{"x": NaN, "y": -Infinity}',
        [("P1009", "x", 1, 7, NOT_FINITE), ("P1009", "y", 1, 17, NOT_FINITE)],
        id="json-nan-infinity",
    ),
]


@pytest.mark.parametrize(("text", "expected"), SYNTAX_CASES + JSON_CASES + VALUE_CASES)
def test_diagnostics(text: str | bytes, expected: list[Expected]) -> None:
    assert diagnostics_of(text) == expected


def test_rendered_like_the_cli_prints_it() -> None:
    with pytest.raises(ParseError) as caught:
        parse_document("a: 1\nb: 2\nc: d: e\n", "FILE")
    assert str(caught.value) == "FILE:3:5 P1001 <root> mapping values are not allowed here"


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = "a: 1\na: 2\nb: !Foo x\nc: !!int no\n"
    assert diagnostics_of(text) == [
        ("P1010", "a", 2, 1, "duplicate key 'a' (first defined at line 1)"),
        ("P1011", "b", 3, 4, "unknown tag '!Foo'"),
        ("P1013", "c", 4, 4, "the value is not a valid !!int"),
    ]


SMALL = TemplateLimits(
    max_template_bytes=64, max_document_nodes=20, max_nesting_depth=3, max_integer_digits=5
)

LIMIT_CASES = [
    pytest.param(
        "a: " + "x" * 62,
        [("P1005", "", 1, 1, "the document is 65 bytes; the limit is 64 bytes")],
        id="size-str",
    ),
    pytest.param(
        "a: " + "\u00e9" * 31,
        [("P1005", "", 1, 1, "the document is 65 bytes; the limit is 64 bytes")],
        id="size-counts-utf8-bytes",
    ),
    pytest.param(
        b"a: " + b"x" * 70,
        [("P1005", "", 1, 1, "the document is 73 bytes; the limit is 64 bytes")],
        id="size-bytes",
    ),
    pytest.param(
        "a: [[[x]]]\n",
        [("P1006", "a[0][0]", 1, 6, "nesting is deeper than the limit of 3 levels")],
        id="depth-flow",
    ),
    pytest.param(
        "a:\n b:\n  c:\n   d: 1\n",
        [("P1006", "a.b.c", 4, 4, "nesting is deeper than the limit of 3 levels")],
        id="depth-block",
    ),
    pytest.param(
        '{"a": [[[1]]]}',
        [("P1006", "a[0][0]", 1, 9, "nesting is deeper than the limit of 3 levels")],
        id="depth-json",
    ),
    pytest.param(
        "x: 123456\n",
        [("P1008", "x", 1, 4, "the integer has 6 digits, more than the limit of 5")],
        id="integer-yaml",
    ),
    pytest.param(
        "x: 0x123456\n",
        [("P1008", "x", 1, 4, "the integer has 6 digits, more than the limit of 5")],
        id="integer-hex",
    ),
    pytest.param(
        '{"x": -123456}',
        [("P1008", "x", 1, 7, "the integer has 6 digits, more than the limit of 5")],
        id="integer-json",
    ),
]


@pytest.mark.parametrize(("text", "expected"), LIMIT_CASES)
def test_limits(text: str | bytes, expected: list[Expected]) -> None:
    assert diagnostics_of(text, SMALL) == expected


FEW_NODES = TemplateLimits(max_document_nodes=20)
TOO_MANY_NODES = "the document expands to more than 20 nodes (aliases included)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "a: &a [1, 2, 3]\nb: &b [*a, *a]\nc: [*b, *b]\n",
            [("P1007", "c[0]", 3, 5, TOO_MANY_NODES)],
            id="nodes-aliases",
        ),
        pytest.param(
            '{"a": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]}',
            [("P1007", "a[17]", 1, 67, TOO_MANY_NODES)],
            id="nodes-json",
        ),
    ],
)
def test_node_limit_counts_alias_expansion(text: str, expected: list[Expected]) -> None:
    assert diagnostics_of(text, FEW_NODES) == expected


def test_within_limits_is_accepted() -> None:
    assert parse_document("a: [[12345]]\n", limits=SMALL).data == {"a": [[12345]]}


def test_billion_laughs_is_rejected_quickly() -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    started = time.perf_counter()
    found = diagnostics_of("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 5
    assert found == [
        (
            "P1007",
            "g[0]",
            7,
            8,
            "the document expands to more than 1000000 nodes (aliases included)",
        )
    ]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000, id="flow"),
        pytest.param('{"a":' + "[" * 100_000, id="json"),
        pytest.param("a: !Ref " + "x" * 100 + "\n" + "b: " + "[" * 50_000, id="after-short-form"),
    ],
)
def test_deep_nesting_is_a_diagnostic_not_a_crash(text: str) -> None:
    codes = {code for code, *_ in diagnostics_of(text)}
    assert codes == {"P1006"}


def test_huge_integer_never_reaches_int() -> None:
    limits = TemplateLimits(max_template_bytes=10**6, max_integer_digits=10**6)
    found = diagnostics_of("x: " + "9" * 5000 + "\n", limits)
    assert [(code, where) for code, where, *_ in found] == [("P1008", "x")]


def test_half_a_megabyte_parses_quickly() -> None:
    entry = (
        "  resource_{0}:\n    type: OS::Nova::Server\n    properties:\n"
        "      image: {{get_param: image}}\n      networks: [{{port: !Ref p{0}}}, 2, 3.5, 'x']\n"
    )
    text = "resources:\n" + "".join(entry.format(index) for index in range(3500))
    assert 480_000 < len(text) < 524_288
    started = time.perf_counter()
    document = parse_document(text)
    assert time.perf_counter() - started < 3
    assert len(document.data["resources"]) == 3500


YAML_SPANS = """\
heat_template_version: 2018-08-31
resources:
  web:
    type: OS::Nova::Server
    properties:
      image: cirros
      networks:
        - port: {get_resource: port}
        - network: private
  other: !GetAtt web.first_address
  joined: !Join
    - ","
    - [a, b]
"""


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        pytest.param(path(), Span(1, 1), id="root"),
        pytest.param(path("heat_template_version"), Span(1, 1), id="top-key"),
        pytest.param(path("resources", "web"), Span(3, 3), id="nested-key"),
        pytest.param(path("resources", "web", "properties", "image"), Span(6, 7), id="deep-key"),
        pytest.param(path("resources", "web", "properties", "networks", 0), Span(8, 11), id="item"),
        pytest.param(
            path("resources", "web", "properties", "networks", 0, "port", "get_resource"),
            Span(8, 18),
            id="flow-key",
        ),
        pytest.param(
            path("resources", "web", "properties", "networks", 1, "network"),
            Span(9, 11),
            id="second-item-key",
        ),
        pytest.param(path("resources", "other"), Span(10, 3), id="short-form-key"),
        pytest.param(path("resources", "other", "Fn::GetAtt"), Span(10, 10), id="short-form-tag"),
        pytest.param(
            path("resources", "joined", "Fn::Join", 1, 0), Span(13, 8), id="inside-short-form"
        ),
        pytest.param(
            path("resources", "web", "properties", "image", "nope", 3),
            Span(6, 7),
            id="nearest-ancestor",
        ),
        pytest.param(path("nothing", "here"), Span(1, 1), id="unknown-falls-back-to-root"),
    ],
)
def test_yaml_spans(where: TemplatePath, expected: Span) -> None:
    assert parse_document(YAML_SPANS).source_map.span(where) == expected


JSON_SPANS = """\
{
  "Resources": {
    "Web": {"Type": "AWS::EC2::Instance",
            "Properties": {"Tags": [{"Key": "a"},
                                    {"Key": "b"}]}}
  }
}"""


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        pytest.param(path("Resources"), Span(2, 3), id="key"),
        pytest.param(path("Resources", "Web", "Type"), Span(3, 13), id="same-line-key"),
        pytest.param(path("Resources", "Web", "Properties", "Tags", 0), Span(4, 37), id="item"),
        pytest.param(
            path("Resources", "Web", "Properties", "Tags", 1, "Key"),
            Span(5, 38),
            id="next-line-item",
        ),
    ],
)
def test_json_spans(where: TemplatePath, expected: Span) -> None:
    assert parse_document(JSON_SPANS).source_map.span(where) == expected


def _paths(data: Any, prefix: TemplatePath) -> list[TemplatePath]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, prefix / key)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, prefix / index)
    return found


@pytest.mark.parametrize("text", [YAML_SPANS, JSON_SPANS])
def test_every_mapping_entry_and_item_is_mapped(text: str) -> None:
    document = parse_document(text)
    containers = [
        where
        for where in _paths(document.data, TemplatePath())
        if where and not str(where[-1]).startswith("Fn::")
    ]
    missing = [
        where
        for where in containers
        if where not in document.source_map.spans and not _inside_split(where)
    ]
    assert missing == []


def _inside_split(where: TemplatePath) -> bool:
    """!GetAtt's scalar form is split by the loader; its parts sit at the tag."""
    return len(where) >= 2 and where[-2] == "Fn::GetAtt"


def test_source_map_is_a_plain_value() -> None:
    source_map = SourceMap({path("a"): Span(2, 3)})
    assert source_map.span(path("a", "b")) == Span(2, 3)
    assert source_map.span(path("z")) == Span(1, 1)
    assert isinstance(parse_document("a: 1"), Document)

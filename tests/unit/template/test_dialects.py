"""Each HOT version has exactly its own functions; using another version's names
is a diagnostic that says which version introduced (or removed) them."""

from __future__ import annotations

import pytest

from kiln.errors import TemplatePath
from kiln.providers.registry import load_schema_registry
from kiln.template.dialects import HOT_ALIASES, HOT_DIALECTS, HOT_VERSIONS, hot_dialect
from kiln.template.functions.base import Function, Removed
from kiln.template.validate import SourceText, validate_template

#: When each HOT function first appeared (Heat's template guide).
INTRODUCED = {
    "get_param": "2013-05-23",
    "get_resource": "2013-05-23",
    "get_attr": "2013-05-23",
    "get_file": "2013-05-23",
    "list_join": "2013-05-23",
    "str_replace": "2013-05-23",
    "resource_facade": "2013-05-23",
    "digest": "2015-04-30",
    "repeat": "2015-04-30",
    "str_split": "2015-10-15",
    "map_merge": "2016-04-08",
    "yaql": "2016-10-14",
    "map_replace": "2016-10-14",
    "if": "2016-10-14",
    "equals": "2016-10-14",
    "not": "2016-10-14",
    "and": "2016-10-14",
    "or": "2016-10-14",
    "filter": "2017-02-24",
    "str_replace_strict": "2017-02-24",
    "make_url": "2017-09-01",
    "list_concat": "2017-09-01",
    "list_concat_unique": "2017-09-01",
    "contains": "2017-09-01",
    "str_replace_vstrict": "2017-09-01",
}
#: CFN-style names HOT 2013-05-23 had, and the version that removed them.
REMOVED = {
    "Fn::GetAZs": "2014-10-16",
    "Ref": "2014-10-16",
    "Fn::Join": "2014-10-16",
    "Fn::Split": "2014-10-16",
    "Fn::Replace": "2014-10-16",
    "Fn::Base64": "2014-10-16",
    "Fn::MemberListToMap": "2014-10-16",
    "Fn::ResourceFacade": "2014-10-16",
    "Fn::Select": "2015-10-15",
}
CONDITION_ONLY = {"equals", "not", "and", "or"}
CASES = [
    pytest.param(version, name, id=f"{version}-{name}")
    for version in HOT_VERSIONS
    for name in sorted(INTRODUCED)
]


@pytest.mark.parametrize(("version", "name"), CASES)
def test_function_exists_exactly_from_its_version(version: str, name: str) -> None:
    dialect = HOT_DIALECTS[version]
    available = name in dialect.functions or name in dialect.condition_functions
    assert available == (version >= INTRODUCED[name])
    mode = "condition" if name in CONDITION_ONLY else "value"
    parsed = dialect.parse({name: []}, TemplatePath(("outputs", "o", "value")), mode)
    assert isinstance(parsed, Function) == available


@pytest.mark.parametrize(
    ("version", "name"),
    [pytest.param(v, n, id=f"{v}-{n}") for v in HOT_VERSIONS for n in sorted(REMOVED)],
)
def test_cfn_names_are_removed_in_their_version(version: str, name: str) -> None:
    implementation = HOT_DIALECTS[version].functions.get(name)
    if version < REMOVED[name]:
        assert implementation is not None and implementation is not Removed
    else:
        assert implementation is Removed


@pytest.mark.parametrize(
    ("alias", "version"), [pytest.param(a, v, id=a) for a, v in HOT_ALIASES.items()]
)
def test_release_names_are_aliases(alias: str, version: str) -> None:
    assert hot_dialect(alias) is HOT_DIALECTS[version]
    assert alias in HOT_DIALECTS[version].aliases


def _validate(text: str) -> list[str]:
    result = validate_template(SourceText("t.yaml", text), registry=load_schema_registry())
    return [d.render() for d in result.diagnostics]


@pytest.mark.parametrize(
    ("version", "name", "introduced"),
    [
        pytest.param("2013-05-23", "str_split", "2015-10-15", id="str_split"),
        pytest.param("2015-10-15", "map_merge", "2016-04-08", id="map_merge"),
        pytest.param("2016-04-08", "map_replace", "2016-10-14", id="map_replace"),
        pytest.param("2016-10-14", "filter", "2017-02-24", id="filter"),
        pytest.param("ocata", "make_url", "2017-09-01", id="make_url"),
        pytest.param("2015-04-30", "yaql", "2016-10-14", id="yaql"),
    ],
)
def test_function_from_a_later_version_names_that_version(
    version: str, name: str, introduced: str
) -> None:
    text = f"heat_template_version: {version}\noutputs:\n  o:\n    value: {{{name}: [a, b]}}\n"
    canonical = HOT_ALIASES.get(version, version)
    assert _validate(text) == [
        f"t.yaml:4:13 F3001 outputs.o.value.{name} {name} is not available in "
        f"heat_template_version {canonical}: it was introduced in {introduced}"
    ]


def test_removed_cfn_function_is_reported() -> None:
    text = (
        "heat_template_version: 2014-10-16\noutputs:\n  o:\n    value: {'Fn::Join': [',', [a]]}\n"
    )
    assert _validate(text) == [
        "t.yaml:4:13 F3002 outputs.o.value.Fn::Join Fn::Join is not available in "
        "heat_template_version 2014-10-16: it was removed from HOT; use the native HOT "
        "function instead"
    ]


def test_conditions_section_exists_from_2016_10_14() -> None:
    old = "heat_template_version: 2016-04-08\nconditions:\n  c: true\n"
    new = "heat_template_version: 2016-10-14\nconditions:\n  c: true\n"
    assert _validate(old) == [
        "t.yaml:2:1 T2004 conditions 'conditions' is not a valid template section"
    ]
    assert _validate(new) == []


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        pytest.param("2018-08-31", ["t.yaml:6:13 F3003"], id="rocky-needs-three"),
        pytest.param("2021-04-16", [], id="wallaby-allows-two"),
    ],
)
def test_two_argument_if_only_from_wallaby(version: str, expected: list[str]) -> None:
    text = (
        f"heat_template_version: {version}\n"
        "conditions:\n  c: false\n"
        "outputs:\n  o:\n"
        "    value: {if: [c, x]}\n"
    )
    assert [line.split(" ")[0] + " " + line.split(" ")[1] for line in _validate(text)] == expected

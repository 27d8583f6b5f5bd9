"""OS::Heat::Value converts its value to ``type`` exactly as Heat's typed property does."""

from __future__ import annotations

from typing import Any

import pytest
from heat_support import attribute_request, context, create_request, update_request

from kiln.errors import Diagnostic, TemplatePath
from kiln.providers.context import FakeClock
from kiln.providers.errors import InvalidInput
from kiln.providers.protocol import Progress
from kiln.resources.heat.value import ValueResource
from kiln.schema.values import Unknown

PLUGIN = ValueResource()
VALUE = TemplatePath(("value",))


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        pytest.param({"value": "5", "type": "number"}, 5, id="number-from-integral-text"),
        pytest.param({"value": "100.999", "type": "number"}, 100.999, id="number-from-text"),
        pytest.param({"value": -11, "type": "number"}, -11, id="number-stays"),
        pytest.param({"value": "TRUE", "type": "boolean"}, True, id="boolean-word-any-case"),
        pytest.param({"value": False, "type": "boolean"}, False, id="boolean-stays"),
        pytest.param({"value": 42, "type": "string"}, "42", id="string-from-integer"),
        pytest.param({"value": True, "type": "string"}, "True", id="string-from-boolean"),
        pytest.param(
            {"value": ["a", "b", "Z"], "type": "comma_delimited_list"},
            ["a", "b", "Z"],
            id="list-stays",
        ),
        pytest.param(
            {"value": {"a": "Z", "B": "y"}, "type": "json"}, {"a": "Z", "B": "y"}, id="map"
        ),
        pytest.param({"value": [1, {"x": 2}]}, [1, {"x": 2}], id="no-type-passes-any-value"),
        pytest.param({"value": "a,b"}, "a,b", id="no-type-keeps-text"),
    ],
)
@pytest.mark.asyncio
async def test_value_attribute_is_converted(properties: dict[str, Any], expected: Any) -> None:
    request = attribute_request(PLUGIN, properties, {}, frozenset({"value", "show"}))
    assert PLUGIN.validate(request.properties) == []
    attributes = await PLUGIN.attributes(context(FakeClock()), request)
    assert attributes == {"value": expected, "show": None}
    assert type(attributes["value"]) is type(expected)


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        pytest.param(
            {"value": "a,b", "type": "comma_delimited_list"},
            "a string cannot be converted to type 'comma_delimited_list'",
            id="text-is-not-split-into-a-list",
        ),
        pytest.param(
            {"value": [1, 2], "type": "json"},
            "a list cannot be converted to type 'json'",
            id="json-needs-a-map",
        ),
        pytest.param(
            {"value": '{"a": 1}', "type": "json"},
            "a string cannot be converted to type 'json'",
            id="json-text-is-not-parsed",
        ),
        pytest.param(
            {"value": {"one": "croissant"}, "type": "number"},
            "a map cannot be converted to type 'number'",
            id="map-is-not-a-number",
        ),
        pytest.param(
            {"value": "yes", "type": "boolean"},
            "a string cannot be converted to type 'boolean'",
            id="boolean-only-true-or-false",
        ),
        pytest.param(
            {"value": 1.5, "type": "string"},
            "a number cannot be converted to type 'string'",
            id="float-is-not-a-string",
        ),
    ],
)
@pytest.mark.asyncio
async def test_mismatched_value_is_refused_without_showing_it(
    properties: dict[str, Any], message: str
) -> None:
    expected = [Diagnostic("S6004", message, VALUE)]
    assert PLUGIN.validate(properties) == expected
    with pytest.raises(InvalidInput) as raised:
        await PLUGIN.create(context(FakeClock()), create_request(PLUGIN, properties))
    assert list(raised.value.diagnostics) == expected
    assert raised.value.message == f"value: {message}"


def test_unknown_values_are_checked_later() -> None:
    pending = Unknown("get_attr", "db.value")
    assert PLUGIN.validate({"value": pending, "type": "number"}) == []
    assert PLUGIN.validate({"value": "x", "type": pending}) == []


@pytest.mark.asyncio
async def test_create_takes_the_physical_name_and_update_checks_the_new_value() -> None:
    ctx = context(FakeClock())
    created = await PLUGIN.create(ctx, create_request(PLUGIN, {"value": 1}))
    assert created == Progress(done=True, physical_id="stack-res-abcdefghijkl")
    assert PLUGIN.reference_id("res", created.physical_id, {}) == "stack-res-abcdefghijkl"
    changed = update_request(PLUGIN, {"value": 1}, {"value": "2", "type": "number"}, {})
    assert changed.changed == frozenset({"value", "type"})
    assert await PLUGIN.update(ctx, changed) == Progress(done=True)
    broken = update_request(PLUGIN, {"value": 1}, {"value": "two", "type": "number"}, {})
    with pytest.raises(InvalidInput, match="a string cannot be converted to type 'number'"):
        await PLUGIN.update(ctx, broken)

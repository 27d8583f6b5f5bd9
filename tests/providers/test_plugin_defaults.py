"""What ResourcePlugin gives a plugin that only implements the required calls."""

from __future__ import annotations

import pytest
from plugin_support import InstantPlugin

from kiln.providers.context import FakeClock, ProviderContext
from kiln.providers.errors import NotSupported
from kiln.providers.protocol import (
    AttributeRequest,
    CheckRequest,
    Progress,
    SignalRequest,
)
from kiln.schema.resource_schema import PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType


class Minimal(InstantPlugin):
    type_name = "Test::Minimal"
    schema = ResourceSchema(
        "Test::Minimal",
        properties={"size": PropertySchema(PropertyType.INTEGER, default=3)},
    )
    created_id = "m-1"


PLUGIN = Minimal()
CTX = ProviderContext.create(clock=FakeClock())
CHECK = CheckRequest(name="m", physical_id="m-1", properties={})


@pytest.mark.asyncio
async def test_checks_report_done() -> None:
    assert await PLUGIN.check_create(CTX, CHECK) == Progress(done=True)
    assert await PLUGIN.check_update(CTX, CHECK) == Progress(done=True)
    assert await PLUGIN.check_delete(CTX, CHECK) == Progress(done=True)


@pytest.mark.asyncio
async def test_attributes_are_null_and_signals_unsupported() -> None:
    request = AttributeRequest(
        name="m", physical_id="m-1", properties={}, names=frozenset({"a", "b"})
    )
    assert await PLUGIN.attributes(CTX, request) == {"a": None, "b": None}
    signal = SignalRequest(name="m", physical_id="m-1", properties={})
    with pytest.raises(NotSupported) as raised:
        await PLUGIN.signal(CTX, signal)
    assert raised.value.message == "signal is not supported for resource."


def test_static_defaults() -> None:
    assert PLUGIN.validate({"size": 1}) == []
    assert PLUGIN.needs_replacement({"size": 1}, {"size": 2}, frozenset({"size"})) is False
    assert PLUGIN.reference_id("m", "m-1", {}) == "m-1"
    assert PLUGIN.reference_id("m", None, {}) == "m"
    assert (Minimal.replace_delete_first, Minimal.secret_data_keys) == (False, frozenset())


@pytest.mark.parametrize(
    ("properties", "name", "expected"),
    [
        pytest.param({"size": 5}, "size", 5, id="given"),
        pytest.param({}, "size", 3, id="schema-default"),
        pytest.param({"size": None}, "size", 3, id="null-means-default"),
        pytest.param({"other": 1}, "other", 1, id="undeclared-passes-through"),
    ],
)
def test_property_value(properties: dict[str, object], name: str, expected: object) -> None:
    assert PLUGIN.property_value(properties, name) == expected

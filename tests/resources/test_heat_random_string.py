"""OS::Heat::RandomString: Heat's generation rules, validation and update behaviour."""

from __future__ import annotations

import string
from collections import Counter
from typing import Any

import pytest
from heat_support import (
    attribute_request,
    context,
    create_request,
    resolved,
    update_request,
)

from kiln.errors import Diagnostic, TemplatePath
from kiln.providers.context import FakeClock
from kiln.providers.errors import InvalidInput
from kiln.providers.protocol import FindRequest, Progress
from kiln.resources.heat.random_string import RandomString
from kiln.schema.types import UpdatePolicy
from kiln.schema.values import Unknown

PLUGIN = RandomString()
TOO_SHORT = (
    "Length property cannot be smaller than combined character class and "
    "character sequence minimums"
)
SYMBOLS = "(),[]{}"


async def generated(properties: dict[str, Any]) -> str:
    progress = await PLUGIN.create(context(FakeClock()), create_request(PLUGIN, properties))
    assert progress.done and progress.physical_id == "stack-res-abcdefghijkl"
    assert progress.provider_data is not None
    value: str = progress.provider_data["value"]
    return value


@pytest.mark.parametrize(
    ("properties", "length", "alphabet"),
    [
        pytest.param({}, 32, string.ascii_letters + string.digits, id="defaults"),
        pytest.param({"length": 512}, 512, string.ascii_letters + string.digits, id="longest"),
        pytest.param(
            {"length": 100, "sequence": "octdigits"}, 100, "01234567", id="deprecated-sequence"
        ),
        pytest.param(
            {"length": 64, "character_classes": [{"class": "hexdigits"}]},
            64,
            "0123456789ABCDEF",
            id="hexdigits-are-upper-case",
        ),
        pytest.param(
            {"length": 20, "character_sequences": [{"sequence": "xy"}]}, 20, "xy", id="sequence"
        ),
    ],
)
@pytest.mark.asyncio
async def test_characters_come_only_from_the_chosen_pools(
    properties: dict[str, Any], length: int, alphabet: str
) -> None:
    value = await generated(properties)
    assert len(value) == length
    assert set(value) <= set(alphabet)


@pytest.mark.asyncio
async def test_every_minimum_is_met_as_in_heats_own_test() -> None:
    properties = {
        "length": 32,
        "character_classes": [
            {"class": "digits", "min": 1},
            {"class": "uppercase", "min": 1},
            {"class": "lowercase", "min": 20},
        ],
        "character_sequences": [
            {"sequence": SYMBOLS, "min": 1},
            {"sequence": "$_", "min": 2},
            {"sequence": "@", "min": 5},
        ],
    }
    for _ in range(20):
        value = await generated(properties)
        assert len(value) == 32
        assert sum(c in string.digits for c in value) >= 1
        assert sum(c in string.ascii_uppercase for c in value) >= 1
        assert sum(c in string.ascii_lowercase for c in value) >= 20
        assert sum(c in SYMBOLS for c in value) >= 1
        assert sum(c in "$_" for c in value) >= 2
        assert value.count("@") >= 5


@pytest.mark.asyncio
async def test_minimums_filling_the_length_give_exact_counts_in_shuffled_order() -> None:
    properties = {
        "length": 5,
        "character_classes": [{"class": "digits", "min": 3}, {"class": "uppercase", "min": 2}],
    }
    values = [await generated(properties) for _ in range(100)]
    for value in values:
        kinds = Counter("digit" if c.isdigit() else "upper" for c in value)
        assert kinds == Counter({"digit": 3, "upper": 2})
    assert {value[0].isdigit() for value in values} == {True, False}


@pytest.mark.asyncio
async def test_fill_picks_each_class_or_sequence_equally_often() -> None:
    # Heat picks a pool first, then a character: "@" gets half the fill, not 1/11.
    properties = {
        "length": 500,
        "character_classes": [{"class": "digits"}],
        "character_sequences": [{"sequence": "@"}],
    }
    value = await generated(properties)
    assert 190 <= value.count("@") <= 310


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        pytest.param(
            {
                "length": 5,
                "character_classes": [{"class": "digits", "min": 5}],
                "character_sequences": [{"sequence": SYMBOLS, "min": 1}],
            },
            [Diagnostic("S6101", TOO_SHORT, TemplatePath(("length",)))],
            id="heat-invalid-length",
        ),
        pytest.param(
            {
                "length": 2,
                "sequence": "letters",
                "character_classes": [{"class": "digits", "min": 2}],
            },
            [Diagnostic("S6101", TOO_SHORT, TemplatePath(("length",)))],
            id="deprecated-sequence-adds-a-minimum-of-one",
        ),
        pytest.param(
            {"character_sequences": [{"sequence": "ab"}, {"sequence": ""}]},
            [
                Diagnostic(
                    "S6102",
                    "a character sequence needs at least one character",
                    TemplatePath(("character_sequences", 1, "sequence")),
                )
            ],
            id="empty-sequence",
        ),
        pytest.param(
            {"length": 3, "character_classes": [{"class": "digits", "min": 3}]},
            [],
            id="minimums-equal-to-length",
        ),
    ],
)
def test_validation(properties: dict[str, Any], expected: list[Diagnostic]) -> None:
    assert PLUGIN.validate(resolved(PLUGIN, properties)) == expected


@pytest.mark.asyncio
async def test_create_refuses_what_validation_refuses() -> None:
    properties = {"length": 1, "character_classes": [{"class": "digits", "min": 2}]}
    with pytest.raises(InvalidInput) as raised:
        await generated(properties)
    assert raised.value.message == f"length: {TOO_SHORT}"


def test_unknown_values_are_checked_later() -> None:
    assert PLUGIN.validate({"length": Unknown("get_param", "n")}) == []


@pytest.mark.asyncio
async def test_a_new_salt_replaces_the_string_and_an_update_keeps_it() -> None:
    assert PLUGIN.schema.properties["salt"].update_policy is UpdatePolicy.REPLACE
    first = await generated({"salt": "a"})
    unchanged = update_request(PLUGIN, {"salt": "a"}, {"salt": "a"}, {"value": first})
    assert await PLUGIN.update(context(FakeClock()), unchanged) == Progress(done=True)


@pytest.mark.asyncio
async def test_value_is_the_attribute_and_the_reference_and_is_secret() -> None:
    data = {"value": "s3cret"}
    request = attribute_request(PLUGIN, {}, data, frozenset({"value"}))
    assert await PLUGIN.attributes(context(FakeClock()), request) == {"value": "s3cret"}
    assert PLUGIN.reference_id("pw", "stack-pw-abc", data) == "s3cret"
    assert PLUGIN.reference_id("pw", None, {}) == "pw"
    assert RandomString.secret_data_keys == frozenset({"value"})


@pytest.mark.asyncio
async def test_a_lost_create_is_never_adopted() -> None:
    request = FindRequest(
        name="pw", idempotency_token="t", physical_name="stack-pw-abc", properties={}
    )
    assert await PLUGIN.find(context(FakeClock()), request) is None


def test_badly_typed_values_are_left_to_the_schema_check() -> None:
    assert PLUGIN.validate({"length": "many", "character_classes": ["digits"]}) == []

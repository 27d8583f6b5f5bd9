"""Every OS::Heat plugin passes the provider contract, with exact observations."""

from __future__ import annotations

import uuid

import pytest
from heat_support import SCHEMAS

from kiln.providers.context import FakeClock, ProviderContext
from kiln.providers.testing import ContractCase, ContractResult, run_contract
from kiln.resources.heat.delay import Delay
from kiln.resources.heat.none import NoneResource
from kiln.resources.heat.random_string import RandomString
from kiln.resources.heat.test_resource import TestResource
from kiln.resources.heat.value import ValueResource


async def run(case: ContractCase) -> tuple[ContractResult, FakeClock]:
    clock = FakeClock()
    result = await run_contract(case, lambda: ProviderContext.create(clock=clock), SCHEMAS)
    return result, clock


@pytest.mark.asyncio
async def test_none_resource_contract() -> None:
    case = ContractCase(
        NoneResource, {"flavor": "m1.small"}, {"flavor": "m1.large"}, frozenset({"anything"})
    )
    result, clock = await run(case)
    assert uuid.UUID(result.physical_id).version == 5
    assert (result.created_data, result.attributes, result.updated_attributes) == (
        {},
        {"anything": None},
        {"anything": None},
    )
    assert (result.polls, clock.slept) == (0, [])


@pytest.mark.asyncio
async def test_value_contract() -> None:
    case = ContractCase(
        ValueResource,
        {"value": "5", "type": "number"},
        {"value": ["a", "b"], "type": "comma_delimited_list"},
        frozenset({"value"}),
    )
    result, _ = await run(case)
    assert result.physical_id.startswith("contract-contract_resource-")
    assert (result.attributes, result.updated_attributes) == ({"value": 5}, {"value": ["a", "b"]})


@pytest.mark.asyncio
async def test_random_string_contract() -> None:
    case = ContractCase(
        RandomString,
        {"length": 12, "character_classes": [{"class": "digits", "min": 12}]},
        None,
        frozenset({"value"}),
        adopts=False,
    )
    result, _ = await run(case)
    value = result.attributes["value"]
    assert result.created_data == {"value": value}
    assert len(value) == 12 and value.isdigit()


@pytest.mark.asyncio
async def test_test_resource_contract_waits_through_polls() -> None:
    case = ContractCase(
        TestResource,
        {"value": "first", "action_wait_secs": {"create": 3, "update": 2, "delete": 4}},
        {"value": "second", "action_wait_secs": {"create": 3, "update": 2, "delete": 4}},
        frozenset({"output"}),
    )
    result, clock = await run(case)
    assert (result.attributes, result.updated_attributes) == (
        {"output": "first"},
        {"output": "second"},
    )
    assert result.created_data == {"value": "first"}
    assert (result.polls, clock.slept) == (3, [3.0, 2.0, 4.0])


@pytest.mark.asyncio
async def test_delay_contract_waits_on_create_and_delete_only() -> None:
    case = ContractCase(
        Delay,
        {"min_wait": 7, "actions": ["CREATE", "DELETE"]},
        {"min_wait": 2, "actions": ["CREATE", "DELETE"]},
    )
    result, clock = await run(case)
    assert (result.polls, clock.slept) == (2, [7.0, 2.0])

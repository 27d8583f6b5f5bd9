"""What the stack service reports about a stack without running anything."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kiln.persistence.database import Database
from kiln.persistence.secrets import SecretBox
from kiln.plan.state import StackRecord
from kiln.providers.registry import load_plugin_registry
from kiln.service.stacks import StackService

TEMPLATE = """
heat_template_version: 2021-04-16
parameters:
  flavor:
    type: string
    default: m1.small
  password:
    type: string
    hidden: true
  count:
    type: number
  settings:
    type: json
    default: {"debug": false}
"""

PSEUDO = {"OS::stack_id": "s-1", "OS::stack_name": "demo", "OS::project_id": "p-1"}


@pytest.fixture(scope="module")
def service() -> Iterator[StackService]:
    database = Database.open("sqlite://")
    try:
        yield StackService(database, load_plugin_registry(), SecretBox(SecretBox.generate_key()))
    finally:
        database.dispose()


def stack(template: str, parameters: dict[str, Any]) -> StackRecord:
    return StackRecord(
        id="s-1", name="demo", project_id="p-1", template=template, parameters=parameters
    )


def test_shown_parameters_mask_hidden_values_and_add_the_stack_identity(
    service: StackService,
) -> None:
    shown = service.shown_parameters(stack(TEMPLATE, {"password": "hunter2", "count": "3"}))
    assert shown == {
        "flavor": "m1.small",
        "password": "******",
        "count": 3,
        "settings": {"debug": False},
        **PSEUDO,
    }
    assert list(shown) == ["flavor", "password", "count", "settings", *PSEUDO]


def test_a_parameter_without_a_value_is_left_out(service: StackService) -> None:
    shown = service.shown_parameters(stack(TEMPLATE, {"password": "hunter2"}))
    assert list(shown) == ["flavor", "password", "settings", *PSEUDO]


def test_a_template_without_parameters_shows_the_stack_identity(service: StackService) -> None:
    assert service.shown_parameters(stack("heat_template_version: 2021-04-16\n", {})) == PSEUDO

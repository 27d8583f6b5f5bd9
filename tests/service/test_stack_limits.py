"""Heat's checks on a new or changed stack, as the service (and so the CLI) applies them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from kiln.config import TemplateLimits
from kiln.errors import TemplateError
from kiln.persistence.database import Database
from kiln.persistence.errors import StackExists
from kiln.persistence.secrets import SecretBox
from kiln.providers.registry import load_plugin_registry
from kiln.service.stack_limits import InvalidStackName, RequestLimitExceeded
from kiln.service.stacks import StackDefinition, StackService
from kiln.service.transfer import StackTransfer


def _template(count: int, resource_type: str = "OS::Heat::None") -> str:
    return json.dumps(
        {
            "heat_template_version": "2018-08-31",
            "resources": {f"r{n}": {"type": resource_type} for n in range(count)},
        }
    )


ONE = StackDefinition(_template(1))


@pytest.fixture
def service() -> Iterator[StackService]:
    database = Database.open("sqlite://")
    database.migrate()
    try:
        yield StackService(
            database,
            load_plugin_registry(),
            SecretBox(SecretBox.generate_key()),
            project_id="p-1",
            limits=TemplateLimits(max_stacks_per_project=2, max_resources_per_stack=3),
        )
    finally:
        database.dispose()


@pytest.mark.parametrize("name", ["9lives", "-x", "a b", "a" * 256, ""])
def test_a_name_heat_refuses_is_refused_before_anything_is_stored(
    service: StackService, name: str
) -> None:
    with pytest.raises(InvalidStackName, match="must start with alpha"):
        service.create(name, ONE)
    with pytest.raises(InvalidStackName):
        service.preview(name, ONE)
    with pytest.raises(InvalidStackName):
        StackTransfer(service).adopt(name, {"template": json.loads(ONE.template)})
    assert service.list_stacks() == []


def test_a_taken_name_is_refused_first_even_in_a_preview(service: StackService) -> None:
    service.create("taken", ONE)
    with pytest.raises(StackExists):
        service.create("taken", StackDefinition("not: [a template"))
    with pytest.raises(StackExists):
        service.preview("taken", ONE)


def test_a_project_holds_at_most_its_limit_of_stacks(service: StackService) -> None:
    service.create("first", ONE)
    service.create("second", ONE)
    message = (
        "Request limit exceeded: You have reached the maximum stacks per tenant, 2. "
        "Please delete some stacks."
    )
    with pytest.raises(RequestLimitExceeded) as refused:
        service.create("third", ONE)
    assert str(refused.value) == message
    with pytest.raises(RequestLimitExceeded):
        service.preview("third", ONE)
    other = StackService(
        service.database,
        service.plugins,
        SecretBox(SecretBox.generate_key()),
        project_id="p-2",
        limits=service.limits,
    )
    assert other.create("third", ONE).name == "third"
    assert sorted(s.name for s in service.list_stacks()) == ["first", "second"]


def test_resources_of_nested_templates_count_toward_the_limit(service: StackService) -> None:
    nested = StackDefinition(
        _template(2, "child.yaml"), files={"child.yaml": _template(1)}
    )  # 2 + 2 * 1 = 4 resources
    with pytest.raises(RequestLimitExceeded, match="would have 4 resources; the limit is 3"):
        service.create("nested", nested)
    with pytest.raises(RequestLimitExceeded):
        service.preview("nested", nested)
    fits = StackDefinition(_template(1, "child.yaml"), files={"child.yaml": _template(2)})
    stack = service.create("fits", fits)
    with pytest.raises(RequestLimitExceeded):
        service.update(stack.id, nested)
    with pytest.raises(TemplateError, match="the limit is 3 per stack"):
        service.create("flat", StackDefinition(_template(4)))

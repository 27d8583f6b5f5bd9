"""Heat's checks on a new or changed stack that no template can express: a valid stack
name, at most so many stacks per project, at most so many resources per stack with its
nested stacks counted.

Each is refused before anything is stored, with Heat's error type (``heat_type``,
which the API answers with) and a message that says what is wrong.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from kiln.config import TemplateLimits
from kiln.errors import KilnError
from kiln.persistence.stacks import StackRepository
from kiln.template.validate import ValidationResult

if TYPE_CHECKING:
    from kiln.service.queries import NestedTemplate
    from kiln.service.stacks import StackDefinition, StackService

#: Heat's stack names: a letter, then letters, digits, ``_``, ``-`` and ``.``; 255 at most.
STACK_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_.-]{0,254}")


class InvalidStackName(KilnError):
    """A stack name Heat would refuse."""

    heat_type = "StackValidationFailed"

    def __init__(self, name: object) -> None:
        if isinstance(name, str):
            message = (
                f"Invalid stack name {name} must contain only alphanumeric or "
                '"_-." characters, must start with alpha and must be 255 characters or less.'
            )
        else:
            message = f"Invalid stack name {name}, must be a string"
        super().__init__(message)


class RequestLimitExceeded(KilnError):
    """Heat's answer when a request would take a project or a stack past a limit."""

    heat_type = "RequestLimitExceeded"

    def __init__(self, message: str) -> None:
        super().__init__(f"Request limit exceeded: {message}")


def check_stack_name(name: object) -> None:
    if not isinstance(name, str) or not STACK_NAME.fullmatch(name):
        raise InvalidStackName(name)


def check_stack_count(stacks: StackRepository, project_id: str, limits: TemplateLimits) -> None:
    """A project holds at most ``max_stacks_per_project`` stacks (nested ones not counted)."""
    maximum = limits.max_stacks_per_project
    if stacks.count(project_id) >= maximum:
        raise RequestLimitExceeded(
            f"You have reached the maximum stacks per tenant, {maximum}. Please delete some stacks."
        )


def check_resource_total(
    service: StackService, definition: StackDefinition, result: ValidationResult
) -> None:
    """The template's resources and those of the templates it nests, at most
    ``max_resources_per_stack`` in all (a single template past it is already a
    validation error of its own)."""
    from kiln.service.queries import nested_templates

    if result.template is None:
        return
    maximum = (service.limits or TemplateLimits()).max_resources_per_stack
    total = len(result.template.resources) + _nested_total(
        nested_templates(service, definition, result)
    )
    if total > maximum:
        raise RequestLimitExceeded(
            "Maximum resources per stack exceeded: with its nested stacks the stack "
            f"would have {total} resources; the limit is {maximum}."
        )


def _nested_total(nested: list[NestedTemplate] | tuple[NestedTemplate, ...]) -> int:
    total = 0
    for child in nested:
        template = child.result.template
        total += (len(template.resources) if template is not None else 0) + _nested_total(
            child.nested
        )
    return total

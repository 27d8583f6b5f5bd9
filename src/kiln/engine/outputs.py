"""A stack's outputs resolved from its records, as ``stack show`` and parent stacks read them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kiln.config import TemplateLimits
from kiln.engine.scope import recorded_scope
from kiln.engine.validation import validate_stack
from kiln.errors import EvaluationError
from kiln.plan.state import ResourceRecord, StackRecord
from kiln.providers.registry import PluginRegistry
from kiln.schema.values import Unknown
from kiln.template.conditions import is_enabled
from kiln.template.functions.base import Resolver

#: What Heat answers for an output that has no description.
NO_DESCRIPTION = "No description given"


@dataclass(frozen=True)
class Output:
    key: str
    value: Any = None
    description: str = ""
    error: str | None = None


def stack_outputs(
    stack: StackRecord,
    records: Iterable[ResourceRecord] | Callable[[], Iterable[ResourceRecord]],
    plugins: PluginRegistry,
    limits: TemplateLimits | None = None,
    *,
    reveal: bool = False,
) -> list[Output]:
    """Each output resolved; failures become ``output_error`` as in Heat, and an
    output whose condition is false has the value null.

    Values derived from hidden parameters are masked unless ``reveal`` (a
    parent stack reading its child's outputs needs the real values).
    """
    result = validate_stack(stack, plugins, limits)
    template = result.template
    if template is None or not template.outputs:
        return []
    # Records are read only when there are outputs to resolve (a large stack's are many).
    scope = recorded_scope(result, records() if callable(records) else records, plugins)
    resolver = Resolver(scope, result.limits)
    outputs: list[Output] = []
    for key, declaration in template.outputs.items():
        description = _description(declaration.description)
        if is_enabled(resolver, declaration.condition, declaration.path) is False:
            # As in Heat, an output whose condition is false is still listed and shown:
            # its value is null (and its value expression is never evaluated).
            outputs.append(Output(key, None, description))
            continue
        try:
            value = resolver.resolve(declaration.value)
        except EvaluationError as error:
            outputs.append(Output(key, None, description, result.redactor.text(error.message)))
            continue
        if isinstance(value, Unknown):
            outputs.append(Output(key, None, description, f"{value!r}"))
            continue
        outputs.append(Output(key, value if reveal else result.redactor.value(value), description))
    return outputs


def _description(given: Any) -> str:
    """The output's description as Heat shows it: its text, or a stock phrase when none."""
    if given is None:
        return NO_DESCRIPTION
    return given if isinstance(given, str) else str(given)

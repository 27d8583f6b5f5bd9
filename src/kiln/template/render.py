"""The resolved form of a validated template, as a user would read it.

Parameters substituted, conditions applied, functions evaluated; values that
only exist after creation appear as ``<known after create: ...>`` and hidden
parameter values as ``******``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.errors import EvaluationError
from kiln.schema.values import Unknown
from kiln.template.conditions import is_enabled
from kiln.template.functions.base import Resolver
from kiln.template.references import dependency_map
from kiln.template.validate import ValidationResult

HIDDEN = "******"


def render_resolved(result: ValidationResult) -> dict[str, Any]:
    """Raises ValueError when validation did not produce a template."""
    template = result.template
    if template is None or result.scope is None:
        raise ValueError("nothing to render: the template did not load")
    resolver = Resolver(result.scope, result.limits)
    dependencies = dependency_map(template)
    rendered: dict[str, Any] = {
        "format": template.dialect.kind,
        "version": template.dialect.version,
        "description": template.description.strip(),
        "parameters": {
            name: HIDDEN if declaration.hidden else _plain(result.parameters.get(name))
            for name, declaration in result.declarations.items()
        },
    }
    if template.conditions:
        rendered["conditions"] = {
            name: _plain(result.scope.conditions[name]) for name in template.conditions
        }
    resources: dict[str, Any] = {}
    for name, resource in template.resources.items():
        enabled = is_enabled(resolver, resource.condition, resource.path)
        if enabled is False:
            continue
        entry: dict[str, Any] = {"type": resource.type}
        entry["properties"] = _evaluate(resolver, resource.properties) or {}
        if dependencies.get(name):
            entry["depends_on"] = sorted(dependencies[name])
        if isinstance(enabled, Unknown):
            entry["condition"] = _plain(enabled)
        resources[name] = entry
    rendered["resources"] = resources
    outputs: dict[str, Any] = {}
    for name, output in template.outputs.items():
        if is_enabled(resolver, output.condition, output.path) is False:
            continue
        outputs[name] = _evaluate(resolver, output.value)
    rendered["outputs"] = outputs
    redacted: dict[str, Any] = result.redactor.value(rendered)
    return redacted


def _evaluate(resolver: Resolver, node: Any) -> Any:
    try:
        return _plain(resolver.resolve(node))
    except EvaluationError as error:
        return f"<error: {error.message}>"


def _plain(value: Any) -> Any:
    """Data safe to dump as YAML/JSON: Unknowns become readable placeholders."""
    if isinstance(value, Unknown):
        return repr(value)
    if isinstance(value, Mapping):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value

"""The stack's definition validated, with a small cache of recent results.

Accepting an operation validates the definition, and the engine that runs it
validates the same texts again moments later (as does every ``stack show``
that resolves outputs). Validation is pure, so the result for identical
inputs is kept: a large template is parsed once per change, not per reader.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable

from kiln.config import TemplateLimits
from kiln.engine.scope import stack_identity
from kiln.plan.state import StackRecord
from kiln.providers.registry import PluginRegistry
from kiln.template.validate import SourceText, ValidationResult, validate_template

#: Distinct definitions kept; enough for the stacks an engine works on at once.
CACHE_SIZE = 16

#: key -> (the registry, kept alive so its id stays unique while cached; the result)
_cache: OrderedDict[Hashable, tuple[PluginRegistry, ValidationResult]] = OrderedDict()
_lock = threading.Lock()


def validate_stack(
    stack: StackRecord, plugins: PluginRegistry, limits: TemplateLimits | None = None
) -> ValidationResult:
    """The stack's template with its stored environments, files and parameters."""
    key = _key(stack, plugins, limits)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] is plugins:
            _cache.move_to_end(key)
            return cached[1]
    result = validate_template(
        SourceText("template", stack.template),
        registry=plugins.schemas(),
        environments=[SourceText(name, text) for name, text in stack.environments],
        parameters=stack.parameters,
        files=stack.files,
        require_parameter_values=True,
        identity=stack_identity(stack),
        limits=limits,
    )
    with _lock:
        _cache[key] = (plugins, result)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def _key(stack: StackRecord, plugins: PluginRegistry, limits: TemplateLimits | None) -> Hashable:
    # The registry by identity: a process loads its plugins once, and a new
    # registry (tests, reloads) must not see results made with another; the
    # entry holds the registry, so its id cannot be reused while cached. Its
    # size too: a plugin registered later changes what validates.
    return (
        id(plugins),
        len(plugins),
        limits,
        stack.id,
        stack.name,
        stack.project_id,
        stack.template,
        tuple(stack.environments),
        tuple(sorted(stack.files.items())),
        json.dumps(stack.parameters, sort_keys=True, default=repr),
        json.dumps(stack.facade, sort_keys=True, default=repr),
    )

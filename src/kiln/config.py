"""Typed settings, built once at the edge and passed down explicitly.

Nothing in Kiln reads configuration at import time; code that needs a limit
takes a :class:`TemplateLimits` (or the whole :class:`Settings`) as an argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class TemplateLimits:
    """Bounds that keep hostile or accidental input from exhausting the service.

    Defaults follow Heat's (``max_template_size`` 524288 bytes,
    ``max_resources_per_stack`` 1000); the parser bounds are Kiln's own.
    """

    max_template_bytes: int = 512 * 1024
    max_resources_per_stack: int = 1000
    #: Provider templates and nested stacks inside each other (Heat's max_nested_stack_depth).
    max_stack_nesting_depth: int = 5
    #: Total nodes a document may expand to once YAML aliases are followed.
    max_document_nodes: int = 1_000_000
    #: Deepest nesting of mappings/sequences in one document.
    max_nesting_depth: int = 200
    #: Longest integer literal, in digits (Python's own guard is 4300).
    max_integer_digits: int = 1000
    #: yaql: longest expression text and its evaluation budget.
    max_yaql_expression_length: int = 10_000
    max_yaql_memory_items: int = 100_000
    max_yaql_seconds: float = 2.0
    #: Longest result a string function may produce (guards repeat/str_replace bombs).
    max_value_chars: int = 10 * 1024 * 1024


#: Environment variables that override a limit, e.g. ``KILN_MAX_TEMPLATE_BYTES=1048576``.
LIMIT_VARIABLES = {f"KILN_{name.upper()}": name for name in TemplateLimits.__dataclass_fields__}


def limits_from_environment(environment: Mapping[str, str]) -> TemplateLimits:
    """Limits with overrides from ``KILN_<LIMIT>`` variables; bad values raise ValueError.

    The caller passes the environment in (the CLI gives ``os.environ``), so
    nothing here reads process state at import time.
    """
    overrides: dict[str, Any] = {}
    defaults = TemplateLimits()
    for variable, name in LIMIT_VARIABLES.items():
        text = environment.get(variable)
        if text is None:
            continue
        kind = type(getattr(defaults, name))
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(f"{variable} must be a number, not {text!r}") from None
        if value <= 0:
            raise ValueError(f"{variable} must be positive, not {text!r}")
        overrides[name] = value
    return replace(defaults, **overrides)


@dataclass(frozen=True)
class Settings:
    limits: TemplateLimits = field(default_factory=TemplateLimits)

"""Named conditions, evaluated lazily and at most once each.

A condition may use parameters and other conditions; cycles are reported by
:func:`kiln.template.references.condition_cycles`, and a condition caught in
one evaluates to Unknown here instead of recursing forever.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kiln.errors import EvaluationError
from kiln.schema.values import Unknown, ValueNotKnown
from kiln.template.functions.base import Resolver
from kiln.template.functions.hot_logic import condition_value
from kiln.template.model import Template


class ConditionValues(Mapping[str, Any]):
    """``name -> bool`` (or :class:`Unknown` when it depends on unknown values)."""

    def __init__(self, template: Template, resolver: Resolver) -> None:
        self._template = template
        self._resolver = resolver
        self._values: dict[str, Any] = {}
        self._in_progress: set[str] = set()
        self.errors: dict[str, EvaluationError] = {}

    def __getitem__(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        if name not in self._template.conditions:
            raise KeyError(name)
        if name in self._in_progress:
            return Unknown(f"condition {name}")
        self._in_progress.add(name)
        try:
            node = self._template.conditions[name]
            path = self._template.section_path("conditions") / name
            value: Any = condition_value(self._resolver, node, path)
        except ValueNotKnown:
            value = Unknown(f"condition {name}")
        except EvaluationError as error:
            self.errors[name] = error
            value = Unknown(f"condition {name}")
        finally:
            self._in_progress.discard(name)
        self._values[name] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._template.conditions)

    def __len__(self) -> int:
        return len(self._template.conditions)


def is_enabled(resolver: Resolver, node: Any, path: Any) -> Any:
    """A resource's or output's ``condition``: True when absent, else its value or Unknown."""
    if node is None:
        return True
    try:
        return condition_value(resolver, node, path)
    except ValueNotKnown:
        return Unknown(f"condition at {path}")
    except EvaluationError:
        # Reported where the condition is checked (references, condition section).
        return Unknown(f"condition at {path}")

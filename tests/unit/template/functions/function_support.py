"""What the function tests share: evaluating calls in a scope, and the errors they expect."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from kiln.config import TemplateLimits
from kiln.errors import Diagnostic, EvaluationError, Severity, TemplatePath
from kiln.template.functions.base import Resolver, Unknown
from kiln.template.functions.hot_core import GetParam
from kiln.template.scope import StaticScope

#: Where the HOT calls under test sit.
HOT_PATH = TemplatePath(("outputs", "result", "value"))
#: Where the CloudFormation calls under test sit.
CFN_PATH = TemplatePath(("Outputs", "Result", "Value"))

#: An error as the tests compare it: (code, path, message).
Expectation = tuple[str, TemplatePath, str]


@dataclass(frozen=True)
class Evaluator:
    """Evaluates calls in a :class:`StaticScope` made from ``settings``.

    Keyword arguments to the methods replace settings for that one call.
    """

    settings: Mapping[str, Any]

    def scope(self, **overrides: Any) -> StaticScope:
        return StaticScope(**{**self.settings, **overrides})

    def resolver(self, limits: TemplateLimits | None = None, **overrides: Any) -> Resolver:
        return Resolver(self.scope(**overrides), limits)

    def evaluate(self, node: Any, limits: TemplateLimits | None = None, **overrides: Any) -> Any:
        return self.resolver(limits, **overrides).resolve(node)

    def failure(
        self, node: Any, limits: TemplateLimits | None = None, **overrides: Any
    ) -> Expectation:
        """The error evaluating ``node`` raises."""
        with pytest.raises(EvaluationError) as caught:
            self.evaluate(node, limits, **overrides)
        return caught.value.code, caught.value.path, caught.value.message


def expect(name: str, base: TemplatePath = CFN_PATH) -> Callable[..., Expectation]:
    """Expected errors of a call named ``name`` at ``base``; positions are within its args."""

    def build(code: str, message: str, *position: Any) -> Expectation:
        return code, (base / name).join(position), f"{name}: {message}"

    return build


def diagnostic(expected: Expectation) -> Diagnostic:
    code, path, message = expected
    return Diagnostic(code, message, path, Severity.ERROR)


def problem(path: TemplatePath, message: str, code: str = "F3003") -> Diagnostic:
    return Diagnostic(code, message, path, Severity.ERROR)


def param(name: str, at: TemplatePath = HOT_PATH / "nested") -> GetParam:
    """A ``get_param`` call (HOT 2017-09-01) inside the call under test."""
    return GetParam("get_param", name, at, "2017-09-01")


def unknown(name: str) -> Unknown:
    """What a call named ``name`` at :data:`HOT_PATH` gives when an argument is not known."""
    return Unknown(f"{name} at {HOT_PATH}")

"""Validation and conversion of a resource's property values against its schema.

Follows Heat's ``Properties``: unknown keys are refused, required ones must be
present, defaults fill the gaps, and values are converted with Heat's rules
(``"5"`` is a fine integer). Unlike Heat it reports every problem, each at its
own relative path (``networks[0].port``), instead of stopping at the first.
Values that are not known before the stack is created are left unchecked.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from kiln.errors import ROOT, Diagnostic, Severity, TemplatePath
from kiln.schema.constraints import PROPERTY_CODES, CustomConstraintRegistry, check_all
from kiln.schema.registry import SchemaRegistry
from kiln.schema.resource_schema import PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, SupportState, coerce_property_scalar, describe_type
from kiln.schema.values import ABSENT, Unknown

__all__ = ["validate_properties", "validate_property_map"]

UNKNOWN_PROPERTY = "S6002"
MISSING_PROPERTY = "S6003"
WRONG_TYPE = "S6004"
DEPRECATED_PROPERTY = "S6008"


def validate_properties(
    schema: ResourceSchema,
    values: Mapping[str, Any] | Any,
    registry: SchemaRegistry,
    *,
    live: bool = False,
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Converted values (defaults applied) and every problem, paths relative to the map.

    ``None`` means no properties were given. A map that is itself Unknown
    cannot be checked and gives an empty result. ``live`` also runs custom
    constraints that need the cloud (at create time).
    """
    if schema.accepts_any_properties:
        if isinstance(values, Mapping):
            return dict(values), []
        return {}, []
    return validate_property_map(schema.properties, values, registry.custom_constraints, live=live)


def validate_property_map(
    properties: Mapping[str, PropertySchema],
    values: Mapping[str, Any] | Any,
    custom_constraints: CustomConstraintRegistry | None,
    *,
    live: bool = False,
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """:func:`validate_properties` for a bare property map (nested or provider-built)."""
    if values is None or values is ABSENT:
        values = {}
    if isinstance(values, Unknown):
        return {}, []
    if not isinstance(values, Mapping):
        message = f"expected a map of properties, got {describe_type(values)}"
        return {}, [Diagnostic(WRONG_TYPE, message, ROOT)]
    validator = _Validator(custom_constraints, live)
    converted = validator.convert_map(properties, values, ROOT)
    return converted, validator.diagnostics


def _is_missing(value: Any) -> bool:
    return value is None or value is ABSENT


class _Validator:
    """Walks values and schema together, collecting diagnostics as it goes."""

    def __init__(self, custom_constraints: CustomConstraintRegistry | None, live: bool) -> None:
        self.custom_constraints = custom_constraints
        self.live = live
        self.diagnostics: list[Diagnostic] = []

    def report(
        self, code: str, message: str, path: TemplatePath, severity: Severity = Severity.ERROR
    ) -> None:
        self.diagnostics.append(Diagnostic(code, message, path, severity))

    def convert_map(
        self,
        properties: Mapping[str, PropertySchema],
        values: Mapping[Any, Any],
        path: TemplatePath,
    ) -> dict[str, Any]:
        for key in values:
            if key not in properties:
                self.report(
                    UNKNOWN_PROPERTY, _unknown_message(str(key), properties), path / str(key)
                )
        result: dict[str, Any] = {}
        for name, schema in properties.items():
            value = values.get(name)
            if not _is_missing(value):
                self._warn_if_deprecated(name, schema, path / name)
                result[name] = self.convert(schema, value, path / name)
            elif schema.default is not None:
                result[name] = self.convert(schema, schema.default, path / name)
            elif schema.required:
                self.report(MISSING_PROPERTY, f"missing required property '{name}'", path)
        return result

    def convert(self, schema: PropertySchema, value: Any, path: TemplatePath) -> Any:
        if isinstance(value, Unknown):
            return value
        converted, problem = coerce_property_scalar(schema.type, value)
        if problem is not None:
            self.report(WRONG_TYPE, problem, path)
            return value
        if schema.type is PropertyType.LIST and schema.item is not None:
            item = schema.item
            converted = [
                self.convert(item, entry, path / index) for index, entry in enumerate(converted)
            ]
        elif schema.type is PropertyType.MAP and schema.properties is not None:
            converted = self.convert_map(schema.properties, converted, path)
        failures = check_all(
            schema.constraints,
            converted,
            self.custom_constraints,
            value_type=schema.type,
            codes=PROPERTY_CODES,
            live=self.live,
        )
        self.diagnostics.extend(failure.under(path) for failure in failures)
        return converted

    def _warn_if_deprecated(self, name: str, schema: PropertySchema, path: TemplatePath) -> None:
        status = schema.support_status
        if status.state is not SupportState.DEPRECATED:
            return
        message = f"property '{name}' is deprecated"
        if status.message:
            message += f": {status.message}"
        self.report(DEPRECATED_PROPERTY, message, path, Severity.INFO)


def _unknown_message(key: str, properties: Mapping[str, PropertySchema]) -> str:
    message = f"unknown property '{key}'"
    close = difflib.get_close_matches(key, list(properties), n=1)
    if close:
        message += f"; did you mean '{close[0]}'?"
    return message

"""The template as typed declarations: format detection, sections and keys.

Turns a parsed :class:`Document` into a :class:`Template` whose resource,
output and condition bodies are already parsed into function trees by the
template's dialect. Structural problems are collected, not raised, so one
pass reports everything wrong with the layout of a template.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from kiln.errors import Diagnostic, TemplatePath
from kiln.template.dialects import (
    CFN_DIALECT,
    HOT_ALIASES,
    HOT_VERSIONS,
    Dialect,
    hot_dialect,
)
from kiln.template.functions.base import Function, Reference
from kiln.template.source import Document

#: HOT key -> CFN key for the parts of a resource or output both formats share.
_CFN_NAMES = {
    "type": "Type",
    "properties": "Properties",
    "metadata": "Metadata",
    "depends_on": "DependsOn",
    "deletion_policy": "DeletionPolicy",
    "update_policy": "UpdatePolicy",
    "condition": "Condition",
    "description": "Description",
    "value": "Value",
    "parameters": "Parameters",
    "resources": "Resources",
    "outputs": "Outputs",
    "conditions": "Conditions",
    "mappings": "Mappings",
}


def format_key(dialect: Dialect, hot_name: str) -> str:
    """The spelling of a section or key in a dialect (``resources`` or ``Resources``)."""
    return hot_name if dialect.kind == "hot" else _CFN_NAMES.get(hot_name, hot_name)


@dataclass(frozen=True)
class ResourceDeclaration:
    name: str
    type: str
    properties: Any
    metadata: Any
    depends_on: tuple[str, ...]
    deletion_policy: Any
    update_policy: Any
    condition: Any
    external_id: Any
    path: TemplatePath
    #: Path of each ``depends_on`` entry, for diagnostics.
    depends_on_paths: tuple[TemplatePath, ...] = ()


@dataclass(frozen=True)
class OutputDeclaration:
    name: str
    value: Any
    description: Any
    condition: Any
    export: Any
    path: TemplatePath


@dataclass(frozen=True)
class Template:
    document: Document
    dialect: Dialect
    description: str
    parameters: Any
    parameter_groups: Any
    conditions: Mapping[str, Any]
    resources: Mapping[str, ResourceDeclaration]
    outputs: Mapping[str, OutputDeclaration]
    mappings: Mapping[str, Any]
    transform: Any = None
    #: Every call, with the path of the body it sits in, in parse order.
    function_calls: tuple[tuple[TemplatePath, Function], ...] = ()

    @property
    def kind(self) -> str:
        return self.dialect.kind

    def key(self, hot_name: str) -> str:
        """The spelling of a section or key in this template's format."""
        return format_key(self.dialect, hot_name)

    def section_path(self, hot_name: str) -> TemplatePath:
        return TemplatePath((self.key(hot_name),))

    def parsed_nodes(self) -> Iterator[tuple[TemplatePath, Any]]:
        """Every parsed body that may hold function calls, with where it sits."""
        for resource in self.resources.values():
            for key in ("properties", "metadata", "deletion_policy", "update_policy"):
                yield resource.path / self.key(key), getattr(resource, key)
            yield resource.path / "external_id", resource.external_id
            yield resource.path / self.key("condition"), resource.condition
        for output in self.outputs.values():
            yield output.path / self.key("value"), output.value
            yield output.path / self.key("condition"), output.condition
            yield output.path / "Export", output.export
        for name, condition in self.conditions.items():
            yield self.section_path("conditions") / name, condition

    @cached_property
    def references(self) -> tuple[tuple[TemplatePath, Reference], ...]:
        """Every reference with the path of the body it sits in; computed once."""
        return tuple(
            (path, reference)
            for path, function in self.function_calls
            for reference in function.references()
        )

    def functions(self) -> Iterator[Function]:
        for _, function in self.function_calls:
            yield function


def detect_dialect(data: Any) -> tuple[Dialect | None, list[Diagnostic]]:
    """Pick HOT (by ``heat_template_version``) or CFN, as Heat does.

    A map with neither version key is read as CloudFormation 2010-09-09, which
    is what Heat assumes.
    """
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        return None, [Diagnostic("T2003", f"a template must be a mapping, not {kind}")]
    if "heat_template_version" in data:
        value = data["heat_template_version"]
        dialect = hot_dialect(value)
        if dialect is None:
            known = ", ".join([*HOT_VERSIONS, *HOT_ALIASES])
            return None, [
                Diagnostic(
                    "T2001",
                    f"unknown heat_template_version {value!r}; known versions: {known}",
                    TemplatePath(("heat_template_version",)),
                )
            ]
        return dialect, []
    for key, expected in (
        ("AWSTemplateFormatVersion", "2010-09-09"),
        ("HeatTemplateFormatVersion", "2012-12-12"),
    ):
        if key in data and str(data[key]) != expected:
            return None, [
                Diagnostic(
                    "T2001",
                    f"unknown {key} {data[key]!r}; the only version is {expected}",
                    TemplatePath((key,)),
                )
            ]
    return CFN_DIALECT, []

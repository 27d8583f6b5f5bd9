"""Validate a template with its environments, parameters and files, all at once.

The single entry point the CLI and (later) the service use. It never stops at
the first problem: parse errors aside, every stage runs and contributes
located diagnostics, and hidden parameter values are scrubbed from all of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiln.config import TemplateLimits
from kiln.errors import Diagnostic, ParseError, Severity, TemplatePath
from kiln.schema.registry import SchemaRegistry
from kiln.template.conditions import ConditionValues
from kiln.template.environment import Environment, merge_environments, parse_environment
from kiln.template.functions.base import Resolver, Unknown
from kiln.template.functions.hot_core import FACADE_SECTIONS
from kiln.template.model import Template
from kiln.template.parameters import (
    ParameterDeclaration,
    Redactor,
    hidden_parameter_names,
    parse_parameter_declarations,
    resolve_parameter_values,
    secret_values,
    validate_parameter_groups,
)
from kiln.template.references import check_references, condition_cycles, dependency_map
from kiln.template.resources_check import check_resources
from kiln.template.scope import StaticScope
from kiln.template.source import Document, parse_document
from kiln.template.structure import load_template


@dataclass(frozen=True)
class SourceText:
    """A named piece of text (template or environment file) as the user sent it."""

    name: str
    text: str | bytes


@dataclass(frozen=True)
class StackIdentity:
    """Values for pseudo parameters; Unknown where no stack exists yet."""

    stack_name: Any = field(default_factory=lambda: Unknown("stack name"))
    stack_id: Any = field(default_factory=lambda: Unknown("stack id"))
    project_id: Any = field(default_factory=lambda: Unknown("project id"))
    region: Any = field(default_factory=lambda: Unknown("region"))
    account_id: Any = field(default_factory=lambda: Unknown("account id"))
    #: For a nested stack: the parent resource's metadata, deletion_policy and
    #: update_policy, which ``resource_facade`` reads (empty at the top).
    facade: Mapping[str, Any] = field(default_factory=dict)

    def pseudo_parameters(self) -> dict[str, Any]:
        return {
            "OS::stack_name": self.stack_name,
            "OS::stack_id": self.stack_id,
            "OS::project_id": self.project_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.stack_id,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }


@dataclass
class ValidationResult:
    diagnostics: list[Diagnostic]
    template: Template | None = None
    environment: Environment | None = None
    declarations: Mapping[str, ParameterDeclaration] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    scope: StaticScope | None = None
    redactor: Redactor = field(default_factory=lambda: Redactor(()))
    limits: TemplateLimits = field(default_factory=TemplateLimits)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    def dependencies(self) -> dict[str, set[str]]:
        return dependency_map(self.template) if self.template else {}


def validate_template(
    template: SourceText,
    *,
    registry: SchemaRegistry,
    environments: Sequence[SourceText] = (),
    parameters: Mapping[str, Any] | None = None,
    files: Mapping[str, str] | None = None,
    lint: bool = False,
    require_parameter_values: bool = False,
    identity: StackIdentity | None = None,
    limits: TemplateLimits | None = None,
    environment: Environment | None = None,
    nesting_depth: int = 0,
) -> ValidationResult:
    """Everything wrong with a template, located, in source order.

    ``environment`` (already merged) replaces ``environments`` when a caller
    has one, as for provider templates, which are validated recursively down
    to ``limits.max_nesting_depth`` levels.
    """
    limits = limits or TemplateLimits()
    files = files or {}
    if environment is None:
        environment, diagnostics = _load_environments(environments, limits)
    else:
        diagnostics = []
    try:
        document = parse_document(template.text, template.name, limits)
    except ParseError as error:
        return ValidationResult(
            diagnostics + error.diagnostics, environment=environment, limits=limits
        )
    loaded, template_diagnostics = load_template(document)
    if loaded is None:
        return ValidationResult(
            diagnostics + _locate(template_diagnostics, document), limits=limits
        )
    stage = _Stages(loaded, environment, registry, files, identity or StackIdentity(), limits)
    template_diagnostics += stage.parameters(parameters or {}, require_parameter_values)
    template_diagnostics += stage.check_limits()
    template_diagnostics += list(condition_cycles(loaded))
    template_diagnostics += check_references(loaded, files, frozenset(stage.declarations))

    def validate_nested(
        location: str, nested_environment: Environment, properties: Mapping[str, Any]
    ) -> ValidationResult:
        return validate_template(
            SourceText(location, files[location]),
            registry=registry,
            parameters=properties,
            require_parameter_values=require_parameter_values,
            files=files,
            lint=lint,
            identity=_nested_identity(identity),
            limits=limits,
            environment=nested_environment,
            nesting_depth=nesting_depth + 1,
        )

    nested = validate_nested if nesting_depth < limits.max_stack_nesting_depth else None
    template_diagnostics += check_resources(
        loaded,
        stage.resolver(),
        environment,
        registry,
        files,
        lint,
        nested,
        require_parameter_values,
    )
    if lint:
        template_diagnostics = [
            _as_warning(d) if d.code in _LINT_WARNINGS else d for d in template_diagnostics
        ]
    redactor = Redactor(stage.secrets())
    located = [redactor.diagnostic(d) for d in _unique(_locate(template_diagnostics, document))]
    return ValidationResult(
        diagnostics=sorted(diagnostics + located, key=lambda d: _order(d, template.name)),
        template=loaded,
        environment=environment,
        declarations=stage.declarations,
        parameters=stage.values,
        scope=stage.scope,
        redactor=redactor,
        limits=limits,
    )


def _nested_identity(parent: StackIdentity | None) -> StackIdentity:
    """A nested stack has its own name and id, and a facade known once it exists."""
    facade = {section: Unknown(f"resource_facade {section}") for section in FACADE_SECTIONS}
    base = parent or StackIdentity()
    return StackIdentity(
        project_id=base.project_id, region=base.region, account_id=base.account_id, facade=facade
    )


class _Stages:
    """The per-template state the validation stages share."""

    def __init__(
        self,
        template: Template,
        environment: Environment,
        registry: SchemaRegistry,
        files: Mapping[str, str],
        identity: StackIdentity,
        limits: TemplateLimits,
    ) -> None:
        self.template = template
        self.environment = environment
        self.registry = registry
        self.files = files
        self.identity = identity
        self.limits = limits
        self.declarations: dict[str, ParameterDeclaration] = {}
        self.values: dict[str, Any] = {}
        self.scope: StaticScope | None = None

    def parameters(self, given: Mapping[str, Any], require_values: bool) -> list[Diagnostic]:
        template = self.template
        section_path = template.section_path("parameters")
        self.declarations, diagnostics = parse_parameter_declarations(
            template.parameters,
            template.dialect.kind,
            template.dialect.parameter_keys,
            section_path,
            template.dialect.version,
        )
        diagnostics = list(diagnostics)
        if template.parameter_groups is not None:
            diagnostics += validate_parameter_groups(
                template.parameter_groups, self.declarations, TemplatePath(("parameter_groups",))
            )
        values, value_diagnostics = resolve_parameter_values(
            self.declarations,
            given,
            self.environment.parameters,
            self.environment.parameter_defaults,
            self.registry.custom_constraints,
        )
        supplied = {*given, *self.environment.parameters, *self.environment.parameter_defaults}
        # Heat checks a default against its constraints only when the default is used.
        diagnostics = [
            d
            for d in diagnostics
            if not (d.code == "V5016" and len(d.path) > 1 and d.path[1] in supplied)
        ]
        for diagnostic in value_diagnostics:
            if diagnostic.code == "V5001" and not require_values:
                name = diagnostic.path[-1] if diagnostic.path else ""
                values[str(name)] = Unknown(f"parameter {name}")
                continue
            diagnostics.append(diagnostic)
        for name in self.declarations:
            values.setdefault(name, Unknown(f"parameter {name}"))
        self.values = values
        return diagnostics

    def secrets(self) -> frozenset[str]:
        """Every text a hidden value is made of, json and list parameters included."""
        return secret_values(self.values, hidden_parameter_names(self.declarations))

    def check_limits(self) -> list[Diagnostic]:
        count = len(self.template.resources)
        maximum = self.limits.max_resources_per_stack
        if count > maximum:
            return [
                Diagnostic(
                    "L8002",
                    f"the template has {count} resources; the limit is {maximum} per stack",
                    self.template.section_path("resources"),
                )
            ]
        return []

    def resolver(self) -> Resolver:
        template = self.template
        pseudo = self.identity.pseudo_parameters()
        parameters = {**pseudo, **self.values}
        scope = StaticScope(
            parameters=parameters,
            resource_names=frozenset(template.resources),
            files=self.files,
            mappings={k: v for k, v in template.mappings.items() if isinstance(v, dict)},
            pseudo_parameters=pseudo,
            facade=self.identity.facade,
        )
        resolver = Resolver(scope, self.limits)
        scope.conditions = ConditionValues(template, resolver)
        self.scope = scope
        return resolver


def _load_environments(
    sources: Sequence[SourceText], limits: TemplateLimits
) -> tuple[Environment, list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    environments: list[Environment] = []
    documents: list[Document] = []
    for source in sources:
        try:
            document = parse_document(source.text, source.name, limits)
        except ParseError as error:
            diagnostics += error.diagnostics
            continue
        environment, found = parse_environment(document.data)
        diagnostics += _locate(found, document)
        environments.append(environment)
        documents.append(document)
    merged, found = merge_environments(environments)
    for diagnostic in found:
        # Merge problems are reported as [index].parameters.name: locate them
        # in the environment file they came from.
        index = diagnostic.path[0] if diagnostic.path else None
        if isinstance(index, int) and 0 <= index < len(documents):
            relative = Diagnostic(
                diagnostic.code,
                diagnostic.message,
                TemplatePath(diagnostic.path[1:]),
                diagnostic.severity,
            )
            diagnostics += _locate([relative], documents[index])
        else:
            diagnostics.append(diagnostic.located(None, documents[-1].name if documents else None))
    return merged, diagnostics


def _locate(diagnostics: Sequence[Diagnostic], document: Document) -> list[Diagnostic]:
    return [d.located(document.source_map.span(d.path), document.name) for d in diagnostics]


#: Provider vocabulary (custom constraints) that lint mode reports as warnings,
#: like unknown resource types: a provider installed later supplies them.
_LINT_WARNINGS = frozenset({"V5004", "S6006"})


def _as_warning(diagnostic: Diagnostic) -> Diagnostic:
    return Diagnostic(
        diagnostic.code,
        diagnostic.message,
        diagnostic.path,
        Severity.WARNING,
        diagnostic.span,
        diagnostic.source,
    )


_FUNCTION_PREFIX = re.compile(r"^[A-Za-z_:]+: ")


def _unique(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Drop repeats: a reference check and the evaluation of the same call can
    both notice an undefined name, one message extending the other."""
    kept: dict[tuple[str | None, str, TemplatePath], list[str]] = {}
    unique: list[Diagnostic] = []
    for diagnostic in diagnostics:
        key = (diagnostic.source, diagnostic.code, diagnostic.path)
        messages = kept.setdefault(key, [])
        message = _FUNCTION_PREFIX.sub("", diagnostic.message)
        if any(message.startswith(m) or m.startswith(message) for m in messages):
            continue
        messages.append(message)
        unique.append(diagnostic)
    return unique


def _order(diagnostic: Diagnostic, main: str) -> tuple[bool, str, int, int, str]:
    """The template's own problems first, then its environments' and nested files', by line."""
    span = diagnostic.span
    return (
        diagnostic.source != main,
        diagnostic.source or "",
        span.line if span else 0,
        span.column if span else 0,
        diagnostic.code,
    )

"""What refers to what: undefined names, resource dependencies and their cycles.

Everything here works on the parsed, unevaluated template, so references in
branches that a condition would drop still count, as they do in Heat.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from kiln.errors import Diagnostic, Severity, TemplatePath
from kiln.graph.dag import find_cycles
from kiln.template.functions.base import Reference, iter_functions
from kiln.template.model import Template

HOT_PSEUDO_PARAMETERS = frozenset({"OS::stack_name", "OS::stack_id", "OS::project_id"})
CFN_PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::StackName",
        "AWS::StackId",
        "AWS::Region",
        "AWS::AccountId",
        "AWS::Partition",
        "AWS::URLSuffix",
        "AWS::NoValue",
        "AWS::NotificationARNs",
    }
)


@dataclass(frozen=True)
class Dependency:
    """``source`` needs ``target`` to exist first; ``path`` is why."""

    source: str
    target: str
    path: TemplatePath


def references_in(node: object) -> Iterator[Reference]:
    for function in iter_functions(node):
        yield from function.references()


def resource_dependencies(template: Template) -> list[Dependency]:
    """Implicit (get_resource, get_attr, Ref, Fn::GetAtt, Fn::Sub) and explicit edges."""
    owners = {
        resource.path / template.key(key): resource.name
        for resource in template.resources.values()
        for key in ("properties", "metadata", "update_policy")
    }
    owners.update(
        {resource.path / "external_id": resource.name for resource in template.resources.values()}
    )
    dependencies: list[Dependency] = []
    for body_path, reference in template.references:
        source = owners.get(body_path)
        if source is None or reference.kind not in ("resource", "attribute", "ref"):
            continue
        if reference.name in template.resources:
            dependencies.append(Dependency(source, reference.name, reference.path))
    for resource in template.resources.values():
        for target, path in zip(resource.depends_on, resource.depends_on_paths, strict=True):
            dependencies.append(Dependency(resource.name, target, path))
    return dependencies


def dependency_map(template: Template) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in template.resources}
    for dependency in resource_dependencies(template):
        if dependency.target in edges:
            edges[dependency.source].add(dependency.target)
    return edges


def check_references(
    template: Template,
    files: Mapping[str, str],
    parameter_names: frozenset[str],
) -> list[Diagnostic]:
    """Every reference to an undefined name, and every dependency cycle, whole."""
    checker = _ReferenceChecker(template, files, parameter_names)
    diagnostics: list[Diagnostic] = []
    for _, reference in template.references:
        diagnostic = checker.check(reference)
        if diagnostic is not None:
            diagnostics.append(diagnostic)
    diagnostics.extend(_condition_names(template))
    diagnostics.extend(_depends_on_targets(template))
    diagnostics.extend(_cycles(template))
    return diagnostics


class _ReferenceChecker:
    def __init__(
        self, template: Template, files: Mapping[str, str], parameter_names: frozenset[str]
    ) -> None:
        self.template = template
        self.files = files
        self.parameters = parameter_names | HOT_PSEUDO_PARAMETERS
        if template.kind == "cfn":
            self.parameters = self.parameters | CFN_PSEUDO_PARAMETERS

    def check(self, reference: Reference) -> Diagnostic | None:
        name = reference.name
        resources = self.template.resources
        if reference.kind in ("resource", "attribute") and name not in resources:
            return _error(
                "R4001",
                f"resource {name!r} is not defined{self._hint(name, resources)}",
                reference.path,
            )
        if reference.kind == "parameter" and name not in self.parameters:
            return _error("R4002", f"parameter {name!r} is not defined", reference.path)
        is_defined = name in self.parameters or name in resources or name in CFN_PSEUDO_PARAMETERS
        if reference.kind == "ref" and not is_defined:
            return _error("R4001", f"{name!r} is not a parameter or resource", reference.path)
        if reference.kind == "condition" and name not in self.template.conditions:
            return _error("R4003", f"condition {name!r} is not defined", reference.path)
        if reference.kind == "mapping" and name not in self.template.mappings:
            return _error("R4004", f"mapping {name!r} is not defined", reference.path)
        if reference.kind == "file" and name not in self.files:
            return _error(
                "F3006",
                f"file {name!r} is not in the files map sent with the template",
                reference.path,
            )
        return None

    @staticmethod
    def _hint(name: str, known: Mapping[str, object]) -> str:
        import difflib

        close = difflib.get_close_matches(name, list(known), n=1)
        return f"; did you mean {close[0]!r}?" if close else ""


def _condition_names(template: Template) -> Iterator[Diagnostic]:
    """``condition: name`` on resources and outputs, and names used as whole conditions."""
    named: list[tuple[object, TemplatePath]] = []
    for resource in template.resources.values():
        named.append((resource.condition, resource.path / template.key("condition")))
    for output in template.outputs.values():
        named.append((output.condition, output.path / template.key("condition")))
    if template.kind == "hot":
        for name, node in template.conditions.items():
            named.append((node, template.section_path("conditions") / name))
    for node, path in named:
        if isinstance(node, str) and node not in template.conditions:
            yield _error("R4003", f"condition {node!r} is not defined", path)


def _depends_on_targets(template: Template) -> Iterator[Diagnostic]:
    for resource in template.resources.values():
        for target, path in zip(resource.depends_on, resource.depends_on_paths, strict=True):
            if target not in template.resources:
                yield _error("R4008", f"depends on resource {target!r}, which is not defined", path)


def _cycles(template: Template) -> Iterator[Diagnostic]:
    edges = dependency_map(template)
    for cycle in find_cycles(edges):
        shown = " -> ".join(cycle)
        yield _error(
            "R4005",
            f"dependency cycle: {shown}",
            template.resources[cycle[0]].path,
        )


def condition_cycles(template: Template) -> Iterator[Diagnostic]:
    """Conditions that end up referring to themselves."""
    edges: dict[str, set[str]] = {name: set() for name in template.conditions}
    for name, node in template.conditions.items():
        if isinstance(node, str) and node in edges:
            edges[name].add(node)
        for reference in references_in(node):
            if reference.kind == "condition" and reference.name in edges:
                edges[name].add(reference.name)
    for cycle in find_cycles(edges):
        yield _error(
            "R4006",
            f"condition cycle: {' -> '.join(cycle)}",
            template.section_path("conditions") / cycle[0],
        )


def _error(code: str, message: str, path: TemplatePath) -> Diagnostic:
    return Diagnostic(code, message, path, Severity.ERROR)

"""Heat environments: parameter values, defaults and the resource registry a stack runs with.

An environment document has the sections of :data:`SECTIONS` and nothing
else. Several documents (``-e a.yaml -e b.yaml``) combine in order: a later
one overrides an earlier one, unless ``parameter_merge_strategies`` asks for a
parameter's values to be merged instead. Heat fixes a parameter's strategy the
first time an environment sets it, and a later environment that names a
different one for it is in conflict; we follow that.

Input is already-parsed data; the caller parses text and locates the
diagnostics (their paths are relative to what each function was handed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiln.errors import ROOT, Diagnostic, Severity, TemplatePath
from kiln.template.resource_registry import (
    RegistryPath,
    ResourceRegistry,
    parse_resource_registry,
)

__all__ = [
    "EVENT_SINK_TYPES",
    "MERGE_STRATEGIES",
    "SECTIONS",
    "Environment",
    "merge_environments",
    "parse_environment",
]

SECTIONS = (
    "parameters",
    "parameter_defaults",
    "resource_registry",
    "event_sinks",
    "encrypted_param_names",
    "parameter_merge_strategies",
)
MERGE_STRATEGIES = ("overwrite", "merge", "deep_merge")
#: Event sink types and the fields each takes besides ``type`` (required ones first).
EVENT_SINK_TYPES: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "zaqar-queue": (("target",), ("ttl",)),
}
_PARAMETER_SECTIONS = ("parameters", "parameter_defaults")
#: Heat parameter type names (HOT and CloudFormation) to how their values merge.
_MERGE_KINDS = {
    "string": "string",
    "number": "number",
    "json": "json",
    "comma_delimited_list": "list",
    "commadelimitedlist": "list",
    "number_list": "list",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class Environment:
    """One environment document, or several merged into one.

    Treat the mappings as read-only; the functions here always build new ones.
    After :func:`merge_environments`, ``parameter_merge_strategies`` holds the
    strategy each merged parameter ended up with.
    """

    parameters: Mapping[str, Any] = field(default_factory=dict)
    parameter_defaults: Mapping[str, Any] = field(default_factory=dict)
    resource_registry: ResourceRegistry = field(default_factory=ResourceRegistry)
    event_sinks: tuple[Mapping[str, Any], ...] = ()
    encrypted_param_names: tuple[str, ...] = ()
    parameter_merge_strategies: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The non-empty sections as environment data (what Heat stores with a stack)."""
        sections: dict[str, Any] = {
            "parameters": _copy(self.parameters),
            "parameter_defaults": _copy(self.parameter_defaults),
            "resource_registry": self.resource_registry.to_dict(),
            "event_sinks": _copy(list(self.event_sinks)),
            "encrypted_param_names": list(self.encrypted_param_names),
            "parameter_merge_strategies": dict(self.parameter_merge_strategies),
        }
        return {name: value for name, value in sections.items() if value}

    def for_nested(self, resource_name: str, *, without: RegistryPath | None = None) -> Environment:
        """The environment of the nested stack that resource ``resource_name`` makes.

        As Heat builds a child environment: the parent's ``parameters`` name the
        parent template's parameters, so they stay behind (a nested stack's values
        come from its parent resource and from ``parameter_defaults``, which carry
        over merged); the registry keeps only the per-resource blocks under
        ``resource_name`` (see :meth:`ResourceRegistry.for_nested`) and loses the
        ``without`` entry that made the resource a provider template.
        """
        return Environment(
            parameter_defaults=_copy(self.parameter_defaults),
            resource_registry=self.resource_registry.for_nested(resource_name, without=without),
            event_sinks=self.event_sinks,
        )


def parse_environment(data: Any, path: TemplatePath = ROOT) -> tuple[Environment, list[Diagnostic]]:
    """Check one environment document and build it; ``path`` prefixes every diagnostic.

    An empty document is an empty environment. Entries with errors are left
    out and the rest still apply, so one typo does not hide other problems.
    """
    if data is None:
        return Environment(), []
    parser = _EnvironmentParser()
    if not isinstance(data, Mapping):
        expected = ", ".join(SECTIONS)
        parser.error("E7001", f"an environment must be a mapping with sections: {expected}", path)
        return Environment(), parser.diagnostics
    fields: dict[str, Any] = {}
    for key, value in data.items():
        where = path / str(key)
        if key not in SECTIONS:
            message = f'environment has an unknown section "{key}"; expected one of: '
            parser.error("E7002", message + ", ".join(SECTIONS), where)
        elif value is None:
            parser.error("E7003", f'environment section "{key}" is empty', where)
        else:
            fields[key] = parser.section(key, value, where)
    built = {name: value for name, value in fields.items() if value is not None}
    return Environment(**built), parser.diagnostics


class _EnvironmentParser:
    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(self, code: str, message: str, where: TemplatePath) -> None:
        self.diagnostics.append(Diagnostic(code, message, where, Severity.ERROR))

    def section(self, name: str, value: Any, where: TemplatePath) -> Any:
        if name in _PARAMETER_SECTIONS:
            return self.parameters(name, value, where)
        if name == "resource_registry":
            registry, found = parse_resource_registry(value, where)
            self.diagnostics.extend(found)
            return registry
        if name == "event_sinks":
            return self.event_sinks(value, where)
        if name == "encrypted_param_names":
            return self.names(value, where)
        return self.strategies(value, where)

    def parameters(self, section: str, value: Any, where: TemplatePath) -> dict[str, Any] | None:
        if not isinstance(value, Mapping):
            self.error("E7004", f"{section} must map parameter names to values", where)
            return None
        result: dict[str, Any] = {}
        for name, item in value.items():
            if isinstance(name, str):
                result[name] = _copy(item)
            else:
                self.error("E7005", "parameter names must be strings", where / str(name))
        return result

    def names(self, value: Any, where: TemplatePath) -> tuple[str, ...] | None:
        if not isinstance(value, list):
            self.error("E7004", "encrypted_param_names must be a list of parameter names", where)
            return None
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.error(
                    "E7007", "encrypted_param_names must hold names (strings)", where / index
                )
        return tuple(item for item in value if isinstance(item, str))

    def strategies(self, value: Any, where: TemplatePath) -> dict[str, str] | None:
        if not isinstance(value, Mapping):
            message = (
                "parameter_merge_strategies must map parameter names (or default) to strategies"
            )
            self.error("E7004", message, where)
            return None
        result: dict[str, str] = {}
        for name, strategy in value.items():
            if not isinstance(name, str):
                self.error("E7005", "parameter names must be strings", where / str(name))
            elif strategy in MERGE_STRATEGIES:
                result[name] = strategy
            else:
                shown = f'"{strategy}"' if isinstance(strategy, str) else "a non-string value"
                message = f"{shown} is not a merge strategy; expected one of: "
                self.error("E7006", message + ", ".join(MERGE_STRATEGIES), where / name)
        return result

    def event_sinks(self, value: Any, where: TemplatePath) -> tuple[Mapping[str, Any], ...] | None:
        if not isinstance(value, list):
            self.error("E7004", "event_sinks must be a list of event sinks", where)
            return None
        sinks = [self.event_sink(sink, where / index) for index, sink in enumerate(value)]
        return tuple(sink for sink in sinks if sink is not None)

    def event_sink(self, sink: Any, where: TemplatePath) -> dict[str, Any] | None:
        if not isinstance(sink, Mapping):
            self.error("E7008", 'an event sink must be a mapping with a "type"', where)
            return None
        sink_type = sink.get("type")
        if not isinstance(sink_type, str) or sink_type not in EVENT_SINK_TYPES:
            if "type" not in sink:
                self.error("E7008", 'an event sink needs a "type"', where)
            else:
                shown = f'"{sink_type}"' if isinstance(sink_type, str) else "a non-string value"
                message = f"{shown} is not an event sink type; expected one of: "
                self.error("E7009", message + ", ".join(EVENT_SINK_TYPES), where / "type")
            return None
        required, optional = EVENT_SINK_TYPES[sink_type]
        count = len(self.diagnostics)
        for name in required:
            if not isinstance(sink.get(name), str):
                message = f'a {sink_type} event sink needs "{name}" (a string)'
                self.error("E7008", message, where / name if name in sink else where)
        for name in sink:
            if name != "type" and name not in required and name not in optional:
                self.error(
                    "E7008",
                    f'"{name}" is not a field of a {sink_type} event sink',
                    where / str(name),
                )
        ttl = sink.get("ttl")
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int)):
            self.error("E7008", "ttl must be a whole number of seconds", where / "ttl")
        return dict(sink) if len(self.diagnostics) == count else None


def merge_environments(
    environments: Sequence[Environment], parameter_types: Mapping[str, str] | None = None
) -> tuple[Environment, list[Diagnostic]]:
    """Combine environments in order, later ones winning, as Heat does for ``-e`` files.

    ``parameter_types`` (parameter name to its template type) decides how a
    ``merge``/``deep_merge`` parameter combines; a name it lacks is judged by
    its values (maps as json, lists as comma_delimited_list, ...). Diagnostic
    paths start with the index of the environment they concern
    (``[1].parameter_merge_strategies.tags``).
    """
    merger = _ParameterMerger(parameter_types or {})
    registry = ResourceRegistry()
    sinks: list[Mapping[str, Any]] = []
    encrypted: list[str] = []
    for index, environment in enumerate(environments):
        merger.add(index, environment)
        registry = registry.merged_with(environment.resource_registry)
        sinks.extend(_copy(dict(sink)) for sink in environment.event_sinks)
        encrypted.extend(
            name for name in environment.encrypted_param_names if name not in encrypted
        )
    merged = Environment(
        parameters=merger.values["parameters"],
        parameter_defaults=merger.values["parameter_defaults"],
        resource_registry=registry,
        event_sinks=tuple(sinks),
        encrypted_param_names=tuple(encrypted),
        parameter_merge_strategies=dict(merger.strategies),
    )
    return merged, merger.diagnostics + _registry_problems(registry, environments)


def _registry_problems(
    registry: ResourceRegistry, environments: Sequence[Environment]
) -> list[Diagnostic]:
    """Alias loops of the combined registry, each put on the environment whose entry won."""
    problems: list[Diagnostic] = []
    for diagnostic in registry.validate():
        entry = tuple(str(segment) for segment in diagnostic.path[1:])
        owners = [
            i for i, env in enumerate(environments) if env.resource_registry.sets_entry(entry)
        ]
        problems.append(diagnostic.under((owners[-1],)) if owners else diagnostic)
    return problems


class _ParameterMerger:
    """Heat's ``merge_parameters``, applied to both parameter sections of each environment."""

    def __init__(self, parameter_types: Mapping[str, str]) -> None:
        self.parameter_types = parameter_types
        self.values: dict[str, dict[str, Any]] = {name: {} for name in _PARAMETER_SECTIONS}
        self.strategies: dict[str, str] = {}
        self.diagnostics: list[Diagnostic] = []
        self.conflicts: set[tuple[int, str]] = set()
        self.boolean_merges: set[str] = set()

    def add(self, index: int, environment: Environment) -> None:
        declared = environment.parameter_merge_strategies
        for section in _PARAMETER_SECTIONS:
            target = self.values[section]
            for name, value in getattr(environment, section).items():
                if value is None:
                    continue  # Heat skips nulls rather than clearing the earlier value
                strategy = self.strategy(index, declared, name)
                where = TemplatePath((index, section, name))
                if strategy == "overwrite":
                    target[name] = _copy(value)
                else:
                    target[name] = self.merge(name, target.get(name), value, strategy, where)

    def strategy(self, index: int, declared: Mapping[str, str], name: str) -> str:
        default = declared.get("default", "overwrite")
        default = default if default in MERGE_STRATEGIES else "overwrite"
        chosen = declared.get(name, self.strategies.get(name, default))
        chosen = chosen if chosen in MERGE_STRATEGIES else default
        recorded = self.strategies.setdefault(name, chosen)
        if recorded != chosen and (index, name) not in self.conflicts:
            self.conflicts.add((index, name))
            message = (
                f'merge strategy "{chosen}" for parameter "{name}" conflicts with '
                f'"{recorded}", chosen for it by an earlier environment'
            )
            where = TemplatePath((index, "parameter_merge_strategies", name))
            self.diagnostics.append(Diagnostic("E7010", message, where))
        return recorded

    def merge(self, name: str, old: Any, new: Any, strategy: str, where: TemplatePath) -> Any:
        kind = _declared_kind(self.parameter_types.get(name, "")) or _infer_kind(old, new)
        if kind == "boolean":
            if name not in self.boolean_merges:  # once: the strategy, not a value, is wrong
                self.boolean_merges.add(name)
                message = (
                    f'merge strategy "{strategy}" cannot be used for boolean parameter "{name}"'
                )
                self.diagnostics.append(Diagnostic("E7011", message, where))
            return _copy(new)
        if kind == "json":
            merged = self.merge_json(name, old, new, strategy == "deep_merge", where)
        else:
            merged = {"list": _merge_list, "number": _merge_number}.get(kind, _merge_string)(
                old, new
            )
        if merged is _CANNOT:
            message = (
                f'{_KIND_NAMES[kind]} parameter "{name}" can only be merged with '
                f"{_KIND_VALUES[kind]}"
            )
            self.diagnostics.append(Diagnostic("E7012", message, where))
            return _copy(new)
        return merged

    def merge_json(self, name: str, old: Any, new: Any, deep: bool, where: TemplatePath) -> Any:
        new_map = _as_map(new)
        old_map = {} if old is None else _as_map(old)
        if new_map is None or old_map is None:
            return _CANNOT
        if not old_map:
            return new_map
        if not deep:
            return {
                **old_map,
                **{key: value for key, value in new_map.items() if value is not None},
            }
        return self.deep_merge(name, old_map, new_map, where)

    def deep_merge(
        self, name: str, old: dict[str, Any], new: Mapping[str, Any], where: TemplatePath
    ) -> dict[str, Any]:
        """Heat's deep merge: maps recurse, lists extend, strings concatenate, the rest replace."""
        result = dict(old)
        for key, value in new.items():
            previous = result.get(key)
            if value is None:
                continue
            if not previous or not isinstance(value, (Mapping, list, str)):
                result[key] = _copy(value)
            elif isinstance(value, Mapping) and isinstance(previous, Mapping):
                result[key] = self.deep_merge(name, dict(previous), value, where / str(key))
            elif isinstance(value, list) and isinstance(previous, list):
                result[key] = previous + _copy(value)
            elif isinstance(value, str) and isinstance(previous, str):
                result[key] = previous + value
            else:
                message = (
                    f"cannot deep-merge {_describe(value)} into {_describe(previous)} "
                    f'in parameter "{name}"; the later value replaces it'
                )
                self.diagnostics.append(Diagnostic("E7012", message, where / str(key)))
                result[key] = _copy(value)
        return result


class _Cannot:
    """Marks a merge that the values' kinds do not allow."""


_CANNOT = _Cannot()
_KIND_NAMES = {
    "string": "string",
    "number": "number",
    "json": "json",
    "list": "comma_delimited_list",
}
_KIND_VALUES = {
    "string": "strings",
    "number": "numbers",
    "json": "maps (or JSON text of one)",
    "list": "lists or comma-separated strings",
}


def _declared_kind(type_name: str) -> str | None:
    lowered = type_name.lower()
    if lowered.startswith("list<"):
        return "list"  # CloudFormation's List<Number> and List<AWS::...> types
    if lowered.startswith("aws::"):
        return "string"
    return _MERGE_KINDS.get(lowered)


def _infer_kind(old: Any, new: Any) -> str:
    values = [value for value in (old, new) if value is not None]
    if any(isinstance(value, list) for value in values):
        return "list"
    if any(isinstance(value, Mapping) for value in values):
        return "json"
    if any(isinstance(value, bool) for value in values):
        return "boolean"
    if all(isinstance(value, (int, float)) for value in values):
        return "number"
    return "string"


def _merge_string(old: Any, new: Any) -> Any:
    previous = "" if old is None else old
    if isinstance(previous, str) and isinstance(new, str):
        return previous + new
    return _CANNOT


def _merge_number(old: Any, new: Any) -> Any:
    """Adds the values, as Heat does; numeric text counts as its number."""
    previous = _as_number(0 if old is None else old)
    value = _as_number(new)
    if previous is None or value is None:
        return _CANNOT
    return previous + value


def _merge_list(old: Any, new: Any) -> Any:
    """Lists extend, comma-delimited strings join with a comma, mixed forms become a list."""
    if not isinstance(new, (list, str)) or not isinstance(old, (list, str, type(None))):
        return _CANNOT
    if not old:
        return _copy(new)
    if isinstance(old, str) and isinstance(new, str):
        return f"{old},{new}"
    return _as_list(old) + _as_list(new)


def _as_list(value: list[Any] | str) -> list[Any]:
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value.split(",") if value else []


def _as_number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        for convert in (int, float):
            try:
                return convert(value)
            except ValueError:
                continue
    return None


def _as_map(value: Any) -> dict[str, Any] | None:
    """A json parameter's value as a map; Heat accepts JSON text for one."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return _copy(dict(value)) if isinstance(value, Mapping) else None


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a scalar"


def _copy(value: Any) -> Any:
    """A copy of plain data, so environments never share mutable parts with their input."""
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(item) for item in value]
    return value

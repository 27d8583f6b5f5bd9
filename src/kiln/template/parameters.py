"""Template parameters: declarations, values, groups, and keeping hidden values hidden.

Declarations come from HOT's ``parameters`` section or CloudFormation's
``Parameters``; values from four sources with Heat's precedence (request >
environment ``parameters`` > environment ``parameter_defaults`` > template
default). Everything is reported as diagnostics with stable codes, and no
message ever contains the value of a hidden (``hidden``/``NoEcho``) parameter.

Which keys a declaration may have depends on the template version; the caller
passes the dialect's key set in, so this module needs no dialect table.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from kiln.errors import Diagnostic, Severity, TemplatePath
from kiln.schema.constraints import (
    PARAMETER_CODES,
    AllowedPattern,
    AllowedValues,
    Constraint,
    CustomConstraint,
    CustomConstraintRegistry,
    Length,
    Modulo,
    Range,
    check_all,
)
from kiln.schema.types import PropertyType, SchemaDefinitionError, parse_boolean_text, parse_number
from kiln.schema.values import contains_unknown
from kiln.template.parameter_types import (
    AWS_SPECIFIC_TYPES,
    CFN_TYPE_NAMES,
    HIDDEN_MASK,
    HOT_TYPE_NAMES,
    Kind,
    ParameterDeclaration,
    ParameterType,
    Redactor,
    cfn_parameter_type,
    cfn_type_names,
    hidden_parameter_names,
    mask_hidden_values,
    redact,
    secret_values,
)

__all__ = [
    "HIDDEN_MASK",
    "ParameterDeclaration",
    "Redactor",
    "hidden_parameter_names",
    "mask_hidden_values",
    "parse_parameter_declarations",
    "redact",
    "resolve_parameter_values",
    "secret_values",
    "validate_parameter_groups",
]

MISSING_VALUE = "V5001"
BAD_VALUE = "V5002"
IMMUTABLE_CHANGED = "V5006"
UNDECLARED = "V5007"
NOT_A_MAP = "V5010"
UNKNOWN_KEY = "V5011"
MISSING_TYPE = "V5012"
UNKNOWN_TYPE = "V5013"
BAD_CONSTRAINT = "V5014"
CONSTRAINT_NOT_FOR_TYPE = "V5015"
BAD_DEFAULT = "V5016"
BAD_ATTRIBUTE = "V5017"
BAD_SECTION = "V5018"
SEVERAL_CONSTRAINTS = "V5019"
GROUPS_NOT_A_LIST = "V5020"
BAD_GROUP = "V5021"
GROUPED_TWICE = "V5022"
GROUP_UNKNOWN_PARAMETER = "V5023"

_PARAMETERS_SECTION = TemplatePath(("parameters",))


# --- parsing declarations -------------------------------------------------------------

_HOT_CONSTRAINT_KEYS = frozenset(
    {
        "description",
        "length",
        "range",
        "modulo",
        "allowed_values",
        "allowed_pattern",
        "custom_constraint",
    }
)
#: Heat takes the first of these that an item has (modulo only from 2017-02-24).
_HOT_CONSTRAINT_ORDER: tuple[str, ...] = (
    "range",
    "length",
    "allowed_values",
    "allowed_pattern",
    "custom_constraint",
)
_MODULO_VERSION = "2017-02-24"
_CFN_CONSTRAINT_KEYS = (
    ("MinValue", "MaxValue"),
    ("MinLength", "MaxLength"),
    ("AllowedValues",),
    ("AllowedPattern",),
)


def _suggest(key: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _number_or_none(value: Any) -> Any:
    """Heat's ``get_num``: bounds written as text still count as numbers."""
    if value is None or isinstance(value, bool):
        return value
    number = parse_number(value)
    return value if number is None else number


class _DeclarationParser:
    """Parses one parameters section, collecting diagnostics instead of stopping."""

    def __init__(self, kind: Kind, allowed_keys: frozenset[str], version: str) -> None:
        self.kind = kind
        self.allowed_keys = allowed_keys
        self.version = version
        self.diagnostics: list[Diagnostic] = []

    def report(
        self, code: str, message: str, path: TemplatePath, severity: Severity = Severity.ERROR
    ) -> None:
        self.diagnostics.append(Diagnostic(code, message, path, severity))

    def check_keys(
        self, body: Mapping[Any, Any], allowed: Iterable[str], what: str, path: TemplatePath
    ) -> None:
        allowed = frozenset(allowed)
        for key in body:
            if key not in allowed:
                message = f"unknown key '{key}' in {what}{_suggest(str(key), allowed)}"
                self.report(UNKNOWN_KEY, message, path / str(key))

    def get(self, body: Mapping[str, Any], key: str) -> Any:
        """A key's value, ignoring keys this version does not have (already reported)."""
        return body.get(key) if key in self.allowed_keys else None

    def parse(self, name: str, body: Any, path: TemplatePath) -> ParameterDeclaration | None:
        if not isinstance(body, Mapping):
            self.report(NOT_A_MAP, f"parameter '{name}' must be a map", path)
            return None
        self.check_keys(body, self.allowed_keys, f"parameter '{name}'", path)
        if self.kind == "hot":
            return self._parse_hot(name, body, path)
        return self._parse_cfn(name, body, path)

    # -- HOT

    def _parse_hot(
        self, name: str, body: Mapping[str, Any], path: TemplatePath
    ) -> ParameterDeclaration | None:
        resolved = self._resolve_type(name, body, "type", path)
        hidden = self._flag(body, "hidden", path)
        immutable = self._flag(body, "immutable", path)
        label = self._text(body, "label", path)
        description = self._text(body, "description", path) or ""
        tags = self._tags(body, path)
        if resolved is None:
            return None
        parameter_type, type_name, _ = resolved
        constraints = self._hot_constraints(
            body.get("constraints"), parameter_type, type_name, path
        )
        declaration = ParameterDeclaration(
            name=name,
            type=parameter_type,
            path=path,
            type_name=type_name,
            kind="hot",
            default=body.get("default"),
            has_default=body.get("default") is not None,
            hidden=hidden,
            immutable=immutable,
            label=label,
            description=description,
            tags=tags,
            constraints=constraints,
        )
        self._check_default(declaration, path / "default")
        return declaration

    def _resolve_type(
        self, name: str, body: Mapping[str, Any], key: str, path: TemplatePath
    ) -> tuple[ParameterType, str, str | None] | None:
        if key not in body:
            self.report(MISSING_TYPE, f"parameter '{name}' has no {key}", path)
            return None
        type_name = body[key]
        if isinstance(type_name, str):
            if self.kind == "hot" and type_name in HOT_TYPE_NAMES:
                return HOT_TYPE_NAMES[type_name], type_name, None
            cfn = cfn_parameter_type(type_name) if self.kind == "cfn" else None
            if cfn is not None:
                return cfn[0], type_name, cfn[1]
        names = list(HOT_TYPE_NAMES) if self.kind == "hot" else cfn_type_names()
        shown = type_name if isinstance(type_name, str) else str(type_name)
        candidates = names if self.kind == "hot" else [*CFN_TYPE_NAMES, *AWS_SPECIFIC_TYPES]
        hint = _suggest(shown, candidates) or f"; expected one of: {', '.join(names)}"
        message = f"unknown parameter type '{shown}'{hint}"
        self.report(UNKNOWN_TYPE, message, path / key)
        return None

    def _flag(self, body: Mapping[str, Any], key: str, path: TemplatePath) -> bool:
        value = self.get(body, key)
        if value is None or isinstance(value, bool):
            return bool(value)
        parsed = parse_boolean_text(value) if isinstance(value, str) else None
        if parsed is None:
            self.report(BAD_ATTRIBUTE, f"'{key}' must be a boolean", path / key)
            return False
        return parsed

    def _text(self, body: Mapping[str, Any], key: str, path: TemplatePath) -> str | None:
        value = self.get(body, key)
        if value is None or isinstance(value, str):
            return value
        self.report(BAD_ATTRIBUTE, f"'{key}' must be a string", path / key)
        return None

    def _tags(self, body: Mapping[str, Any], path: TemplatePath) -> tuple[str, ...]:
        value = self.get(body, "tags")
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
            self.report(BAD_ATTRIBUTE, "'tags' must be a list of strings", path / "tags")
            return ()
        return tuple(value)

    def _hot_constraints(
        self, raw: Any, parameter_type: ParameterType, type_name: str, path: TemplatePath
    ) -> tuple[Constraint, ...]:
        if raw is None or "constraints" not in self.allowed_keys:
            return ()
        path = path / "constraints"
        if not isinstance(raw, list):
            self.report(BAD_CONSTRAINT, "constraints must be a list", path)
            return ()
        constraints: list[Constraint] = []
        for index, item in enumerate(raw):
            built = self._hot_constraint(item, path / index)
            if built is None:
                continue
            if self._applies(built, parameter_type, type_name, path / index / built.kind):
                constraints.append(built)
        return tuple(constraints)

    def _hot_constraint(self, item: Any, path: TemplatePath) -> Constraint | None:
        if not isinstance(item, Mapping):
            self.report(BAD_CONSTRAINT, "a constraint must be a map", path)
            return None
        self.check_keys(item, _HOT_CONSTRAINT_KEYS, "constraint", path)
        order = _HOT_CONSTRAINT_ORDER
        if self.version >= _MODULO_VERSION:
            order = ("modulo", *order)
        elif "modulo" in item:
            message = (
                f"the modulo constraint needs heat_template_version {_MODULO_VERSION} or later"
            )
            self.report(BAD_CONSTRAINT, message, path / "modulo")
        kinds = [kind for kind in order if kind in item]
        if not kinds:
            if "modulo" not in item:
                self.report(BAD_CONSTRAINT, "no constraint given", path)
            return None
        if len(kinds) > 1:
            ignored = ", ".join(f"'{kind}'" for kind in kinds[1:])
            message = (
                f"only one constraint is used per item: '{kinds[0]}' applies, {ignored} ignored"
            )
            self.report(SEVERAL_CONSTRAINTS, message, path, Severity.WARNING)
        description = item.get("description")
        if description is not None and not isinstance(description, str):
            self.report(BAD_ATTRIBUTE, "'description' must be a string", path / "description")
            description = None
        return self._build_hot(kinds[0], item[kinds[0]], description, path / kinds[0])

    def _build_hot(
        self, kind: str, definition: Any, description: str | None, path: TemplatePath
    ) -> Constraint | None:
        try:
            if kind in ("range", "length", "modulo"):
                keys = ("step", "offset") if kind == "modulo" else ("min", "max")
                if not isinstance(definition, Mapping):
                    raise SchemaDefinitionError(f"a {kind} constraint must be a map")
                self.check_keys(definition, keys, f"{kind} constraint", path)
                first, second = (_number_or_none(definition.get(key)) for key in keys)
                if kind == "range":
                    return Range(first, second, description)
                if kind == "length":
                    return Length(first, second, description)
                return Modulo(first, second, description)
            if kind == "allowed_values":
                return AllowedValues(definition, description)
            if kind == "allowed_pattern":
                return AllowedPattern(definition, description)
            return CustomConstraint(definition, description)
        except SchemaDefinitionError as error:
            self.report(BAD_CONSTRAINT, str(error), path)
            return None

    def _applies(
        self,
        constraint: Constraint,
        parameter_type: ParameterType,
        type_name: str,
        path: TemplatePath,
    ) -> bool:
        """Heat's valid-types rule; ``path`` ends with the key that declared the constraint."""
        property_type = parameter_type.property_type
        applies = property_type in constraint.applies_to
        # CloudFormation checks AllowedPattern against each item of a list.
        if self.kind == "cfn" and isinstance(constraint, AllowedPattern):
            applies = applies or property_type is PropertyType.LIST
        if not applies:
            message = f"{path[-1]} is not valid for a parameter of type {type_name}"
            self.report(CONSTRAINT_NOT_FOR_TYPE, message, path)
        return applies

    # -- CloudFormation

    def _parse_cfn(
        self, name: str, body: Mapping[str, Any], path: TemplatePath
    ) -> ParameterDeclaration | None:
        resolved = self._resolve_type(name, body, "Type", path)
        hidden = self._no_echo(body, path)
        label = self._text(body, "Label", path)
        description = self._text(body, "Description", path) or ""
        constraint_description = self._text(body, "ConstraintDescription", path)
        if resolved is None:
            return None
        parameter_type, type_name, aws_type = resolved
        constraints: list[Constraint] = []
        for keys in _CFN_CONSTRAINT_KEYS:
            if not any(key in body and key in self.allowed_keys for key in keys):
                continue
            present = next(key for key in keys if key in body)
            built = self._build_cfn(keys, body, constraint_description, path / present)
            if built is not None and self._applies(
                built, parameter_type, type_name, path / present
            ):
                constraints.append(built)
        declaration = ParameterDeclaration(
            name=name,
            type=parameter_type,
            path=path,
            type_name=type_name,
            kind="cfn",
            default=body.get("Default"),
            has_default=body.get("Default") is not None,
            hidden=hidden,
            label=label,
            description=description,
            constraints=tuple(constraints),
            aws_type=aws_type,
        )
        self._check_default(declaration, path / "Default")
        return declaration

    def _no_echo(self, body: Mapping[str, Any], path: TemplatePath) -> bool:
        value = self.get(body, "NoEcho")
        if value is None:
            return False
        if isinstance(value, (bool, str)):
            return str(value).lower() == "true"
        self.report(BAD_ATTRIBUTE, "'NoEcho' must be a boolean", path / "NoEcho")
        return False

    def _build_cfn(
        self,
        keys: tuple[str, ...],
        body: Mapping[str, Any],
        description: str | None,
        path: TemplatePath,
    ) -> Constraint | None:
        try:
            if keys == ("MinValue", "MaxValue"):
                minimum, maximum = (_number_or_none(body.get(key)) for key in keys)
                return Range(minimum, maximum, description)
            if keys == ("MinLength", "MaxLength"):
                minimum, maximum = (_number_or_none(body.get(key)) for key in keys)
                return Length(minimum, maximum, description)
            if keys == ("AllowedValues",):
                return AllowedValues(body[keys[0]], description)
            return AllowedPattern(body[keys[0]], description)
        except SchemaDefinitionError as error:
            self.report(BAD_CONSTRAINT, str(error), path)
            return None

    # -- defaults

    def _check_default(self, declaration: ParameterDeclaration, path: TemplatePath) -> None:
        """Heat validates a declared default against the type and non-custom constraints."""
        if not declaration.has_default:
            return
        subject = declaration.hidden_subject
        converted, problem = declaration.convert(declaration.default)
        if problem is not None:
            message = problem.message(declaration.default, subject)
            self.report(BAD_DEFAULT, f"invalid default: {message}", path)
            return
        rules = [c for c in declaration.constraints if not isinstance(c, CustomConstraint)]
        property_type = declaration.type.property_type
        for failure in check_all(rules, converted, value_type=property_type, subject=subject):
            self.report(BAD_DEFAULT, f"invalid default: {failure.message}", path)


def parse_parameter_declarations(
    section: Any,
    kind: Kind,
    allowed_keys: frozenset[str],
    path: TemplatePath,
    version: str,
) -> tuple[dict[str, ParameterDeclaration], list[Diagnostic]]:
    """Declarations by name and every problem found; ``path`` is the section's own path.

    A parameter whose type cannot be determined is reported and left out.
    """
    if section is None:
        return {}, []
    if not isinstance(section, Mapping):
        return {}, [Diagnostic(BAD_SECTION, "the parameters section must be a map", path)]
    parser = _DeclarationParser(kind, allowed_keys, version)
    declarations: dict[str, ParameterDeclaration] = {}
    for name, body in section.items():
        if not isinstance(name, str):
            parser.report(
                BAD_SECTION, f"parameter name {name!r} must be a string", path / str(name)
            )
            continue
        declaration = parser.parse(name, body, path / name)
        if declaration is not None:
            declarations[name] = declaration
    return declarations, parser.diagnostics


# --- values -----------------------------------------------------------------------


def _choose_value(
    name: str, declaration: ParameterDeclaration, sources: Iterable[Mapping[str, Any]]
) -> tuple[Any, bool]:
    """The first non-null value among the sources, then the template default."""
    for source in sources:
        value = source.get(name)
        if value is not None:
            return value, True
    if declaration.has_default:
        return declaration.default, True
    return None, False


def _check_value(
    declaration: ParameterDeclaration,
    raw: Any,
    custom_constraints: CustomConstraintRegistry,
) -> tuple[Any, bool, list[Diagnostic]]:
    """The converted value, whether conversion worked, and diagnostics at the declaration."""
    subject = declaration.hidden_subject
    converted, problem = declaration.convert(raw)
    if problem is not None:
        return raw, False, [Diagnostic(BAD_VALUE, problem.message(raw, subject), declaration.path)]
    failures = check_all(
        declaration.constraints,
        converted,
        custom_constraints,
        value_type=declaration.type.property_type,
        codes=PARAMETER_CODES,
        subject=subject,
    )
    return converted, True, [failure.under(declaration.path) for failure in failures]


def resolve_parameter_values(
    declarations: Mapping[str, ParameterDeclaration],
    user_values: Mapping[str, Any],
    environment_parameters: Mapping[str, Any],
    parameter_defaults: Mapping[str, Any],
    custom_constraints: CustomConstraintRegistry,
    *,
    previous: Mapping[str, Any] | None = None,
    section_path: TemplatePath = _PARAMETERS_SECTION,
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Typed values by name, and every problem with them.

    Precedence is Heat's: request values, then the environment's
    ``parameters``, then its ``parameter_defaults``, then the template default;
    a null counts as not given. Values for undeclared parameters are refused
    (defaults for them are ignored, as Heat does). ``previous`` holds the
    values of the stack being updated, for the immutable check. A value that
    converts but breaks a constraint is still returned, so that validation of
    the rest of the template can go on.
    """
    diagnostics: list[Diagnostic] = []
    undeclared = [name for name in user_values if name not in declarations]
    undeclared += [
        name
        for name in environment_parameters
        if name not in declarations and name not in user_values
    ]
    for name in undeclared:
        message = f"parameter '{name}' is not defined in the template"
        diagnostics.append(Diagnostic(UNDECLARED, message, section_path / str(name)))
    values: dict[str, Any] = {}
    sources = (user_values, environment_parameters, parameter_defaults)
    for name, declaration in declarations.items():
        raw, found = _choose_value(name, declaration, sources)
        if not found:
            message = f"parameter '{name}' has no value"
            diagnostics.append(Diagnostic(MISSING_VALUE, message, declaration.path))
            continue
        if contains_unknown(raw):
            # Known only once another resource exists (a provider template's
            # properties): nothing to convert or check yet.
            values[name] = raw
            continue
        converted, converted_ok, problems = _check_value(declaration, raw, custom_constraints)
        diagnostics.extend(problems)
        if not converted_ok:
            continue
        if (
            previous is not None
            and declaration.immutable
            and name in previous
            and previous[name] != converted
        ):
            message = f"parameter '{name}' is immutable and cannot be changed"
            diagnostics.append(Diagnostic(IMMUTABLE_CHANGED, message, declaration.path))
        values[name] = converted
    return values, diagnostics


# --- parameter groups -----------------------------------------------------------------


def validate_parameter_groups(
    groups: Any,
    declarations: Mapping[str, ParameterDeclaration],
    path: TemplatePath,
    *,
    pseudo_parameters: Iterable[str] = (),
) -> list[Diagnostic]:
    """Heat's rules: a list of groups, each with a ``parameters`` list of declared names,
    no name in two groups. ``path`` is the ``parameter_groups`` section's path.
    """
    if not groups:
        return []
    if not isinstance(groups, list):
        return [Diagnostic(GROUPS_NOT_A_LIST, "parameter_groups must be a list", path)]
    known = set(declarations) | set(pseudo_parameters)
    diagnostics: list[Diagnostic] = []
    grouped: set[str] = set()
    for index, group in enumerate(groups):
        group_path = path / index
        if not isinstance(group, Mapping):
            diagnostics.append(Diagnostic(BAD_GROUP, "a parameter group must be a map", group_path))
            continue
        names = group.get("parameters")
        if names is None:
            message = "a parameter group needs a 'parameters' list"
            diagnostics.append(Diagnostic(BAD_GROUP, message, group_path))
            continue
        if not isinstance(names, list):
            message = "'parameters' of a parameter group must be a list"
            diagnostics.append(Diagnostic(BAD_GROUP, message, group_path / "parameters"))
            continue
        for position, name in enumerate(names):
            diagnostics.extend(
                _check_grouped(name, known, grouped, group_path / "parameters" / position)
            )
    return diagnostics


def _check_grouped(
    name: Any, known: set[str], grouped: set[str], path: TemplatePath
) -> list[Diagnostic]:
    if not isinstance(name, str):
        return [Diagnostic(GROUP_UNKNOWN_PARAMETER, "a grouped parameter must be a name", path)]
    diagnostics: list[Diagnostic] = []
    if name in grouped:
        message = f"parameter '{name}' is in more than one parameter group"
        diagnostics.append(Diagnostic(GROUPED_TWICE, message, path))
    grouped.add(name)
    if name not in known:
        message = f"parameter group refers to unknown parameter '{name}'"
        diagnostics.append(Diagnostic(GROUP_UNKNOWN_PARAMETER, message, path))
    return diagnostics

"""Heat's template routes: validate, template versions and their functions, resource
types with their schemas and the provider templates Heat generates from them."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter

from kiln.api import bodies
from kiln.api.app import ServerState
from kiln.api.errors import ApiError
from kiln.api.stacks import JsonBody, State, _bool_param, service_for
from kiln.errors import TemplateError
from kiln.schema.constraints import (
    AllowedPattern,
    AllowedValues,
    Constraint,
    CustomConstraint,
    Length,
    Modulo,
    Range,
)
from kiln.schema.resource_schema import PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, SupportState
from kiln.service.queries import NestedTemplate, nested_templates
from kiln.template.dialects import (
    CFN_DIALECT,
    CFN_VERSIONS,
    HEAT_CFN_VERSIONS,
    HOT_ALIASES,
    HOT_DIALECTS,
    HOT_VERSIONS,
    Dialect,
)
from kiln.template.functions.base import Removed
from kiln.template.parameter_types import HIDDEN_MASK, ParameterDeclaration, ParameterType
from kiln.template.validate import ValidationResult

router = APIRouter(prefix="/v1/{project_id}", tags=["templates"])

#: The version keys of each format, as Heat names its template versions.
HOT_KEY, CFN_KEY, HEAT_CFN_KEY = (
    "heat_template_version",
    "AWSTemplateFormatVersion",
    "HeatTemplateFormatVersion",
)
#: Parameter types as Heat's validate names them.
_VALIDATE_TYPES = {
    ParameterType.STRING: "String",
    ParameterType.NUMBER: "Number",
    ParameterType.COMMA_DELIMITED_LIST: "CommaDelimitedList",
    ParameterType.NUMBER_LIST: "CommaDelimitedList",
    ParameterType.JSON: "Json",
    ParameterType.BOOLEAN: "Boolean",
}
#: What Heat's validate says of a template without a description.
NO_DESCRIPTION = "No description"

#: Every resource has Heat's ``show`` attribute.
SHOW_ATTRIBUTE = {"description": "Detailed information about resource.", "type": "map"}


# -- validate -------------------------------------------------------------------------


@router.post("/validate", summary="Validate a template")
def validate(
    project_id: str,
    state: State,
    body: JsonBody,
    show_nested: str | None = None,
    ignore_errors: str | None = None,
) -> dict[str, Any]:
    """Heat's answer for a valid template: its description, each parameter as a form
    would need it, parameter groups and the environment; with ``show_nested``, the same
    for each nested template. Hidden values are masked."""
    nested = _bool_param("show_nested", show_nested)
    definition = bodies.definition(body)
    service = service_for(state, project_id)
    result = service.check_template(definition)
    ignored = {code for code in (ignore_errors or "").split(",") if code}
    errors = [error for error in result.errors if error.code not in ignored]
    if errors or result.template is None:
        raise TemplateError(errors or result.errors)
    environment = result.environment
    given = {**(environment.parameters if environment else {}), **definition.parameters}
    defaults = environment.parameter_defaults if environment else {}
    answer = _form(result, given, defaults)
    if nested:
        answer.update(_nested_forms(nested_templates(service, definition, result)))
    answer["Environment"] = _environment(result)
    return answer


def _form(
    result: ValidationResult, given: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """A template's description, parameters and parameter groups, as Heat's validate gives them."""
    form: dict[str, Any] = {
        # Heat answers a placeholder for a template that has no description.
        "Description": (result.template.description if result.template else "") or NO_DESCRIPTION,
        "Parameters": {
            name: validated_parameter(declaration, given, defaults)
            for name, declaration in result.declarations.items()
        },
    }
    if result.template is not None and result.template.parameter_groups:
        form["ParameterGroups"] = result.template.parameter_groups
    return form


def _nested_forms(nested: list[NestedTemplate]) -> dict[str, Any]:
    """Heat's ``NestedParameters``: each nested template's form under its resource's name."""
    if not nested:
        return {}
    return {
        "NestedParameters": {
            item.resource: {
                "Type": item.type_name,
                **_form(item.result, {}, {}),
                **_nested_forms(list(item.nested)),
            }
            for item in nested
        }
    }


def validated_parameter(
    declaration: ParameterDeclaration, given: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """One parameter in the shape of Heat's validate (CloudFormation's key names)."""

    def shown(value: Any) -> Any:
        return HIDDEN_MASK if declaration.hidden else value

    entry: dict[str, Any] = {
        "Type": _VALIDATE_TYPES[declaration.type],
        "Description": declaration.description or "",
        "NoEcho": "true" if declaration.hidden else "false",
        "Label": declaration.label or declaration.name,
    }
    if declaration.name in defaults:
        entry["Default"] = shown(defaults[declaration.name])
    elif declaration.has_default:
        entry["Default"] = shown(declaration.default)
    if given.get(declaration.name) is not None:
        entry["Value"] = shown(given[declaration.name])
    if declaration.tags:
        entry["Tags"] = list(declaration.tags)
    entry.update(_constraint_keys(declaration.constraints))
    return entry


def _constraint_keys(constraints: tuple[Constraint, ...]) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    for constraint in constraints:
        if isinstance(constraint, Length):
            keys.update(_bounds("MinLength", "MaxLength", constraint.min, constraint.max))
        elif isinstance(constraint, Range):
            keys.update(_bounds("MinValue", "MaxValue", constraint.min, constraint.max))
        elif isinstance(constraint, Modulo):
            keys.update({"Step": constraint.step, "Offset": constraint.offset})
        elif isinstance(constraint, AllowedValues):
            keys["AllowedValues"] = list(constraint.values)
        elif isinstance(constraint, AllowedPattern):
            keys["AllowedPattern"] = constraint.pattern
        elif isinstance(constraint, CustomConstraint):
            keys["CustomConstraint"] = constraint.name
    descriptions = [c.description for c in constraints if c.description]
    if descriptions:
        keys["ConstraintDescription"] = " ".join(descriptions)
    return keys


def _bounds(low: str, high: str, minimum: Any, maximum: Any) -> dict[str, Any]:
    return {key: value for key, value in ((low, minimum), (high, maximum)) if value is not None}


def _environment(result: ValidationResult) -> dict[str, Any]:
    """The merged environment as Heat echoes it, hidden parameters masked."""
    # Heat always names the four sections a user may set, and the registry's resources.
    merged: dict[str, Any] = {
        "event_sinks": [],
        "parameter_defaults": {},
        "parameters": {},
        "resource_registry": {"resources": {}},
    }
    if result.environment is not None:
        given = result.environment.to_dict()
        merged.update({section: given[section] for section in merged if section in given})
        merged["resource_registry"].setdefault("resources", {})
    hidden = {name for name, d in result.declarations.items() if d.hidden}
    for section in ("parameters", "parameter_defaults"):
        if section in merged:
            merged[section] = {
                name: HIDDEN_MASK if name in hidden else value
                for name, value in merged[section].items()
            }
    return result.redactor.value(merged)  # type: ignore[no-any-return]


# -- template versions ------------------------------------------------------------------


def _dialects() -> dict[str, Dialect]:
    """Every version name Heat's template versions API knows, aliases included."""
    named: dict[str, Dialect] = {f"{HOT_KEY}.{v}": HOT_DIALECTS[v] for v in HOT_VERSIONS}
    named.update({f"{HOT_KEY}.{alias}": HOT_DIALECTS[v] for alias, v in HOT_ALIASES.items()})
    named.update({f"{CFN_KEY}.{version}": CFN_DIALECT for version in CFN_VERSIONS})
    named.update({f"{HEAT_CFN_KEY}.{version}": CFN_DIALECT for version in HEAT_CFN_VERSIONS})
    return named


@router.get("/template_versions", summary="List template versions")
def template_versions(project_id: str) -> dict[str, Any]:
    """Dated versions in name order, each with its release-name aliases."""
    versions = [
        *(
            {"version": f"{key}.{version}", "type": "cfn", "aliases": []}
            for key, version in [
                *((CFN_KEY, v) for v in CFN_VERSIONS),
                *((HEAT_CFN_KEY, v) for v in HEAT_CFN_VERSIONS),
            ]
        ),
        *(
            {
                "version": f"{HOT_KEY}.{version}",
                "type": "hot",
                "aliases": [
                    f"{HOT_KEY}.{alias}" for alias, dated in HOT_ALIASES.items() if dated == version
                ],
            }
            for version in HOT_VERSIONS
        ),
    ]
    return {"template_versions": sorted(versions, key=lambda entry: entry["version"])}


@router.get("/template_versions/{template_version}/functions", summary="List functions")
def template_functions(
    project_id: str, template_version: str, with_condition_func: str | None = None
) -> dict[str, Any]:
    dialect = _dialects().get(template_version)
    if dialect is None:
        raise ApiError(404, "NotFound", f"Template with version {template_version} not found")
    functions = dict(dialect.functions)
    if _bool_param("with_condition_func", with_condition_func):
        functions.update(dialect.condition_functions)
    return {
        "template_functions": [
            {"functions": name, "description": _synopsis(implementation)}
            for name, implementation in functions.items()
            if implementation is not Removed
        ]
    }


def _synopsis(implementation: type) -> str:
    lines = (inspect.getdoc(implementation) or "").splitlines()
    return lines[0] if lines else ""


# -- resource types -----------------------------------------------------------------------


@router.get("/resource_types", summary="List resource types")
def resource_types(
    project_id: str,
    state: State,
    name: str | None = None,
    version: str | None = None,
    support_status: str | None = None,
    with_description: str | None = None,
) -> dict[str, Any]:
    """Types by name (a regular expression matched from the start), support version and
    status; hidden types are never listed."""
    known = {member.value for member in SupportState}
    if support_status is not None and support_status not in known:
        raise ApiError(
            400, "Invalid", f"Invalid support status and should be one of {sorted(known)}"
        )
    try:
        pattern = re.compile(name) if name is not None else None
    except re.error:
        return {"resource_types": []}
    schemas = [
        schema
        for schema in _visible_schemas(state)
        if (pattern is None or pattern.match(schema.type_name))
        and (version is None or schema.support_status.version == version)
        and (support_status is None or schema.support_status.state.value == support_status)
    ]
    if _bool_param("with_description", with_description):
        return {
            "resource_types": [
                {"resource_type": s.type_name, "description": s.description} for s in schemas
            ]
        }
    return {"resource_types": [schema.type_name for schema in schemas]}


def _visible_schemas(state: ServerState) -> list[ResourceSchema]:
    registry = state.plugins.schemas()
    schemas = [registry.get(name) for name in registry.type_names()]
    hidden = SupportState.HIDDEN
    return [s for s in schemas if s is not None and s.support_status.state is not hidden]


def _schema(state: ServerState, type_name: str) -> ResourceSchema:
    for schema in _visible_schemas(state):
        if schema.type_name == type_name:
            return schema
    raise ApiError(
        404, "InvalidGlobalResource", f"The Resource Type ({type_name}) could not be found."
    )


@router.get("/resource_types/{type_name}", summary="Show a resource type's schema")
def resource_schema(
    project_id: str, type_name: str, state: State, with_description: str | None = None
) -> dict[str, Any]:
    schema = _schema(state, type_name)
    shown = schema.to_heat_dict()
    shown["properties"] = {name: shown["properties"][name] for name in _visible_properties(schema)}
    shown["attributes"] = {**shown["attributes"], "show": SHOW_ATTRIBUTE}
    shown["support_status"] = {"previous_status": None, **shown["support_status"]}
    if not _bool_param("with_description", with_description):
        shown.pop("description", None)
    return shown


def _visible_properties(schema: ResourceSchema) -> dict[str, PropertySchema]:
    return {
        name: prop
        for name, prop in schema.properties.items()
        if prop.support_status.state is not SupportState.HIDDEN
    }


@router.get("/resource_types/{type_name}/template", summary="A template for a resource type")
def resource_template(
    project_id: str, type_name: str, state: State, template_type: str = "cfn"
) -> dict[str, Any]:
    """Heat's generated provider template: a parameter per property, passed straight
    to one resource of the type, and an output per attribute."""
    kind = template_type.lower()
    if kind not in ("cfn", "hot"):
        raise ApiError(
            400,
            "Invalid",
            f'Template type is not supported: Invalid template type "{template_type}", '
            "valid types are: cfn, hot.",
        )
    schema = _schema(state, type_name)
    return provider_template(schema, hot=kind == "hot")


def provider_template(schema: ResourceSchema, *, hot: bool) -> dict[str, Any]:
    resource = schema.type_name.rsplit("::", 1)[-1]
    key = _key(hot)
    properties = _visible_properties(schema)
    attributes = {name: a.description for name, a in schema.attributes.items()}
    attributes["show"] = SHOW_ATTRIBUTE["description"]
    outputs: dict[str, Any] = {
        name: {
            key("value"): {"get_attr" if hot else "Fn::GetAtt": [resource, name]},
            key("description"): text,
        }
        for name, text in attributes.items()
    }
    outputs["OS::stack_id"] = {key("value"): {"get_resource" if hot else "Ref": resource}}
    version = ("heat_template_version", "2016-10-14") if hot else (HEAT_CFN_KEY, "2012-12-12")
    return {
        version[0]: version[1],
        key("description"): f"Initial template of {resource}",
        key("parameters"): {name: _parameter(prop, hot) for name, prop in properties.items()},
        key("resources"): {
            resource: {
                key("type"): schema.type_name,
                key("properties"): {
                    name: _property_value(name, prop, hot) for name, prop in properties.items()
                },
            }
        },
        key("outputs"): outputs,
    }


def _key(hot: bool) -> Callable[[str], str]:
    """How a HOT key is spelled in the generated template's format."""
    return (lambda hot_name: hot_name) if hot else str.capitalize


def _property_value(name: str, prop: PropertySchema, hot: bool) -> dict[str, Any]:
    if hot:
        return {"get_param": name}
    if prop.type is PropertyType.LIST:
        return {"Fn::Split": [",", {"Ref": name}]}
    return {"Ref": name}


#: The parameter type standing for each property type, in HOT and in CloudFormation.
_PARAMETER_TYPES = {
    PropertyType.STRING: ("string", "String"),
    PropertyType.INTEGER: ("number", "Number"),
    PropertyType.NUMBER: ("number", "Number"),
    PropertyType.BOOLEAN: ("boolean", "Boolean"),
    PropertyType.MAP: ("json", "Json"),
    PropertyType.JSON: ("json", "Json"),
    PropertyType.LIST: ("comma_delimited_list", "CommaDelimitedList"),
}


def _parameter(prop: PropertySchema, hot: bool) -> dict[str, Any]:
    """A property as a parameter of the generated template (Heat's mapping)."""
    key = _key(hot)
    hot_type, cfn_type = _PARAMETER_TYPES[prop.type]
    parameter: dict[str, Any] = {key("type"): hot_type if hot else cfn_type}
    if prop.description:
        parameter[key("description")] = prop.description
    if prop.default is not None:
        parameter[key("default")] = prop.default
    if hot:
        constraints = [_hot_constraint(c) for c in prop.constraints]
        if any(constraints):
            parameter["constraints"] = [c for c in constraints if c]
        return parameter
    parameter.update(_constraint_keys(prop.constraints))
    for dropped in ("Step", "Offset", "CustomConstraint", "ConstraintDescription"):
        parameter.pop(dropped, None)
    if prop.type is PropertyType.BOOLEAN:
        parameter["AllowedValues"] = ["True", "true", "False", "false"]
    return parameter


def _hot_constraint(constraint: Constraint) -> dict[str, Any]:
    if isinstance(constraint, Length | Range | AllowedValues | AllowedPattern):
        return {constraint.kind: constraint.to_dict()[constraint.kind]}
    return {}

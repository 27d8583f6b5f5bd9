"""Request bodies as Heat's API takes them, turned into Kiln's stack definitions.

A template comes as an object or as text (YAML or JSON); environments as an
object or text, plus ``environment_files`` named in the files map, merged in
order with ``environment`` last, as python-heatclient sends them. The server
never fetches anything on a user's behalf: ``template_url`` and
``files_container`` are refused with a message saying what to send instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiln.api.errors import ApiError
from kiln.api.params import MAX_QUERY_INTEGER
from kiln.service.stacks import StackDefinition

#: A whole number as text ("30", "+30", "-1").
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")

#: The name the body's own environment is stored under.
BODY_ENVIRONMENT = "environment"


#: The fields Heat's API (and python-heatclient) put in a definition's body.
DEFINITION_FIELDS = frozenset(
    {
        "template",
        "template_url",
        "parameters",
        "environment",
        "files",
        "environment_files",
        "files_container",
        "timeout_mins",
        "disable_rollback",
        "tags",
    }
)
#: What a create (or adopt) body may hold; a preview takes the same. python-heatclient's
#: adopt also sends ``timeout``, which Heat ignores (its timeout is ``timeout_mins``).
CREATE_FIELDS = DEFINITION_FIELDS | {"stack_name", "adopt_stack_data", "timeout"}
#: What a create preview's body may hold.
PREVIEW_FIELDS = CREATE_FIELDS - {"adopt_stack_data"}
#: What an update body may hold (PUT or PATCH, and their previews).
UPDATE_FIELDS = DEFINITION_FIELDS | {"existing", "clear_parameters", "converge"}


def _any_of(*kinds: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": list(kinds)}


_OBJECT: dict[str, Any] = {"type": "object"}
_STRING: dict[str, Any] = {"type": "string"}
_BOOLEAN = _any_of({"type": "boolean"}, _STRING)
#: Each field's JSON schema, for the OpenAPI document.
_FIELD_SCHEMAS: dict[str, dict[str, Any]] = {
    "stack_name": _STRING,
    "template": _any_of(_OBJECT, _STRING),
    "template_url": _STRING,
    "parameters": _OBJECT,
    "environment": _any_of(_OBJECT, _STRING),
    "files": {"type": "object", "additionalProperties": _STRING},
    "environment_files": {"type": "array", "items": _STRING},
    "files_container": _STRING,
    "timeout_mins": _any_of({"type": "integer", "minimum": 1}, _STRING),
    "timeout": {},
    "disable_rollback": _BOOLEAN,
    "tags": _any_of(_STRING, {"type": "array", "items": _STRING}),
    "adopt_stack_data": _any_of(_OBJECT, _STRING),
    "existing": _BOOLEAN,
    "clear_parameters": {"type": "array", "items": _STRING},
    "converge": _BOOLEAN,
}


def request_body(fields: frozenset[str]) -> dict[str, Any]:
    """A route's ``openapi_extra``: its JSON body is an object of exactly these fields."""
    schema = {
        "type": "object",
        "properties": {name: _FIELD_SCHEMAS[name] for name in sorted(fields)},
        "additionalProperties": False,
    }
    return {"requestBody": {"content": {"application/json": {"schema": schema}}}}


def known_fields(body: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """Refuse a field the operation does not take, naming it (a typo would be ignored)."""
    unknown = sorted(str(name) for name in body if name not in allowed)
    if unknown:
        raise _bad(
            f"Unknown field(s) in the request body: {', '.join(unknown)}. "
            f"Allowed: {', '.join(sorted(allowed))}."
        )


def clear_parameters(body: Mapping[str, Any]) -> list[str]:
    value = body.get("clear_parameters")
    if value is None or value == "":
        return []
    if isinstance(value, list) and all(isinstance(name, str) for name in value):
        return list(value)
    raise _bad("clear_parameters must be a list of parameter names.")


def _bad(message: str) -> ApiError:
    return ApiError(400, "Invalid", message)


def body_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise _bad("The request body must be a JSON object.")
    return dict(body)


def _text(value: Any, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return json.dumps(value)
    raise _bad(f"{what} must be an object or a string.")


def template_text(body: Mapping[str, Any], *, required: bool = True) -> str:
    if body.get("template_url"):
        raise _bad(
            "template_url is not supported: Kiln fetches no URLs and reads no local files "
            "on a client's behalf; send the template itself in 'template' (and the files "
            "it uses in 'files')."
        )
    template = body.get("template")
    if template is None or template == "":
        if required:
            raise _bad("No template specified")
        return ""
    return _text(template, "template")


def definition(body: Mapping[str, Any], *, template_required: bool = True) -> StackDefinition:
    """The stack definition a create, update or preview body describes."""
    if body.get("files_container"):
        raise _bad("files_container is not supported: send the files in 'files'.")
    files = body.get("files") or {}
    if not isinstance(files, Mapping) or not all(isinstance(v, str) for v in files.values()):
        raise _bad("files must be an object of file names to their text.")
    environments: list[tuple[str, str]] = []
    names = body.get("environment_files") or []
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise _bad("environment_files must be a list of names in files.")
    for name in names:
        if name not in files:
            raise _bad(
                f"environment_files: {name} is not in files. Kiln reads no local files and "
                "fetches no URLs on a client's behalf: send each environment file's "
                "contents in 'files'."
            )
        environments.append((str(name), files[name]))
    environment = body.get("environment")
    if environment not in (None, "", {}):
        environments.append((BODY_ENVIRONMENT, _text(environment, "environment")))
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, Mapping):
        raise _bad("parameters must be an object.")
    return StackDefinition(
        template=template_text(body, required=template_required),
        files={str(k): v for k, v in files.items()},
        environments=tuple(environments),
        parameters=dict(parameters),
    )


def timeout_mins(body: Mapping[str, Any]) -> int | None:
    value = body.get("timeout_mins")
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _bad("timeout_mins must be a whole number of minutes.")
    if isinstance(value, str):
        if not _WHOLE_NUMBER.fullmatch(value.strip()):
            raise _bad("timeout_mins must be a whole number of minutes.")
        value = value.strip()
        if len(value) > 20:
            raise _bad(f"timeout_mins must be at most {MAX_QUERY_INTEGER} minutes.")
    minutes = int(value)
    if minutes <= 0:
        raise _bad("timeout_mins must be positive.")
    if minutes > MAX_QUERY_INTEGER:
        raise _bad(f"timeout_mins must be at most {MAX_QUERY_INTEGER} minutes.")
    return minutes


def flag(body: Mapping[str, Any], name: str, default: bool | None = None) -> bool | None:
    """A boolean Heat takes as true/false or their strings."""
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise _bad(f"{name} must be true or false.")


def tags(body: Mapping[str, Any]) -> list[str]:
    value = body.get("tags")
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [tag.strip() for tag in value.split(",") if tag.strip()]
    if isinstance(value, list) and all(isinstance(tag, str) for tag in value):
        return list(value)
    raise _bad("tags must be a comma-separated string or a list of strings.")


def given_tags(body: Mapping[str, Any]) -> list[str] | None:
    """The body's tags, or None when it has none: an update tells the two apart."""
    return None if body.get("tags") is None else tags(body)


@dataclass(frozen=True)
class UpdateBody:
    """What an update body asks for, read the same way for PUT, PATCH and their previews.

    ``tags`` is None when the body has none (a PUT then clears the stack's, a PATCH
    keeps them).
    """

    definition: StackDefinition
    clear_parameters: list[str]
    timeout_mins: int | None
    disable_rollback: bool | None
    converge: bool
    tags: list[str] | None


def update_body(body: Mapping[str, Any], *, existing: bool) -> UpdateBody:
    """``existing`` is Heat's PATCH: what the body leaves out is kept, so it needs no
    template."""
    known_fields(body, UPDATE_FIELDS)
    return UpdateBody(
        definition=definition(body, template_required=not existing),
        clear_parameters=clear_parameters(body),
        timeout_mins=timeout_mins(body),
        disable_rollback=flag(body, "disable_rollback"),
        converge=bool(flag(body, "converge", False)),
        tags=given_tags(body),
    )

"""Request bodies as Heat's API takes them, turned into Kiln's stack definitions.

A template comes as an object or as text (YAML or JSON); environments as an
object or text, plus ``environment_files`` named in the files map, merged in
order with ``environment`` last, as python-heatclient sends them. The server
never fetches anything on a user's behalf: ``template_url`` and
``files_container`` are refused with a message saying what to send instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kiln.api.errors import ApiError
from kiln.service.stacks import StackDefinition

#: The name the body's own environment is stored under.
BODY_ENVIRONMENT = "environment"


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
        raise _bad("template_url is not supported: Kiln fetches no URLs; send the template itself.")
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
    if not isinstance(names, list):
        raise _bad("environment_files must be a list of names in files.")
    for name in names:
        if name not in files:
            raise _bad(f"environment_files: {name} is not in files.")
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
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        raise _bad("timeout_mins must be a whole number of minutes.") from None
    if minutes <= 0:
        raise _bad("timeout_mins must be positive.")
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

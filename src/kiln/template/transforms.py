"""CloudFormation's ``AWS::LanguageExtensions`` transform: ``Fn::ForEach`` expansion.

A template that declares the transform may write
``Fn::ForEach::Name: [Identifier, [v1, v2], {Key${Identifier}: body}]`` in
Resources, Outputs, Conditions and inside property maps; expansion happens
before anything else looks at the template, as in CloudFormation, and the
other extensions (``Fn::Length``, ``Fn::ToJsonString``, ``Fn::FindInMap``
defaults) are ordinary functions of the CFN dialect.
"""

from __future__ import annotations

import re
from typing import Any

from kiln.errors import Diagnostic, TemplatePath

LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
FOR_EACH_PREFIX = "Fn::ForEach::"
#: Sections whose templates may use ``Fn::ForEach``.
EXPANDED_SECTIONS = ("Conditions", "Resources", "Outputs")
#: A loop may not produce more than this many keys (a guard against hostile nesting).
MAX_EXPANSION = 10_000


def declared_transforms(data: Any) -> list[str]:
    if not isinstance(data, dict):
        return []
    transform = data.get("Transform")
    if isinstance(transform, str):
        return [transform]
    if isinstance(transform, list):
        return [item for item in transform if isinstance(item, str)]
    return []


def expand_language_extensions(data: dict[str, Any]) -> tuple[dict[str, Any], list[Diagnostic]]:
    """A copy of ``data`` with every ``Fn::ForEach`` loop unrolled."""
    diagnostics: list[Diagnostic] = []
    expanded = dict(data)
    for section in EXPANDED_SECTIONS:
        if isinstance(data.get(section), dict):
            expanded[section] = _expand(data[section], TemplatePath((section,)), diagnostics)
    return expanded, diagnostics


def _expand(node: Any, path: TemplatePath, diagnostics: list[Diagnostic]) -> Any:
    if isinstance(node, list):
        return [_expand(item, path / index, diagnostics) for index, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    result: dict[Any, Any] = {}
    for key, value in node.items():
        if isinstance(key, str) and key.startswith(FOR_EACH_PREFIX):
            for new_key, body in _unroll(key, value, path / key, diagnostics).items():
                result[new_key] = _expand(body, path / new_key, diagnostics)
        else:
            result[key] = _expand(value, path / key, diagnostics)
    return result


def _unroll(
    key: str, loop: Any, path: TemplatePath, diagnostics: list[Diagnostic]
) -> dict[Any, Any]:
    if not (
        isinstance(loop, list)
        and len(loop) == 3
        and isinstance(loop[0], str)
        and isinstance(loop[1], list)
        and isinstance(loop[2], dict)
    ):
        diagnostics.append(
            Diagnostic(
                "F3003",
                f"{key}: arguments must be [identifier, [values...], {{output key: template}}]",
                path,
            )
        )
        return {}
    identifier, collection, body = loop
    produced: dict[Any, Any] = {}
    for item in collection:
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            diagnostics.append(
                Diagnostic("F3003", f"{key}: collection items must be strings", path / 1)
            )
            return {}
        for body_key, body_value in body.items():
            substituted = _substitute(body_value, identifier, str(item))
            if isinstance(body_key, str) and body_key.startswith(FOR_EACH_PREFIX):
                produced.update(_unroll(body_key, substituted, path / 2 / body_key, diagnostics))
            else:
                produced[_substitute(body_key, identifier, str(item))] = substituted
        if len(produced) > MAX_EXPANSION:
            diagnostics.append(
                Diagnostic("F3004", f"{key}: expands to more than {MAX_EXPANSION} entries", path)
            )
            return {}
    return produced


def _substitute(node: Any, identifier: str, value: str) -> Any:
    """``${Id}``/``&{Id}`` in strings and ``{"Ref": Id}`` become the loop value."""
    if isinstance(node, str):
        alphanumeric = re.sub(r"[^A-Za-z0-9]", "", value)
        node = node.replace("&{" + identifier + "}", alphanumeric)
        return node.replace("${" + identifier + "}", value)
    if isinstance(node, list):
        return [_substitute(item, identifier, value) for item in node]
    if isinstance(node, dict):
        if node == {"Ref": identifier}:
            return value
        return {
            _substitute(k, identifier, value): _substitute(v, identifier, value)
            for k, v in node.items()
        }
    return node

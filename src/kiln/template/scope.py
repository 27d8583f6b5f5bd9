"""A :class:`Scope` built from plain data: what validation, rendering and tests evaluate against.

Before a stack exists, resources have no physical ids or attributes; the
default is to answer with :class:`Unknown` values so that templates render
with placeholders instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kiln.template.functions.base import Unknown


@dataclass
class StaticScope:
    """Answers every lookup from dictionaries; missing names raise ``KeyError``.

    ``resource_names`` lists the resources that exist in the template; those
    without an entry in ``physical_ids``/``attributes`` evaluate to Unknown.
    """

    parameters: Mapping[str, Any] = field(default_factory=dict)
    resource_names: frozenset[str] = frozenset()
    physical_ids: Mapping[str, Any] = field(default_factory=dict)
    attributes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    conditions: Mapping[str, bool] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    mappings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    pseudo_parameters: Mapping[str, Any] = field(default_factory=dict)
    exports: Mapping[str, Any] = field(default_factory=dict)
    zones: Mapping[str, list[str]] = field(default_factory=dict)
    facade: Mapping[str, Any] = field(default_factory=dict)

    def _check_resource(self, name: str) -> None:
        if name not in self.resource_names and name not in self.physical_ids:
            raise KeyError(name)

    def parameter(self, name: str) -> Any:
        return self.parameters[name]

    def resource_reference(self, name: str) -> Any:
        self._check_resource(name)
        if name in self.physical_ids:
            return self.physical_ids[name]
        return Unknown(f"{name}")

    def resource_attribute(self, name: str, attribute: str) -> Any:
        self._check_resource(name)
        known = self.attributes.get(name)
        if known is not None and attribute in known:
            return known[attribute]
        if known is not None and name in self.physical_ids:
            raise KeyError(attribute)
        return Unknown(f"{name}.{attribute}")

    def resource_attributes(self, name: str) -> Any:
        self._check_resource(name)
        if name in self.attributes:
            return dict(self.attributes[name])
        return Unknown(f"{name}.*")

    def condition(self, name: str) -> bool:
        return self.conditions[name]

    def file(self, key: str) -> str:
        return self.files[key]

    def mapping(self, name: str) -> Mapping[str, Any]:
        return self.mappings[name]

    def pseudo_parameter(self, name: str) -> Any:
        return self.pseudo_parameters[name]

    def import_value(self, name: str) -> Any:
        if name in self.exports:
            return self.exports[name]
        return Unknown(f"import {name}")

    def availability_zones(self, region: str) -> list[str]:
        return list(self.zones.get(region, self.zones.get("", [])))

    def resource_facade(self, section: str) -> Any:
        return self.facade[section]

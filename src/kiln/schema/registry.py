"""The set of resource types (and custom constraints) a deployment knows about.

Plugins register into a registry object that is passed around explicitly;
there is no global registry, so tests can build exactly the one they need.
"""

from __future__ import annotations

from collections.abc import Iterable

from kiln.schema.constraints import CustomConstraintRegistry
from kiln.schema.resource_schema import ResourceSchema
from kiln.schema.types import SchemaDefinitionError

__all__ = ["CustomConstraintRegistry", "DuplicateSchemaError", "SchemaRegistry"]


class DuplicateSchemaError(SchemaDefinitionError):
    """Two plugins claimed the same resource type name."""


class SchemaRegistry:
    def __init__(
        self,
        schemas: Iterable[ResourceSchema] = (),
        custom_constraints: CustomConstraintRegistry | None = None,
    ) -> None:
        self._schemas: dict[str, ResourceSchema] = {}
        self.custom_constraints = custom_constraints or CustomConstraintRegistry()
        for schema in schemas:
            self.register(schema)

    def register(self, schema: ResourceSchema) -> None:
        if schema.type_name in self._schemas:
            raise DuplicateSchemaError(f"resource type '{schema.type_name}' is already registered")
        self._schemas[schema.type_name] = schema

    def get(self, type_name: str) -> ResourceSchema | None:
        return self._schemas.get(type_name)

    def type_names(self) -> list[str]:
        return sorted(self._schemas)

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._schemas

    def __len__(self) -> int:
        return len(self._schemas)

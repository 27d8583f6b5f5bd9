"""Errors the repositories raise for conditions a caller must handle.

Fenced writes that lose a race are not errors: they return ``False`` or
``None`` because losing is an expected outcome of running several workers.
"""

from __future__ import annotations

from kiln.errors import ConflictError, KilnError


class PersistenceError(KilnError):
    """A stored-state request that cannot be carried out as asked."""


class StackExists(PersistenceError, ConflictError):
    """Stack names are unique per project among stacks that are not deleted."""

    def __init__(self, project_id: str, name: str) -> None:
        super().__init__(f"a stack named {name!r} already exists in project {project_id!r}")
        self.project_id = project_id
        self.name = name


class StackNotFound(PersistenceError):
    def __init__(self, stack_id: str) -> None:
        super().__init__(f"stack {stack_id!r} does not exist")
        self.stack_id = stack_id


class DuplicateRecord(PersistenceError):
    """An id, idempotency token or (name, generation) pair is already taken."""


class ResourceNotFound(PersistenceError):
    def __init__(self, resource_id: str) -> None:
        super().__init__(f"resource {resource_id!r} does not exist")
        self.resource_id = resource_id


class InvalidListRequest(PersistenceError):
    """An unknown sort key or direction, or a negative limit (HTTP 400 material)."""


class SecretKeyError(PersistenceError):
    """The encryption key is missing, malformed, unsafe, or not the one data was sealed with."""

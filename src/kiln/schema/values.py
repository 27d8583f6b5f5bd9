"""Values that stand in for data not known yet, shared by schema and template code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class ValueNotKnown(Exception):
    """Raised when code needs a concrete value but holds an :class:`Unknown`.

    Template functions let it propagate so that the whole call becomes
    Unknown; truth-testing an Unknown raises it, so ``if unknown:`` can never
    silently pick a branch.
    """


class Unknown:
    """A value that exists only once a resource has been created.

    Functions that need a concrete argument turn into an Unknown themselves
    (Terraform's "known after apply"), so a template can be rendered and
    validated before anything exists.
    """

    __slots__ = ("description", "waits_for")

    def __init__(self, description: str, waits_for: str | None = None) -> None:
        self.description = description
        #: The resource value this one is derived from (``db_password.value``), for people.
        self.waits_for = waits_for

    @property
    def shown(self) -> str:
        """What the value waits for, as people read it."""
        return self.waits_for or self.description

    def __repr__(self) -> str:
        return f"<known after create: {self.shown}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and other.description == self.description

    def __hash__(self) -> int:
        return hash(("Unknown", self.description))

    def __bool__(self) -> bool:
        raise ValueNotKnown(self.shown)


class _Absent:
    """Marks a value that removes itself from its enclosing map or list.

    Produced by CloudFormation's ``AWS::NoValue`` and by HOT's two-argument
    ``if`` (2021-04-16) whose condition is false.
    """

    _instance: ClassVar[_Absent | None] = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<absent>"

    def __bool__(self) -> bool:
        return False


ABSENT = _Absent()


def contains_unknown(value: Any) -> bool:
    value_type = type(value)
    if value_type is Unknown:
        return True
    if value_type in _SCALARS:
        return False
    if value_type is list or value_type is tuple:
        return any(contains_unknown(item) for item in value)
    if value_type is dict or isinstance(value, Mapping):
        return any(contains_unknown(k) or contains_unknown(v) for k, v in value.items())
    return False


_SCALARS = frozenset({str, int, float, bool, type(None)})


def first_unknown(value: Any) -> Unknown | None:
    """The first Unknown inside a value, to say what a derived value waits for."""
    pending = [value]
    while pending:
        current = pending.pop()
        current_type = type(current)
        if current_type is Unknown:
            return current  # type: ignore[no-any-return]
        if current_type is list or current_type is tuple:
            pending.extend(reversed(current))
        elif current_type is dict or (
            current_type not in _SCALARS and isinstance(current, Mapping)
        ):
            pending.extend(reversed([*current.keys(), *current.values()]))
    return None

"""``OS::Heat::RandomString``: a generated secret such as a password.

The string is generated once, at create time, with Heat's algorithm: first
the minimum number of characters from every character class and sequence,
then characters from a class or sequence picked at random (each equally
likely) until the length is reached, then the whole string shuffled. The
deprecated ``sequence`` property becomes one more character class with a
minimum of 1, as Heat's translation does. Randomness comes from ``secrets``.

The string is kept in ``provider_data`` (a secret key there) and is what
``get_resource`` gives; the physical id is the physical name, as in Heat.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiln.errors import Diagnostic, TemplatePath
from kiln.providers.context import ProviderContext
from kiln.providers.errors import InvalidInput
from kiln.providers.protocol import (
    AttributeRequest,
    CreateRequest,
    FindRequest,
    Progress,
    UpdateRequest,
)
from kiln.resources.heat.record_only import RecordOnlyPlugin
from kiln.schema.constraints import AllowedValues, Range
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, SupportState, SupportStatus
from kiln.schema.values import contains_unknown

MINIMUMS_EXCEED_LENGTH = "S6101"
EMPTY_SEQUENCE = "S6102"
UNKNOWN_CLASS = "S6103"

#: Heat's character classes (``hexdigits`` is upper case only, as in Heat).
CLASS_CHARACTERS = {
    "lettersdigits": string.ascii_letters + string.digits,
    "letters": string.ascii_letters,
    "lowercase": string.ascii_lowercase,
    "uppercase": string.ascii_uppercase,
    "digits": string.digits,
    "hexdigits": string.digits + "ABCDEF",
    "octdigits": string.octdigits,
}
CHARACTER_CLASSES = (
    "lettersdigits",
    "letters",
    "lowercase",
    "uppercase",
    "digits",
    "hexdigits",
    "octdigits",
)
_MINIMUM = PropertySchema(
    PropertyType.INTEGER,
    "How many characters of this kind the string must contain at least.",
    default=1,
    constraints=(Range(1, 512),),
)

SCHEMA = ResourceSchema(
    "OS::Heat::RandomString",
    description="Generates a random string once, at create time.",
    properties={
        "length": PropertySchema(
            PropertyType.INTEGER,
            "Length of the string to generate.",
            default=32,
            constraints=(Range(1, 512),),
        ),
        "sequence": PropertySchema(
            PropertyType.STRING,
            "Characters to draw from (use character_classes instead).",
            constraints=(AllowedValues(CHARACTER_CLASSES),),
            support_status=SupportStatus(SupportState.DEPRECATED, "use character_classes"),
        ),
        "character_classes": PropertySchema(
            PropertyType.LIST,
            "Character classes and the minimum count of each.",
            item=PropertySchema(
                PropertyType.MAP,
                properties={
                    "class": PropertySchema(
                        PropertyType.STRING,
                        "A character class.",
                        default="lettersdigits",
                        constraints=(AllowedValues(CHARACTER_CLASSES),),
                    ),
                    "min": _MINIMUM,
                },
            ),
        ),
        "character_sequences": PropertySchema(
            PropertyType.LIST,
            "Literal character sequences and the minimum count drawn from each.",
            item=PropertySchema(
                PropertyType.MAP,
                properties={
                    "sequence": PropertySchema(
                        PropertyType.STRING, "Characters to draw from.", required=True
                    ),
                    "min": _MINIMUM,
                },
            ),
        ),
        "salt": PropertySchema(
            PropertyType.STRING,
            "Changing it replaces the resource, and so generates a new string.",
        ),
    },
    attributes={"value": AttributeSchema("The generated string (also the resource's reference).")},
)


@dataclass(frozen=True)
class _Pool:
    """Characters to draw from, and how many of them the string needs at least."""

    characters: str
    minimum: int


def character_pools(properties: Mapping[str, Any]) -> tuple[list[_Pool], list[_Pool]]:
    """The sequence pools and the class pools, ``sequence`` translated into a class."""
    sequences = [
        _Pool(str(entry.get("sequence") or ""), _minimum(entry))
        for entry in properties.get("character_sequences") or ()
    ]
    classes = [
        _Pool(CLASS_CHARACTERS.get(str(entry.get("class") or "lettersdigits"), ""), _minimum(entry))
        for entry in properties.get("character_classes") or ()
    ]
    legacy = properties.get("sequence")
    if legacy:
        classes.append(_Pool(CLASS_CHARACTERS.get(str(legacy), ""), 1))
    return sequences, classes


def _minimum(entry: Mapping[str, Any]) -> int:
    minimum = entry.get("min")
    return 1 if minimum is None else int(minimum)


def generate(length: int, sequences: Sequence[_Pool], classes: Sequence[_Pool]) -> str:
    """Heat's algorithm (minimums, then fill, then shuffle) with a secure generator."""
    pools = [*sequences, *classes]
    if not pools:
        return "".join(secrets.choice(CLASS_CHARACTERS["lettersdigits"]) for _ in range(length))
    characters = [secrets.choice(pool.characters) for pool in pools for _ in range(pool.minimum)]
    while len(characters) < length:
        characters.append(secrets.choice(secrets.choice(pools).characters))
    secrets.SystemRandom().shuffle(characters)
    return "".join(characters)


def _problems(properties: Mapping[str, Any]) -> list[Diagnostic]:
    sequences, classes = character_pools(properties)
    problems = [
        Diagnostic(
            EMPTY_SEQUENCE,
            "a character sequence needs at least one character",
            TemplatePath(("character_sequences", index, "sequence")),
        )
        for index, pool in enumerate(sequences)
        if not pool.characters
    ]
    # Unknown class names are the schema's to report; they only must not reach generate().
    if any(not pool.characters for pool in classes):
        path = TemplatePath(("character_classes",))
        problems.append(Diagnostic(UNKNOWN_CLASS, "unknown character class", path))
    length = properties.get("length") or SCHEMA.properties["length"].default
    if sum(pool.minimum for pool in (*sequences, *classes)) > int(length):
        problems.append(
            Diagnostic(
                MINIMUMS_EXCEED_LENGTH,
                "Length property cannot be smaller than combined character class and "
                "character sequence minimums",
                TemplatePath(("length",)),
            )
        )
    return problems


#: The properties the string is drawn from, which validation reads.
_DRAWN_FROM = ("length", "sequence", "character_classes", "character_sequences")


class RandomString(RecordOnlyPlugin):
    """Generates its string once; ``get_resource`` and the ``value`` attribute give it."""

    type_name = "OS::Heat::RandomString"
    schema = SCHEMA
    secret_data_keys = frozenset({"value"})

    def validate(self, properties: Mapping[str, Any]) -> list[Diagnostic]:
        """Heat's check that the minimums fit in the length, and pools that can give a
        character; skipped while any of them is not known yet (``salt`` does not matter)."""
        if any(contains_unknown(properties.get(name)) for name in _DRAWN_FROM):
            return []
        try:
            return _problems(properties)
        except (TypeError, ValueError, AttributeError):
            return []  # badly typed values: the schema check reports those

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        value = self._generate(request.properties)
        return Progress(
            done=True, physical_id=request.physical_name, provider_data={"value": value}
        )

    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        """Nothing changes in place: as in Heat, a changed property (``salt`` too)
        replaces the resource. An update without one (a new alias of the type) keeps
        the string."""
        return Progress(done=True)

    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        """Never adopts: the string of a lost attempt is gone, so a new one is made."""
        return None

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        value = request.provider_data.get("value")
        return {name: value if name == "value" else None for name in request.names}

    def reference_id(
        self, name: str, physical_id: str | None, provider_data: Mapping[str, Any]
    ) -> str:
        if physical_id is None:
            return name
        return str(provider_data.get("value", physical_id))

    def _generate(self, properties: Mapping[str, Any]) -> str:
        problems = _problems(properties)
        if problems:
            raise InvalidInput(problems)
        sequences, classes = character_pools(properties)
        return generate(int(self.property_value(properties, "length")), sequences, classes)

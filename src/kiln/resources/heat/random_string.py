"""``OS::Heat::RandomString``: a generated secret such as a password."""

from __future__ import annotations

from kiln.schema.constraints import AllowedValues, Range
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, SupportState, SupportStatus, UpdatePolicy

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
            "Changing it generates a new string without changing anything else.",
            update_policy=UpdatePolicy.IN_PLACE,
        ),
    },
    attributes={"value": AttributeSchema("The generated string (also the resource's reference).")},
)

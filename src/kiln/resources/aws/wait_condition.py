"""``AWS::CloudFormation::WaitConditionHandle`` and ``WaitCondition``.

The handle's ``Ref`` is a pre-signed URL (its signal endpoint with the token
in the query), as in CloudFormation. A signal carries ``Status`` (SUCCESS or
FAILURE), ``Reason``, ``UniqueId`` and ``Data``, all four required; the wait
condition's ``Data`` attribute is a JSON object of each signal's data by
``UniqueId``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kiln.providers.context import ProviderContext
from kiln.providers.errors import ResourceFailed
from kiln.providers.protocol import SignalRequest, SignalResult
from kiln.resources.heat.signal_target import presigned_url
from kiln.resources.heat.wait_condition import (
    FAILURE,
    SUCCESS,
    WaitCondition,
    WaitConditionHandle,
)
from kiln.schema.constraints import Range
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

SIGNAL_KEYS = ("Data", "Reason", "Status", "UniqueId")

HANDLE_SCHEMA = ResourceSchema(
    "AWS::CloudFormation::WaitConditionHandle",
    description="Receives the signals a wait condition waits for; Ref is its pre-signed URL.",
)


class CloudFormationWaitConditionHandle(WaitConditionHandle):
    type_name = "AWS::CloudFormation::WaitConditionHandle"
    schema = HANDLE_SCHEMA

    def reference_id(
        self, name: str, physical_id: str | None, provider_data: Mapping[str, Any]
    ) -> str:
        signed = presigned_url(provider_data)
        return signed or super().reference_id(name, physical_id, provider_data)

    async def signal(self, ctx: ProviderContext, request: SignalRequest) -> SignalResult:
        details = request.details
        if not isinstance(details, Mapping) or any(key not in details for key in SIGNAL_KEYS):
            raise ResourceFailed(
                "Metadata format invalid: a signal needs " + ", ".join(SIGNAL_KEYS)
            )
        if details["Status"] not in (SUCCESS, FAILURE):
            raise ResourceFailed(f"Status must be {SUCCESS} or {FAILURE}")
        return SignalResult({key: details[key] for key in SIGNAL_KEYS})


WAIT_SCHEMA = ResourceSchema(
    "AWS::CloudFormation::WaitCondition",
    description="Waits for signals to its handle.",
    properties={
        "Handle": PropertySchema(
            PropertyType.STRING, "The handle's Ref (its pre-signed URL).", required=True
        ),
        "Timeout": PropertySchema(
            PropertyType.NUMBER,
            "Seconds to wait for the signals.",
            required=True,
            constraints=(Range(min=1, max=43200),),
        ),
        "Count": PropertySchema(
            PropertyType.INTEGER,
            "SUCCESS signals needed.",
            default=1,
            constraints=(Range(min=1),),
            update_policy=UpdatePolicy.IN_PLACE,
        ),
    },
    attributes={"Data": AttributeSchema("JSON of each signal's Data, by UniqueId.")},
)


class CloudFormationWaitCondition(WaitCondition):
    type_name = "AWS::CloudFormation::WaitCondition"
    schema = WAIT_SCHEMA
    keys: ClassVar[tuple[str, str, str, str]] = ("Status", "Reason", "Data", "UniqueId")
    handle_property: ClassVar[str] = "Handle"
    timeout_property: ClassVar[str] = "Timeout"
    count_property: ClassVar[str] = "Count"
    data_attribute: ClassVar[str] = "Data"

"""``OS::Heat::WaitConditionHandle`` and ``OS::Heat::WaitCondition``: waiting for a signal.

A handle takes signals (``stack resource signal``, or a POST to its endpoint
with its token: the ``curl_cli`` attribute is a command a server can run).
Each signal is kept as Heat keeps it: ``status`` (SUCCESS or FAILURE),
``reason``, ``data`` and ``id``, filling in what the sender left out. A wait
condition names its handle and completes once ``count`` SUCCESS signals are
in; a FAILURE signal fails it, and so does ``timeout`` seconds passing first.
Its ``data`` attribute is a JSON object of each signal's data by id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from kiln.providers.context import ProviderContext
from kiln.providers.errors import ProviderError, ResourceFailed
from kiln.providers.protocol import (
    AttributeRequest,
    CheckRequest,
    CreateRequest,
    Progress,
    SignalRequest,
    SignalResult,
)
from kiln.resources.heat.record_only import RecordOnlyPlugin
from kiln.resources.heat.signal_target import ENDPOINT, TOKEN, SignalTarget
from kiln.resources.nested import stacks_client
from kiln.schema.constraints import AllowedValues, Range
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

SUCCESS, FAILURE = "SUCCESS", "FAILURE"
#: Longest pause between two looks at the handle's signals (seconds).
LONGEST_POLL = 1.0


class WaitConditionTimeout(ProviderError):
    """Fewer signals than ``count`` arrived before ``timeout``."""


class WaitConditionFailure(ProviderError):
    """A FAILURE signal arrived."""


HANDLE_SCHEMA = ResourceSchema(
    "OS::Heat::WaitConditionHandle",
    description="Receives the signals a wait condition waits for.",
    properties={
        "signal_transport": PropertySchema(
            PropertyType.STRING,
            "How signals arrive; TOKEN_SIGNAL posts to Kiln's API with the handle's token.",
            default="TOKEN_SIGNAL",
            constraints=(AllowedValues(("TOKEN_SIGNAL", "HEAT_SIGNAL", "NO_SIGNAL")),),
        ),
    },
    attributes={
        "token": AttributeSchema("The token that authorises signals to this handle."),
        "endpoint": AttributeSchema("The URL signals are posted to."),
        "curl_cli": AttributeSchema("A curl command that sends a signal (append --data)."),
        "signal": AttributeSchema("The URL and token, as a map.", PropertyType.MAP),
    },
)


class WaitConditionHandle(SignalTarget):
    type_name = "OS::Heat::WaitConditionHandle"
    schema = HANDLE_SCHEMA

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        token = request.provider_data.get(TOKEN)
        endpoint = request.provider_data.get(ENDPOINT)
        values = {
            "token": token,
            "endpoint": endpoint,
            "curl_cli": (
                f"curl -i -X POST -H 'X-Auth-Token: {token}' "
                "-H 'Content-Type: application/json' -H 'Accept: application/json' "
                f"{endpoint}"
            ),
            "signal": {"url": endpoint, "token": token},
        }
        return {name: values.get(name) for name in request.names}

    async def signal(self, ctx: ProviderContext, request: SignalRequest) -> SignalResult:
        details = request.details if request.details is not None else {}
        if not isinstance(details, Mapping):
            raise ResourceFailed("a signal must be a JSON object")
        status = details.get("status", SUCCESS)
        if status not in (SUCCESS, FAILURE):
            raise ResourceFailed(f"status must be {SUCCESS} or {FAILURE}, not {status!r}")
        received = await stacks_client(ctx).signals(request.physical_id or "")
        number = len(received) + 1
        kept = {
            "status": status,
            "reason": details.get("reason", f"Signal {number} received"),
            "data": details.get("data"),
            "id": str(details.get("id", number)),
        }
        return SignalResult(kept)


WAIT_SCHEMA = ResourceSchema(
    "OS::Heat::WaitCondition",
    description="Waits for signals to its handle.",
    properties={
        "handle": PropertySchema(
            PropertyType.STRING, "The handle (get_resource of a handle).", required=True
        ),
        "timeout": PropertySchema(
            PropertyType.NUMBER,
            "Seconds to wait for the signals.",
            required=True,
            constraints=(Range(min=1, max=43200),),
        ),
        "count": PropertySchema(
            PropertyType.INTEGER,
            "SUCCESS signals needed.",
            default=1,
            constraints=(Range(min=1),),
            update_policy=UpdatePolicy.IN_PLACE,
        ),
    },
    attributes={
        "data": AttributeSchema("JSON of each signal's data, by signal id."),
    },
)


class WaitCondition(RecordOnlyPlugin):
    type_name = "OS::Heat::WaitCondition"
    schema = WAIT_SCHEMA
    #: Signal keys as this dialect spells them: status, reason, data, id.
    keys: ClassVar[tuple[str, str, str, str]] = ("status", "reason", "data", "id")
    handle_property: ClassVar[str] = "handle"
    timeout_property: ClassVar[str] = "timeout"
    count_property: ClassVar[str] = "count"
    data_attribute: ClassVar[str] = "data"

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        started = {"started": ctx.clock.now(), "poll": 0.05}
        progress = await self._look(ctx, request.properties, started)
        if progress.done:
            return Progress(done=True, physical_id=request.physical_name)
        return Progress(
            done=False,
            physical_id=request.physical_name,
            provider_data=progress.provider_data,
            poll_after=progress.poll_after,
        )

    async def check_create(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._look(ctx, request.properties, request.provider_data)

    async def _look(
        self, ctx: ProviderContext, properties: Mapping[str, Any], data: Mapping[str, Any]
    ) -> Progress:
        status_key, reason_key, _, _ = self.keys
        signals = await stacks_client(ctx).signals(
            str(self.property_value(properties, self.handle_property))
        )
        failed = [s for s in signals if s.get(status_key) == FAILURE]
        if failed:
            raise WaitConditionFailure(str(failed[0].get(reason_key)))
        succeeded = [s for s in signals if s.get(status_key) == SUCCESS]
        count = int(self.property_value(properties, self.count_property))
        if len(succeeded) >= count:
            return Progress(done=True)
        waited = ctx.clock.now() - float(data.get("started", ctx.clock.now()))
        if waited >= float(self.property_value(properties, self.timeout_property)):
            raise WaitConditionTimeout(f"{len(succeeded)} of {count} received")
        pause = min(float(data.get("poll", 0.05)) * 1.5, LONGEST_POLL)
        return Progress(done=False, provider_data={**data, "poll": pause}, poll_after=pause)

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        _, _, data_key, id_key = self.keys
        signals = await stacks_client(ctx).signals(
            str(self.property_value(request.properties, self.handle_property))
        )
        by_id = _by_id(signals, id_key, data_key)
        return {
            name: json.dumps(by_id) if name == self.data_attribute else None
            for name in request.names
        }


def _by_id(signals: Sequence[Mapping[str, Any]], id_key: str, data_key: str) -> dict[str, Any]:
    return {str(signal.get(id_key)): signal.get(data_key) for signal in signals}

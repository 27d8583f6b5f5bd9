"""``OS::Heat::Delay``: waits a fixed plus random time during chosen actions.

As in Heat, the wait is ``min_wait`` plus a jitter drawn uniformly between 0
and ``max_jitter * jitter_multiplier`` seconds, and happens only during the
actions listed in ``actions`` (CREATE by default; DELETE, SUSPEND and RESUME
may be listed). An update never waits. The wait is spread over polls: the
call reports ``done=False`` with ``poll_after`` set to the time left.

The resource creates nothing: its physical id is the physical name, and
``get_resource`` gives the resource's name, as Heat (which sets no id) does.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from kiln.providers.context import ProviderContext
from kiln.providers.protocol import CheckRequest, CreateRequest, DeleteRequest, Progress
from kiln.providers.waiting import TimedWait, without_wait
from kiln.resources.heat.record_only import DELETED, RecordOnlyPlugin, is_deleted, stop_if_cancelled
from kiln.schema.constraints import AllowedValues, Range
from kiln.schema.resource_schema import PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

ACTIONS = ("CREATE", "DELETE", "SUSPEND", "RESUME")

SCHEMA = ResourceSchema(
    "OS::Heat::Delay",
    description="Pauses the stack operation when the resource is created, deleted, "
    "suspended or resumed.",
    properties={
        "min_wait": PropertySchema(
            PropertyType.NUMBER,
            "Minimum time in seconds to wait during the specified actions.",
            default=0,
            constraints=(Range(0, None),),
            update_policy=UpdatePolicy.IN_PLACE,
        ),
        "max_jitter": PropertySchema(
            PropertyType.NUMBER,
            "Maximum extra random wait, in units of jitter_multiplier seconds.",
            default=0,
            constraints=(Range(0, None),),
            update_policy=UpdatePolicy.IN_PLACE,
        ),
        "jitter_multiplier": PropertySchema(
            PropertyType.NUMBER,
            "Seconds per unit of max_jitter.",
            default=1.0,
            constraints=(Range(0, None),),
            update_policy=UpdatePolicy.IN_PLACE,
        ),
        "actions": PropertySchema(
            PropertyType.LIST,
            "Actions during which the delay will occur.",
            default=["CREATE"],
            item=PropertySchema(PropertyType.STRING, constraints=(AllowedValues(ACTIONS),)),
            update_policy=UpdatePolicy.IN_PLACE,
        ),
    },
)


class Delay(RecordOnlyPlugin):
    """Waits during the listed actions without holding a worker."""

    type_name = "OS::Heat::Delay"
    schema = SCHEMA

    def jitter_fraction(self) -> float:
        """Where in the jitter range this wait falls (uniform in [0, 1); not a secret)."""
        return random.random()

    def wait_seconds(self, properties: Mapping[str, Any], action: str) -> float:
        """The (randomised) wait for ``action``; 0 when the action is not listed."""
        if action not in (self.property_value(properties, "actions") or ()):
            return 0.0
        minimum = float(self.property_value(properties, "min_wait"))
        jitter = float(self.property_value(properties, "max_jitter")) * float(
            self.property_value(properties, "jitter_multiplier")
        )
        return minimum + jitter * self.jitter_fraction()

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        wait = TimedWait.start(ctx.clock, self.wait_seconds(request.properties, "CREATE"))
        progress = _progress(ctx, wait.to_data())
        return Progress(
            progress.done, request.physical_name, progress.provider_data, progress.poll_after
        )

    async def check_create(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return _progress(ctx, request.provider_data)

    async def delete(self, ctx: ProviderContext, request: DeleteRequest) -> Progress:
        if is_deleted(request.provider_data):
            return Progress(done=True)
        wait = TimedWait.start(ctx.clock, self.wait_seconds(request.properties, "DELETE"))
        return _progress(ctx, wait.to_data(), finished=DELETED)

    async def check_delete(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return _progress(ctx, request.provider_data, finished=DELETED)

    def reference_id(
        self, name: str, physical_id: str | None, provider_data: Mapping[str, Any]
    ) -> str:
        return name


def _progress(
    ctx: ProviderContext,
    data: Mapping[str, Any],
    finished: Mapping[str, Any] | None = None,
) -> Progress:
    wait = TimedWait.from_data(data)
    if wait is None or wait.remaining(ctx.clock) <= 0:
        return Progress(
            done=True, provider_data=without_wait(data) if finished is None else finished
        )
    stop_if_cancelled(ctx)
    return Progress(done=False, provider_data=dict(data), poll_after=wait.poll_after(ctx.clock))

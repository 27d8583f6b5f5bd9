"""``OS::Heat::TestResource``: a resource with knobs for testing the engine.

It stores a value and can be told to wait, fail or demand replacement, with
Heat's rules:

- create stores ``value`` and takes the physical name as its id, unless
  ``fail`` is set (then it gets no id); it then waits ``action_wait_secs.create``
  (or ``wait_secs``), and fails with "Test Resource failed NAME" if ``fail``;
- update stores a changed, non-empty ``value`` (unless ``fail``) and waits the
  update time; with no such value change it does not wait; either way it
  fails after the wait if ``fail`` is set;
- a change of ``value`` while ``update_replace`` is true replaces the resource,
  as does any change of ``update_replace_value``;
- delete waits the delete time and never fails;
- a wait of -1 lasts until the operation is cancelled;
- attributes wait ``attr_wait_secs`` before answering; ``output`` is the value;
- while waiting, with ``client_name`` and ``entity_name`` set, each poll looks
  the stored value up through that client; failures (an unknown client
  included) are only logged, as in Heat.

Waits never block: a call reports ``done=False`` and when to look again.
The ``test_constr`` custom constraint exists so templates can exercise a slow
constraint check as Heat's functional tests do; constraint checks here are
synchronous and pure, so it accepts every value at once instead of sleeping
for ``constraint_prop_secs`` seconds.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from kiln.providers.context import ProviderContext
from kiln.providers.errors import Cancelled, ResourceFailed
from kiln.providers.protocol import (
    AttributeRequest,
    CheckRequest,
    CreateRequest,
    DeleteRequest,
    FindRequest,
    Progress,
    UpdateRequest,
)
from kiln.providers.waiting import TimedWait, without_wait
from kiln.resources.heat.record_only import (
    DELETED,
    RecordOnlyPlugin,
    is_deleted,
    stop_if_cancelled,
)
from kiln.schema.constraints import CustomConstraint
from kiln.schema.registry import SchemaRegistry
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

_IN_PLACE = UpdatePolicy.IN_PLACE


def _seconds(description: str, default: float | None = 0) -> PropertySchema:
    return PropertySchema(
        PropertyType.NUMBER, description, default=default, update_policy=_IN_PLACE
    )


SCHEMA = ResourceSchema(
    "OS::Heat::TestResource",
    description="Stores a value; can wait, fail or require replacement on demand.",
    properties={
        "value": PropertySchema(
            PropertyType.STRING,
            "The string to store.",
            default="test_string",
            update_policy=_IN_PLACE,
        ),
        "update_replace": PropertySchema(
            PropertyType.BOOLEAN,
            "Set to true in an update to force replacement.",
            default=False,
            update_policy=_IN_PLACE,
        ),
        "update_replace_value": PropertySchema(
            PropertyType.STRING, "A value that can only change by replacing the resource."
        ),
        "fail": PropertySchema(
            PropertyType.BOOLEAN,
            "Set to true to make create and update fail.",
            default=False,
            update_policy=_IN_PLACE,
        ),
        "client_name": PropertySchema(
            PropertyType.STRING, "Client to poll.", default="", update_policy=_IN_PLACE
        ),
        "entity_name": PropertySchema(
            PropertyType.STRING, "Client entity to poll.", default="", update_policy=_IN_PLACE
        ),
        "wait_secs": _seconds("Seconds to wait after an action (-1 waits forever)."),
        "action_wait_secs": PropertySchema(
            PropertyType.MAP,
            "Per-action waits, overriding wait_secs.",
            update_policy=_IN_PLACE,
            properties={
                action: _seconds(f"Seconds to wait after {action}.", None)
                for action in ("create", "update", "delete")
            },
        ),
        "attr_wait_secs": _seconds("Seconds to wait before answering an attribute."),
        "constraint_prop_secs": PropertySchema(
            PropertyType.NUMBER,
            "Seconds the test_constr constraint takes to check this value.",
            default=0,
            update_policy=_IN_PLACE,
            constraints=(CustomConstraint("test_constr"),),
        ),
    },
    attributes={"output": AttributeSchema("The stored string; also the resource's reference.")},
)


def _test_constraint(value: Any) -> str | None:
    """Accepts every number: in Heat it only sleeps, and checks here cannot sleep."""
    return None


def register_constraints(registry: SchemaRegistry) -> None:
    registry.custom_constraints.register("test_constr", _test_constraint)


class TestResource(RecordOnlyPlugin):
    """Stores a string; waits, fails or demands replacement when told to."""

    __test__ = False  # not a pytest test class, whatever its name says

    type_name = "OS::Heat::TestResource"
    schema = SCHEMA

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        properties = request.properties
        data: dict[str, Any] = {}
        physical_id = None
        if not self.property_value(properties, "fail"):
            data["value"] = self.property_value(properties, "value")
            physical_id = request.physical_name
        data.update(self._start_wait(ctx, properties, "create"))
        return await self._progress(ctx, request.name, properties, "create", data, physical_id)

    async def check_create(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._check(ctx, request, "create")

    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        properties = request.new_properties
        data = without_wait(request.provider_data)
        value = properties.get("value") if "value" in request.changed else None
        if value:
            if not self.property_value(properties, "fail"):
                data["value"] = value
            data.update(self._start_wait(ctx, properties, "update"))
        else:
            data.update(TimedWait.start(ctx.clock, 0).to_data())
        return await self._progress(ctx, request.name, properties, "update", data, None)

    async def check_update(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._check(ctx, request, "update")

    async def delete(self, ctx: ProviderContext, request: DeleteRequest) -> Progress:
        if is_deleted(request.provider_data):
            return Progress(done=True)
        data = without_wait(request.provider_data)
        data.update(self._start_wait(ctx, request.properties, "delete"))
        return await self._progress(ctx, request.name, request.properties, "delete", data, None)

    async def check_delete(self, ctx: ProviderContext, request: CheckRequest) -> Progress:
        return await self._check(ctx, request, "delete")

    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        """A failing create never takes an id, so there is nothing to adopt then."""
        if self.property_value(request.properties, "fail"):
            return None
        return request.physical_name

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        seconds = self.property_value(request.properties, "attr_wait_secs")
        if seconds > 0 and await ctx.cancellation.wait(seconds):
            raise Cancelled("operation cancelled")
        if "value" in request.provider_data or request.physical_id is None:
            value = request.provider_data.get("value")
        else:  # adopted after a lost create: the value is what create would have stored
            value = self.property_value(request.properties, "value")
        return {name: value if name == "output" else None for name in request.names}

    def needs_replacement(
        self, old: Mapping[str, Any], new: Mapping[str, Any], changed: frozenset[str]
    ) -> bool:
        return "value" in changed and bool(new.get("update_replace"))

    def _start_wait(
        self, ctx: ProviderContext, properties: Mapping[str, Any], action: str
    ) -> dict[str, float]:
        per_action = properties.get("action_wait_secs") or {}
        seconds = per_action.get(action)
        if seconds is None:
            seconds = self.property_value(properties, "wait_secs")
        return TimedWait.start(ctx.clock, float(seconds)).to_data()

    async def _check(self, ctx: ProviderContext, request: CheckRequest, action: str) -> Progress:
        data = dict(request.provider_data)
        return await self._progress(
            ctx, request.name, request.properties, action, data, None, request.physical_id
        )

    async def _progress(
        self,
        ctx: ProviderContext,
        name: str,
        properties: Mapping[str, Any],
        action: str,
        data: dict[str, Any],
        new_physical_id: str | None,
        known_physical_id: str | None = None,
    ) -> Progress:
        """Done (or failed) once the wait is over; otherwise probe and say when to look again."""
        wait = TimedWait.from_data(data)
        if wait is None or wait.remaining(ctx.clock) <= 0:
            if action != "delete" and self.property_value(properties, "fail"):
                raise ResourceFailed(f"Test Resource failed {name}", kind="ValueError")
            finished = DELETED if action == "delete" else without_wait(data)
            return Progress(done=True, physical_id=new_physical_id, provider_data=finished)
        stop_if_cancelled(ctx)
        await self._probe_entity(ctx, properties, data.get("value") or known_physical_id)
        return Progress(
            done=False,
            physical_id=new_physical_id,
            provider_data=data,
            poll_after=wait.poll_after(ctx.clock),
        )

    async def _probe_entity(
        self, ctx: ProviderContext, properties: Mapping[str, Any], entity_id: Any
    ) -> None:
        """Heat's simulated effort: fetch the entity through a client, ignore the outcome."""
        client_name = self.property_value(properties, "client_name")
        entity_name = self.property_value(properties, "entity_name")
        if not (client_name and entity_name):
            return
        client = ctx.clients.get(client_name)
        if client is None:
            ctx.logger.debug("client %s is not available; not probing", client_name)
            return
        try:
            result = getattr(client, entity_name).get(entity_id)
            if inspect.isawaitable(result):
                await result
        except Exception as error:  # Heat ignores every failure of this probe
            ctx.logger.debug(
                "probe %s.%s failed: %s", client_name, entity_name, type(error).__name__
            )

"""``Local::LoadBalancer``, ``Local::Pool``, ``Local::PoolMember``, ``Local::HealthMonitor``.

Shaped like Octavia's resources (``OS::Octavia::LoadBalancer``, ``Pool``,
``PoolMember``, ``HealthMonitor``), with one simplification: the listener is
part of the load balancer. A ``Local::LoadBalancer`` is a real proxy process
listening on ``protocol_port`` of its own loopback address; it serves its
default pool, the first pool created for it. Pools, members and monitors
change the running balancer's configuration, which it reloads without a
restart: adding or removing a member leaves open connections flowing.

As in Octavia, names, the balancing algorithm, member weights and states and
the monitor's timings change in place; what a resource attaches to (its load
balancer or pool), the listener's protocol and port, a member's address and a
monitor's type replace it. A load balancer whose process is gone reads as
gone, so ``stack check`` fails it and a converging update starts it again.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from kiln.clients.local.load_balancers import (
    MEMBERS,
    MONITORS,
    POOLS,
    HealthMonitorSpec,
    LoadBalancerInfo,
    LoadBalancers,
    MemberSpec,
    PoolSpec,
)
from kiln.errors import Diagnostic, TemplatePath
from kiln.providers.context import ProviderContext
from kiln.providers.errors import NotFound
from kiln.providers.protocol import (
    AttributeRequest,
    CreateRequest,
    DeleteRequest,
    FindRequest,
    Progress,
    ReadRequest,
    ReadResult,
    ResourcePlugin,
    UpdateRequest,
)
from kiln.resources.local.calls import call, local_cloud, selected
from kiln.schema.constraints import AllowedValues, Range
from kiln.schema.resource_schema import AttributeSchema, PropertySchema, ResourceSchema
from kiln.schema.types import PropertyType, UpdatePolicy

#: The diagnostic code of a property the plugin finds invalid.
INVALID = "L1002"
IN_PLACE = UpdatePolicy.IN_PLACE
_CODES = re.compile(r"^\d{3}(-\d{3}|(,\d{3})*)$")
_PORT = (Range(1, 65535),)


def _text(description: str, **options: Any) -> PropertySchema:
    return PropertySchema(PropertyType.STRING, description, **options)


def _number(description: str, **options: Any) -> PropertySchema:
    return PropertySchema(PropertyType.INTEGER, description, **options)


def _flag(description: str) -> PropertySchema:
    return PropertySchema(PropertyType.BOOLEAN, description, default=True, update_policy=IN_PLACE)


_SHOW = AttributeSchema("Everything known about the resource.", PropertyType.MAP)

LOAD_BALANCER = ResourceSchema(
    "Local::LoadBalancer",
    description="A TCP proxy process on its own loopback address, with its listener.",
    properties={
        "name": _text("Name; the resource's physical name when not given.", update_policy=IN_PLACE),
        "protocol": _text(
            "The listener's protocol; HTTP answers 503 when no member is available.",
            default="HTTP",
            constraints=(AllowedValues(("TCP", "HTTP")),),
        ),
        "protocol_port": _number(
            "The port the listener takes on the load balancer's own address.",
            default=80,
            constraints=_PORT,
        ),
        "address": _text("A fixed VIP from the Local address range; allocated when not given."),
    },
    attributes={
        "name": AttributeSchema("Name of the load balancer.", PropertyType.STRING),
        "vip_address": AttributeSchema("The address it listens on.", PropertyType.STRING),
        "url": AttributeSchema("http://VIP:PORT/", PropertyType.STRING),
        "pid": AttributeSchema("Process id of the balancer.", PropertyType.INTEGER),
        "status": AttributeSchema(
            "ACTIVE, or ERROR once the process is gone.", PropertyType.STRING
        ),
        "provisioning_status": AttributeSchema(
            "As status, in Octavia's words.", PropertyType.STRING
        ),
        "operating_status": AttributeSchema(
            "ONLINE, DEGRADED, ERROR (every member down) or OFFLINE.", PropertyType.STRING
        ),
        "pools": AttributeSchema('Its pools: [{"id": ID}], oldest first.', PropertyType.LIST),
        "show": _SHOW,
    },
)

POOL = ResourceSchema(
    "Local::Pool",
    description="The members a Local::LoadBalancer spreads connections over.",
    properties={
        "loadbalancer": _text("The Local::LoadBalancer's id.", required=True),
        "lb_algorithm": _text(
            "How members are chosen: weighted round robin, or fewest open connections.",
            default="ROUND_ROBIN",
            constraints=(AllowedValues(("ROUND_ROBIN", "LEAST_CONNECTIONS")),),
            update_policy=IN_PLACE,
        ),
        "name": _text("Name of the pool.", default="", update_policy=IN_PLACE),
    },
    attributes={
        "loadbalancer": AttributeSchema("The load balancer's id.", PropertyType.STRING),
        "members": AttributeSchema('Its members: [{"id": ID}].', PropertyType.LIST),
        "healthmonitor_id": AttributeSchema("Its health monitor's id.", PropertyType.STRING),
        "show": _SHOW,
    },
)

POOL_MEMBER = ResourceSchema(
    "Local::PoolMember",
    description="An address and port a Local::Pool sends connections to.",
    properties={
        "pool": _text("The Local::Pool's id.", required=True),
        "address": _text("The member's IP address.", required=True),
        "protocol_port": _number("The member's port.", required=True, constraints=_PORT),
        "weight": _number(
            "Share of new connections relative to the other members; 0 takes none.",
            default=1,
            constraints=(Range(0, 256),),
            update_policy=IN_PLACE,
        ),
        "admin_state_up": _flag("False takes the member out of rotation."),
    },
    attributes={
        "address": AttributeSchema("The member's address.", PropertyType.STRING),
        "pool_id": AttributeSchema("The pool's id.", PropertyType.STRING),
        "operating_status": AttributeSchema(
            "ONLINE, ERROR (failing its health checks), OFFLINE or NO_MONITOR.",
            PropertyType.STRING,
        ),
        "show": _SHOW,
    },
)

HEALTH_MONITOR = ResourceSchema(
    "Local::HealthMonitor",
    description="Active checks that take failing members of a Local::Pool out of rotation.",
    properties={
        "pool": _text("The Local::Pool's id.", required=True),
        "type": _text(
            "TCP: the member accepts a connection; HTTP: it answers url_path as expected.",
            required=True,
            constraints=(AllowedValues(("TCP", "HTTP")),),
        ),
        "delay": _number(
            "Seconds between checks.",
            required=True,
            constraints=(Range(min=0),),
            update_policy=IN_PLACE,
        ),
        "timeout": _number(
            "Seconds a check may take.",
            required=True,
            constraints=(Range(min=0),),
            update_policy=IN_PLACE,
        ),
        "max_retries": _number(
            "Failed checks in a row that take a member out; one success puts it back.",
            required=True,
            constraints=(Range(1, 10),),
            update_policy=IN_PLACE,
        ),
        "url_path": _text("The path an HTTP check asks for.", default="/", update_policy=IN_PLACE),
        "expected_codes": _text(
            "Status codes of a healthy answer: 200, 200,202 or 200-204.",
            default="200",
            update_policy=IN_PLACE,
        ),
        "http_method": _text(
            "The method of an HTTP check.",
            default="GET",
            constraints=(AllowedValues(("GET", "HEAD", "POST", "PUT", "OPTIONS")),),
            update_policy=IN_PLACE,
        ),
        "admin_state_up": _flag("False stops the checks: every member counts as healthy."),
    },
    attributes={
        "pools": AttributeSchema('The pool it checks: [{"id": ID}].', PropertyType.LIST),
        "show": _SHOW,
    },
)


class LocalLoadBalancer(ResourcePlugin):
    type_name = "Local::LoadBalancer"
    schema = LOAD_BALANCER
    #: A fixed VIP and port cannot be held by two incarnations at once.
    replace_delete_first = True

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        properties = request.properties
        balancer_id = await call(
            _balancers(ctx).create_load_balancer,
            request.idempotency_token,
            self.property_value(properties, "name") or request.physical_name,
            self.property_value(properties, "protocol"),
            self.property_value(properties, "protocol_port"),
            self.property_value(properties, "address") or None,
        )
        ctx.logger.info("started load balancer %s", balancer_id)
        return Progress(done=True, physical_id=balancer_id)

    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        balancer = await _balancer(ctx, request.physical_id)
        name = self.property_value(request.new_properties, "name") or balancer.name
        await call(_balancers(ctx).rename_load_balancer, balancer.id, name)
        return Progress(done=True)

    async def delete(self, ctx: ProviderContext, request: DeleteRequest) -> Progress:
        if request.physical_id is not None:
            await call(_balancers(ctx).delete_load_balancer, request.physical_id)
        return Progress(done=True)

    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        return await call(_balancers(ctx).find_load_balancer, request.idempotency_token)

    async def read(self, ctx: ProviderContext, request: ReadRequest) -> ReadResult | None:
        """The name; None once the balancer process no longer runs."""
        balancer = await _found_balancer(ctx, request.physical_id)
        if balancer is None or balancer.status != "ACTIVE":
            return None
        return ReadResult({"name": balancer.name if request.properties.get("name") else None})

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        balancer = await _found_balancer(ctx, request.physical_id)
        values = None if balancer is None else _balancer_attributes(balancer)
        return selected(values, request.names)


def _balancer_attributes(balancer: LoadBalancerInfo) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": balancer.name,
        "vip_address": balancer.address,
        "url": balancer.url,
        "pid": balancer.pid,
        "status": balancer.status,
        "provisioning_status": balancer.status,
        "operating_status": balancer.operating_status,
        "pools": [{"id": pool_id} for pool_id in balancer.pools],
    }
    values["show"] = {
        **values,
        "id": balancer.id,
        "protocol": balancer.protocol,
        "protocol_port": balancer.protocol_port,
        "status_reason": balancer.reason,
    }
    return values


class _RecordPlugin(ResourcePlugin):
    """A pool, member or monitor: a record that changes its load balancer's configuration."""

    kind: ClassVar[str]

    def _spec(self, properties: Mapping[str, Any]) -> PoolSpec | MemberSpec | HealthMonitorSpec:
        raise NotImplementedError

    def _updatable(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        return {
            name: self.property_value(properties, name)
            for name, schema in self.schema.properties.items()
            if schema.update_allowed
        }

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        spec = self._spec(request.properties)
        if isinstance(spec, PoolSpec) and not spec.name:
            spec = PoolSpec(spec.loadbalancer, spec.lb_algorithm, request.physical_name)
        balancers = _balancers(ctx)
        creates: dict[str, Callable[[str, Any], str]] = {
            POOLS: balancers.create_pool,
            MEMBERS: balancers.create_member,
            MONITORS: balancers.create_health_monitor,
        }
        record_id = await call(creates[self.kind], request.idempotency_token, spec)
        return Progress(done=True, physical_id=record_id)

    async def update(self, ctx: ProviderContext, request: UpdateRequest) -> Progress:
        if request.physical_id is None:
            raise NotFound("the resource was never created")
        changes = self._updatable(request.new_properties)
        if self.kind == POOLS and not changes["name"]:
            changes.pop("name")
        await call(_balancers(ctx).update, self.kind, request.physical_id, changes)
        return Progress(done=True)

    async def delete(self, ctx: ProviderContext, request: DeleteRequest) -> Progress:
        if request.physical_id is not None:
            await call(_balancers(ctx).delete, self.kind, request.physical_id)
        return Progress(done=True)

    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        return await call(_balancers(ctx).find, self.kind, request.idempotency_token)

    async def read(self, ctx: ProviderContext, request: ReadRequest) -> ReadResult | None:
        """The updatable properties as recorded; None once it or its load balancer is gone."""
        record = await self._record(ctx, request.physical_id)
        if record is None:
            return None
        values = {name: record.get(name) for name in self._updatable({})}
        if self.kind == POOLS and not request.properties.get("name"):
            values["name"] = None
        return ReadResult(values)

    async def attributes(
        self, ctx: ProviderContext, request: AttributeRequest
    ) -> Mapping[str, Any]:
        record = await self._record(ctx, request.physical_id)
        if record is None:
            return selected(None, request.names)
        values = await asyncio.to_thread(self._attributes, _balancers(ctx), record)
        values["show"] = {**{k: v for k, v in record.items() if k != "created"}, **values}
        return selected(values, request.names)

    def _attributes(self, balancers: LoadBalancers, record: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    async def _record(self, ctx: ProviderContext, physical_id: str | None) -> dict[str, Any] | None:
        if physical_id is None:
            return None
        return await call(_balancers(ctx).record, self.kind, physical_id)


class LocalPool(_RecordPlugin):
    type_name = "Local::Pool"
    schema = POOL
    kind = POOLS

    def _spec(self, properties: Mapping[str, Any]) -> PoolSpec:
        return PoolSpec(
            loadbalancer=properties["loadbalancer"],
            lb_algorithm=self.property_value(properties, "lb_algorithm"),
            name=self.property_value(properties, "name") or "",
        )

    def _attributes(self, balancers: LoadBalancers, record: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "loadbalancer": record["loadbalancer"],
            "members": [{"id": member_id} for member_id in balancers.members_of(record["id"])],
            "healthmonitor_id": balancers.monitor_of(record["id"]),
        }


class LocalPoolMember(_RecordPlugin):
    type_name = "Local::PoolMember"
    schema = POOL_MEMBER
    kind = MEMBERS

    def _spec(self, properties: Mapping[str, Any]) -> MemberSpec:
        return MemberSpec(
            pool=properties["pool"],
            address=properties["address"],
            protocol_port=properties["protocol_port"],
            weight=self.property_value(properties, "weight"),
            admin_state_up=self.property_value(properties, "admin_state_up"),
        )

    def _attributes(self, balancers: LoadBalancers, record: Mapping[str, Any]) -> dict[str, Any]:
        pool = balancers.record(POOLS, record["pool"]) or {}
        balancer = balancers.load_balancer(pool["loadbalancer"]) if pool else None
        statuses = balancer.members if balancer is not None else {}
        return {
            "address": record["address"],
            "pool_id": record["pool"],
            "operating_status": statuses.get(record["id"], "OFFLINE"),
        }


class LocalHealthMonitor(_RecordPlugin):
    type_name = "Local::HealthMonitor"
    schema = HEALTH_MONITOR
    kind = MONITORS
    #: A pool has one monitor: the new one can only come once the old one is gone.
    replace_delete_first = True

    def _spec(self, properties: Mapping[str, Any]) -> HealthMonitorSpec:
        value = self.property_value
        return HealthMonitorSpec(
            pool=properties["pool"],
            type=properties["type"],
            delay=properties["delay"],
            timeout=properties["timeout"],
            max_retries=properties["max_retries"],
            url_path=value(properties, "url_path"),
            expected_codes=value(properties, "expected_codes"),
            http_method=value(properties, "http_method"),
            admin_state_up=value(properties, "admin_state_up"),
        )

    def validate(self, properties: Mapping[str, Any]) -> list[Diagnostic]:
        """Octavia's rules: a check ends before the next starts; paths and codes are well formed."""
        problems = []
        delay, timeout = properties.get("delay"), properties.get("timeout")
        if isinstance(delay, int) and isinstance(timeout, int) and timeout > delay:
            problems.append(("timeout", f"timeout ({timeout}) must not exceed delay ({delay})"))
        path = properties.get("url_path")
        if isinstance(path, str) and not path.startswith("/"):
            problems.append(("url_path", f"url_path {path!r} must begin with /"))
        codes = properties.get("expected_codes")
        if isinstance(codes, str) and not _CODES.fullmatch(codes):
            message = f"expected_codes {codes!r} must be a code, a list (200,202) or a range"
            problems.append(("expected_codes", f"{message} (200-204)"))
        return [Diagnostic(INVALID, text, TemplatePath((name,))) for name, text in problems]

    def _attributes(self, balancers: LoadBalancers, record: Mapping[str, Any]) -> dict[str, Any]:
        return {"pools": [{"id": record["pool"]}]}


def _balancers(ctx: ProviderContext) -> LoadBalancers:
    return local_cloud(ctx).load_balancers


async def _found_balancer(ctx: ProviderContext, physical_id: str | None) -> LoadBalancerInfo | None:
    if physical_id is None:
        return None
    return await call(_balancers(ctx).load_balancer, physical_id)


async def _balancer(ctx: ProviderContext, physical_id: str | None) -> LoadBalancerInfo:
    balancer = await _found_balancer(ctx, physical_id)
    if balancer is None:
        raise NotFound("the load balancer does not exist any more")
    return balancer

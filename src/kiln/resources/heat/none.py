"""``OS::Heat::None``: stands in for any resource and does nothing.

Heat uses it to stub out a type through the resource registry, so it accepts
any properties and answers any attribute (with null). A change never
replaces it: the planner treats every property of a schema that accepts
any properties as updatable in place, and the update does nothing.
"""

from __future__ import annotations

import uuid

from kiln.providers.context import ProviderContext
from kiln.providers.protocol import CreateRequest, FindRequest, Progress
from kiln.resources.heat.record_only import RecordOnlyPlugin
from kiln.schema.resource_schema import ResourceSchema

SCHEMA = ResourceSchema(
    "OS::Heat::None",
    description="Does nothing; accepts any properties and returns null for any attribute.",
    accepts_any_properties=True,
    dynamic_attributes=True,
)

#: Namespace of the ids derived from idempotency tokens (so a lost create can be adopted).
_ID_NAMESPACE = uuid.UUID("5d0e3c1a-6f2b-4c8e-9a57-0b1e2f3a4c5d")


def _physical_id(idempotency_token: str) -> str:
    """A uuid, as Heat gives; derived from the token when there is one, so retries agree."""
    if not idempotency_token:
        return str(uuid.uuid4())
    return str(uuid.uuid5(_ID_NAMESPACE, idempotency_token))


class NoneResource(RecordOnlyPlugin):
    """Does nothing; its physical id is a uuid and every attribute is null."""

    type_name = "OS::Heat::None"
    schema = SCHEMA

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        return Progress(done=True, physical_id=_physical_id(request.idempotency_token))

    async def find(self, ctx: ProviderContext, request: FindRequest) -> str | None:
        if not request.idempotency_token:
            return None
        return _physical_id(request.idempotency_token)

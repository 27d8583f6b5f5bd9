"""What resources that take signals from outside share: a signal URL and a secret token."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from kiln.providers.context import ProviderContext
from kiln.providers.protocol import CreateRequest, Progress
from kiln.resources.heat.record_only import RecordOnlyPlugin
from kiln.resources.nested import stacks_client

TOKEN, ENDPOINT = "token", "endpoint"


class SignalTarget(RecordOnlyPlugin):
    """Created with a token (kept encrypted) and the endpoint signals are posted to."""

    secret_data_keys = frozenset({TOKEN})

    async def create(self, ctx: ProviderContext, request: CreateRequest) -> Progress:
        data = {TOKEN: secrets.token_urlsafe(24), ENDPOINT: stacks_client(ctx).signal_endpoint()}
        return Progress(done=True, physical_id=request.physical_name, provider_data=data)


def presigned_url(provider_data: Mapping[str, Any]) -> str | None:
    """The endpoint with the token in its query: a URL that signals without other credentials."""
    endpoint, token = provider_data.get(ENDPOINT), provider_data.get(TOKEN)
    if not endpoint or not token:
        return None
    return f"{endpoint}?{urlencode({'token': token})}"

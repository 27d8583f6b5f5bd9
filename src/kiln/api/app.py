"""The ASGI application: Heat's Orchestration API v1 with an engine in the same process.

:func:`create_app` builds the app from :class:`ServerSettings`; the database,
plugins and secrets are opened when the app starts, and the engine runner
stops gracefully when it shuts down (see :mod:`kiln.api.runner`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request

from kiln import __version__
from kiln.api.errors import ERROR_RESPONSES, install_error_handlers
from kiln.api.runner import EngineRunner
from kiln.config import TemplateLimits, limits_from_environment
from kiln.engine.operation import Engine
from kiln.persistence.database import Database, database_url
from kiln.persistence.secrets import SecretBox
from kiln.persistence.stacks import StackRepository
from kiln.providers.registry import PluginRegistry, load_plugin_registry
from kiln.service.stacks import StackService

LOG = logging.getLogger(__name__)

#: Heat's cap on a request body (``max_json_body_size``).
MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    """What the server needs to know; read once from the environment by ``kiln serve``."""

    environ: Mapping[str, str] = field(default_factory=dict)
    #: "token" (the default) or "none": every request acts as an admin of its project.
    auth: str = "token"
    max_body_bytes: int = MAX_BODY_BYTES
    shutdown_grace_seconds: float = 30.0
    recover_every_seconds: float = 5.0


@dataclass
class ServerState:
    """What every request shares: the open database, the plugins, the engine runner."""

    settings: ServerSettings
    database: Database
    plugins: PluginRegistry
    secrets: SecretBox
    limits: TemplateLimits
    runner: EngineRunner

    def service(self, project_id: str) -> StackService:
        return StackService(
            self.database,
            self.plugins,
            self.secrets,
            project_id=project_id,
            limits=self.limits,
            launch=self.runner.launch,
        )


def open_state(settings: ServerSettings) -> ServerState:
    database = Database.open(database_url(dict(settings.environ)))
    database.migrate()
    plugins = load_plugin_registry()
    secrets = SecretBox.from_environment(dict(settings.environ))
    limits = limits_from_environment(dict(settings.environ))
    concurrency = settings.environ.get("KILN_ENGINE_CONCURRENCY")
    lease = settings.environ.get("KILN_ENGINE_LEASE_SECONDS")

    def make_engine() -> Engine:
        return Engine(
            database,
            plugins,
            secrets,
            concurrency=int(concurrency) if concurrency else None,
            lease_seconds=float(lease) if lease else 30.0,
            limits=limits,
        )

    runner = EngineRunner(
        make_engine,
        StackRepository(database, secrets),
        recover_every=settings.recover_every_seconds,
    )
    return ServerState(settings, database, plugins, secrets, limits, runner)


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.kiln
    return state


def create_app(settings: ServerSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = open_state(settings)
        app.state.kiln = state
        state.runner.start()
        try:
            yield
        finally:
            await state.runner.shutdown(settings.shutdown_grace_seconds)
            state.database.dispose()

    app = FastAPI(
        title="Kiln Orchestration API",
        version=__version__,
        description="OpenStack Heat's Orchestration API v1, served by Kiln.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    install_error_handlers(app)
    _install_body_limit(app, settings.max_body_bytes)
    from kiln.api.auth import install_auth

    install_auth(app)
    from kiln.api import (
        actions,
        events,
        info,
        lookup,
        resources,
        snapshots,
        software,
        stacks,
        streaming,
        templates,
    )

    app.include_router(info.router)
    # Before the routes whose paths it would otherwise match.
    app.include_router(streaming.router)
    app.include_router(stacks.router)
    app.include_router(resources.router)
    app.include_router(events.router)
    app.include_router(actions.router)
    app.include_router(snapshots.router)
    app.include_router(templates.router)
    app.include_router(software.router)
    # Last: the name-only lookups must not shadow the routes above.
    app.include_router(lookup.router)
    return app


def _install_body_limit(app: FastAPI, limit: int) -> None:
    """Refuse bodies over ``limit`` bytes (413, Heat's error shape) before reading them."""
    from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
    from starlette.responses import Response

    from kiln.api.errors import ApiError, error_response

    async def limit_body(request: Request, call_next: RequestResponseEndpoint) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return error_response(
                ApiError(
                    413,
                    "RequestLimitExceeded",
                    f"Request limit exceeded: JSON body size ({length} bytes) "
                    f"exceeds maximum allowed size ({limit} bytes).",
                )
            )
        return await call_next(request)

    app.add_middleware(BaseHTTPMiddleware, dispatch=limit_body)


def json_body(raw: bytes) -> Any:
    """A request body parsed as JSON, or Heat's 400 saying it is not JSON."""
    import json

    from kiln.api.errors import ApiError

    if not raw:
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, "Invalid", f"The request body is not valid JSON: {error}") from None


def app_from_environment() -> FastAPI:
    """The app ``kiln serve`` runs (a factory, so that each worker process builds its own)."""
    import os

    environ = dict(os.environ)
    return create_app(ServerSettings(environ=environ, auth=environ.get("KILN_AUTH", "token")))

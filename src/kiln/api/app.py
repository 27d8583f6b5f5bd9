"""The ASGI application: Heat's Orchestration API v1 with an engine in the same process.

:func:`create_app` builds the app from :class:`ServerSettings`; the database,
plugins and secrets are opened when the app starts, and the engine runner
stops gracefully when it shuts down (see :mod:`kiln.api.runner`).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request

from kiln import __version__
from kiln.api.errors import ERROR_RESPONSES, install_error_handlers
from kiln.api.runner import EngineRunner
from kiln.clients import cloud_clients
from kiln.config import (
    TemplateLimits,
    api_url_from_environment,
    limits_from_environment,
    local_settings_from_environment,
)
from kiln.engine.operation import Engine
from kiln.persistence.database import Database, database_url, kiln_home
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
    #: Tune this process's garbage collector for serving (see :func:`tune_garbage_collector`;
    #: for a server process, not for a test that builds many apps in one process).
    tune_garbage_collector: bool = False


@dataclass
class ServerState:
    """What every request shares: the open database, the plugins, the engine runner."""

    settings: ServerSettings
    database: Database
    plugins: PluginRegistry
    secrets: SecretBox
    limits: TemplateLimits
    runner: EngineRunner
    clients: Mapping[str, Any] = field(default_factory=dict)

    def service(self, project_id: str) -> StackService:
        return StackService(
            self.database,
            self.plugins,
            self.secrets,
            project_id=project_id,
            limits=self.limits,
            launch=self.runner.launch,
            clients=self.clients,
        )


def open_state(settings: ServerSettings) -> ServerState:
    database = Database.open(database_url(dict(settings.environ)))
    database.migrate()
    plugins = load_plugin_registry()
    secrets = SecretBox.from_environment(dict(settings.environ))
    limits = limits_from_environment(dict(settings.environ))
    concurrency = settings.environ.get("KILN_ENGINE_CONCURRENCY")
    lease = settings.environ.get("KILN_ENGINE_LEASE_SECONDS")
    environ = dict(settings.environ)
    api_url = api_url_from_environment(environ)
    clients = cloud_clients(
        local_settings_from_environment(environ), kiln_home(environ), api_url=api_url
    )

    def make_engine() -> Engine:
        return Engine(
            database,
            plugins,
            secrets,
            concurrency=int(concurrency) if concurrency else None,
            lease_seconds=float(lease) if lease else 30.0,
            limits=limits,
            clients=clients,
            api_url=api_url,
        )

    runner = EngineRunner(
        make_engine,
        StackRepository(database, secrets),
        recover_every=settings.recover_every_seconds,
    )
    return ServerState(settings, database, plugins, secrets, limits, runner, clients)


#: Tracked objects allocated (less those freed) between two young collections; Python's
#: default is 700.
YOUNG_COLLECTION_THRESHOLD = 10_000


def tune_garbage_collector() -> None:
    """Keep garbage collection out of the requests' latency.

    What start-up made (modules, plugins, the schema) lives as long as the
    process: frozen, it is out of the collector's sight, so a full collection
    no longer walks it (that took tens of milliseconds out of whichever request
    triggered one). And a list of a thousand stacks or events keeps several
    thousand objects alive while it is rendered: with Python's default
    threshold each such request set off dozens of collections, all walking
    those same objects; with this one, few requests set off any.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD)


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.kiln
    return state


def create_app(settings: ServerSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = open_state(settings)
        app.state.kiln = state
        state.runner.start()
        if settings.tune_garbage_collector:
            tune_garbage_collector()
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
    _document_bad_requests_as_400(app)
    return app


def _document_bad_requests_as_400(app: FastAPI) -> None:
    """FastAPI documents a 422 for every route that takes parameters; Kiln answers a bad
    request with Heat's 400 (documented for every route), so the document drops the 422."""
    generate = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        generated = generate()
        for operations in generated.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        schemas = generated.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        return generated

    app.openapi = document  # type: ignore[method-assign]


def _install_body_limit(app: FastAPI, limit: int) -> None:
    """Refuse bodies over ``limit`` bytes before any route reads them.

    The answer is Heat's: 400 RequestLimitExceeded.
    """
    from kiln.api.body_limit import BodyLimit

    app.add_middleware(BodyLimit, limit=limit)


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
    recover_every = float(environ.get("KILN_RECOVER_EVERY_SECONDS") or 5.0)
    if recover_every <= 0:
        raise ValueError("KILN_RECOVER_EVERY_SECONDS must be positive")
    settings = ServerSettings(
        environ=environ,
        auth=environ.get("KILN_AUTH", "token"),
        recover_every_seconds=recover_every,
        tune_garbage_collector=True,
    )
    return create_app(settings)

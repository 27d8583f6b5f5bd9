"""``kiln serve``: the Orchestration API and an engine, in one process (or several workers)."""

from __future__ import annotations

import os

import click

AUTH_NONE_WARNING = (
    "WARNING: authentication is OFF (--auth none). Every request acts as an admin of the "
    "project in its URL. Use this only for development, never on a shared network."
)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8004, show_default=True, type=int, help="Port (Heat's is 8004).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--auth",
    type=click.Choice(["token", "none"]),
    default="token",
    show_default=True,
    help="token: X-Auth-Token checked; none: development mode, no checks.",
)
@click.option("--log-level", default="info", show_default=True)
def serve(host: str, port: int, workers: int, auth: str, log_level: str) -> None:
    """Serve Heat's Orchestration API v1 at http://HOST:PORT/v1/{project_id}."""
    import uvicorn

    os.environ["KILN_AUTH"] = auth
    if auth == "none":
        click.secho(AUTH_NONE_WARNING, fg="red", bold=True, err=True)
    uvicorn.run(
        "kiln.api.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        timeout_graceful_shutdown=35,
    )

"""``kiln serve``: the Orchestration API and an engine, in one process (or several workers).

With ``--workers N`` uvicorn starts N worker processes on one listening
socket. Each is a whole server: the API and an engine, over the same
database. They need no other coordination: an operation is run by whichever
engine holds the stack's lease, a request for a stack another worker is
working on only records the operation (that engine picks it up), and each
worker's recovery resumes operations whose engine died once their lease has
expired. The schema is brought up to date here, once, before the workers
start, so that they do not race to migrate a new database.
"""

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
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes, each the API and an engine over the same database.",
)
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

    from kiln.config import API_URL_VARIABLE, served_api_url

    os.environ["KILN_AUTH"] = auth
    # Signal URLs and servers name the API the way this server really listens.
    os.environ.setdefault(API_URL_VARIABLE, served_api_url(host, port))
    if auth == "none":
        click.secho(AUTH_NONE_WARNING, fg="red", bold=True, err=True)
    if workers > 1:
        _prepare_shared_state()
    uvicorn.run(
        "kiln.api.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        timeout_graceful_shutdown=35,
    )


def _prepare_shared_state() -> None:
    """Migrate the database and settle the secret key before the workers share them."""
    from kiln.persistence.database import Database, database_url, normalize_url
    from kiln.persistence.secrets import load_secret_keys

    environ = dict(os.environ)
    url = database_url(environ)
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise click.UsageError(
            "--workers needs a database the workers share: an in-memory SQLite "
            "database lives in one process. Use a SQLite file or a database server."
        )
    database = Database.open(url)
    try:
        database.migrate()
    finally:
        database.dispose()
    load_secret_keys(environ)

"""Who is calling, and what they may do: every ``/v1/{project_id}/...`` request is checked.

With ``--auth token`` (the default) a request carries ``X-Auth-Token``, a
token made by ``kiln token create``. An unknown, expired or revoked token is
refused with 401; a token acts in its own project only (403 elsewhere) unless
its role is ``admin``, and a ``reader`` may only read (GET, HEAD, OPTIONS).
With ``--auth none`` every request acts as an admin of the project in its URL.

A resource's signal URL carries a token of its own (``X-Auth-Token`` or the
``token`` query parameter): it lets a POST to that resource's ``signal`` route
through, whatever the mode, and nothing else. The check matches the path, so
it holds for whichever module serves the route. Likewise a Local server's
agent reads its own deployment metadata (a GET of
``software_deployments/metadata/{server_id}``) with the credential its
resource gave it, and nothing else.

Tokens never appear in answers, and :class:`RedactTokens` keeps the ``token``
query parameter of signal URLs out of the access log.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from kiln.api.app import ServerState, server_state
from kiln.api.errors import ApiError
from kiln.service.identity import IdentityService, Role, SignalTokens

TOKEN_HEADER = "X-Auth-Token"
SIGNAL_TOKEN_PARAMETER = "token"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PROJECT_PATH = re.compile(r"^/v1/(?P<project>[^/]+)(?:/|$)")
SIGNAL_PATH = re.compile(
    r"^/v1/(?P<project>[^/]+)/stacks/(?P<stack_name>[^/]+)/(?P<stack_id>[^/]+)"
    r"/resources/(?P<resource>[^/]+)/signal/?$"
)
SERVER_METADATA_PATH = re.compile(
    r"^/v1/(?P<project>[^/]+)/software_deployments/metadata/(?P<server>[^/]+)/?$"
)
#: Heat's (keystonemiddleware's) words for a request without valid credentials.
UNAUTHORIZED = "The request you have made requires authentication."


@dataclass(frozen=True)
class Caller:
    """Who a request acts as: in ``project_id`` (the URL's), with ``role``.

    ``user_id`` is None when authentication is off or a signal URL's token
    let the request in.
    """

    project_id: str
    role: Role
    user_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def authorize(
    request: Request, state: Annotated[ServerState, Depends(server_state)]
) -> Caller | None:
    """The app-wide check: the caller of a ``/v1/{project_id}`` request, or an error.

    Requests outside ``/v1/{project_id}`` (the version document) need nothing
    and have no caller.
    """
    path = request.url.path
    in_project = PROJECT_PATH.match(path)
    if in_project is None:
        return None
    project_id = in_project["project"]
    if state.settings.auth == "none":
        return Caller(project_id, Role.ADMIN)
    if _signal_token_fits(request, state, path):
        return Caller(project_id, Role.MEMBER)
    if _server_credential_fits(request, state, path):
        return Caller(project_id, Role.READER)
    secret = request.headers.get(TOKEN_HEADER)
    if not secret:
        raise ApiError(401, "Unauthorized", UNAUTHORIZED)
    identity = IdentityService(state.database).authenticate(secret)
    if identity is None:
        raise ApiError(401, "Unauthorized", UNAUTHORIZED)
    if identity.project_id != project_id and identity.role is not Role.ADMIN:
        raise ApiError(403, "Forbidden", f"The token is not valid for project {project_id}.")
    if identity.role is Role.READER and request.method not in READ_METHODS:
        raise ApiError(403, "Forbidden", "The reader role may only read.")
    return Caller(project_id, identity.role, identity.user_id)


def caller(found: Annotated[Caller | None, Depends(authorize)]) -> Caller:
    """The caller of a route under ``/v1/{project_id}`` (:func:`authorize` ran already)."""
    if found is None:
        raise ApiError(401, "Unauthorized", UNAUTHORIZED)
    return found


def _signal_token_fits(request: Request, state: ServerState, path: str) -> bool:
    """Whether this is a POST to a resource's signal route carrying that resource's token."""
    if request.method != "POST":
        return False
    route = SIGNAL_PATH.match(path)
    if route is None:
        return False
    presented = [
        value
        for value in (
            request.headers.get(TOKEN_HEADER),
            request.query_params.get(SIGNAL_TOKEN_PARAMETER),
        )
        if value
    ]
    if not presented:
        return False
    tokens = SignalTokens(state.database, state.secrets)
    return any(
        tokens.matches(
            route["project"], route["stack_name"], route["stack_id"], route["resource"], value
        )
        for value in presented
    )


def _server_credential_fits(request: Request, state: ServerState, path: str) -> bool:
    """Whether this is a server reading its own deployment metadata with its credential."""
    route = SERVER_METADATA_PATH.match(path)
    secret = request.headers.get(TOKEN_HEADER)
    if request.method not in READ_METHODS or route is None or not secret:
        return False
    tokens = SignalTokens(state.database, state.secrets)
    return tokens.server_credential_matches(route["project"], route["server"], secret)


class RedactTokens(logging.Filter):
    """Replaces the value of ``token`` query parameters in access log lines with ``***``."""

    PATTERN = re.compile(r"([?&]token=)[^&\s\"]*", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._redacted(argument) for argument in record.args)
        record.msg = self._redacted(record.msg)
        return True

    def _redacted(self, value: Any) -> Any:
        return self.PATTERN.sub(r"\1***", value) if isinstance(value, str) else value


def install_auth(app: FastAPI) -> None:
    """Check every route's caller (call before the routers are included)."""
    app.router.dependencies.append(Depends(authorize))
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, RedactTokens) for existing in access_log.filters):
        access_log.addFilter(RedactTokens())

"""HTTP to one ``kiln serve`` in one project: requests, Heat's errors, and the event stream.

An error answer in Heat's shape (``{"error": {"type", "message", ...}}``)
becomes the Kiln error embedded mode raises for the same condition, so the
commands handle both modes alike: 404 a :class:`NotFoundError`, 409 a
:class:`ConflictError`, a template problem a :class:`TemplateError` with
every diagnostic the server found (its ``error.diagnostics``), anything else
a :class:`KilnError` with the server's message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from kiln import __version__
from kiln.cli.backend import Connection
from kiln.errors import (
    ConflictError,
    Diagnostic,
    KilnError,
    NotFoundError,
    Severity,
    Span,
    TemplateError,
    TemplatePath,
)

TOKEN_HEADER = "X-Auth-Token"
#: Seconds to connect, and to wait for an answer (a signal may queue behind another).
CONNECT_SECONDS = 10.0
ANSWER_SECONDS = 120.0

#: Query parameters (a list repeats the parameter).
Params = Mapping[str, str | int | list[str]]


class ServerUnreachable(KilnError):
    """The server did not answer (refused, reset, timed out)."""


def segment(value: str) -> str:
    """A name or id as one path segment."""
    return quote(value, safe="")


def diagnostic(entry: Mapping[str, Any]) -> Diagnostic:
    """A diagnostic from its ``to_dict`` form in an error body."""
    line, column = entry.get("line"), entry.get("column")
    return Diagnostic(
        code=str(entry.get("code", "")),
        message=str(entry.get("message", "")),
        path=TemplatePath(entry.get("segments") or ()),
        severity=Severity(entry.get("severity", Severity.ERROR.value)),
        span=Span(int(line), int(column)) if line is not None and column is not None else None,
        source=entry.get("source"),
    )


def error_from(response: httpx.Response) -> KilnError:
    """The Kiln error for an error answer (Heat-shaped or not)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {}
    message = str(error.get("message") or f"{response.status_code} {response.reason_phrase}")
    if response.status_code == 404:
        return NotFoundError(message)
    if response.status_code == 409:
        return ConflictError(message)
    diagnostics = error.get("diagnostics")
    if isinstance(diagnostics, list) and diagnostics:
        return TemplateError([diagnostic(entry) for entry in diagnostics])
    return KilnError(message)


@dataclass(frozen=True)
class Message:
    """One server-sent event: its kind (``event:``), ``id:`` and ``data:``."""

    kind: str
    ident: str
    data: str


def messages(lines: Iterable[str]) -> Iterator[Message]:
    """The server-sent events in a stream's lines (comments and retries skipped)."""
    kind, ident = "message", ""
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield Message(kind, ident, "\n".join(data))
            kind, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                kind = value
            elif field == "id":
                ident = value
            elif field == "data":
                data.append(value)


class Server:
    """Requests under ``{url}/v1/{project}``, with the token as ``X-Auth-Token``."""

    def __init__(self, connection: Connection, transport: httpx.BaseTransport | None = None):
        if connection.url is None:
            raise ValueError("client mode needs a server URL")
        self.url = connection.url.rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": f"kiln/{__version__}"}
        if connection.token:
            headers[TOKEN_HEADER] = connection.token
        self.http = httpx.Client(
            base_url=f"{self.url}/v1/{segment(connection.project)}",
            headers=headers,
            timeout=httpx.Timeout(ANSWER_SECONDS, connect=CONNECT_SECONDS),
            transport=transport,
        )

    def _unreachable(self, error: httpx.HTTPError) -> ServerUnreachable:
        return ServerUnreachable(f"Cannot reach the Kiln server at {self.url}: {error}")

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        follow: bool = False,
    ) -> httpx.Response:
        """The answer to a request; the Kiln error an error answer stands for."""
        try:
            response = self.http.request(
                method,
                path,
                json=body,
                params=params,
                headers=headers,
                follow_redirects=follow,
            )
        except httpx.HTTPError as error:
            raise self._unreachable(error) from error
        if response.is_error:
            raise error_from(response)
        return response

    def get(self, path: str, *, params: Params | None = None, follow: bool = False) -> Any:
        return self.call("GET", path, params=params, follow=follow).json()

    def send(
        self, method: str, path: str, body: Any = None, *, params: Params | None = None
    ) -> Any:
        """A request that changes something; its JSON answer, or None when it has none."""
        response = self.call(method, path, body, params=params)
        return response.json() if response.content else None

    def events(self, path: str, after: int) -> Iterator[Message]:
        """The messages of an event stream, read as they come, until the server ends it."""
        try:
            with self.http.stream(
                "GET",
                path,
                params={"after": after},
                headers={"Accept": "text/event-stream"},
                timeout=httpx.Timeout(None, connect=CONNECT_SECONDS),
            ) as response:
                if response.is_error:
                    response.read()
                    raise error_from(response)
                yield from messages(response.iter_lines())
        except httpx.HTTPError as error:
            raise self._unreachable(error) from error

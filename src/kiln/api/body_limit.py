"""Heat's cap on a request body (``max_json_body_size``), enforced before any route reads it.

A ``Content-Length`` over the cap is refused at once; a body sent without one
(chunked) is read up to the cap and refused as soon as it goes past it, so no
request makes the server hold more than the cap in memory. The answer is Heat's: a 400
RequestLimitExceeded in its error shape.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiln.api.errors import ApiError, error_response

#: Methods whose requests carry no body worth reading ahead (a stream stays a stream).
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})


def _too_large(limit: int, size: str) -> ApiError:
    return ApiError(
        400,
        "RequestLimitExceeded",
        f"Request limit exceeded: JSON body size ({size} bytes) "
        f"exceeds maximum allowed size ({limit} bytes).",
    )


class BodyLimit:
    """ASGI middleware: bodies over ``limit`` bytes get a 400 and never reach a route."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODILESS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"").decode("latin-1").strip()
        if length.isdigit() and int(length) > self.limit:
            await error_response(_too_large(self.limit, length))(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away before sending it all: nothing to answer.
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await error_response(_too_large(self.limit, f"over {self.limit}"))(
                    scope, receive, send
                )
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

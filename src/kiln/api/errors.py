"""Errors as Heat's API returns them, with Kiln's located diagnostics inside.

Heat's body is ``{"explanation", "code", "error": {"type", "message",
"traceback"}, "title"}``; python-heatclient reads ``error.message`` and shows
it. A template problem also carries ``error.diagnostics``: every problem with
its code, path, line and column. Nothing here echoes request values back, so a
hidden parameter sent in a bad request never appears in the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from kiln.errors import ConflictError, DiagnosticError, KilnError, NotFoundError

#: The diagnostic of a template with more resources than a stack may have.
RESOURCE_LIMIT_CODE = "L8002"

#: What Heat says of each status in ``explanation``.
_EXPLANATIONS = {
    400: "The server could not comply with the request since it is either "
    "malformed or otherwise incorrect.",
    401: "This server could not verify that you are authorized to access the "
    "document you requested.",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    405: "The method is not allowed for this resource.",
    409: "There was a conflict when trying to complete your request.",
    413: "The request is larger than the server is willing or able to process.",
    500: "The server has either erred or is incapable of performing the requested operation.",
}


class ErrorDetail(BaseModel):
    type: str
    message: str
    traceback: None = None
    #: Kiln's located diagnostics, for a template or parameter problem.
    diagnostics: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """Heat's error body."""

    explanation: str
    code: int
    error: ErrorDetail
    title: str


#: The errors any route may answer with, for the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": HTTPStatus(status).phrase}
    for status in (400, 401, 403, 404, 405, 409, 500)
}


class ApiError(Exception):
    """An error to answer with: the HTTP status, Heat's error type and a message."""

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        diagnostics: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.diagnostics = diagnostics


def error_body(
    status: int, error_type: str, message: str, diagnostics: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"type": error_type, "message": message, "traceback": None}
    if diagnostics is not None:
        error["diagnostics"] = diagnostics
    return {
        "explanation": _EXPLANATIONS.get(status, HTTPStatus(status).description),
        "code": status,
        "error": error,
        "title": HTTPStatus(status).phrase,
    }


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        error_body(error.status, error.error_type, error.message, error.diagnostics),
        status_code=error.status,
        headers=headers,
    )


def from_kiln_error(error: KilnError) -> ApiError:
    """The API error for a Kiln error, typed as Heat types the same condition."""
    if isinstance(error, NotFoundError):
        return ApiError(404, "EntityNotFound", str(error))
    if isinstance(error, ConflictError):
        kind = "StackExists" if type(error).__name__ == "StackExists" else "ActionInProgress"
        return ApiError(409, kind, str(error))
    if isinstance(error, DiagnosticError):
        # Past the resources-per-stack limit Heat answers RequestLimitExceeded.
        over_limit = any(d.code == RESOURCE_LIMIT_CODE for d in error.diagnostics)
        return ApiError(
            400,
            "RequestLimitExceeded" if over_limit else "StackValidationFailed",
            str(error),
            [diagnostic.to_dict() for diagnostic in error.diagnostics],
        )
    # An error may name the Heat type it stands for (``heat_type``).
    return ApiError(400, str(getattr(error, "heat_type", "Invalid")), str(error))


#: How a message names where a bad value came from.
_SOURCES = {"query": "query parameter", "header": "header", "path": "path segment"}


def _problem_message(problem: Mapping[str, Any]) -> str:
    """One problem the framework found, said the way Kiln's own checks say theirs."""
    location = [str(part) for part in problem.get("loc", ())]
    kind = problem.get("type", "")
    if kind == "json_invalid":
        detail = (problem.get("ctx") or {}).get("error", "JSON decode error")
        at = f" (at character {location[-1]})" if len(location) > 1 else ""
        return f"The request body is not valid JSON: {detail}{at}."
    if location == ["body"]:
        return "The request body must be a JSON object."
    source, *field = location or ["request"]
    name = ".".join(field) or source
    return f"Invalid {_SOURCES.get(source, 'field')} '{name}': {problem.get('msg', 'invalid')}."


def _validation_message(error: RequestValidationError) -> str:
    return " ".join(_problem_message(problem) for problem in error.errors()) or "Invalid request."


def install_error_handlers(app: FastAPI) -> None:
    """Every error the app raises becomes a Heat-shaped body."""

    async def api_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return error_response(error)

    async def kiln_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, KilnError)
        return error_response(from_kiln_error(error))

    async def validation_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return error_response(ApiError(400, "Invalid", _validation_message(error)))

    async def http_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        status = error.status_code
        message = str(error.detail) if error.detail else HTTPStatus(status).phrase
        kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(status, HTTPStatus(status).phrase)
        # A 405 keeps Starlette's ``Allow`` header (RFC 9110 requires it).
        headers = dict(error.headers) if error.headers else None
        return error_response(ApiError(status, kind.replace(" ", ""), message), headers)

    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        return error_response(ApiError(500, "InternalError", "The server failed unexpectedly."))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(KilnError, kiln_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)

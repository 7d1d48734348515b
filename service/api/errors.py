"""One error shape for every 4xx/5xx: ``{"error", "message", "fields"?, "request_id"}``.

Validation errors name each field ("text: must not be empty"); nothing here echoes the submitted values back,
so petition text never lands in an error body or a log.
"""

from __future__ import annotations

import logging
import traceback

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("service.api")


class ApiError(Exception):
    """An error a handler raises on purpose: status, machine-readable code, human message."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def field_name(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "body")


def describe(error: dict) -> str:
    message = error.get("msg", "invalid value")
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if error.get("type") == "json_invalid":
        ctx = error.get("ctx") or {}
        message = f"invalid JSON: {ctx.get('error', 'cannot be parsed')}"
    return message


def _request_id(request: Request) -> str | None:
    return request.scope.get("state", {}).get("request_id")


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.error, "message": exc.message, "request_id": _request_id(request)},
                            status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [{"field": field_name(e.get("loc", ())), "message": describe(e)} for e in exc.errors()]
        message = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return JSONResponse({"error": "invalid_request", "message": message, "fields": fields,
                             "request_id": _request_id(request)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": "http_error", "message": str(exc.detail), "request_id": _request_id(request)},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The frames and the type only: an exception's message can quote what was submitted (a database error
        # quotes its parameters, a parser its input), and petition text must never reach the log.
        log.error("unhandled %s (request %s; message withheld)\n%s", type(exc).__name__, _request_id(request),
                  "".join(traceback.format_tb(exc.__traceback__)).rstrip())
        return JSONResponse({"error": "internal_error", "message": "internal error; quote the request id",
                             "request_id": _request_id(request)}, status_code=500)

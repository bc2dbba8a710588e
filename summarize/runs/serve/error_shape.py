"""The server's one error shape: every error is {"error": one line}, with no HTML page, no list of
details and no traceback."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from summarize.flags import contract_fields
from summarize.options import flag_of, per_request
from summarize.outputs.printable import one_line

BAD_REQUEST, TOO_LARGE, UNPROCESSABLE, UNAVAILABLE, TIMED_OUT = 400, 413, 422, 503, 504


@dataclass
class Rejected(Exception):
    """A request the server will not run: its HTTP status and the one line that says why."""

    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def http_spelling(name: str) -> str:
    """An option as a request names it (`options.max_words`); one that is the server's own, as the
    server was started with it (`this server's --long`)."""
    spec, _ = contract_fields()[name]
    return f"options.{name}" if per_request(spec) else f"this server's {flag_of(spec)}"


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": one_line(message)}, status, headers=headers)


def add_error_handlers(app: FastAPI, explain: Callable[[list[dict[str, Any]]], tuple[int, str]]) -> None:
    """Every error as {"error": one line}: no HTML page, no list of details, no traceback. `explain`
    turns pydantic's list of a request's problems into a status and that line (requests.validation_line)."""

    @app.exception_handler(Rejected)
    async def rejected(request: Request, e: Rejected) -> JSONResponse:
        return error(e.status, e.message, e.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        return error(*explain(e.errors()))

    @app.exception_handler(HTTPException)
    async def http(request: Request, e: HTTPException) -> JSONResponse:
        what = {404: "no such page", 405: "method not allowed"}.get(e.status_code, str(e.detail).lower())
        return error(e.status_code, f"{what}: {request.method} {request.url.path}; the API is POST /v1/summarize (see /docs)", e.headers)

"""The server's one error shape: every error is {"error": one line}, with no HTML page, no list of
details and no traceback."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from summarize.outputs.render import one_line
from summarize.runs.serve.requests import BAD_REQUEST, UNPROCESSABLE, Rejected, RequestOptions, SummarizeRequest


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": one_line(message)}, status, headers=headers)


def add_error_handlers(app: FastAPI) -> None:
    """Every error as {"error": one line}: no HTML page, no list of details, no traceback."""

    @app.exception_handler(Rejected)
    async def rejected(request: Request, e: Rejected) -> JSONResponse:
        return error(e.status, e.message, e.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        return error(*validation_line(e.errors()))

    @app.exception_handler(HTTPException)
    async def http(request: Request, e: HTTPException) -> JSONResponse:
        what = {404: "no such page", 405: "method not allowed"}.get(e.status_code, str(e.detail).lower())
        return error(e.status_code, f"{what}: {request.method} {request.url.path}; the API is POST /v1/summarize (see /docs)", e.headers)


def validation_line(errors: list[dict[str, Any]]) -> tuple[int, str]:
    """pydantic's list of problems as a status and one line: the first problem, and how many more."""
    first = errors[0]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"][1:]).lstrip(".")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if first["type"] == "json_invalid":
        return BAD_REQUEST, f'the body is not valid JSON ({first.get("ctx", {}).get("error", first["msg"])}); send a JSON object such as {{"text": "…"}}'
    if first["type"] == "missing" and not where:
        return BAD_REQUEST, 'the body is empty; send a JSON object such as {"text": "…"}'
    if first["type"] == "extra_forbidden":
        known = RequestOptions.model_fields if "options" in first["loc"][:-1] else SummarizeRequest.model_fields
        return UNPROCESSABLE, f"unknown field {where!r}; the fields are: {', '.join(known)}{more}"
    message = first["msg"].removeprefix("Value error, ")
    return UNPROCESSABLE, f"{where}: {message}{more}" if where else f"{message}{more}"

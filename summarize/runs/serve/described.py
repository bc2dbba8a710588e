"""/openapi.json as the server is: every answer of every route, an error being {"error": one line}
(not FastAPI's list of validation details, which this server never sends), and the result's own
keys (those of `summarize --format json`) rather than "any object"."""

from __future__ import annotations

import typing
from typing import Any

from fastapi import FastAPI

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string", "description": "What is wrong, in one line."}}}
ERRORS = {  # what each route may answer besides 200 (Guard's refusals included)
    "/v1/summarize": (400, 401, 413, 415, 421, 422, 429, 500, 503, 504),
    "/v1/summarize/batch": (400, 401, 413, 415, 421, 422, 429, 500, 503, 504),
    "/v1/info": (401, 421, 429, 503),
    "/healthz": (421, 503),
    "/metrics": (401, 421),
}
SAYS = {400: "Not JSON, not UTF-8, or binary text", 401: "No token, or a wrong one", 413: "Over a size limit", 415: "Not sent as application/json"}
SAYS |= {421: "A Host this server does not answer to", 422: "Not a request this server can run", 500: "A model failed, or a bug"}
SAYS |= {429: "Over the rate limit (Retry-After)", 503: "Models still loading, or the queue is full (Retry-After)", 504: "Past the request's deadline"}


def describe_api(app: FastAPI) -> None:
    """Make app.openapi() describe the server's real answers (FastAPI's own spec, amended once)."""
    plain = app.openapi

    def described() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = plain()
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            schemas["Error"], schemas["Result"] = ERROR, _result_schema()
            for path, methods in spec["paths"].items():
                for operation in methods.values():
                    _amend(path, operation)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = described


def _amend(path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    ok = responses.get("200", {}).get("content", {}).get("application/json")
    if path == "/v1/summarize" and ok is not None:
        ok["schema"] = {"$ref": "#/components/schemas/Result"}
    elif path == "/v1/summarize/batch" and ok is not None:
        ok["schema"] = {"type": "array", "items": {"$ref": "#/components/schemas/Result"}}
    elif path == "/healthz" and ok is not None:
        ok["schema"] = {"type": "object", "required": ["status", "serving"], "properties": {"status": {"const": "ok"}, "serving": {"type": "string"}}}
    elif path == "/metrics":
        responses["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}
    for status in ERRORS.get(path, ()):
        responses[str(status)] = {"description": SAYS[status], "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _result_schema() -> dict[str, Any]:
    """documents.Result's keys and types, as JSON Schema (pydantic cannot read its TypedDict on 3.11)."""
    from summarize.documents import Result, row_fields

    kinds = {str: "string", int: "integer", float: "number", bool: "boolean"}
    properties = {}
    for spec in row_fields(Result):  # the hidden ones are spread into summary_<code> keys
        hint = typing.get_type_hints(Result)[spec.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
        base = typing.get_origin(args[0]) or args[0]
        kind = "array" if base is list else kinds.get(base, "object")
        properties[spec.name] = {"type": [kind, "null"] if type(None) in typing.get_args(hint) else kind}
    targets = {"^summary_[a-z]{2,3}$": {"type": ["string", "null"], "description": "A --to target's translation, after summary_en."}}
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "patternProperties": targets,
        "description": "The keys of `summarize --format json`.",
    }

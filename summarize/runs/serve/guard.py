"""Guard: everything that must hold before a request reaches a route (the key and the rate limit, the content type, the
body limit, the catch-all for errors, the request count), as one pure ASGI middleware. It sees the body
arrive, so a body past the limit is refused as soon as it is (Content-Length, else counted as it
streams), never read whole."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi.responses import Response

from summarize.errors import first_line
from summarize.runs.serve.error_shape import BAD_REQUEST, TOO_LARGE, error

if TYPE_CHECKING:
    from summarize.runs.serve.access import Access
    from summarize.runs.serve.metrics import ServeMetrics

ENDPOINTS = ("/v1/summarize", "/v1/summarize/batch", "/v1/info", "/healthz", "/metrics", "/", "/docs", "/openapi.json")
CLIENT_GONE = 499  # as nginx counts a request whose client hung up before its answer
REASONS = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method", 413: "too_large", 415: "media_type", 422: "invalid", 429: "rate_limited"}
REASONS |= {500: "internal", 503: "unavailable", 504: "deadline", CLIENT_GONE: "client_gone"}


class ClientGone(Exception):
    """The client hung up before its answer: nothing is sent."""


class Guard:
    """Pure ASGI, around the app: the request count, the token, the content type, the body limit,
    and the last word on errors (one line in the log, {"error": "internal error"} to the client)."""

    def __init__(self, app, *, access: Access, max_body: int, metrics: ServeMetrics, notify: Callable[[str], None], debug: bool):
        self.app, self.access, self.max_body, self.metrics, self.notify, self.debug = app, access, max_body, metrics, notify, debug

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status: list[int] = []

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            refused = self._refuse(scope)
            body = b""
            if refused is None and scope["method"] == "POST":
                body, refused = await self._body(scope, receive)
            if refused is not None:
                await refused(scope, receive, sending)
            else:
                await self.app(scope, _replay(body, receive), sending)
        except ClientGone:
            status.append(CLIENT_GONE)
        except Exception as e:  # noqa: BLE001 - the last word: one line in the log, none of it to the client
            self._log(scope, e)
            if not status:
                await error(500, "internal error")(scope, receive, sending)
        finally:
            code = status[0] if status else CLIENT_GONE
            self.metrics.answered(scope["path"] if scope["path"] in ENDPOINTS else "other", code, REASONS.get(code) if code >= 400 else None)
            self.access.answered(code)

    def _refuse(self, scope) -> Response | None:
        """The answer to a request refused on its headers alone, or None."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refused = self.access.check(scope, headers)  # the key (401) and the rate limit (429)
        if refused is not None:
            return refused
        if scope["method"] != "POST":
            return None
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            return error(415, f"the body must be JSON sent as 'Content-Type: application/json', not {kind or 'no type'!r}")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return error(TOO_LARGE, self._too_large()) if length.isdigit() else error(BAD_REQUEST, "the Content-Length header is not a number")
        return None

    async def _body(self, scope, receive) -> tuple[bytes, Response | None]:
        """The whole body, counted as it arrives: past the limit, the answer is 413 there and then."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", error(TOO_LARGE, self._too_large())
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            body.decode("utf-8")  # JSON is UTF-8 (RFC 8259); anything else is binary data or a wrong encoding
        except UnicodeDecodeError as e:
            return b"", error(BAD_REQUEST, f"the body is not UTF-8 (byte {e.start}); send JSON text in UTF-8")
        return body, None

    def _too_large(self) -> str:
        return f"the body is over this server's limit of {self.max_body} bytes; send less at once (a batch in parts), or raise --max-body"

    def _log(self, scope, e: Exception) -> None:
        where = f"{scope['method']} {scope['path']}"
        if self.debug:
            self.notify(f"error: {where}: internal error\n{''.join(traceback.format_exception(e)).rstrip()}")
        else:
            self.notify(f"error: {where}: internal error ({type(e).__name__}: {first_line(e, 200)}); run with --debug for the traceback")


def _replay(body: bytes, receive):
    """The body already read, handed to the app as one message; then the connection's own messages."""
    given = False

    async def receiving() -> dict:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receiving

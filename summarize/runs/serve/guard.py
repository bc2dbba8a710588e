"""Guard: everything that must hold before a request reaches a route (the Host, the key and the rate limit, the
content type, the body limit and the body's shape, the catch-all for errors, the request count), as
one pure ASGI middleware. It sees the body arrive, so a body past the limit is refused as soon as it
is (Content-Length, else counted as it streams), never read whole; a body sent to a route that takes
none is never read at all."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi.responses import JSONResponse, Response

from summarize.errors import first_line
from summarize.inputs.addresses import is_loopback
from summarize.runs.serve.error_shape import BAD_REQUEST, TOO_LARGE, UNPROCESSABLE, error
from summarize.runs.serve.intake import BODIES, check_shape

if TYPE_CHECKING:
    from summarize.runs.serve.access import Access
    from summarize.runs.serve.metrics import ServeMetrics

ENDPOINTS = ("/v1/summarize", "/v1/summarize/batch", "/v1/info", "/healthz", "/metrics", "/", "/docs", "/openapi.json")
CLIENT_GONE = 499  # as nginx counts a request whose client hung up before its answer
REASONS = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method", 413: "too_large", 415: "media_type", 422: "invalid", 429: "rate_limited"}
REASONS |= {421: "wrong_host", 500: "internal", 503: "unavailable", 504: "deadline", CLIENT_GONE: "client_gone"}
MISDIRECTED = 421  # RFC 9110 §15.5.20: a request for a name this server does not answer to
LINGER_SECONDS = 2.0  # after an early answer, how long the rest of the body is read and dropped (RFC 9112 §9.6)
# On every answer: no sniffing a JSON error into a page, no framing (clickjacking), no referrer, and a
# page that loads nothing but its own files (it has no inline script or style).
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"),
]


class ClientGone(Exception):
    """The client hung up before its answer: nothing is sent."""


class Guard:
    """Pure ASGI, around the app: the request count, the Host, the key and the rate limit, the content type, the body
    limit and shape, and the last word on errors (one line in the log, {"error": "internal error"})."""

    def __init__(self, app, *, access: Access, max_body: int, max_batch: int, host: str, metrics: ServeMetrics, notify: Callable[[str], None], debug: bool):
        self.app, self.access, self.max_body, self.max_batch, self.metrics, self.notify, self.debug = app, access, max_body, max_batch, metrics, notify, debug
        self.loopback_only = is_loopback(host)  # a server on loopback answers only to loopback names: no DNS rebinding

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status: list[int] = []

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                message = message | {"headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        try:
            await self._guarded(scope, receive, sending)
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

    async def _guarded(self, scope, receive, send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refused = self._refuse(scope, headers)
        if refused is not None:
            return await _answer_then_drain(refused, receive, send)
        if scope["method"] != "POST" or scope["path"] not in BODIES:
            return await self.app(scope, receive, send)  # a 404 or 405 is answered without reading a body
        body, refused = await self._body(receive)
        if refused is not None:  # over the limit: the rest is still coming
            return await _answer_then_drain(refused, receive, send)
        try:
            text = body.decode("utf-8")  # JSON is UTF-8 (RFC 8259); anything else is binary data or a wrong encoding
        except UnicodeDecodeError as e:
            return await error(BAD_REQUEST, f"the body is not UTF-8 (byte {e.start}); send JSON text in UTF-8")(scope, receive, send)
        rejected = check_shape(scope["path"], text, self.max_batch)
        if rejected is not None:
            return await error(TOO_LARGE if rejected.too_large else UNPROCESSABLE, rejected.message)(scope, receive, send)
        await self.app(scope, _replay(body, receive), send)

    def _refuse(self, scope, headers: dict[str, str]) -> Response | None:
        """The answer to a request refused on its headers alone, or None."""
        if self.loopback_only and not _loopback_host(headers.get("host")):
            return error(MISDIRECTED, "this server answers only to loopback names (localhost, 127.0.0.1, [::1]); call it by one of them")
        refused = self.access.check(scope, headers)  # the key (401) and the rate limit (429)
        if refused is not None:
            return refused
        if scope["method"] != "POST" or scope["path"] not in BODIES:
            return None
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            return error(415, f"the body must be JSON sent as 'Content-Type: application/json', not {kind or 'no type'!r}")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return error(TOO_LARGE, self._too_large()) if length.isdigit() else error(BAD_REQUEST, "the Content-Length header is not a number")
        return None

    async def _body(self, receive) -> tuple[bytes, Response | None]:
        """The whole body, counted as it arrives (the running total): past the limit, the answer is
        413 there and then."""
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
                return b"".join(chunks), None

    def _too_large(self) -> str:
        return f"the body is over this server's limit of {self.max_body} bytes; send less at once (a batch in parts)"

    def _log(self, scope, e: Exception) -> None:
        where = f"{scope['method']} {scope['path']}"
        if self.debug:
            self.notify(f"error: {where}: internal error\n{''.join(traceback.format_exception(e)).rstrip()}")
        else:
            self.notify(f"error: {where}: internal error ({type(e).__name__}: {first_line(e, 200)}); run with --debug for the traceback")


def _loopback_host(host: str | None) -> bool:
    """Whether a Host header names this machine's loopback (any port): localhost, a name under
    .localhost (RFC 6761), 127.0.0.0/8, [::1]. No header at all (HTTP/1.0) is no browser's."""
    if host is None:
        return True
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1:].partition("]")[0]
    elif name.count(":") == 1:
        name, _, port = name.partition(":")
        if not port.isdigit():
            return False
    name = name.removesuffix(".")
    return is_loopback(name) or name.endswith(".localhost")


async def _answer_then_drain(response: JSONResponse, receive, send) -> None:
    """An answer given before the body is read whole, closed in stages (RFC 9112 §9.6, as nginx's
    lingering close): the answer sent, then what the client still sends read and dropped, for at most
    LINGER_SECONDS, before the connection closes. Closed at once, the unread bytes make the kernel
    reset the connection, and clients such as urllib see "connection reset" instead of the answer."""
    headers = [*response.raw_headers, (b"connection", b"close")]
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": True})  # the answer is whole here (Content-Length)
    loop = asyncio.get_running_loop()
    end = loop.time() + LINGER_SECONDS
    try:
        while (left := end - loop.time()) > 0:
            message = await asyncio.wait_for(receive(), left)
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
    except TimeoutError:
        pass
    await send({"type": "http.response.body", "body": b""})


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

"""The connections uvicorn keeps, with the two limits it lacks (uvicorn's timeout_keep_alive bounds
only the wait between two requests of a kept-alive connection, and its limit_concurrency answers
in plain text and still takes every socket the kernel hands it):

- a read timeout: a connection with no whole request (headers and body) --read-timeout after it
  opened, or after its last answer, is answered 408 in our error shape (when it sent part of one)
  or closed (when it sent nothing), so sockets that send nothing, or trickle, are not kept;
- a cap on connections (--max-connections, from the file limit by default): past it, a new
  connection closes the oldest one that holds no request in progress (idle sockets cannot shut
  real clients out); with none such, the new one is answered 503 in our error shape;
- a head (request line and headers) over MAX_HEAD is answered 431 as it arrives (httptools bounds
  none), what the parser refuses is 400 in our error shape (uvicorn's is text/plain), and an
  Upgrade with a body is refused (httptools would hand the app the request without its body).

A protocol class over the one uvicorn would pick (httptools, else h11), given to uvicorn.Config.
The time a request's first byte came is put in its scope's state (BEGAN), so that --deadline
counts the body's reading too.
"""

from __future__ import annotations

import json
import resource
import time
from typing import Any

MAX_HEAD = 64 * 1024  # bytes of a request line and headers: httptools has no bound (h11's is 16 KiB); a browser's cookies fit
LINGER_SECONDS = 2.0  # after an answer given mid-request, what the client still sends is dropped this long before the close
UPGRADE_WITH_BODY = (
    "a request with a body cannot ask to switch protocols (an Upgrade header, as curl --http2 sends on http://); send it without one (curl --http1.1)"
)
BEGAN = "summarize.began"  # scope["state"][BEGAN]: time.monotonic() of the request's first byte
RESERVED_FILES = 64  # files kept for what is not a client: models, fetches, logs, the listening socket


def default_max_connections() -> int:
    """Connections the file limit leaves room for: the soft RLIMIT_NOFILE less RESERVED_FILES (a
    quarter of it on a small limit), at least 8 and at most 4096."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 4096
    return max(8, min(4096, soft - min(RESERVED_FILES, soft // 4)))


def raw_answer(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP/1.1 answer in our error shape, for a connection the app never sees."""
    body = json.dumps({"error": message}).encode()
    head = f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n"
    return head.encode("latin-1") + body


def limited_protocol(read_timeout: float, max_connections: int, base: type | None = None) -> type:
    """uvicorn's HTTP protocol class (`base`, else the one it picks) with the read timeout and the cap."""
    if base is None:
        from uvicorn.protocols.http.auto import AutoHTTPProtocol

        base = AutoHTTPProtocol
    settings = {
        "read_timeout": read_timeout,
        "max_connections": max_connections,
        "timed_out": raw_answer(408, "Request Timeout", f"no whole request within {read_timeout:g} s (the server's read timeout); send it at once"),
        "full": raw_answer(503, "Service Unavailable", f"the server holds its most connections ({max_connections}); try again shortly"),
        "head_too_large": raw_answer(
            431,
            "Request Header Fields Too Large",
            f"the request line and headers are over {MAX_HEAD} bytes, this server's limit; send fewer or shorter headers",
        ),
        "upgrade_with_body": raw_answer(400, "Bad Request", UPGRADE_WITH_BODY),
        "invalid": raw_answer(
            400,
            "Bad Request",
            "not a valid HTTP/1.1 request (its request line, a header or the chunked body); send one with an ASCII path and well-formed headers",
        ),
    }
    return type("Limited", (_Limits, base), settings)


class _Limits:
    """Mixed into uvicorn's protocol class (one instance per connection) by limited_protocol."""

    read_timeout: float
    max_connections: int
    timed_out: bytes  # the 408 answer
    full: bytes  # the 503 answer
    head_too_large: bytes  # the 431 answer
    invalid: bytes  # the 400 answer to what the HTTP parser refuses (uvicorn's own is text/plain)

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self.partial, self.refused, self.began, self.timer = False, False, 0.0, None
        self.in_head, self.head_bytes, self.dropping, self.lost_body = False, 0, False, False
        self.since = time.monotonic()
        self._arm()
        if len(self.connections) > self.max_connections and not _evict_oldest_idle(self):
            self.refused = True  # answered once it speaks: a close before it sends would lose the answer

    def data_received(self, data: bytes) -> None:
        if self.dropping:
            return
        if self.refused:
            self.transport.write(self.full)
            self.transport.close()
            return
        if self.idle() and not self.partial:
            self.partial, self.began = True, time.monotonic()
        was_in_head = self.in_head
        super().data_received(data)
        if self.in_head:  # a head still unfinished after these bytes: counted, as httptools keeps it all in memory
            self.head_bytes = (self.head_bytes if was_in_head else 0) + len(data)
            if self.head_bytes > MAX_HEAD:
                return self.answer_and_linger(self.head_too_large)
        scope = getattr(self, "scope", None)
        if self.partial and scope is not None:
            scope.setdefault("state", {}).setdefault(BEGAN, self.began)

    def on_message_begin(self) -> None:  # httptools' callbacks (h11 bounds a head itself and calls neither)
        super().on_message_begin()
        self.in_head = True

    def on_headers_complete(self) -> None:
        self.in_head = False
        # llhttp ends a request that asks to upgrade at its head and keeps its body as the new protocol's bytes:
        # the app would read an empty body ("the body is empty" to `curl --http2 -d …`). Refused, never run.
        if self.parser.should_upgrade() and any(k in (b"content-length", b"transfer-encoding") and v != b"0" for k, v in self.headers):
            self.lost_body = True
            return
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        if not self.lost_body:
            super().on_message_complete()

    def _unsupported_upgrade_warning(self) -> None:
        """uvicorn's two lines advise installing a WebSocket library, which this server (ws="none") does not want."""
        if self.lost_body:
            self.answer_and_linger(self.upgrade_with_body)

    def send_400_response(self, msg: str) -> None:
        """What the HTTP parser refuses, answered in our error shape (uvicorn's is text/plain)."""
        self.answer_and_linger(self.invalid)

    def answer_and_linger(self, answer: bytes) -> None:
        """An answer mid-request, then the rest of what the client sends dropped for LINGER_SECONDS before the close
        (RFC 9112 §9.6): closed at once, the unread bytes reset the connection and the client never reads the answer."""
        if not self.idle():  # a request of this connection runs: answered (unless its answer began) and closed at once, as uvicorn does
            if not self.cycle.response_started:
                self.transport.write(answer)
            return self.transport.close()
        self.transport.write(answer)
        self.dropping, self.partial = True, False
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.partial, self.since = False, time.monotonic()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        super().connection_lost(exc)

    def idle(self) -> bool:
        """No request in progress: none yet, or the last one answered."""
        return self.cycle is None or self.cycle.response_complete

    def close_reading(self) -> None:
        """Closed for taking too long: with a 408 when part of a request came (and nothing is answered yet)."""
        if self.transport.is_closing():
            return
        if self.partial and (self.idle() or not self.cycle.response_started):
            self.transport.write(self.timed_out)
        self.transport.close()  # the app, if it reads a body, sees the client gone

    def _arm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.loop.call_later(self.read_timeout, self._read_timed_out)

    def _read_timed_out(self) -> None:
        self.timer = None
        if self.idle() or self.cycle.more_body:  # no whole request yet; a whole one is --deadline's to bound
            self.close_reading()


def _evict_oldest_idle(newcomer: Any) -> bool:
    """Close the connection that has waited longest with no request in progress; False when there is none."""
    idle = [c for c in newcomer.connections if c is not newcomer and isinstance(c, _Limits) and c.idle() and not c.transport.is_closing()]
    if not idle:
        return False
    min(idle, key=lambda c: c.since).close_reading()
    return True

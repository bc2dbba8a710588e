"""What a client can put on the wire that no HTTP library sends, against a real uvicorn on 127.0.0.1:
a body cut off inside a key, a request the HTTP parser refuses, a head that never ends. Each is
answered {"error": one line} with its own status, and a head is bounded before it fills the memory."""

from __future__ import annotations

import json
import socket

import pytest
from serving import Served, serving

pytestmark = pytest.mark.slow

WAIT_S = 60


@pytest.fixture(scope="module")
def server(fast_config) -> Served:
    with serving(fast_config, "--engine", "lead", "--no-translate") as served:
        yield served


def exchange(server: Served, data: bytes) -> bytes:
    """Send `data`, then read what comes back until the server closes (bounded by the socket's timeout)."""
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=WAIT_S) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before taking all of it: the answer is still to be read
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def answer(raw: bytes) -> tuple[int, str]:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), raw[:300]
    (line,) = json.loads(body).values()
    assert line and "\n" not in line
    return int(head.split(b" ")[1]), line


def post(body: bytes, length: int | None = None) -> bytes:
    length = len(body) if length is None else length
    return b"POST /v1/summarize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (
        length,
        body,
    )


def test_a_body_cut_off_inside_a_key_is_400_not_an_internal_error(server):
    """The shape walk let json's scanner raise on '{"tex' (an unterminated key): a 500 and an 'internal error' line in the log."""
    status, line = answer(exchange(server, post(b'{"tex')))
    assert status == 400 and "not valid JSON" in line
    assert "internal error" not in server.stderr()


@pytest.mark.parametrize(
    "request_",
    [
        b"FOO / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "GET /v1/\u0455ummarize HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode(),
        b"POST /v1/summarize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}",
        b"POST /v1/summarize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    ],
)
def test_what_the_http_parser_refuses_is_400_json(server, request_):
    """uvicorn's own answer was 'Invalid HTTP request received.' in text/plain."""
    status, line = answer(exchange(server, request_))
    assert status == 400 and "not a valid HTTP/1.1 request" in line


def test_a_head_that_never_ends_is_431_not_kept_in_memory(server):
    """httptools bounds no header: one that never ended was kept whole (tens of MB a second a connection) until the read timeout."""
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (1 << 20)
    status, line = answer(exchange(server, head))
    assert status == 431 and "over 65536 bytes" in line
    assert server.get("/healthz", headers={"X-Fine": "a" * 8000}).status_code == 200


def test_a_websocket_upgrade_is_a_plain_request_through_the_host_check(server):
    """uvicorn took it as a WebSocket past Guard (no Host check, no key) and answered an empty 403."""
    upgrade = "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    status, line = answer(exchange(server, f"GET /healthz HTTP/1.1\r\nHost: rebound.example\r\n{upgrade}".encode()))
    assert status == 421 and "loopback names" in line
    assert b'"status":"ok"' in exchange(server, f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n{upgrade}".encode())
    assert "WebSocket" not in server.stderr()


def test_an_upgrade_with_a_body_is_refused_not_read_as_empty(server):
    """`curl --http2 -d …` on http:// sends 'Upgrade: h2c': httptools took the body for the new protocol's bytes and the
    request reached the app empty ('the body is empty')."""
    body = json.dumps({"text": "Первое предложение. Второе."}).encode()
    head = b"Connection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
    request_ = post(body).replace(b"Connection: close\r\n", head)
    status, line = answer(exchange(server, request_))
    assert status == 400 and "cannot ask to switch protocols" in line


def test_a_trailing_slash_is_a_404_naming_the_route_not_an_empty_redirect(server):
    """Starlette redirected /v1/summarize/ with an empty 307, which httpx and urllib (for a POST) do not follow."""
    status, line = answer(exchange(server, post(b'{"text": "x"}').replace(b"/v1/summarize ", b"/v1/summarize/ ")))
    assert status == 404 and "the API is POST /v1/summarize" in line

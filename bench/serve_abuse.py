"""Serve bench, (e) the abuse table (issue 24): the p99 latency of one text request from a
well-behaved client while one abusive client hits the same server, each against the idle p99:

- a 1 MB batch bomb: a JSON array of ~333,000 `{}` posted to /v1/summarize/batch, again and again;
- 100 idle sockets: connections that send nothing (the server's --read-timeout and
  --max-connections are what keeps them from costing the others);
- 12 slow URLs: one batch of urls on a local site that holds every page (the server fetches urls on
  a pool of its own, apart from text requests).

Loopback only (the slow site is on 127.0.0.1, the server started with --allow-private-urls); every
attack stops when its row is measured, every wait is bounded.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BOMB = b"[" + b",".join([b"{}"] * 333_000) + b"]"  # ~1 MB, under the server's default --max-body
IDLE_SOCKETS, SLOW_URLS = 100, 12
HOLD_S = 120.0  # the slow site holds a page at most this long
ATTACK_S = 900.0  # one attacking request's limit
GOAL_RATIO = 2.0  # each row's p99 within this many times the idle p99
SERVER_ARGS = ("--allow-private-urls", "--max-batch", str(max(64, SLOW_URLS)))  # what the server needs for (e)


def p99(seconds: list[float]) -> float:
    """The nearest-rank 99th percentile (the largest of fewer than 100)."""
    ordered = sorted(seconds)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def latencies(url: str, text: str, samples: int) -> list[float]:
    """`samples` text requests, one at a time, from a well-behaved client (one kept-alive connection)."""
    import httpx

    measured = []
    with httpx.Client(base_url=url, timeout=ATTACK_S, trust_env=False) as http:
        for _ in range(samples):
            started = time.perf_counter()
            response = http.post("/v1/summarize", json={"text": text})
            measured.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"bench serve: the well-behaved request failed under abuse: {response.status_code} {response.text[:300]}")
    return measured


@contextmanager
def batch_bomb(url: str) -> Iterator[None]:
    """One client posting the bomb, one after the other, for the block."""
    import httpx

    stop = threading.Event()

    def bomb() -> None:
        with httpx.Client(base_url=url, timeout=ATTACK_S, trust_env=False) as http:
            while not stop.is_set():
                try:
                    http.post("/v1/summarize/batch", content=BOMB, headers={"Content-Type": "application/json"})
                except httpx.HTTPError:
                    pass

    thread = threading.Thread(target=bomb, daemon=True)
    thread.start()
    time.sleep(0.2)  # the first bomb on its way
    try:
        yield
    finally:
        stop.set()
        thread.join(ATTACK_S)


@contextmanager
def idle_sockets(url: str, count: int = IDLE_SOCKETS) -> Iterator[None]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    sockets = []
    try:
        for _ in range(count):
            sockets.append(socket.create_connection((host, int(port)), timeout=30))
        yield
    finally:
        for sock in sockets:
            sock.close()


class _SlowSite(ThreadingHTTPServer):
    """A site on 127.0.0.1 that holds every page until `release` (or HOLD_S), counting arrivals."""

    def __init__(self) -> None:
        self.release, self.arrived = threading.Event(), threading.Semaphore(0)
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.arrived.release()
                site.release.wait(HOLD_S)
                try:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.daemon_threads = True
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


@contextmanager
def slow_urls(url: str, count: int = SLOW_URLS) -> Iterator[None]:
    """One batch of `count` urls the slow site holds, in flight for the block."""
    import httpx

    site = _SlowSite()
    pages = [{"url": f"http://127.0.0.1:{site.server_address[1]}/slow-{i}"} for i in range(count)]
    thread = threading.Thread(target=lambda: _quietly(lambda: httpx.post(url + "/v1/summarize/batch", json=pages, timeout=ATTACK_S)), daemon=True)
    thread.start()
    try:
        if not site.arrived.acquire(timeout=60):
            raise SystemExit("bench serve: the server never fetched the slow urls (is it started with --allow-private-urls?)")
        yield
    finally:
        site.release.set()
        thread.join(ATTACK_S)
        site.shutdown()
        site.server_close()


def _quietly(call) -> None:
    import httpx

    try:
        call()
    except httpx.HTTPError:
        pass


ATTACKS = (
    ("a 1 MB batch bomb", batch_bomb),
    (f"{IDLE_SOCKETS} idle sockets", idle_sockets),
    (f"{SLOW_URLS} slow URLs", slow_urls),
)


def abuse(url: str, text: str, samples: int) -> dict:
    """The idle p99, then each attack's p99, of `samples` text requests each."""
    latencies(url, text, 1)  # warm
    found = {"samples": samples, "idle": p99(latencies(url, text, samples)), "rows": []}
    for name, attack in ATTACKS:
        with attack(url):
            found["rows"].append((name, p99(latencies(url, text, samples))))
    return found


def rows(found: dict) -> list[tuple[str, str, str, str]]:
    """The table's rows: the idle p99, then each attack's, with its ratio to the idle one."""
    idle = found["idle"]
    table = [(f"(e) one text request, p99 of {found['samples']}, idle server", f"{idle * 1000:.0f} ms", "", "")]
    for name, seconds in found["rows"]:
        ratio = seconds / idle
        table.append(
            (
                f"(e) … under {name} (÷ idle p99)",
                f"{seconds * 1000:.0f} ms ({ratio:.2f}×)",
                f"≤ {GOAL_RATIO:g}×",
                "met" if ratio <= GOAL_RATIO else "**not met**",
            )
        )
    return table

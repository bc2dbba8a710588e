"""A real `summarize serve` for the tests: a subprocess on 127.0.0.1 (a port the kernel picks, read
from its ready line), ready once /healthz answers 200, always stopped (SIGTERM, then a kill).

    with serving(fast_config, "--no-translate") as server:
        response = server.post("/v1/summarize", {"text": SHORT})

Also `in_thread`: the app of a Service in this process, on uvicorn in a thread, for what a test must
see from inside (a server whose models are not loaded yet, say).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from helpers import ROOT, clean_env

READY = re.compile(r"serving on (http://127\.0\.0\.1:\d+)")
START_TIMEOUT = 240  # seconds to the ready line: a busy 2-core machine importing torch
STOP_TIMEOUT = 60  # seconds from SIGTERM to exit before the kill
REQUEST_TIMEOUT = 120


@dataclass
class Served:
    """A running server: its process, its address, its stderr so far, and requests to it (never through
    a proxy the environment names: HTTP_PROXY/ALL_PROXY must not change what a test sees)."""

    process: subprocess.Popen
    base: str
    log: Path
    token: str | None = None

    def url(self, path: str) -> str:
        return self.base + path

    def headers(self, **more: str) -> dict[str, str]:
        return ({"Authorization": f"Bearer {self.token}"} if self.token else {}) | more

    def post(self, path: str, body: Any, **settings: Any) -> httpx.Response:
        """JSON to the server (with its token, if it has one); `content=` sends raw bytes instead."""
        settings.setdefault("headers", self.headers(**{"Content-Type": "application/json"}))
        if "content" not in settings:
            settings["content"] = json.dumps(body, ensure_ascii=False).encode()
        return httpx.post(self.url(path), timeout=REQUEST_TIMEOUT, trust_env=False, **settings)

    def get(self, path: str, **settings: Any) -> httpx.Response:
        settings.setdefault("headers", self.headers())
        return httpx.get(self.url(path), timeout=REQUEST_TIMEOUT, trust_env=False, **settings)

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def metric(self, name: str, **labels: str) -> float:
        """One sample of /metrics (0 when absent)."""
        return sample(self.get("/metrics").text, name, **labels)

    def stop(self) -> int:
        """SIGTERM, then wait for it to exit; its exit code."""
        return stop(self.process)


def stop(process: subprocess.Popen) -> int:
    """SIGTERM, then wait up to STOP_TIMEOUT for the exit (then a kill, and an error); the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        raise AssertionError(f"summarize serve did not stop within {STOP_TIMEOUT} s of SIGTERM") from None


def sample(text: str, name: str, **labels: str) -> float:
    """A Prometheus sample's value from the text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        head, _, value = line.rpartition(" ")
        if head == (f"{name}{{{wanted}}}" if labels else name):
            return float(value)
    return 0.0


def serve_command(config: Path | None, *args: str) -> list[str]:
    """`python -m summarize serve` of this checkout, on a port the kernel picks."""
    return [sys.executable, "-m", "summarize", "serve", "--port", "0", *(["--config", str(config)] if config else []), *map(str, args)]


def environment(**settings: str | None) -> dict[str, str]:
    """The tests' environment, this checkout first on the path (the venv's install may be another's)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return clean_env(PYTHONPATH=path, **settings)


@contextmanager
def serving(config: Path | None, *args: str, token: str | None = None, env: dict[str, str] | None = None) -> Iterator[Served]:
    """A server with these arguments, ready (its ready line said and /healthz 200) for the block,
    stopped after it however the block ends."""
    settings = dict(env or {}) | ({"SUMMARIZE_TOKEN": token} if token else {})
    with tempfile.TemporaryDirectory(prefix="summarize-serve-") as folder:
        log = Path(folder) / "stderr.txt"
        with open(log, "wb") as stderr:
            process = subprocess.Popen(serve_command(config, *args), stdout=subprocess.DEVNULL, stderr=stderr, env=environment(**settings))
        try:
            server = Served(process, _ready_line(process, log), log, token)
            _wait_healthy(server)
            yield server
        finally:
            stop(process)


def _ready_line(process: subprocess.Popen, log: Path) -> str:
    end = time.monotonic() + START_TIMEOUT
    while time.monotonic() < end:
        found = READY.search(log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise AssertionError(f"summarize serve exited with {process.returncode} before it was ready:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)
    raise AssertionError(f"summarize serve was not ready within {START_TIMEOUT} s:\n{log.read_text(errors='replace')}")


def _wait_healthy(server: Served) -> None:
    end = time.monotonic() + START_TIMEOUT
    while time.monotonic() < end:
        try:
            if httpx.get(server.url("/healthz"), timeout=10, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"/healthz never answered 200:\n{server.stderr()}")


@contextmanager
def in_thread(app) -> Iterator[str]:
    """An app on a real uvicorn in a thread of this process, on 127.0.0.1; its base URL. Stopped
    after the block."""
    import uvicorn

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        end = time.monotonic() + START_TIMEOUT
        while not server.started and thread.is_alive() and time.monotonic() < end:
            time.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{listening.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        listening.close()

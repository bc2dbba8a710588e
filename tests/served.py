"""A real `summarize serve` for the tests that need one: the installed program in its own process on
127.0.0.1 (any free port, read from its ready line), stopped with the test module however it ends."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers import BIN, clean_env

TOKEN = "test-token-0123456789"  # sent as a Bearer header: ASCII
READY_S = 180  # the tiny models load in seconds; a busy 2-core machine may take many times that
READY = re.compile(r"serving on (http://127\.0\.0\.1:\d+) ")


def free_port() -> int:
    """A port nothing listens on now (bound and released: only as a place where nothing answers)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(config: Path, *flags: str, token: str | None = None) -> Iterator[str]:
    """`summarize serve --config CONFIG FLAGS… --port 0` until its ready line; yields its base URL.
    The token goes in SUMMARIZE_TOKEN (as a user should give it: a flag shows in ps)."""
    with tempfile.TemporaryDirectory(prefix="summarize-served-") as tmp:
        log = Path(tmp) / "stderr"
        argv = [str(BIN), "serve", "--config", str(config), "--host", "127.0.0.1", "--port", "0", "--no-access-log", *flags]
        with open(log, "wb") as err:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=clean_env(SUMMARIZE_TOKEN=token))
        try:
            yield _ready(process, log)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _ready(process: subprocess.Popen, log: Path) -> str:
    until = time.monotonic() + READY_S
    while time.monotonic() < until:
        said = log.read_text(encoding="utf-8", errors="replace")
        if found := READY.search(said):
            return found.group(1)
        if process.poll() is not None:
            raise AssertionError(f"summarize serve exited with {process.returncode}: {said}")
        time.sleep(0.05)
    raise AssertionError(f"summarize serve was not ready within {READY_S} s: {log.read_text(encoding='utf-8', errors='replace')}")

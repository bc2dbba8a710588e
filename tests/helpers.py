"""What the test files share that is not a fixture: the session's places, sample texts, the CLI
runner, input folders and datasets, JSONL, a local web site, and the environment a test (or a
program it starts) runs in. conftest.py holds the fixtures and the session's set-up.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

SESSION_DIR = Path(tempfile.mkdtemp(prefix="summarize-tests-"))
HF_HOME = SESSION_DIR / "hf-home"
ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "examples" / "article.txt"
BIN = Path(sys.executable).parent / "summarize"  # the installed console script
SHORT = "Москва, 3 марта. Правительство утвердило программу ремонта дорог. Работы начнутся весной."


# The environment: what a user may have set must not change what a test sees


# Set by the s3 fixture for the session (and so inherited by Ray's workers): never removed under it.
S3_ENV = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_EC2_METADATA_DISABLED")
# Fixed for every test and every program a test starts: the session's own model cache, no network,
# and no AWS profile of the user's (boto3 and pyarrow would read ~/.aws).
FIXED_ENV = {
    "HF_HOME": str(HF_HOME),
    "HF_HUB_OFFLINE": "1",
    "AWS_CONFIG_FILE": str(SESSION_DIR / "no-aws-config"),
    "AWS_SHARED_CREDENTIALS_FILE": str(SESSION_DIR / "no-aws-credentials"),
}
# Removed: the hub's caches, endpoint, token and timeouts; the program's own settings (its config
# file, its CTranslate2 cache); colour, terminal size and type (rich reads them); a Ray cluster to
# join (and, before the session's Ray starts, every Ray setting; Ray sets some of its own once it
# runs); the user's S3; GPUs; warnings turned into errors; the interpreter's I/O encoding.
REMOVED_PREFIXES = ("HF_", "HUGGINGFACE_", "SUMMARIZE_", "AWS_")
REMOVED_ENV = (
    "RAY_ADDRESS",
    "TRANSFORMERS_CACHE",
    "TRANSFORMERS_OFFLINE",
    "NO_COLOR",
    "FORCE_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "COLUMNS",
    "LINES",
    "TERM",
    "CUDA_VISIBLE_DEVICES",
    "PYTHONWARNINGS",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
)


def foreign_env(environment) -> list[str]:
    """The names in `environment` that a user may have set and no test may see."""
    return [name for name in environment if name not in FIXED_ENV and name not in S3_ENV and (name in REMOVED_ENV or name.startswith(REMOVED_PREFIXES))]


def isolate_environment() -> None:
    """os.environ without the user's settings, before anything reads them (huggingface_hub reads
    HF_HOME at import): the session's set-up; the `isolated_environment` fixture keeps it so."""
    for name in set(foreign_env(os.environ)) | {name for name in os.environ if name in S3_ENV or name.startswith("RAY_")}:
        del os.environ[name]
    os.environ.update(FIXED_ENV)


def clean_env(**settings: str | None) -> dict[str, str]:
    """The environment for a program a test starts: this one (isolated), the fixed settings, then
    `settings` (None removes a name)."""
    environment = {name: value for name, value in os.environ.items() if name not in foreign_env(os.environ)}
    environment.update(FIXED_ENV)
    for name, value in settings.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


# The CLI, inputs and outputs


def unwritable_folder() -> Path:
    """A folder that refuses new files even to root (tests run as root: chmod does not stop it)."""
    folder = Path("/sys")
    try:
        fd = os.open(folder / "summarize-probe", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError:
        return folder
    os.close(fd)
    os.unlink(folder / "summarize-probe")
    pytest.skip("/sys is writable here")


def invoke(app, *args, input: str | bytes | None = None) -> Result:
    """Run a Typer app in process. Exceptions propagate, so that a crash can never pass for an
    expected exit code; typer.Exit still gives its code. stdout and stderr come apart."""
    return CliRunner().invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)


def make_folder(path: Path, count: int, text: str = SHORT) -> Path:
    """`count` distinct short articles named 000.txt, 001.txt, ..."""
    path.mkdir()
    for i in range(count):
        (path / f"{i:03d}.txt").write_text(f"{text} Новость номер {i}.", encoding="utf-8")
    return path


def slow_config(path: Path, model: Path) -> Path:
    """A preset `slow` on the tiny T5 with long decodes, so that a signal lands mid-run."""
    path.write_text(
        f'[summarizers.slow]\nmodel = "{model}"\nmax_input_tokens = 64\ngenerate = {{ num_beams = 4, max_new_tokens = 150, min_new_tokens = 150 }}\n',
        encoding="utf-8",
    )
    return path


def write_jsonl(path: Path, rows: list[dict | str]) -> Path:
    """One JSON object per line; a str row is written as it is (for broken lines)."""
    lines = (r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def parse_jsonl(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines()]


# Datasets, written and read with each format's own library


def write_dataset(path: Path, records: list[dict], row_group_size: int | None = None) -> Path:
    """Records as a real dataset file; CSV gets the union of the keys as its header."""
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    elif path.suffix == ".csv":
        header = list(dict.fromkeys(k for r in records for k in r))
        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, header)
            writer.writeheader()
            writer.writerows(records)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(records), path, row_group_size=row_group_size)
    return path


def read_output(path: Path) -> tuple[list[str], list[dict]]:
    """An output file's columns and rows, read with the format's own library."""
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return (list(rows[0]) if rows else []), rows
    if path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            return list(reader.fieldnames), list(reader)
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return table.schema.names, table.to_pylist()


# A web site on 127.0.0.1


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before the response starts
    drip: float = 0.0  # seconds between body bytes: a server that never stops sending slowly
    length: bool = True  # send Content-Length
    hold: float = 0.0  # after the headers, wait this long for the client to hang up before sending the body


# One order of events for every NewsServer: a request's (start, end) on one server can be compared with another's.
_EVENTS = itertools.count()


class NewsServer:
    """A local site on 127.0.0.1 (or another loopback address, and a chosen port) in a thread: routes by path; counts requests (by path, and at once),
    the responses sent in full (by path), and remembers their headers and when they started and ended
    (as `spans` in one order of events across servers). It stops with the test (the `site` fixtures)
    or with the process."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        assert host.startswith("127."), "test servers stay on loopback"
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.served: Counter[str] = Counter()
        self.body_sent: Counter[str] = Counter()  # body bytes written, by path
        self.spans: list[tuple[int, int]] = []
        self.lock = threading.Lock()
        self.active = 0
        self.most_at_once = 0
        self.seen_headers: list[dict[str, str]] = []
        self.stopping = threading.Event()
        self.httpd = ThreadingHTTPServer((host, port), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://{host}:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: str | bytes, content_type: str = "text/html; charset=utf-8", status: int = 200) -> str:
        self.routes[path] = Route(body.encode() if isinstance(body, str) else body, status, content_type)
        return self.url(path)

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 5  # a stuck client cannot hold a server thread for long

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                with server.lock:
                    server.hits[self.path] += 1
                    server.active += 1
                    server.most_at_once = max(server.most_at_once, server.active)
                    server.seen_headers.append(dict(self.headers))
                    start = next(_EVENTS)
                try:
                    if self._answer(server.routes.get(self.path) or Route(b"not here", 404, "text/plain")):
                        with server.lock:
                            server.served[self.path] += 1
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should past its limits
                finally:
                    with server.lock:
                        server.active -= 1
                        server.spans.append((start, next(_EVENTS)))

            def _answer(self, route: Route) -> bool:
                """True when the whole response was sent."""
                if route.delay and self._hung_up(route.delay):
                    return False
                body = route.body
                self.send_response(route.status)
                if route.content_type:
                    self.send_header("Content-Type", route.content_type)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if route.hold and (self.wfile.flush() or self._hung_up(route.hold)):
                    return False
                if not route.drip:
                    self.wfile.write(body)
                    with server.lock:
                        server.body_sent[self.path] += len(body)
                    return True
                for i in range(len(body)):
                    if server.stopping.wait(route.drip):
                        return False
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    with server.lock:
                        server.body_sent[self.path] += 1
                return True

            def _hung_up(self, seconds: float) -> bool:
                """Waits up to `seconds`; True as soon as the client closes the connection or the server stops."""
                import select

                end = time.monotonic() + seconds
                while (left := end - time.monotonic()) > 0 and not server.stopping.is_set():
                    if select.select([self.connection], [], [], min(left, 0.05))[0]:
                        return self.connection.recv(1, socket.MSG_PEEK) == b""
                return server.stopping.is_set()

        return Handler

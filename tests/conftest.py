"""Builds the tiny models once per session, as local directories and as a Hugging Face hub cache,
and holds the helpers every test file shares: the CLI runner, sample texts, input folders, JSONL.

The environment is fixed before anything imports huggingface_hub (it reads HF_HOME at import):
tests never see the user's cache and never touch the network.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

SESSION_DIR = Path(tempfile.mkdtemp(prefix="summarize-tests-"))
HF_HOME = SESSION_DIR / "hf-home"
os.environ["HF_HOME"] = str(HF_HOME)
os.environ["HF_HUB_OFFLINE"] = "1"
for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "SUMMARIZE_CONFIG", "TRANSFORMERS_CACHE"):
    os.environ.pop(variable, None)

sys.path.insert(0, str(Path(__file__).parent))
import tiny_models  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "examples" / "article.txt"
BIN = Path(sys.executable).parent / "summarize"  # the installed console script
SHORT = "Москва, 3 марта. Правительство утвердило программу ремонта дорог. Работы начнутся весной."


@pytest.fixture(scope="session")
def models() -> dict[str, Path]:
    """Local model directories, also laid out under the real hub ids in HF_HOME."""
    built = tiny_models.build_all(SESSION_DIR / "models")
    tiny_models.lay_out_hub_cache(built, HF_HOME / "hub")
    yield built
    shutil.rmtree(SESSION_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def fast_config(models) -> Path:
    """Presets on the local tiny models with a small input limit, so that truncation is easy to reach."""
    path = SESSION_DIR / "fast.toml"
    path.write_text(
        f"""
[defaults]
summarizer = "tiny-t5"
translator = "tiny-marian"

[summarizers.tiny-t5]
model = "{models["t5"]}"
max_input_tokens = 64
generate = {{ num_beams = 2, max_new_tokens = 12 }}

[summarizers.tiny-mbart]
model = "{models["mbart"]}"
max_input_tokens = 64
generate = {{ num_beams = 2, max_new_tokens = 12 }}

[translators.tiny-marian]
model = "{models["marian"]}"
max_input_tokens = 32
generate = {{ num_beams = 1, max_new_tokens = 12 }}
""",
        encoding="utf-8",
    )
    # Convert the default presets for CTranslate2 (the auto backend on a CPU) now, once: the
    # conversion says so on stderr, and no test's output may depend on whether one ran before it.
    from summarize import cli

    warm = invoke(cli.app, "-", "--config", path, "--backend", "ctranslate2", input=SHORT)
    assert warm.exit_code == 0, warm.stderr
    return path


@pytest.fixture
def article() -> str:
    return ARTICLE.read_text(encoding="utf-8")


def invoke(app, *args, input: str | bytes | None = None) -> Result:
    """Run a Typer app in process. Exceptions propagate, so that a crash can never pass for an
    expected exit code; typer.Exit still gives its code. stdout and stderr come apart."""
    return CliRunner().invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture
def run(fast_config):
    """`summarize ARGS --config fast.toml` in process; config=None runs on models.toml and the hub cache."""

    def run_summarize(*args, input: str | bytes | None = None, config: Path | None = fast_config) -> Result:
        from summarize import cli

        return invoke(cli.app, *args, *(["--config", config] if config else []), input=input)

    return run_summarize


@pytest.fixture
def short_file(tmp_path) -> Path:
    path = tmp_path / "short.txt"
    path.write_text(SHORT, encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    """news/{a,b}.txt, a sub-folder with c.txt (for --recursive) and a notes.md that is not an input."""
    news = tmp_path / "news"
    (news / "sub").mkdir(parents=True)
    (news / "b.txt").write_text(SHORT, encoding="utf-8")
    (news / "a.txt").write_text(SHORT.replace("весной", "летом"), encoding="utf-8")
    (news / "sub" / "c.txt").write_text(SHORT, encoding="utf-8")
    (news / "notes.md").write_text(SHORT, encoding="utf-8")
    return news


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


@dataclass(frozen=True)
class GenerateCall:
    backend: str  # "torch" or "ctranslate2"
    texts: list[str]
    settings: dict[str, Any]


@pytest.fixture
def generate_calls(monkeypatch) -> list[GenerateCall]:
    """Every call of either backend's generate(), recorded on its way to the real one: what
    reached the models, whatever path the pipeline took to get there."""
    from summarize.engines.ct2 import CT2Seq2Seq
    from summarize.engines.seq2seq import Seq2Seq

    calls: list[GenerateCall] = []
    for backend, engine in (("torch", Seq2Seq), ("ctranslate2", CT2Seq2Seq)):

        def recording(self, texts, settings, *args, real=engine.generate, backend=backend, **kwargs):
            calls.append(GenerateCall(backend, list(texts), dict(settings)))
            return real(self, texts, settings, *args, **kwargs)

        monkeypatch.setattr(engine, "generate", recording)
    return calls


@pytest.fixture(scope="session")
def s3():
    """A real S3 API (moto's server) on 127.0.0.1, reached as users reach MinIO: through AWS_ENDPOINT_URL.

    Set in the environment for the whole session, before any Ray starts, so Ray's workers see it too."""
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    before = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    import boto3

    try:
        yield boto3.client("s3")
    finally:
        server.stop()
        for name, value in before.items():
            os.environ.pop(name) if value is None else os.environ.update({name: value})


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


class NewsServer:
    """A local site on 127.0.0.1 in a thread: routes by path; counts requests (by path, and at once)
    and remembers their headers. It stops with the test (the `site` fixtures) or with the process."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.active = 0
        self.most_at_once = 0
        self.seen_headers: list[dict[str, str]] = []
        self.stopping = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
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
                try:
                    self._answer(server.routes.get(self.path) or Route(b"not here", 404, "text/plain"))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should past its limits
                finally:
                    with server.lock:
                        server.active -= 1

            def _answer(self, route: Route) -> None:
                if route.delay and server.stopping.wait(route.delay):
                    return
                body = route.body
                self.send_response(route.status)
                if route.content_type:
                    self.send_header("Content-Type", route.content_type)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not route.drip:
                    self.wfile.write(body)
                    return
                for i in range(len(body)):
                    if server.stopping.wait(route.drip):
                        return
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()

        return Handler

"""Serve bench: `python -m bench serve` → bench/results/serve-latest.md (issue 19).

A real `summarize serve` (CTranslate2, the bench's pinned settings: bench/ray_throughput.py's
presets on bench/models.py's random-weight models) on a free 127.0.0.1 port, against the CLI as a
user runs it, on the same articles (bench/corpus.py, written to a temporary folder only):

(a) throughput: 16 concurrent clients, one article a request, over 32 articles, against the batch
    CLI's articles/s past its fixed cost ((N-1) / (wall_N - wall_1), as the Ray bench counts it),
    the two measured back to back in --rounds rounds, the best of each side kept;
(b) overhead: one article through the warm server, the round trip minus the result's `seconds`
    (the pipeline's own time), median of a few;
(c) the `--server` client: process start → its first request reaching a local listener, and
    start → printed result against the one-article CLI process (models loaded in it), for
    ctranslate2 and for torch (a server and a CLI on each backend);
(d) endurance: 1,000 short requests from 64 concurrent clients: errors other than 503 (the
    server's deliberate "busy, retry after") and the server's RSS at the 100th and the 1000th answer;
(e) abuse (bench/serve_abuse.py): one text request's p99 while a batch bomb, idle sockets or slow
    URLs hit the server, against its idle p99.

Loopback only; every loop is bounded and every process is stopped when the bench ends.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench import corpus, serve_abuse
from bench.measure import machine_line, run_process, summarize_argv
from bench.models import ensure_models
from bench.ray_throughput import write_config

HELP = "summarize serve: concurrent clients against the batch CLI, overhead per request, the --server client's start, 1,000 requests' errors and memory, abuse"
ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
CLIENTS, ARTICLES = 16, 32  # (a)
OVERHEAD_RUNS = 5  # (b), and (c)'s repeats
SHORT_REQUESTS, SHORT_CLIENTS, RSS_FIRST = 1000, 64, 100  # (d): RSS read at the 100th answer and the last
SHORT_TEXT = "Москва, 3 марта. Правительство утвердило программу ремонта дорог. Работы начнутся весной."
READY_S = 600.0  # a full-size server converts and loads its models within this
REQUEST_S = 900.0  # one request's limit (a queue of 64 long ones on 2 cores takes a while)
GOALS = {"throughput": 0.9, "overhead_ms": 50.0, "client_start_s": 0.3, "client_ratio": 0.75, "rss_ratio": 1.2}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    """A `summarize serve` process on 127.0.0.1."""

    url: str
    process: subprocess.Popen
    log: Path

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
        return float("nan")


@contextmanager
def serving(config: Path, backend: str, tmp: Path, *extra: str):
    """A server with these presets and backend, ready (GET /healthz 200); stopped (SIGTERM, then
    SIGKILL) however the bench ends."""
    import httpx

    port, log = free_port(), tmp / f"serve-{backend}.log"
    argv = [*summarize_argv(), "serve", "--config", str(config), "--backend", backend, "--host", "127.0.0.1", "--port", str(port), "--no-access-log", *extra]
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    served = Served(f"http://127.0.0.1:{port}", process, log)
    try:
        until = time.monotonic() + READY_S
        while time.monotonic() < until and process.poll() is None:
            try:
                if httpx.get(served.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise SystemExit(f"bench serve: the server did not get ready: {log.read_text(errors='replace')[-2000:]}")
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _post_all(url: str, bodies: list[dict], clients: int, on_answer=None) -> tuple[float, list[dict | int | str]]:
    """Every body posted to /v1/summarize by `clients` concurrent clients, each one request at a time;
    the wall time and, per body, the result (200), the status, or the connection error."""
    import httpx

    queue: asyncio.Queue = asyncio.Queue()
    for i, body in enumerate(bodies):
        queue.put_nowait((i, body))
    answers: list[dict | int | str] = [0] * len(bodies)
    done = [0]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_S, limits=limits, trust_env=False) as http:

        async def client() -> None:
            while not queue.empty():
                i, body = queue.get_nowait()
                try:
                    response = await http.post("/v1/summarize", json=body)
                    answers[i] = response.json() if response.status_code == 200 else response.status_code
                except httpx.HTTPError as e:
                    answers[i] = f"{type(e).__name__}: {e}"
                done[0] += 1
                if on_answer:
                    on_answer(done[0])

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return time.perf_counter() - started, answers


def post_all(url: str, bodies: list[dict], clients: int, on_answer=None) -> tuple[float, list]:
    return asyncio.run(_post_all(url, bodies, clients, on_answer))


def throughput(served: Served, texts: list[str]) -> dict:
    """(a) the server's articles/s with CLIENTS concurrent clients over the articles."""
    wall, answers = post_all(served.url, [{"text": t} for t in texts], CLIENTS)
    failed = [a for a in answers if not isinstance(a, dict) or a.get("error")]
    if failed:
        raise SystemExit(f"bench serve: {len(failed)} of the throughput requests failed: {failed[0]}")
    return {"wall_s": wall, "articles_per_s": len(texts) / wall}


def cli_throughput(one: Path, many: Path, config: Path, tmp: Path, count: int) -> dict:
    """(a) the batch CLI on the same articles: overall, and past its fixed cost (start, model load)."""
    walls = []
    for folder in (one, many):
        out = tmp / f"cli-{folder.name}.jsonl"
        out.unlink(missing_ok=True)  # an earlier round's
        argv = [*summarize_argv(), str(folder), "--config", str(config), "--backend", "ctranslate2", "--output", str(out)]
        run = run_process(argv)
        if run.returncode != 0:
            raise SystemExit(f"bench serve: {' '.join(argv[1:])} failed: {run.stderr[-2000:]}")
        walls.append(run.wall_s)
    if walls[1] <= walls[0]:  # the difference would be noise, and its rate negative or infinite
        raise SystemExit(
            f"bench serve: the CLI took no longer on {count} articles ({walls[1]:.2f} s) than on one ({walls[0]:.2f} s): "
            "too few articles to tell its fixed cost apart; use more --articles"
        )
    return {"walls": walls, "overall": count / walls[1], "steady": (count - 1) / (walls[1] - walls[0])}


def best_of_rounds(served: Served, texts: list[str], cli: tuple, rounds: int) -> tuple[dict, dict]:
    """(a) the server and the CLI measured back to back, `rounds` times, the best of each kept: other
    work on the machine comes and goes, and this way both sides had the same chance of a quiet spell."""
    server_runs, cli_runs = [], []
    for _ in range(rounds):
        cli_runs.append(cli_throughput(*cli))
        server_runs.append(throughput(served, texts))
    return max(server_runs, key=lambda r: r["articles_per_s"]), max(cli_runs, key=lambda r: r["steady"])


def overhead(served: Served, text: str, runs: int) -> dict:
    """(b) round trip minus the result's own seconds, one request at a time on a warm server (one
    kept-alive connection, as a client that sends several would have)."""
    import httpx

    extra = []
    with httpx.Client(base_url=served.url, timeout=REQUEST_S, trust_env=False) as http:
        http.get("/healthz")  # the connection, made once
        for _ in range(runs):
            started = time.perf_counter()
            response = http.post("/v1/summarize", json={"text": text})
            wall = time.perf_counter() - started
            if response.status_code != 200:
                raise SystemExit(f"bench serve: the one-article request failed: {response.status_code} {response.text[:500]}")
            extra.append(wall - response.json()["seconds"])
    return {"overhead_ms": statistics.median(extra) * 1000}


class _FirstRequest(ThreadingHTTPServer):
    """A listener on 127.0.0.1 that notes when the first request arrives (and answers 503: not ready)."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.at = 0.0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(handler) -> None:  # noqa: N805 - the server is `self` here
                if not self.arrived.is_set():
                    self.at = time.perf_counter()
                    self.arrived.set()
                handler.send_response(503)
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            def log_message(handler, *args) -> None:  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.daemon_threads = True
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


def client_start(article: Path, runs: int) -> float:
    """(c) the --server client's process start → its first request on the wire, median of runs."""
    starts = []
    for _ in range(runs):
        listener = _FirstRequest()
        try:
            started = time.perf_counter()
            client = subprocess.Popen(
                [*summarize_argv(), str(article), "--server", f"http://127.0.0.1:{listener.server_address[1]}", "--format", "json"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            arrived = listener.arrived.wait(60)
            client.kill()
            client.wait()
            if not arrived:
                raise SystemExit("bench serve: the --server client sent no request within 60 s")
            starts.append(listener.at - started)
        finally:
            listener.shutdown()
            listener.server_close()
    return statistics.median(starts)


def client_against_cli(served: Served, article: Path, config: Path, backend: str, runs: int) -> dict:
    """(c) start → printed result: the --server client against the one-article CLI on this backend."""

    def median_wall(argv: list[str]) -> float:
        walls = []
        for _ in range(runs + 1):  # the first untimed: the server's first request, the file cache
            run = run_process(argv)
            if run.returncode != 0:
                raise SystemExit(f"bench serve: {' '.join(argv[1:])} failed: {run.stderr[-2000:]}")
            walls.append(run.wall_s)
        return statistics.median(walls[1:])

    client = median_wall([*summarize_argv(), str(article), "--server", served.url, "--format", "json"])
    cli = median_wall([*summarize_argv(), str(article), "--config", str(config), "--backend", backend, "--format", "json"])
    return {"backend": backend, "client_s": client, "cli_s": cli, "ratio": client / cli}


def endurance(served: Served, requests: int, clients: int) -> dict:
    """(d) many short requests at once: what failed other than 503, and the server's RSS as it went."""
    rss: dict[int, float] = {}
    marks = (min(RSS_FIRST, max(1, requests // 10)), requests)  # the 100th and the 1000th, or the same shares of fewer

    def on_answer(count: int) -> None:
        if count in marks:
            rss[count] = served.rss_mb()

    bodies = [{"text": f"{SHORT_TEXT} Новость номер {i}."} for i in range(requests)]
    wall, answers = post_all(served.url, bodies, clients, on_answer)
    busy = sum(1 for a in answers if a == 503)
    errors = [a for a in answers if a != 503 and not (isinstance(a, dict) and a.get("error") is None)]
    first, last = (rss.get(n, float("nan")) for n in marks)
    found = {"wall_s": wall, "busy": busy, "errors": len(errors), "first_error": errors[0] if errors else None}
    return found | {"marks": marks, "rss": (first, last), "ratio": last / first}


@dataclass
class Measured:
    served: dict = field(default_factory=dict)
    cli: dict = field(default_factory=dict)
    overhead: dict = field(default_factory=dict)
    client_start_s: float = 0.0
    clients: list[dict] = field(default_factory=list)
    endurance: dict = field(default_factory=dict)
    abuse: dict = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)  # the machine's 1-minute load average at the start and the end


def measure(tmp: Path, config: Path, args: argparse.Namespace) -> Measured:
    articles = corpus.batch_articles(corpus.default_eval_dir(ROOT), args.articles)
    one, many = tmp / "one", tmp / "many"
    (article,) = corpus.write_articles(articles[:1], one)
    corpus.write_articles(articles, many)
    texts = [a.text for a in articles]
    run_process(
        [*summarize_argv(), str(one), "--config", str(config), "--backend", "ctranslate2", "--output", str(tmp / "warm-up.jsonl")]
    )  # the conversion, once
    found = Measured(load=(os.getloadavg()[0], 0.0))
    with serving(config, "ctranslate2", tmp, *serve_abuse.SERVER_ARGS) as served:
        post_all(served.url, [{"text": texts[0]}], 1)  # warm: the first group pays one-time costs
        found.served, found.cli = best_of_rounds(served, texts, (one, many, config, tmp, args.articles), args.rounds)
        found.overhead = overhead(served, texts[0], args.repeats)
        found.clients.append(client_against_cli(served, article, config, "ctranslate2", args.repeats))
        found.endurance = endurance(served, args.requests, args.concurrency)
        found.abuse = serve_abuse.abuse(served.url, texts[0], max(5, args.repeats))
    found.client_start_s = client_start(article, args.repeats)
    with serving(config, "torch", tmp) as served:
        found.clients.append(client_against_cli(served, article, config, "torch", args.repeats))
    found.load = (found.load[0], os.getloadavg()[0])
    return found


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report(found: Measured, args: argparse.Namespace) -> str:
    ratio = found.served["articles_per_s"] / found.cli["steady"]
    end = found.endurance
    rows = [
        (
            f"(a) {CLIENTS} concurrent clients over {args.articles} articles: server articles/s (best of {args.rounds})",
            f"{found.served['articles_per_s']:.2f}",
            "",
            "",
        ),
        (f"(a) batch CLI articles/s past its fixed cost (overall), best of {args.rounds}", f"{found.cli['steady']:.2f} ({found.cli['overall']:.2f})", "", ""),
        ("(a) server ÷ CLI", f"{ratio:.2f}", f"≥ {GOALS['throughput']}", _met(ratio >= GOALS["throughput"])),
        (
            "(b) one article, warm server: round trip − result's seconds (median)",
            f"{found.overhead['overhead_ms']:.1f} ms",
            f"≤ {GOALS['overhead_ms']:.0f} ms",
            _met(found.overhead["overhead_ms"] <= GOALS["overhead_ms"]),
        ),
        (
            "(c) --server client: process start → first request (median)",
            f"{found.client_start_s:.3f} s",
            f"≤ {GOALS['client_start_s']} s",
            _met(found.client_start_s <= GOALS["client_start_s"]),
        ),
    ]
    for c in found.clients:
        rows.append(
            (
                f"(c) {c['backend']}: client start → printed result ÷ one-article CLI process ({c['client_s']:.2f} s ÷ {c['cli_s']:.2f} s)",
                f"{c['ratio']:.2f}",
                f"≤ {GOALS['client_ratio']}",
                _met(c["ratio"] <= GOALS["client_ratio"]),
            )
        )
    rows += [
        (f"(d) {args.requests} short requests, {args.concurrency} clients: errors other than 503", str(end["errors"]), "0", _met(end["errors"] == 0)),
        ("(d) deliberate 503s (queue full)", str(end["busy"]), "", ""),
        (
            f"(d) server RSS at answer {end['marks'][0]} → {end['marks'][1]} ({end['rss'][0]:.0f} → {end['rss'][1]:.0f} MB)",
            f"{end['ratio']:.2f}×",
            f"≤ {GOALS['rss_ratio']}",
            _met(end["ratio"] <= GOALS["rss_ratio"]),
        ),
        *serve_abuse.rows(found.abuse),
    ]
    lines = [
        "# summarize serve: throughput, overhead, the client, endurance, abuse",
        "",
        f"**Machine:** {machine_line('summarize', 'ctranslate2', 'fastapi', 'uvicorn')}",
        "",
        f"**Run:** `{args.command}` · {args.size}-size random-weight rut5-base + opus-mt (bench/models.py), output lengths pinned "
        "(60 + 40 tokens, beams 5/4), server and CLI on CTranslate2 int8 unless the row says torch · loopback only",
        "",
        "| measure | value | goal | |",
        "| --- | ---: | ---: | --- |",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
        "",
        f"(d) took {end['wall_s']:.1f} s" + (f"; first error: {str(end['first_error'])[:300]}" if end["first_error"] else "") + ". "
        f"Load average (1 min) at the start and the end: {found.load[0]:.2f}, {found.load[1]:.2f} (other work on the machine slows both sides).",
        "",
    ]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", choices=["tiny", "full"], default="full", help="random-weight models: bench size (full) or tiny")
    parser.add_argument("--articles", type=int, default=ARTICLES, help=f"articles for the throughput runs (default {ARTICLES})")
    parser.add_argument("--requests", type=int, default=SHORT_REQUESTS, help=f"short requests in the endurance run (default {SHORT_REQUESTS})")
    parser.add_argument("--concurrency", type=int, default=SHORT_CLIENTS, help=f"concurrent clients in the endurance run (default {SHORT_CLIENTS})")
    parser.add_argument("--rounds", type=int, default=2, help="back-to-back rounds of the throughput comparison, the best of each side kept (default 2)")
    parser.add_argument("--repeats", type=int, default=OVERHEAD_RUNS, help=f"runs of each timed process and request, median taken (default {OVERHEAD_RUNS})")
    parser.add_argument("--cache-dir", type=Path, default=Path(__file__).parent / ".cache", help="models and CTranslate2 conversions (default bench/.cache)")
    parser.add_argument("--models-dir", type=Path, help="folder with rut5/ and opus/ already built (default: build them in --cache-dir)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS, help="where serve-latest.md goes (default bench/results)")


def main(args: argparse.Namespace) -> int:
    cache = args.cache_dir.resolve()
    os.environ.update(HF_HUB_OFFLINE="1", HF_HOME=str(cache / "hf"), SUMMARIZE_CT2_CACHE=str(cache / "ct2"))  # the CLI and the server inherit them
    for name in ("SUMMARIZE_CONFIG", "SUMMARIZE_SERVER", "SUMMARIZE_TOKEN"):
        os.environ.pop(name, None)
    if args.models_dir:
        models = {name: args.models_dir.resolve() / name for name in ("rut5", "opus")}
    else:
        lines = corpus.training_lines(corpus.default_eval_dir(ROOT))
        models = {name: m.path for name, m in ensure_models(["rut5", "opus"], args.size, cache, lines).items()}
    tmp = Path(tempfile.mkdtemp(prefix="summarize-serve-bench-"))  # the RIA texts live only here
    try:
        found = measure(tmp, write_config(tmp / "bench.toml", models), args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = report(found, args)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    name = "serve-latest.md" if args.size == "full" else "serve-latest-tiny.md"
    (args.results_dir / name).write_text(text, encoding="utf-8")
    print(text)
    return 0

"""The --server run mode: inputs read here with the local readers, summarised by a running
`summarize serve`, written through the same sinks, so that what is printed and written is what a
local run gives (every --format, --output-dir, --output, the tally and the exit codes).

Documents go in order, several to a request (the batch endpoint) with a few requests in flight, and
each Result is rebuilt from the server's JSON with this side's source, url, date and reading
warnings. Nothing here loads a model: the imports are the readers and the standard library's HTTP
client (httpx's import alone would cost about what the whole client start may), so it starts fast.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from summarize.documents import Document, Failure, Input, Result, Tally
from summarize.errors import SummarizeError, first_line
from summarize.flags import TOKEN_ENV, contract_fields
from summarize.inputs.reading import Reading, read_documents
from summarize.options import Choices, flag_of, per_request
from summarize.outputs.sink import Sink
from summarize.runs.signals import SignalTrap, Stopped

BATCH = 8  # documents per request: the server's batcher groups requests anyway, this saves round trips
IN_FLIGHT = 4  # requests waiting for an answer at once: enough to keep the server's queue fed, never a flood
CONNECT_S = 5.0  # a server that does not take the connection in this long is not answering
ANSWER_S = 600.0  # a long batch on a busy CPU server; the server's own deadline usually ends it sooner
READY_S = 300.0  # how long a server still loading its models (GET /healthz 503) is waited for
BUSY_TRIES = 30  # 503 (queue full) answers retried per request, each after the server's Retry-After
RESULT_KEYS = {f.name for f in fields(Result)}
SENT_AS = "text"  # how the server names a {"text"} request's document in what it says of it


def request_options(choices: Choices, translate: bool | None, strict: bool) -> dict[str, Any]:
    """The request's "options": every option marked per_request that the user gave (the rest as the
    server has it); one marked the server's own (its models, where they run) is refused, one line,
    unless the environment may have set it (HF_HUB_OFFLINE: where models come from, none here)."""
    given = {spec.name: getattr(choices, spec.name) for spec in fields(Choices)} | {"translate": translate, "strict": strict}
    changed = [spec for spec, _ in contract_fields().values() if given[spec.name] != spec.default]
    refused = [spec for spec in changed if not per_request(spec) and "envvar" not in spec.metadata]
    if refused:
        flag = flag_of(refused[0])
        raise SummarizeError(f"{flag} is the server's choice, made when it started (summarize serve {flag} …); leave it out with --server")
    options = {spec.name: given[spec.name] for spec in changed if per_request(spec)}
    return {name: str(value) if hasattr(value, "value") else value for name, value in options.items()}


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, read whole (the server's answers are a result or a batch of them)."""

    status: int
    reason: str  # the HTTP reason phrase
    retry_after: str | None
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def error(self) -> str:
        """The server's one-line error ({"error": …}), else the status's reason phrase."""
        try:
            said = self.json().get("error")
        except (ValueError, AttributeError):
            said = None
        return first_line(ValueError(said)) if isinstance(said, str) and said.strip() else self.reason or "no reason given"


class Server:
    """A running `summarize serve`, as this run talks to it: plain HTTP/1.1 over the standard
    library's http.client (a client that starts fast), a kept-alive connection per request in flight."""

    def __init__(self, url: str, options: dict[str, Any]):
        self.url, self.options = url.rstrip("/"), options
        parts = urlsplit(self.url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise SummarizeError(f"--server {url!r}: give the address of a running summarize serve, like http://127.0.0.1:8000")
        self.parts, self.base = parts, parts.path.rstrip("/")  # a server behind a proxy may sit under a path
        token = os.environ.get(TOKEN_ENV)
        if token and not (token.isascii() and token.isprintable()):
            raise SummarizeError(f"{TOKEN_ENV}: holds characters an HTTP header cannot carry; give the token the server was started with")
        self.headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        self.idle: list[http.client.HTTPConnection] = []
        self.lock = threading.Lock()
        self.lost: str | None = None  # set when it stopped answering mid-run: the run's error line

    @classmethod
    def connect(cls, url: str, options: dict[str, Any], notify: Callable[[str], None]) -> Server:
        """The server, checked to answer (and waited for while it loads its models) before any
        output is opened; raises SummarizeError, one line, when it does not."""
        server = cls(url, options)
        said, until = False, time.monotonic() + READY_S
        while True:
            try:
                status = server.request("GET", "/healthz", wait=CONNECT_S).status
            except _Lost as e:
                raise SummarizeError(str(e)) from None
            if status != 503 or time.monotonic() > until:
                break
            if not said:
                notify(f"waiting for the server at {server.url} to load its models")
                said = True
            time.sleep(0.5)
        if status != 200:
            raise SummarizeError(f"server {server.url}: not ready (GET /healthz answered {status}); is it a summarize serve? start one with summarize serve")
        return server

    def request(self, method: str, path: str, body: bytes | None = None, wait: float = ANSWER_S) -> Answer:
        """One request on a kept-alive connection (one the server has closed since is replaced),
        its answer waited for `wait` seconds; raises _Lost when the server does not answer."""
        with self.lock:
            connection, reused = (self.idle.pop(), True) if self.idle else (self._open(), False)
        try:
            if connection.sock is None:
                connection.connect()  # within CONNECT_S
            connection.sock.settimeout(wait)
            connection.request(method, self.base + path, body=body, headers=self.headers)
            response = connection.getresponse()
            answer = Answer(response.status, response.reason, response.getheader("Retry-After"), response.read())
        except (OSError, http.client.HTTPException) as e:
            connection.close()
            if reused:
                return self.request(method, path, body, wait)
            raise _Lost(self._not_answering(e)) from None
        with self.lock:
            self.idle.append(connection)
        return answer

    def _open(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self.parts.scheme.lower() == "https" else http.client.HTTPConnection
        return kind(self.parts.hostname, self.parts.port, timeout=CONNECT_S) if self.parts.port else kind(self.parts.hostname, timeout=CONNECT_S)

    def _not_answering(self, error: BaseException) -> str:
        reason = "no answer in time" if isinstance(error, TimeoutError) else first_line(error, 120).split("] ", 1)[-1]  # no "[Errno 111] "
        return f"server {self.url}: not answering ({reason}); start it with summarize serve"

    def close(self) -> None:
        for connection in self.idle:
            connection.close()

    def summarise(self, docs: list[tuple[str, Document]]) -> list[dict[str, Any] | Refusal]:
        """Each (id, document) as the server's result dict, or the server's refusal of it.
        A whole-request refusal of a batch is retried one document at a time, so one bad
        document fails alone; raises _Lost when the server stops answering."""
        if not docs:
            return []
        bodies = [self._body(key, doc) for key, doc in docs]
        if len(bodies) == 1:
            return [self._post("/v1/summarize", bodies[0])]
        answer = self._post("/v1/summarize/batch", bodies)
        if isinstance(answer, list) and len(answer) == len(bodies):
            return answer
        return [self._post("/v1/summarize", body) for body in bodies]

    def _body(self, key: str, doc: Document) -> dict[str, Any]:
        body = {"text": doc.text, "id": key, "options": self.options}
        return body if doc.title is None else {**body, "title": doc.title}

    def _post(self, path: str, body: Any) -> Any:
        """The answer's JSON on 200, else the server's refusal; 503 (busy) is waited out."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        for _ in range(BUSY_TRIES):
            answer = self.request("POST", path, data)
            if answer.status != 503 or answer.retry_after is None:
                break
            time.sleep(min(5.0, float(answer.retry_after)) if answer.retry_after.isdigit() else 1.0)  # seconds, or an HTTP date
        if answer.status == 401:
            raise _Lost(
                f"server {self.url}: refused ({answer.error()}); set {TOKEN_ENV} to the token it was started with (summarize serve --token / {TOKEN_ENV})"
            )
        if answer.status != 200:
            return Refusal(answer.status, answer.error())
        try:
            return answer.json()
        except ValueError:
            raise _Lost(f"server {self.url}: answered something that is not JSON; is it a summarize serve?") from None


@dataclass(frozen=True)
class Refusal:
    """A document the server would not summarise: its status and one-line reason."""

    status: int
    reason: str


class _Lost(Exception):
    """The server stopped answering (or refused the token): no later request can do better."""


def run_remote(inputs: list[Input], server: Server, sink: Sink, reading: Reading, notify: Callable[[str], None], advance: Callable[[], None]) -> Tally:
    """Every input in order through the server into the sink. A signal ends a wait at once (a write
    in progress is finished first): what is written is kept, requests in flight are given up (the
    server drops them). A server that stops answering stops the run too, with server.lost set."""
    tally, started = Tally(), time.perf_counter()
    feed = _Feed(inputs, sink, reading, tally, advance)
    size, in_flight = (1, 1) if reading.fail_fast else (BATCH, IN_FLIGHT)
    pending: deque[tuple[list[tuple[Input, Document | Failure]], Future]] = deque()
    with _StopBetweenWrites() as stop:
        try:
            _run(feed.chunks(size), pending, in_flight, server, sink, tally, stop, notify, advance)
        except Stopped:
            pass  # a signal (stop.received), or a destination that takes nothing more (the plan says so)
        except _Lost as e:
            server.lost = str(e)
        tally.stopped_by = stop.received
    tally.left = sum(len(chunk) for chunk, _ in pending) + feed.held + feed.unopened()
    tally.unread = feed.unread() if tally.left else ""
    for dataset in feed.empty:
        notify(f"warning: {dataset.source}: has no records; nothing to summarise in it")
    tally.seconds = time.perf_counter() - started
    return tally


def _run(chunks: Iterator, pending: deque, in_flight: int, server: Server, sink: Sink, tally: Tally, stop: _StopBetweenWrites, notify, advance) -> None:
    """Send chunks as they are read, at most `in_flight` unanswered; write answers in input order."""

    def write_first() -> None:
        with stop.interruptible():
            answer = pending[0][1].result()
        chunk, _ = pending.popleft()
        _write(chunk, answer, sink, tally, notify, advance)
        if stop.received:
            raise Stopped

    while True:
        with stop.interruptible():
            chunk = next(chunks, None)
        if chunk is None:
            break
        pending.append((chunk, _send(server, chunk)))
        while len(pending) >= in_flight or (pending and pending[0][1].done()):
            write_first()
        if in_flight == 1 and tally.failures:  # --fail-fast
            return
    while pending:
        write_first()


class _StopBetweenWrites(SignalTrap):
    """The client's main thread waits (for the server, for input) and writes results: a signal ends
    a wait at once; during a write it is only recorded, and the run stops after that write."""

    def react(self, signum: int, again: bool) -> None:
        if self.waiting:
            self.waiting = False
            raise Stopped


def _send(server: Server, chunk: list[tuple[Input, Document | Failure]]) -> Future:
    """The chunk's documents posted in a daemon thread (a signal must never wait for it)."""
    future: Future = Future()
    docs = [(item.key, read) for item, read in chunk if isinstance(read, Document)]

    def post() -> None:
        try:
            future.set_result(server.summarise(docs))
        except BaseException as e:  # noqa: BLE001 - handed to the main thread, which raises it
            future.set_exception(e)

    threading.Thread(target=post, name="summarize-request", daemon=True).start()
    return future


def _write(chunk: list[tuple[Input, Document | Failure]], answer: list, sink: Sink, tally: Tally, notify: Callable[[str], None], advance) -> None:
    answers = iter(answer)
    for item, read in chunk:
        result = _result(read, next(answers)) if isinstance(read, Document) else Result(read.source, read.title, read.url, read.date, error=read.error)
        sink.write(item, result)
        tally.add(result.source, result.error)
        if result.error is not None:
            notify(f"error: {result.error}")
        else:
            for warning in result.warnings:
                notify(f"warning: {result.source}: {warning}")
        advance()


def _result(doc: Document, answer: dict[str, Any] | Refusal) -> Result:
    """The server's result as this side's Result: the document's own source, url and date, its
    reading warnings first; a refusal is that document's failure."""
    if isinstance(answer, Refusal):
        said = _without_source(answer.reason, SENT_AS)
        reason = said if said != answer.reason else f"the server refused it ({answer.status}: {answer.reason})"
        return Result(doc.source, doc.title, doc.url, doc.date, warnings=list(doc.warnings), error=f"{doc.source}: {reason}")
    if not isinstance(answer, dict) or set(answer) != RESULT_KEYS:
        unexpected = sorted(set(answer) ^ RESULT_KEYS) if isinstance(answer, dict) else [type(answer).__name__]
        raise _Lost(f"the server's result has other keys than this version's ({', '.join(unexpected)}): update the client or the server so they match")
    result = Result(**answer)
    said = [w for w in result.warnings if w not in doc.warnings]
    result.id, result.source, result.url, result.date = None, doc.source, doc.url, doc.date
    result.title, result.warnings = doc.title, [*doc.warnings, *said]
    if result.error is not None:
        result.error = f"{doc.source}: {_without_source(result.error, answer.get('source'))}"
    return result


def _without_source(error: str, source: Any) -> str:
    """The server names a document by what it was sent as; this side names it by its source."""
    prefix = f"{source}: "
    return error[len(prefix) :] if isinstance(source, str) and error.startswith(prefix) else error


class _Feed:
    """The run's inputs read in order (web pages fetched ahead, datasets streamed), in chunks of
    (Input, Document | Failure); what the sink already holds (--skip-existing) is counted skipped."""

    def __init__(self, inputs: list[Input], sink: Sink, reading: Reading, tally: Tally, advance: Callable[[], None]):
        self.inputs, self.sink, self.reading, self.tally, self.advance = inputs, sink, reading, tally, advance
        self.opened = 0
        self.last: tuple[Input, Input] | None = None  # (a dataset being read, its last record read)
        self.empty: list[Input] = []
        self.held = 0  # read into the chunk being filled, not sent yet

    def chunks(self, size: int) -> Iterator[list[tuple[Input, Document | Failure]]]:
        found = read_documents(self.inputs, self.reading.max_input_chars, self.reading.fields, lambda index, item: self.sink.done(item))
        chunk: list[tuple[Input, Document | Failure]] = []
        try:
            for index, item, read in found:
                self.empty += self.inputs[self.opened : index]
                self.opened = index + 1
                self.last = (self.inputs[index], item) if item is not self.inputs[index] else None
                if read is None:
                    self.tally.skipped += 1
                    self.advance()
                    continue
                chunk.append((item, read))
                self.held = len(chunk)
                if len(chunk) == size:
                    self.held = 0
                    yield chunk
                    chunk = []
            self.empty += self.inputs[self.opened :]
            self.opened, self.last, self.held = len(self.inputs), None, 0
            if chunk:
                yield chunk
        finally:
            found.close()

    def unopened(self) -> int:
        return len(self.inputs) - self.opened

    def unread(self) -> str:
        """A dataset whose reading stopped part-way: what of it was never read (its size is unknown)."""
        return f"any records of {self.last[0].source} after {self.last[1].key}" if self.last else ""

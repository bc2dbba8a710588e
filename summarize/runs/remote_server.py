"""A running `summarize serve` as the --server client talks to it: its address checked (one line for
a bad one, credentials never shown), its readiness waited for, its limits read from GET /v1/info
(documents a request, body bytes, beams, its deadline) so that requests fit them, and answers read
within bounds: every wait has an end and is said on stderr, every answer has a most size.

Plain HTTP/1.1 over the standard library's http.client (httpx's import alone would cost about what
the whole client start may), a kept-alive connection per request in flight.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from summarize.documents import Document
from summarize.errors import SummarizeError, first_line
from summarize.flags import TOKEN_ENV
from summarize.routes import CODE
from summarize.storage import redact

BATCH = 8  # documents per request at most: the server's batcher groups requests anyway, this saves round trips
CONNECT_S = 5.0  # a server that does not take the connection in this long is not answering
ANSWER_S = 600.0  # an answer's wait when the server does not say its deadline (an older server)
LATE_S = 30.0  # past the server's own deadline (its 504 comes at it): the answer is lost on the way
INFO_S = 30.0  # GET /v1/info is answered at once by a server that answered /healthz
READY_S = 300.0  # how long a server still loading its models (GET /healthz 503) is waited for
BUSY_S = 300.0  # how long one request waits out 503 (queue full) and 429 (rate limit) answers, in all
SAY_EVERY_S = 10.0  # the "waiting" line at most this often, however many requests wait
SMALL_ANSWER = 1 << 20  # bytes: /healthz, /v1/info, a refusal
RESULT_BYTES = 1 << 20  # bytes a result may add to its document's own text (summaries, warnings): far more than any does
MODEL_FREE = ("extractive", "lead")


@dataclass(frozen=True)
class Limits:
    """What the server said of itself (GET /v1/info), as the client sizes its requests to it."""

    batch: int = BATCH
    max_body: int | None = None
    max_beams: int | None = None
    deadline: float | None = None
    engine: str | None = None
    targets: tuple[str, ...] = ()  # the languages it translates into when a request names none (its summary_<code> keys)

    @property
    def wait(self) -> float:
        return self.deadline + LATE_S if self.deadline else ANSWER_S


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, read whole (within its most size)."""

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


@dataclass(frozen=True)
class Refusal:
    """A document the server did not summarise: a status and one-line reason."""

    status: int
    reason: str


class Lost(Exception):
    """The server stopped answering, or refused what every request shares (the token, the options):
    no later request can do better."""


def address(url: str) -> SplitResult:
    """--server's URL, split; SummarizeError (one line, credentials hidden) when it is not one."""
    shown = redact(url) if "://" in url else re.sub(r"^[^/?#]*@", "***@", url)
    fix = "give the address of a running summarize serve, like http://127.0.0.1:8000"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        what = "its port is not a number from 1 to 65535" if "port" in str(e).lower() else "it is not a URL"
        raise SummarizeError(f"--server {shown!r}: {what}; {fix}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.query or parts.fragment or port == 0:
        raise SummarizeError(f"--server {shown!r}: {fix}")
    if parts.username is not None or parts.password is not None:
        raise SummarizeError(f"--server {shown!r}: a user or password in the address is not sent; put the server's token in {TOKEN_ENV} instead")
    return parts


class Server:
    """A running `summarize serve`, as this run talks to it."""

    def __init__(self, url: str, options: dict[str, Any], notify: Callable[[str], None]):
        self.parts = address(url)
        self.url, self.options, self.notify = url.rstrip("/"), options, notify
        self.base = self.parts.path.rstrip("/")  # a server behind a proxy may sit under a path
        token = os.environ.get(TOKEN_ENV)
        if token and not (token.isascii() and token.isprintable()):
            raise SummarizeError(f"{TOKEN_ENV}: holds characters an HTTP header cannot carry; give the token the server was started with")
        self.headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        self.idle: list[http.client.HTTPConnection] = []
        self.lock = threading.Lock()
        self.limits = Limits()
        self.quiet_until = 0.0  # no other "waiting" line before then
        self.lost: str | None = None  # set when it stopped answering mid-run: the run's error line

    @classmethod
    def connect(cls, url: str, options: dict[str, Any], notify: Callable[[str], None]) -> Server:
        """The server, checked to answer (and waited for while it loads its models), its limits read
        and the run's options checked against them, before any output is opened; raises
        SummarizeError, one line, when it does not answer or the options are over a limit."""
        server = cls(url, options, notify)
        try:
            server._wait_ready()
            server.limits = server._read_limits()
        except Lost as e:
            raise SummarizeError(str(e)) from None
        server._check_options()
        return server

    def _wait_ready(self) -> None:
        said, until = False, time.monotonic() + READY_S
        while True:
            status = self.request("GET", "/healthz", wait=CONNECT_S).status
            if status != 503 or time.monotonic() > until:
                break
            if not said:
                self.notify(f"waiting for the server at {self.url} to load its models (up to {READY_S:g} s)")
                said = True
            time.sleep(0.5)
        if status != 200:
            raise Lost(f"server {self.url}: not ready (GET /healthz answered {status}); is it a summarize serve? start one with summarize serve")

    def _read_limits(self) -> Limits:
        answer = self._ask("GET", "/v1/info", wait=INFO_S)
        if answer.status == 404:
            self.notify(
                f"warning: server {self.url}: does not say its limits (GET /v1/info: 404, an older summarize serve?); "
                f"sending up to {BATCH} documents a request, each answer waited for up to {ANSWER_S:g} s"
            )
            return Limits()
        self._refuse_whole(answer, "GET /v1/info")
        try:
            info = answer.json()
            limits = info["limits"]
            batch, body, beams, deadline = (limits[name] for name in ("max_batch", "max_body", "max_beams", "deadline"))
            if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in (batch, body, beams)) or not isinstance(deadline, (int, float)):
                raise TypeError
            targets = info.get("targets") or []
            if not isinstance(targets, list) or not all(isinstance(t, str) and CODE.fullmatch(t) for t in targets):
                raise TypeError
            return Limits(min(BATCH, batch), body, beams, float(deadline), info.get("engine"), tuple(targets))
        except (ValueError, TypeError, KeyError, AttributeError):
            raise Lost(f"server {self.url}: GET /v1/info answered what a summarize serve does not; is it one, of this version?") from None

    def _check_options(self) -> None:
        """An option over the server's limit is refused here, before anything is sent."""
        beams, engine = self.options.get("beams"), self.options.get("engine") or self.limits.engine
        if beams and self.limits.max_beams and beams > self.limits.max_beams and engine not in MODEL_FREE:
            raise SummarizeError(f"--beams {beams} is over the server's limit of {self.limits.max_beams} (its --max-beams); ask for that many or fewer")

    def summarise(self, docs: list[tuple[str, Document]]) -> list[dict[str, Any] | Refusal]:
        """Each (id, document) as the server's result dict, or why it has none, in order: sent to the
        batch endpoint in requests within the server's limits (a document that cannot fit one fails
        alone); raises Lost when the server stops answering or refuses the whole request."""
        encoded = [json.dumps(self._body(key, doc), ensure_ascii=False).encode("utf-8") for key, doc in docs]
        answers: list[dict[str, Any] | Refusal] = []
        for part in self._parts(encoded):
            answers += self._batch(part)
        return answers

    def _body(self, key: str, doc: Document) -> dict[str, Any]:
        body = {"text": doc.text, "id": key, "options": self.options}
        return body if doc.title is None else {**body, "title": doc.title}

    def _parts(self, encoded: list[bytes]) -> Iterator[list[bytes]]:
        """The request objects in order, in JSON arrays of at most `batch` within `max_body` bytes."""
        most = self.limits.max_body or float("inf")
        part: list[bytes] = []
        for one in encoded:
            if part and (len(part) == self.limits.batch or len(_array(part)) + 1 + len(one) > most):
                yield part
                part = []
            part.append(one)
        if part:
            yield part

    def _batch(self, part: list[bytes]) -> list[dict[str, Any] | Refusal]:
        """One request of the batch endpoint (a single document too: what is wrong with one document
        is then its result's error, as in a local run). The request objects differ only in text the
        server reads per document, so a 4xx of the whole request is about what they share (the token,
        the options, the endpoint): Lost, one line. 413 and 5xx are split down to the document that
        meets them; 503 and 429 are waited out (_ask)."""
        body = _array(part)
        if len(part) == 1 and self.limits.max_body and len(body) > self.limits.max_body:
            return [Refusal(413, f"is {len(body)} bytes as a request, over the server's body limit of {self.limits.max_body} (its --max-body)")]
        answer = self._ask("POST", "/v1/summarize/batch", body, most=len(body) + len(part) * RESULT_BYTES)
        if answer.status == 200:
            return self._results(answer, len(part))
        if len(part) > 1 and (answer.status == 413 or answer.status >= 500) and answer.status != 503:
            half = len(part) // 2
            return self._batch(part[:half]) + self._batch(part[half:])
        if answer.status in (413, 429) or answer.status >= 500:
            return [Refusal(answer.status, answer.error())] * len(part)
        self._refuse_whole(answer, "POST /v1/summarize/batch")
        raise AssertionError("unreachable")

    def _refuse_whole(self, answer: Answer, what: str) -> None:
        """Lost for an answer other than 200: a refusal of what every request shares."""
        if answer.status == 200:
            return
        if answer.status == 401:
            raise Lost(
                f"server {self.url}: refused ({answer.error()}); set {TOKEN_ENV} to the token it was started with (summarize serve --token / {TOKEN_ENV})"
            )
        if answer.status in (404, 405):
            raise Lost(f"server {self.url}: {what} answered {answer.status} ({answer.error()}); is it a summarize serve, and the right address?")
        raise Lost(f"server {self.url}: refused the run's requests ({answer.status}: {answer.error()}); nothing more is sent")

    def _results(self, answer: Answer, count: int) -> list[dict[str, Any]]:
        try:
            results = answer.json()
        except ValueError:
            raise Lost(f"server {self.url}: answered something that is not JSON; is it a summarize serve?") from None
        if not isinstance(results, list) or len(results) != count:
            got = f"{len(results)} results" if isinstance(results, list) else f"a JSON {type(results).__name__}"
            raise Lost(f"server {self.url}: answered {got} for {count} documents; is it a summarize serve, of this version?")
        return results

    def _ask(self, method: str, path: str, body: bytes | None = None, most: int = SMALL_ANSWER, wait: float | None = None) -> Answer:
        """The answer, 503 (busy) and 429 (rate limit) waited out for up to BUSY_S, as the server's
        Retry-After says, and said on stderr; then the last such answer."""
        until = time.monotonic() + BUSY_S
        while True:
            answer = self.request(method, path, body, wait or self.limits.wait, most)
            if answer.status not in (429, 503) or answer.retry_after is None:
                return answer
            pause = min(60.0, float(answer.retry_after)) if answer.retry_after.isdigit() else 1.0  # seconds, or an HTTP date
            if time.monotonic() + pause > until:
                return answer
            self._say_waiting(answer, pause)
            time.sleep(pause)

    def _say_waiting(self, answer: Answer, pause: float) -> None:
        with self.lock:
            now = time.monotonic()
            if now < self.quiet_until:
                return
            self.quiet_until = now + SAY_EVERY_S
        what = "busy" if answer.status == 503 else "rate limited"
        self.notify(f"server {self.url}: {what} ({answer.status}: {answer.error()}); retrying in {pause:g} s (for up to {BUSY_S:g} s)")

    def request(self, method: str, path: str, body: bytes | None = None, wait: float = CONNECT_S, most: int = SMALL_ANSWER) -> Answer:
        """One request on a kept-alive connection (one the server has closed since is replaced), its
        answer waited for `wait` seconds and read up to `most` bytes; raises Lost when the server
        does not answer, or answers more than that."""
        with self.lock:
            connection, reused = (self.idle.pop(), True) if self.idle else (self._open(), False)
        try:
            if connection.sock is None:
                connection.connect()  # within CONNECT_S
            connection.sock.settimeout(wait)
            connection.request(method, self.base + path, body=body, headers=self.headers)
            response = connection.getresponse()
            data = response.read(most + 1)
        except (OSError, http.client.HTTPException) as e:
            connection.close()
            if reused:
                return self.request(method, path, body, wait, most)
            raise Lost(self._not_answering(e, wait)) from None
        if len(data) > most:
            connection.close()
            raise Lost(f"server {self.url}: answered {method} {path} with more than {most} bytes; is it a summarize serve?")
        with self.lock:
            self.idle.append(connection)
        return Answer(response.status, response.reason, response.getheader("Retry-After"), data)

    def _open(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self.parts.scheme.lower() == "https" else http.client.HTTPConnection
        return kind(self.parts.hostname, self.parts.port, timeout=CONNECT_S) if self.parts.port else kind(self.parts.hostname, timeout=CONNECT_S)

    def _not_answering(self, error: BaseException, wait: float) -> str:
        if isinstance(error, TimeoutError):
            reason = f"no answer in {wait:g} s"
        else:
            reason = first_line(error, 120).split("] ", 1)[-1]  # no "[Errno 111] "
        return f"server {self.url}: not answering ({reason}); start it with summarize serve"

    def close(self) -> None:
        for connection in self.idle:
            connection.close()


def _array(part: list[bytes]) -> bytes:
    return b"[" + b",".join(part) + b"]"

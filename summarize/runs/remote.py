"""The --server run mode: inputs read here with the local readers, summarised by a running
`summarize serve`, written through the same sinks, so that what is printed and written is what a
local run gives (every --format, --output-dir, --output, the tally and the exit codes).

Documents go in order, several to a request (the batch endpoint) with a few requests in flight, and
each Result is rebuilt from the server's JSON with this side's source, url, date and reading
warnings. Nothing here loads a model: the imports are the readers and the standard library's HTTP
client (httpx's import alone would cost about what the whole client start may), so it starts fast.
"""

from __future__ import annotations

import threading
import time
import typing
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import fields
from types import NoneType, UnionType
from typing import Any

from summarize.documents import HIDDEN, Document, Failure, Input, Result, Tally
from summarize.errors import SummarizeError
from summarize.flags import contract_fields
from summarize.inputs.decode import language_warnings
from summarize.inputs.reading import Reading, read_documents
from summarize.options import Choices, flag_of, per_request
from summarize.outputs.sink import Sink
from summarize.runs.remote_server import Lost, Refusal, Server
from summarize.runs.signals import SignalTrap, Stopped

IN_FLIGHT = 4  # requests waiting for an answer at once: enough to keep the server's queue fed, never a flood
# What each key of the server's result must hold (translations come as summary_<code> keys, after summary_en).
RESULT_TYPES = {name: kind for name, kind in typing.get_type_hints(Result).items() if name not in HIDDEN}
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


def run_remote(inputs: list[Input], server: Server, sink: Sink, reading: Reading, notify: Callable[[str], None], advance: Callable[[], None]) -> Tally:
    """Every input in order through the server into the sink. A signal ends a wait at once (a write
    in progress is finished first): what is written is kept, requests in flight are given up (the
    server drops them). A server that stops answering stops the run too, with server.lost set."""
    tally, started = Tally(), time.perf_counter()
    feed = _Feed(inputs, sink, reading, tally, advance)
    size, in_flight = (1, 1) if reading.fail_fast else (server.limits.batch, IN_FLIGHT)
    pending: deque[tuple[list[tuple[Input, Document | Failure]], Future]] = deque()
    with _StopBetweenWrites() as stop:
        try:
            _run(feed.chunks(size), pending, in_flight, server, sink, tally, stop, notify, advance)
        except Stopped:
            pass  # a signal (stop.received), or a destination that takes nothing more (the plan says so)
        except Lost as e:
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
    reading warnings first; a refusal, or a result that is not one, is that document's failure."""
    if isinstance(answer, Refusal):
        said = _without_source(answer.reason, SENT_AS)
        reason = said if said != answer.reason else f"the server refused it ({answer.status}: {answer.reason})"
        return Result(doc.source, doc.title, doc.url, doc.date, warnings=list(doc.warnings), error=f"{doc.source}: {reason}")
    translations: dict[str, Any] = {}
    if isinstance(answer, dict):  # the --to targets other than English: summary_de, summary_kk…
        spread = [key for key in answer if key.startswith("summary_") and key not in RESULT_TYPES]
        translations = {key.removeprefix("summary_"): answer.pop(key) for key in spread}
    if not isinstance(answer, dict) or set(answer) != set(RESULT_TYPES):
        unexpected = sorted(set(answer) ^ set(RESULT_TYPES)) if isinstance(answer, dict) else [type(answer).__name__]
        raise Lost(f"the server's result has other keys than this version's ({', '.join(unexpected)}): update the client or the server so they match")
    wrong = next((name for name, kind in RESULT_TYPES.items() if not _holds(answer[name], kind)), None)
    wrong = wrong or next((f"summary_{code}" for code, text in translations.items() if not _holds(text, str | None)), None)
    if wrong is not None:
        got = type(answer.get(wrong, translations.get(wrong.removeprefix("summary_")))).__name__
        error = f"{doc.source}: the server's result is not one ({wrong} is a JSON {got}); is the server the same version as this client?"
        return Result(doc.source, doc.title, doc.url, doc.date, warnings=list(doc.warnings), error=error)
    result = Result(**answer, translations=translations)
    said = [w for w in result.warnings if w not in doc.warnings]
    result.id, result.source, result.url, result.date = None, doc.source, doc.url, doc.date
    # an article the server read into Russian first: its notice replaced the reading's "expect a poor summary"
    stale = language_warnings(doc.text) if result.source_translator else []
    result.title, result.warnings = doc.title, [*(w for w in doc.warnings if w not in stale), *said]
    if result.error is not None:
        result.error = f"{doc.source}: {_without_source(result.error, answer.get('source'))}"
    return result


def _holds(value: Any, kind: Any) -> bool:
    """Whether a JSON value is of a Result field's type (an int is a float; a bool is neither)."""
    if isinstance(kind, UnionType):
        return any(_holds(value, one) for one in typing.get_args(kind))
    if kind is NoneType:
        return value is None
    if typing.get_origin(kind) is list:
        (item,) = typing.get_args(kind)
        return isinstance(value, list) and all(_holds(one, item) for one in value)
    if typing.is_typeddict(kind):
        hints = typing.get_type_hints(kind)
        return isinstance(value, dict) and set(value) == set(hints) and all(_holds(value[key], hint) for key, hint in hints.items())
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


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

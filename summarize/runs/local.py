"""The local run: inputs → pipeline.run_all → sinks, surviving what can go wrong.

A bad input becomes a failed Result and the run goes on; finished outputs are already kept (each
sink's own way) and --skip-existing resumes. The work runs in a worker thread while the main thread
only waits, so that a signal is handled at once even while the worker is inside a model call (C++
code, which Python's handlers cannot interrupt): a first Ctrl-C lets the current call finish and
keeps it; SIGTERM or a second Ctrl-C ends the run at once, the call in progress given up. This module
only feeds, hands on and counts: summarising is the pipeline's, keeping the sinks'.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator

from summarize.documents import Document, Failure, Input, Result, Tally
from summarize.errors import EXIT_INTERRUPTED
from summarize.inputs.reading import Reading, read_documents
from summarize.outputs.printable import one_line
from summarize.outputs.sink import Sink
from summarize.pipeline import Pipeline
from summarize.runs.signals import StopAfterCurrent, Stopped


class Abandoned(BaseException):
    """The run was ended while the worker was busy: it must touch nothing more."""


class _Handover:
    """What the worker and the main thread share: the sinks, the tally and the feed's bookkeeping are
    touched only under this lock, and not at all once the main thread has abandoned the worker."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.abandoned = False

    def __enter__(self) -> None:
        self.lock.acquire()
        if self.abandoned:
            self.lock.release()
            raise Abandoned

    def __exit__(self, *exc: object) -> None:
        self.lock.release()

    def abandon(self) -> None:
        """Wait for a write in progress (never cut in half), then close the door on the worker."""
        with self.lock:
            self.abandoned = True


def run_local(
    inputs: list[Input],
    pipeline: Pipeline,
    sink: Sink,
    reading: Reading,
    notify: Callable[[str], None],
    advance: Callable[[], None] = lambda: None,
) -> Tally:
    """Summarise every input in order into the sink; raises SummarizeError only when the models cannot load."""
    tally, handover, outcome = Tally(), _Handover(), []
    started = time.perf_counter()
    with StopAfterCurrent() as stop:
        feed = _Feed(inputs, sink, reading, tally, stop, advance, handover=handover)
        finished = threading.Event()

        def work() -> None:
            try:
                _summarise_all(feed, pipeline, notify)
            except (Abandoned, Stopped):
                pass  # the main thread stopped the run, or the sink can take nothing more: what is done is kept
            except BaseException as e:  # noqa: BLE001 - handed to the main thread, which raises it
                outcome.append(e)
            finally:
                finished.set()

        worker = threading.Thread(target=work, name="summarize-run", daemon=True)
        try:
            worker.start()
            finished.wait()  # the signal handlers run here, at once: this thread does nothing else
            stop.ended = True  # from here on a signal is only recorded
        except Stopped:
            handover.abandon()
            _exit_without_waiting_for(worker, EXIT_INTERRUPTED[stop.received])
        tally.stopped_by = stop.received
    if outcome:
        raise outcome[0]
    for dataset in feed.empty:
        notify(f"warning: {dataset.source}: has no records; nothing to summarise in it")
    tally.left, tally.unread = feed.left(), feed.unread()
    tally.seconds = time.perf_counter() - started
    return tally


def _summarise_all(feed: _Feed, pipeline: Pipeline, notify: Callable[[str], None]) -> None:
    """The worker's job: the pipeline over the feed, each result into the feed's sink as it comes."""
    sink, reading, tally, stop, advance, handover = feed.sink, feed.reading, feed.tally, feed.stop, feed.advance, feed.handover
    should_stop = lambda: stop.received is not None or (reading.fail_fast and bool(tally.failures))  # noqa: E731
    items = iter(feed)
    results = pipeline.run_all(items, should_stop, 1 if reading.fail_fast else None, stop.interruptible)
    try:
        for fed, result in results:
            with handover:
                item = feed.returned(fed)
                sink.write(item, result)
                _count(result, tally, notify)
                advance()
    finally:
        results.close()
        items.close()  # stops fetching ahead


def _exit_without_waiting_for(worker: threading.Thread, code: int) -> None:
    """A worker left inside a model call would hold up (or crash) the interpreter's shutdown: once the
    run has said and committed everything, the process ends there, with the run's exit code."""

    def end() -> None:
        if worker.is_alive():
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError):
                    pass
            os._exit(code)

    atexit.register(end)


def _count(result: Result, tally: Tally, notify: Callable[[str], None]) -> None:
    tally.add(result.source, result.error)
    if result.error is not None:
        notify(f"error: {one_line(result.error)}")  # a name or an id may hold a line break


class _Feed:
    """Inputs → Documents for the pipeline, each remembered with its Input until its Result comes
    back; what the sink already holds (--skip-existing) is neither read nor fetched."""

    def __init__(
        self, inputs: list[Input], sink: Sink, reading: Reading, tally: Tally, stop: StopAfterCurrent, advance: Callable[[], None], *, handover: _Handover
    ):
        self.inputs, self.sink, self.reading, self.tally, self.stop, self.advance = inputs, sink, reading, tally, stop, advance
        self.handover = handover
        self.pending: deque[tuple[Input, Document | Failure]] = deque()  # fed, Result not back yet
        self.opened = 0
        self.reading_now: tuple[Input, Input] | None = None  # (a dataset being read, its last record read)
        self.empty: list[Input] = []  # datasets that held no records (every other input gives something)

    def __iter__(self) -> Iterator[Document | Failure]:
        found = read_documents(self.inputs, self.reading.max_input_chars, self.reading.fields, self._done)
        try:
            while True:
                with self.stop.interruptible():  # stdin, a FIFO or a web page may keep us waiting
                    index, item, read = next(found, (None, None, None))
                if item is None:
                    self.reading_now = None
                    self.empty += self.inputs[self.opened :]
                    self.opened = len(self.inputs)
                    return
                with self.handover:
                    self.empty += self.inputs[self.opened : index]
                    self.opened = index + 1
                    record = item is not self.inputs[index]  # a dataset's record (or a failure to read one)
                    self.reading_now = (self.inputs[index], item) if record else None
                    if read is None:
                        self.tally.skipped += 1
                        self.advance()
                        continue
                    self.pending.append((item, read))
                yield read
        finally:
            found.close()

    def _done(self, index: int, item: Input) -> bool:
        with self.handover:
            return self.sink.done(item)

    def returned(self, fed: Document | Failure) -> Input:
        """The Input of what the pipeline gave back; those passed over were not reached."""
        item, read = self.pending.popleft()
        while read is not fed:
            item, read = self.pending.popleft()
        return item

    def left(self) -> int:
        return len(self.pending) + len(self.inputs) - self.opened  # fed but not reached, and never opened

    def unread(self) -> str:
        """A dataset whose reading stopped part-way: what of it was never read (its size is unknown)."""
        if self.reading_now is None:
            return ""
        dataset, last = self.reading_now
        return f"any records of {dataset.source} after {last.key}"

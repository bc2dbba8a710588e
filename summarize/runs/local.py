"""The local run: inputs → pipeline.run_all → sinks, surviving what can go wrong.

A bad input becomes a failed Result and the run goes on; SIGINT/SIGTERM stop it after the current
generate() call; finished outputs are already kept (each sink's own way) and --skip-existing resumes.
This module only feeds, hands on and counts: summarising is the pipeline's, keeping the sinks'.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from summarize.documents import Document, Failure, Input, Result, Tally
from summarize.inputs.datasets import Fields
from summarize.inputs.reading import read_documents
from summarize.outputs.sink import Sink
from summarize.pipeline import Pipeline
from summarize.runs.signals import StopAfterCurrent, Stopped


@dataclass(frozen=True)
class Reading:
    """How inputs are read, and when a run gives up."""

    max_input_chars: int
    fields: Fields = Fields()  # which fields of a dataset's records to read
    fail_fast: bool = False


def run_local(
    inputs: list[Input],
    pipeline: Pipeline,
    sink: Sink,
    reading: Reading,
    notify: Callable[[str], None],
    advance: Callable[[], None] = lambda: None,
) -> Tally:
    """Summarise every input in order into the sink; raises SummarizeError only when the models cannot load."""
    tally = Tally()
    started = time.perf_counter()
    with StopAfterCurrent() as stop:
        feed = _Feed(inputs, sink, reading, tally, stop, advance)
        should_stop = lambda: stop.received is not None or (reading.fail_fast and bool(tally.failures))  # noqa: E731
        items = iter(feed)
        results = pipeline.run_all(items, should_stop, 1 if reading.fail_fast else None, stop.interruptible)
        try:
            for fed, result in results:
                item = feed.returned(fed)
                sink.write(item, result)
                _count(result, tally, notify)
                advance()
        except Stopped:
            pass  # a signal while waiting (for input, a download, a conversion): what is done is kept
        finally:
            results.close()
            items.close()  # stops fetching ahead
        tally.stopped_by = stop.received
    tally.left, tally.unread = feed.left(), feed.unread()
    tally.seconds = time.perf_counter() - started
    return tally


def _count(result: Result, tally: Tally, notify: Callable[[str], None]) -> None:
    tally.add(result.source, result.error)
    if result.error is not None:
        notify(f"error: {result.error}")


class _Feed:
    """Inputs → Documents for the pipeline, each remembered with its Input until its Result comes
    back; what the sink already holds (--skip-existing) is neither read nor fetched."""

    def __init__(self, inputs: list[Input], sink: Sink, reading: Reading, tally: Tally, stop: StopAfterCurrent, advance: Callable[[], None]):
        self.inputs, self.sink, self.reading, self.tally, self.stop, self.advance = inputs, sink, reading, tally, stop, advance
        self.pending: deque[tuple[Input, Document | Failure]] = deque()  # fed, Result not back yet
        self.opened = 0
        self.reading_now: tuple[Input, Input] | None = None  # (a dataset being read, its last record read)

    def __iter__(self) -> Iterator[Document | Failure]:
        found = read_documents(self.inputs, self.reading.max_input_chars, self.reading.fields, lambda index, item: self.sink.done(item))
        try:
            while True:
                with self.stop.interruptible():  # stdin, a FIFO or a web page may keep us waiting
                    index, item, read = next(found, (None, None, None))
                if item is None:
                    self.reading_now = None
                    return
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

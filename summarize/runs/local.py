"""The local run: inputs → pipeline.run_all → files and stdout, surviving what can go wrong.

A bad input becomes a failed Result and the run goes on; SIGINT/SIGTERM stop it after the current
generate() call; finished outputs are already on disk (written whole) and --skip-existing resumes.
This module only feeds, writes and counts: summarising is the pipeline's.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from summarize.documents import Document, Failure, Result, Tally
from summarize.errors import SummarizeError
from summarize.inputs.datasets import Fields
from summarize.inputs.listing import Input
from summarize.inputs.reading import MAX_INPUT_CHARS, read_all
from summarize.outputs.dataset import DatasetWriter
from summarize.outputs.files import write_atomically
from summarize.outputs.folder import OutputDir
from summarize.outputs.stdout import StdoutWriter
from summarize.pipeline import Pipeline
from summarize.runs.signals import Stopped, _Stop, _stop_on_signals


@dataclass(frozen=True)
class Batch:
    """How to run: where results go and how to react to failures."""

    writer: StdoutWriter | None  # stdout, or None with an output folder or dataset
    out_dir: OutputDir | None = None
    skip_existing: bool = False
    fail_fast: bool = False
    max_input_chars: int = MAX_INPUT_CHARS
    fields: Fields = Fields()  # which fields of a dataset's records to read
    dataset: DatasetWriter | None = None  # --output FILE: one row per result, by id


def run_batch(
    inputs: list[Input],
    pipeline: Pipeline,
    batch: Batch,
    notify: Callable[[str], None],
    advance: Callable[[], None] = lambda: None,
) -> Tally:
    """Summarise every input in order; raises SummarizeError only when the models cannot load."""
    tally = Tally()
    started = time.perf_counter()
    stop = _Stop()
    feed = _Feed(inputs, batch, tally, stop, advance)
    with _stop_on_signals(stop):
        should_stop = lambda: stop.signal is not None or (batch.fail_fast and bool(tally.failures))  # noqa: E731
        items = iter(feed)
        results = pipeline.run_all(items, should_stop, 1 if batch.fail_fast else None, stop.interruptible)
        try:
            for fed, result in results:
                item, path = feed.returned(fed)
                _emit(result, item, path, batch, notify, tally)
                advance()
        except Stopped:
            pass  # a signal while waiting (for input, a download, a conversion): what is done is kept
        finally:
            results.close()
            items.close()  # stops fetching ahead
        tally.stopped_by = stop.signal
    tally.left, tally.unread = feed.left(), feed.unread()
    if batch.writer:
        batch.writer.close()
    tally.seconds = time.perf_counter() - started
    return tally


class _Feed:
    """Inputs → Documents for the pipeline, each remembered with its Input and output path until
    its Result comes back; what is already done (--skip-existing) is neither read nor fetched."""

    def __init__(self, inputs: list[Input], batch: Batch, tally: Tally, stop: _Stop, advance: Callable[[], None]):
        self.inputs, self.batch, self.tally, self.stop, self.advance = inputs, batch, tally, stop, advance
        self.pending: deque[tuple[Input, Path | None, Document | Failure]] = deque()  # fed, Result not back yet
        self.paths: dict[int, Path | None] = {}  # output files of the inputs themselves, reserved in input order
        self.opened = 0
        self.reading: tuple[Input, Input] | None = None  # (a dataset being read, its last record read)

    def __iter__(self) -> Iterator[Document | Failure]:
        found = read_all(self.inputs, self.batch.max_input_chars, self.batch.fields, self._done)
        try:
            while True:
                with self.stop.interruptible():  # stdin, a FIFO or a web page may keep us waiting
                    index, item, read = next(found, (None, None, None))
                if item is None:
                    self.reading = None
                    return
                self.opened = index + 1
                record = item is not self.inputs[index]  # a dataset's record (or a failure to read one)
                self.reading = (self.inputs[index], item) if record else None
                path = self.paths[index] if index in self.paths and not record else self._path(item)
                if read is None or (record and _done_before(item, path, self.batch)):
                    self.tally.skipped += 1
                    self.advance()
                    continue
                self.pending.append((item, path, read))
                yield read
        finally:
            found.close()

    def returned(self, fed: Document | Failure) -> tuple[Input, Path | None]:
        """The Input and path of what the pipeline gave back; those passed over were not reached."""
        item, path, read = self.pending.popleft()
        while read is not fed:
            item, path, read = self.pending.popleft()
        return item, path

    def left(self) -> int:
        return len(self.pending) + len(self.inputs) - self.opened  # fed but not reached, and never opened

    def unread(self) -> str:
        """A dataset whose reading stopped part-way: what of it was never read (its size is unknown)."""
        if self.reading is None:
            return ""
        dataset, last = self.reading
        return f"any records of {dataset.source} after {last.key}"

    def _done(self, index: int, item: Input) -> bool:
        self.paths[index] = self._path(item)
        return _done_before(item, self.paths[index], self.batch)

    def _path(self, item: Input) -> Path | None:
        return self.batch.out_dir.path_for(item.name) if self.batch.out_dir else None


def _done_before(item: Input, path: Path | None, batch: Batch) -> bool:
    """--skip-existing: this input's result is already written (stdin is new text each run)."""
    if not batch.skip_existing or item.is_stdin:
        return False
    if batch.dataset is not None:
        return item.key in batch.dataset.done_ids
    return path is not None and batch.out_dir.is_complete(path)


def _emit(result: Result, item: Input, path: Path | None, batch: Batch, notify, tally: Tally) -> None:
    """A finished Result: its file or row, its lines on stderr, the tally, stdout."""
    if path and result.error is None:
        _write_file(batch.out_dir, item, path, result, notify)
    if batch.dataset is not None:
        try:
            batch.dataset.write(result, item.key)
        except (OSError, SummarizeError) as e:
            result.error = f"{item.source}: not written to {batch.dataset.path} ({getattr(e, 'strerror', None) or e})"
    if result.error is None:
        tally.done += 1
    else:
        tally.failures.append((result.source, result.error))
        notify(f"error: {result.error}")
    if batch.writer:
        batch.writer.write(result)


def _write_file(out_dir: OutputDir, item: Input, path: Path, result: Result, notify) -> None:
    default = out_dir.default_path(item.name)
    if path != default:
        warning = f"{default} is an input or another output of this run; written to {path}"
        result.warnings.append(warning)
        notify(f"warning: {result.source}: {warning}")
    try:
        out_dir.write(path, result)
    except OSError as e:
        result.error = f"{item.source}: cannot write {path} ({e.strerror or e}); check the output folder"


def write_errors(path: Path, tally: Tally) -> None:
    """--errors FILE: one JSON object per failed input, so a rerun can pick them out."""
    lines = [json.dumps({"source": s, "error": e}, ensure_ascii=False) for s, e in tally.failures]
    write_atomically(path, "".join(line + "\n" for line in lines))

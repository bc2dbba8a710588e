"""The batch loop: inputs → pipeline → writers, a few inputs at a time, surviving what can go wrong.

A bad input becomes a failed Result and the loop goes on; SIGINT/SIGTERM stop it after the current
generate() call; finished outputs are already on disk (written whole) and --skip-existing resumes.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from summarize.errors import SummarizeError
from summarize.documents import Document, Result
from summarize.pipeline import Pipeline
from summarize.render import OutputDir, Writer, write_atomically
from summarize.sources import MAX_INPUT_CHARS, Input, read_input

EXIT_INTERRUPTED = {signal.SIGINT: 130, signal.SIGTERM: 143}
# Inputs read and given to the models together (more can share a batch; fewer wait on a signal).
GROUP_SIZE = 8


@dataclass
class Tally:
    done: int = 0
    skipped: int = 0
    left: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    stopped_by: signal.Signals | None = None
    seconds: float = 0.0

    def line(self) -> str:
        parts = [f"{self.done} done", f"{len(self.failures)} failed"]
        if self.skipped:
            parts.append(f"{self.skipped} skipped (already written)")
        if self.left:
            parts.append(f"{self.left} left")
        text = ", ".join(parts) + f" in {self.seconds:.1f} s"
        return f"stopped by {self.stopped_by.name}: {text}" if self.stopped_by else text


@dataclass(frozen=True)
class Batch:
    """How to run: where results go and how to react to failures."""

    writer: Writer | None  # stdout writer, or None with an output folder
    out_dir: OutputDir | None = None
    skip_existing: bool = False
    fail_fast: bool = False
    max_input_chars: int = MAX_INPUT_CHARS
    debug: bool = False


def run_batch(
    inputs: list[Input],
    pipeline: Pipeline,
    batch: Batch,
    notify: Callable[[str], None],
    advance: Callable[[], None] = lambda: None,
) -> Tally:
    """Summarise every input in order; raises SummarizeError only when the models cannot load.

    Inputs go to the models GROUP_SIZE at a time (batched generation and translation); a signal
    is honoured between generate() calls, so at most the current document or the current batch of
    short ones is finished before stopping.
    """
    tally = Tally()
    started = time.perf_counter()
    size = 1 if batch.fail_fast else GROUP_SIZE
    emit = _Emitter(pipeline, batch, notify, advance, tally)
    with _stop_on_signals() as stop:
        for start in range(0, len(inputs), size):
            if stop.signal is not None or (batch.fail_fast and tally.failures):
                break
            group: list[tuple[Input, Path | None, Document | Result]] = []  # a Document to summarise, or a failure
            for item in inputs[start : start + size]:
                path = batch.out_dir.path_for(item.name) if batch.out_dir else None
                if path and batch.skip_existing and batch.out_dir.is_complete(path):
                    tally.skipped += 1
                    advance()
                    continue
                try:
                    group.append((item, path, read_input(item, batch.max_input_chars)))
                except SummarizeError as e:
                    group.append((item, path, _failed(item, pipeline, str(e))))
            docs = [entry for _, _, entry in group if isinstance(entry, Document)]
            if docs:
                pipeline.load()  # once; if the models cannot load, no input can be done: let it end the run
                summarised = iter(_summarise_group(docs, pipeline, batch, lambda: stop.signal is not None))
            for item, path, entry in group:  # in input order
                result = next(summarised) if isinstance(entry, Document) else entry
                if result is not None:  # None: not reached before a signal, so left for a rerun
                    emit(item, path, result)
        tally.stopped_by = stop.signal
    tally.left = len(inputs) - tally.done - len(tally.failures) - tally.skipped
    if batch.writer:
        batch.writer.close()
    tally.seconds = time.perf_counter() - started
    return tally


class _Emitter:
    """What happens to each finished Result: its file, its lines on stderr, the tally, stdout."""

    def __init__(self, pipeline, batch, notify, advance, tally):
        self.pipeline, self.batch, self.notify, self.advance, self.tally = pipeline, batch, notify, advance, tally
        self.announced = False

    def __call__(self, item: Input, path: Path | None, result: Result) -> None:
        notices = self.pipeline.notices
        if notices and not self.announced:  # run-wide fallbacks: said once, recorded in each result
            self.announced = True
            for notice in notices:
                self.notify(f"warning: {notice}")
        if path and result.error is None:
            _write_file(self.batch.out_dir, item, path, result)
        for warning in result.warnings:
            if warning not in notices:
                self.notify(f"warning: {result.source}: {warning}")
        if result.error is None:
            self.tally.done += 1
        else:
            self.tally.failures.append((result.source, result.error))
            self.notify(f"error: {result.error}")
        if self.batch.writer:
            self.batch.writer.write(result)
        self.advance()


def _summarise_group(docs: list[Document], pipeline: Pipeline, batch: Batch, should_stop) -> list[Result | None]:
    """The group in one go; if that fails, each document alone, so one bad input fails alone."""
    if len(docs) > 1:
        try:
            return pipeline.run_many(docs, should_stop)
        except Exception:
            pass  # find the culprit below
    results: list[Result | None] = []
    for doc in docs:
        if should_stop() and results:
            results.append(None)
            continue
        try:
            results.append(pipeline.run(doc))
        except SummarizeError as e:
            results.append(_failed(doc, pipeline, str(e)))
        except Exception as e:  # a model failure on one input (out of memory, say) must not stop the batch
            if batch.debug:
                raise
            message = f"{doc.source}: the model failed on it ({type(e).__name__}: {e}); rerun with --debug for details"
            results.append(_failed(doc, pipeline, message))
    return results


def _failed(item: Input | Document, pipeline: Pipeline, error: str) -> Result:
    opts = pipeline.options
    return Result(
        source=item.source,
        engine=pipeline.engine,
        model=opts.summarizer.name if pipeline.engine == "abstractive" else None,
        translator=opts.translator.name if opts.translator else None,
        error=error,
    )


def _write_file(out_dir: OutputDir, item: Input, path: Path, result: Result) -> None:
    default = out_dir.default_path(item.name)
    if path != default:
        result.warnings.append(f"{default} is an input or another output of this run; written to {path}")
    try:
        out_dir.write(path, result)
    except OSError as e:
        result.error = f"{item.source}: cannot write {path} ({e.strerror or e}); check the output folder"


def write_errors(path: Path, tally: Tally) -> None:
    """--errors FILE: one JSON object per failed input, so a rerun can pick them out."""
    lines = [json.dumps({"source": s, "error": e}, ensure_ascii=False) for s, e in tally.failures]
    write_atomically(path, "".join(line + "\n" for line in lines))


class _Stop:
    signal: signal.Signals | None = None


@contextmanager
def _stop_on_signals() -> Iterator[_Stop]:
    """First SIGINT/SIGTERM: finish the current input, then stop. A second SIGINT: stop now."""
    stop = _Stop()

    def handle(signum, frame):
        if stop.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.signal = signal.Signals(signum)

    try:
        previous = {s: signal.signal(s, handle) for s in EXIT_INTERRUPTED}
    except ValueError:  # not the main thread (a library caller): leave signals alone
        yield stop
        return
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)

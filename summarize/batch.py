"""The batch loop: inputs → pipeline → writers, one input at a time, surviving what can go wrong.

A bad input becomes a failed Result and the loop goes on; SIGINT/SIGTERM stop it after the current
input; finished outputs are already on disk (written whole) and --skip-existing resumes.
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
from summarize.pipeline import Pipeline, Result
from summarize.render import OutputDir, Writer, write_atomically
from summarize.sources import Input, read_input

EXIT_INTERRUPTED = {signal.SIGINT: 130, signal.SIGTERM: 143}


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
    max_input_chars: int = 1_000_000
    debug: bool = False


def run_batch(
    inputs: list[Input],
    pipeline: Pipeline,
    batch: Batch,
    notify: Callable[[str], None],
    advance: Callable[[], None] = lambda: None,
) -> Tally:
    """Summarise every input in order; raises SummarizeError only when the models cannot load."""
    tally = Tally()
    announced = False
    started = time.perf_counter()
    with _stop_on_signals() as stop:
        for position, item in enumerate(inputs):
            if stop.signal is not None or (batch.fail_fast and tally.failures):
                tally.stopped_by = stop.signal
                tally.left = len(inputs) - position
                break
            path = batch.out_dir.path_for(item.name) if batch.out_dir else None
            if path and batch.skip_existing and batch.out_dir.is_complete(path):
                tally.skipped += 1
                advance()
                continue
            result = _summarise_one(item, pipeline, batch)
            if pipeline.notices and not announced:  # run-wide fallbacks: said once, recorded in each result
                announced = True
                for notice in pipeline.notices:
                    notify(f"warning: {notice}")
            if path and result.error is None:
                _write_file(batch.out_dir, item, path, result)
            for warning in result.warnings:
                if warning not in pipeline.notices:
                    notify(f"warning: {result.source}: {warning}")
            if result.error is None:
                tally.done += 1
            else:
                tally.failures.append((result.source, result.error))
                notify(f"error: {result.error}")
            if batch.writer:
                batch.writer.write(result)
            advance()
        else:
            tally.stopped_by = stop.signal  # a signal during the last input still says it was seen
    if batch.writer:
        batch.writer.close()
    tally.seconds = time.perf_counter() - started
    return tally


def _summarise_one(item: Input, pipeline: Pipeline, batch: Batch) -> Result:
    """One input to one Result; a bad input becomes a Result with `error`, never an exception."""
    opts = pipeline.options
    failed = Result(
        source=item.source,
        engine=pipeline.engine,
        model=opts.summarizer.name if pipeline.engine == "abstractive" else None,
        translator=opts.translator.name if opts.translator else None,
    )
    try:
        doc = read_input(item, batch.max_input_chars)
    except SummarizeError as e:
        failed.error = str(e)
        return failed
    pipeline.load()  # once; if the models cannot load, no input can be done: let it end the run
    try:
        return pipeline.run(doc)
    except SummarizeError as e:
        failed.error = str(e)
    except Exception as e:  # a model failure on one input (out of memory, say) must not stop the batch
        if batch.debug:
            raise
        failed.error = f"{item.source}: the model failed on it ({type(e).__name__}: {e}); rerun with --debug for details"
    return failed


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

"""A run plan: the summarize command's own options, declared once, and what they make of a run —
its inputs, its sinks, and which run mode (local or Ray) executes it — then the tally and exit code."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from summarize.config import Format, load_config
from summarize.documents import Input, Result, Tally, result_row
from summarize.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, SummarizeError
from summarize.flags import SERVER_ENV, RunFlags
from summarize.inputs.listing import STDIN, drop_repeats, list_inputs
from summarize.options import Choices, Options, make_options
from summarize.outputs.printable import one_line
from summarize.outputs.sink import Destinations, Sinks, open_sink
from summarize.routes import parse_targets
from summarize.runs.signals import Stopped
from summarize.storage import URL_SCHEMES, is_dataset, is_uri


def execute(flags: RunFlags, choices: Choices, config: Path | None, debug: bool, notify) -> tuple[Tally, bool]:
    """Run the plan in the mode the flags ask for; the tally and whether it was a batch. The model
    options are resolved against the presets (--config) here, except for a --server run, which
    sends only the choices given and leaves the rest to the server."""
    _refuse_empty_server(flags.server)
    options = None if flags.server else make_options(load_config(config), choices, flags.translate, flags.strict)
    if flags.skip_existing and not (flags.output_dir or flags.output):
        raise SummarizeError("--skip-existing needs --output-dir or --output: it skips inputs whose result is there")
    _check_overwrite(flags)
    if options is None:
        return _remotely(flags, choices, notify)
    if flags.ray or flags.ray_address or flags.workers:
        return _on_ray(flags, options, debug, notify), True
    return _locally(flags, options, debug, notify)


def _refuse_empty_server(server: str | None) -> None:
    """An empty --server, or SUMMARIZE_SERVER set but empty (click takes that for unset), is a
    mistake rather than a wish to load the models here: said, never a silent local run."""
    if server is not None and not server.strip():
        raise SummarizeError("--server is empty; give the address of a running summarize serve (http://HOST:PORT), or leave --server out to run here")
    if server is None and SERVER_ENV in os.environ and not os.environ[SERVER_ENV].strip():
        raise SummarizeError(f"{SERVER_ENV} is set but empty; set it to a server's address (http://HOST:PORT), or unset it to run the models here")


def _check_overwrite(flags: RunFlags) -> None:
    """--overwrite replaces one --output file when the run commits; a shard folder or a folder of
    results is never replaced wholesale (see docs/outputs.md)."""
    if not flags.overwrite:
        return
    if flags.skip_existing:
        raise SummarizeError("--skip-existing and --overwrite: choose one (resume the existing output, or replace it)")
    if flags.ray:
        raise SummarizeError(
            "--overwrite is not for --ray: a stopped run keeps its shards, so old and new would mix; delete the --output folder to start over, or give a new one"
        )
    if not flags.output:
        raise SummarizeError("--overwrite is for --output FILE; --output-dir rewrites the result files of the inputs it is given anyway")


def _locally(flags: RunFlags, options: Options, debug: bool, notify) -> tuple[Tally, bool]:
    from summarize.pipeline import Pipeline
    from summarize.runs.local import run_local

    pipeline = Pipeline(options, notify=notify, debug=debug)
    targets = tuple(t.code for t in options.targets)
    return _in_order(flags, notify, lambda inputs, sink, advance: run_local(inputs, pipeline, sink, flags.reading, notify, advance), targets)


def _remotely(flags: RunFlags, choices: Choices, notify) -> tuple[Tally, bool]:
    """--server: the same inputs and sinks as a local run, summarised by a running `summarize serve`."""
    if flags.ray or flags.ray_address or flags.workers:
        raise SummarizeError("--server and --ray: choose one (a running summarize serve, or a Ray cluster that loads the models itself)")
    from summarize.runs.remote import Server, request_options, run_remote

    server = Server.connect(flags.server, request_options(choices, flags.translate, flags.strict), notify)  # before any output is opened
    try:
        # The --output columns: the targets asked for, else the ones the server translates into by default.
        targets = () if flags.translate is False else parse_targets(choices.to) if choices.to else server.limits.targets
        tally, many = _in_order(flags, notify, lambda inputs, sink, advance: run_remote(inputs, server, sink, flags.reading, notify, advance), targets)
    finally:
        server.close()
    if server.lost:  # what is finished is written and kept; the rest is left
        if tally.done or tally.failures or tally.skipped:
            notify(tally.line())
        raise SummarizeError(server.lost)
    return tally, many


def _in_order(flags: RunFlags, notify, run, targets: tuple[str, ...] = ()) -> tuple[Tally, bool]:
    """A run of the inputs in order in this process (`run` summarises them into the sink, locally
    or through a server): inputs listed, every output checked and opened, then the tally. `targets`:
    the --to languages, each a column of --output."""
    from summarize.outputs.terminal import progress, stderr

    paths = flags.given() or [_piped_stdin()]
    started = time.perf_counter()  # the tally's time counts listing (a store that does not answer costs its retries there)
    notes: list[str] = []
    inputs = _listed(list_inputs(paths, flags.glob, flags.recursive, skip=flags.output_dir, notes=notes), notes, notify)
    many = len(paths) > 1 or len(inputs) > 1 or any(p != STDIN and (Path(p).is_dir() or is_dataset(p)) for p in paths)
    err = stderr()
    to = Destinations(
        fmt=flags.fmt or (Format.rich if sys.stdout.isatty() else Format.plain),
        many=many,
        output_dir=flags.output_dir,
        output=flags.output,
        errors_file=flags.errors_file,
        resume=flags.skip_existing,
        overwrite=flags.overwrite,
        reserved=_reserved(inputs, flags.input_file),
        terminal_warnings=not (sys.stdout.isatty() and err.is_terminal),  # stderr shows them on the same terminal
        row=result_row(targets),
    )
    with open_sink(to, notify) as sink, progress(err, len(inputs) if many else 0) as advance:
        tally = run(inputs, _StopWhenLost(sink), advance)
    if sink.lost:  # its result is written nowhere (the run stopped before counting it)
        source, reason = sink.lost
        notify(f"error: {reason}; stopped: the output takes nothing more, so no more inputs are summarised")
        tally.add(source, reason)
    tally.seconds = time.perf_counter() - started
    return tally, many


class _StopWhenLost:
    """The run's sinks, stopping the run (as a signal would, what is finished kept) when the
    destination can take nothing more: a full or read-only disk fails every later input too."""

    def __init__(self, sinks: Sinks):
        self.sinks = sinks

    def done(self, item: Input) -> bool:
        return self.sinks.done(item)

    def write(self, item: Input, result: Result) -> None:
        self.sinks.write(item, result)
        if self.sinks.lost:
            raise Stopped

    def close(self, ok: bool) -> None:
        self.sinks.close(ok)


def _on_ray(flags: RunFlags, options: Options, debug: bool, notify) -> Tally:
    """--ray: the same inputs, summarised by runs.ray_plan into --output's shards."""
    if not flags.ray:
        raise SummarizeError(f"{'--ray-address' if flags.ray_address else '--workers'} is for --ray; add --ray, or leave it out")
    refused = [name for name, given in (("--output-dir", flags.output_dir), ("--format", flags.fmt), ("--fail-fast", flags.fail_fast)) if given]
    if refused or flags.output is None:
        raise SummarizeError(f"--ray writes Parquet shards to --output FOLDER{f' and takes no {refused[0]}' if refused else ''}; give --output OUT/")
    given = flags.given()
    if not given or STDIN in given or any(p.lower().startswith(URL_SCHEMES) for p in given):
        raise SummarizeError("--ray reads files, folders, datasets and storage URIs (s3://…) that every node can read, not stdin or web pages; give those")
    notes: list[str] = []
    inputs = _listed(list_inputs(given, flags.glob, flags.recursive, skip=None if is_uri(flags.output) else Path(flags.output), notes=notes), notes, notify)
    from summarize.runs.ray_plan import RayJob, run_on_ray

    to = Destinations(
        Format.jsonl,
        True,
        output=flags.output,
        errors_file=flags.errors_file,
        resume=flags.skip_existing,
        shards=True,
        reserved=_reserved(inputs, None),
        row=result_row(tuple(t.code for t in options.targets)),
    )
    job = RayJob(tuple(inputs), options, flags.fields, flags.max_input_chars, flags.ray_address, flags.workers, debug=debug)
    with open_sink(to, notify) as sinks:
        tally = run_on_ray(job, sinks, notify)
    tally.resume = f"the shards written stay in {flags.output}; run the same command with --skip-existing to resume"
    return tally


def _listed(inputs: list[Input], notes: list[str], notify) -> list[Input]:
    """Each input once; what listing left out, and the repeats, said on stderr."""
    kept, repeats = drop_repeats(inputs)
    for note in [*notes, *repeats]:
        notify(f"warning: {note}")
    return kept


def _reserved(inputs: list[Input], input_file: Path | None) -> tuple[Path, ...]:
    """What no output may overwrite: the inputs, and the list of them."""
    listed = [input_file] if input_file and str(input_file) != STDIN else []
    return tuple([i.path for i in inputs if i.path is not None] + listed)


def _piped_stdin() -> str:
    if sys.stdin is None or sys.stdin.isatty():
        raise SummarizeError("no input: give files or folders, or pipe text in (see --help)")
    return STDIN


def report(tally: Tally, many: bool, notify) -> int:
    """The tally on stderr, and the exit code."""
    if many or tally.stopped_by or tally.skipped:
        notify(tally.line())
        if len(tally.failures) > 1:
            notify("failed inputs:\n" + "\n".join(f"  {one_line(reason)}" for _, reason in tally.failures))  # each names its input, on its line
    if tally.stopped_by:
        return EXIT_INTERRUPTED[tally.stopped_by]
    return EXIT_FAILED if tally.failures else EXIT_OK

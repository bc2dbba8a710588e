"""The one seam results go through: a Sink per destination, and open_sink(), which makes every check
on every destination before any work, so a mistake in the last option costs no model time.

Local and Ray runs call the same sinks: `done` is where resume is decided (--skip-existing), `write`
takes each finished Result, `close` commits (or, when the run could not start, leaves everything as
it was). `summarize check` calls them too, with a Checked record for each Result: a sink is generic
over the row it keeps, and the one it is opened for (Destinations.row) names the dataset's columns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from summarize.documents import Checked, CheckedSummaries, Input, Result
from summarize.errors import SummarizeError
from summarize.outputs.files import OutputLost
from summarize.outputs.render import Format
from summarize.storage import is_uri

# What a sink keeps of each input: a Result (summarize), or a Checked record (summarize check).
Row = TypeVar("Row", contravariant=True)


class Sink(Protocol[Row]):
    def done(self, item: Input) -> bool:
        """Whether item's result is already written (resume); asked once per item, in input order."""

    def write(self, item: Input, result: Row) -> None:
        """Keep one finished result; raises SummarizeError (naming the input) when it cannot."""

    def close(self, ok: bool) -> None:
        """Commit what was written; ok=False: the run never started, leave everything as it was."""


@dataclass(frozen=True)
class Destinations:
    """Where a run's results go, as the command line named them."""

    fmt: Format
    many: bool  # several inputs or records: plain output gets headers, json an array
    output_dir: Path | None = None
    output: str | None = None  # a dataset file; with shards, a folder or storage URI
    errors_file: Path | None = None
    resume: bool = False  # --skip-existing
    overwrite: bool = False  # --overwrite: an existing --output file is replaced (else refused)
    shards: bool = False  # --ray: --output is a folder of Parquet shards
    reserved: tuple[Path, ...] = ()  # the run's inputs (and its --input-file): never written over
    terminal_warnings: bool = True  # whether stdout must repeat the warnings that stderr shows already
    row: type[Result] | type[Checked] = Result  # what each input's row is: the --output columns
    also_stdout: bool = False  # stdout as well as --output (summarize check prints every verdict)


class Sinks:
    """The run's sinks as one: the results' destination first, then stdout when it is written as
    well, then the errors file: each later one sees the error of a result that an earlier one could
    not keep."""

    def __init__(self, main: Sink, errors: Sink | None, also: tuple[Sink, ...] = ()):
        self.main, self.errors = main, errors
        self.all = [main, *also, *([errors] if errors else [])]
        self.lost: tuple[str, str] | None = None  # (source, reason): the result after which the destination took nothing more

    def done(self, item: Input) -> bool:
        return self.main.done(item)

    def write(self, item: Input, result: Result | CheckedSummaries) -> None:
        """Every result carries its input's id (a record's, or the source) into every destination."""
        result.id = item.key
        for sink in self.all:
            try:
                sink.write(item, result)
            except OutputLost as e:
                result.error, self.lost = str(e), self.lost or (item.source, str(e))
            except SummarizeError as e:
                result.error = result.error or str(e)  # a failed result keeps its own reason (a repeated id has no row of its own)

    def close(self, ok: bool) -> None:
        for sink in self.all:
            sink.close(ok)

    def __enter__(self) -> Sinks:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        """A SummarizeError out of the run means it could not start (a model that cannot load):
        nothing is committed. Anything else (a finished run, Ctrl-C) keeps what is finished."""
        self.close(ok=kind is None or not issubclass(kind, SummarizeError))


def open_sink(to: Destinations, notify) -> Sinks:
    """Every destination checked and opened before any work; raises SummarizeError on the first
    that cannot be written."""
    from summarize.outputs import files

    if to.output and to.output_dir:
        raise SummarizeError("--output and --output-dir: choose one (a dataset file, or a file per input)")
    if to.errors_file:
        files.check_output_file(to.errors_file, "--errors", to.reserved)
        _check_not_inside(to)
        if to.output and not to.shards and files.same_file(to.errors_file, Path(to.output)):
            raise SummarizeError(f"--errors {to.errors_file}: is the --output file too; give each its own file")
        files.check_writable(to.errors_file, "--errors")
    main = _open_main(to, notify)
    errors = None
    if to.errors_file:
        from summarize.outputs.failures import FailuresFile

        errors = FailuresFile(to.errors_file)
    return Sinks(main, errors, (_stdout(to),) if to.also_stdout and (to.output or to.output_dir) else ())


def _check_not_inside(to: Destinations) -> None:
    """The errors file may not sit among the results, where it would be taken for one (or, in a
    shard folder, refused on resume)."""
    errors = to.errors_file.resolve()
    if to.output_dir and to.output_dir.resolve() in errors.parents:
        raise SummarizeError(f"--errors {to.errors_file}: is inside --output-dir {to.output_dir}, where the results go; choose a file outside it")
    if to.shards and to.output and not is_uri(to.output) and Path(to.output).resolve() in errors.parents:
        raise SummarizeError(f"--errors {to.errors_file}: is inside the --output folder, which holds only shards; choose a file outside it")


def _open_main(to: Destinations, notify) -> Sink:
    if to.shards:
        from summarize.outputs.shards import ShardsSink

        return ShardsSink.open(to.output, to.resume, notify, to.row)
    if to.output:
        from summarize.outputs.dataset import DatasetSink

        return DatasetSink.open(Path(to.output), to.reserved, to.resume, to.overwrite, to.row)
    if to.output_dir:
        from summarize.outputs.folder import FolderSink

        return FolderSink.open(to.output_dir, to.fmt, to.reserved, to.resume, notify)
    return _stdout(to)


def _stdout(to: Destinations) -> Sink:
    from summarize.outputs.stdout import StdoutSink

    return StdoutSink(to.fmt, to.many, to.terminal_warnings)

"""The command line: options → sources → pipeline → outputs → exit code. No logic of its own.

Subcommands (`models`, `eval`) are dispatched by main() before Typer parses, so that the main
command can take bare paths; a file literally named `models` is reachable as `./models`.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import signal
import sys
import typing
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from summarize.config import (
    Backend,
    Choice,
    Device,
    Dtype,
    Engine,
    Length,
    LongMode,
    Options,
    Quantize,
    load_config,
    make_options,
)
from summarize.documents import Tally
from summarize.errors import SummarizeError
from summarize.evaluate.data import Task
from summarize.inputs.datasets import Fields, is_dataset
from summarize.inputs.listing import STDIN, drop_repeats, list_inputs, read_input_file
from summarize.inputs.reading import MAX_INPUT_CHARS
from summarize.outputs.dataset import DatasetWriter
from summarize.outputs.files import check_output_dir, check_output_file, same_file
from summarize.outputs.folder import OutputDir
from summarize.outputs.render import Format, printable
from summarize.outputs.stdout import StdoutWriter
from summarize.pipeline import Pipeline
from summarize.runs.local import Batch, run_batch, write_errors
from summarize.runs.signals import EXIT_INTERRUPTED
from summarize.storage import URL_SCHEMES, is_uri

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE, as a shell reports a program a closed pipe ended


class ScoreFormat(Choice):
    table = "table"
    json = "json"


EPILOG = (
    "More: [bold]summarize models list[/bold] (presets, cached or not, size, licence) · "
    "[bold]summarize models download NAME…[/bold] · [bold]summarize eval DATA.jsonl[/bold] (ROUGE, chrF, BLEU). "
    "Exit codes: 0 all inputs done, 1 some input failed, 2 usage or configuration error, "
    "130/143 stopped by Ctrl-C/SIGTERM (finished outputs kept)."
)


def _typer(**settings) -> typer.Typer:
    return typer.Typer(add_completion=False, rich_markup_mode="rich", pretty_exceptions_enable=False, **settings)


app = _typer()
models_app = _typer(help="List and download the model presets of models.toml.", no_args_is_help=True)
eval_app = _typer()

ConfigOption = Annotated[
    Optional[Path],
    typer.Option("--config", envvar="SUMMARIZE_CONFIG", help="A models.toml whose presets add to or replace the shipped ones."),
]


@dataclass(frozen=True)
class ModelFlags:
    """The options `summarize` and `summarize eval` share: which engine and models, and how they run."""

    engine: Annotated[
        Optional[Engine],
        typer.Option(
            "--engine",
            "-e",
            help="abstractive: a seq2seq model; extractive: the most central sentences (LexRank); lead: the first sentences. The last two need no model \\[default: from the preset].",
            show_default=False,
        ),
    ] = None
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="Summariser preset from models.toml \\[default: rut5-gazeta].", show_default=False)] = (
        None
    )
    translator: Annotated[
        Optional[str], typer.Option("--translator", help="Translator preset from models.toml \\[default: opus-mt-ru-en].", show_default=False)
    ] = None
    beams: Annotated[Optional[int], typer.Option("--beams", min=1, help="Beam search width (overrides the preset).", show_default=False)] = None
    length: Annotated[
        Optional[Length],
        typer.Option("--length", help="Summary length (overrides the preset's max_new_tokens; 2/3/5 sentences for extractive and lead).", show_default=False),
    ] = None
    max_words: Annotated[Optional[int], typer.Option("--max-words", min=1, help="Word budget for --engine extractive or lead.", show_default=False)] = None
    long: Annotated[
        LongMode, typer.Option("--long", help="Articles longer than the model's input: keep the lead that fits, or summarise chunks and then their summaries.")
    ] = LongMode.truncate
    device: Annotated[Device, typer.Option("--device", help="Where the models run; auto picks CUDA, then Apple MPS, then CPU.")] = Device.auto
    offline: Annotated[bool, typer.Option("--offline", envvar="HF_HUB_OFFLINE", help="Never touch the network; use local or cached models only.")] = False
    backend: Annotated[
        Optional[Backend],
        typer.Option(
            "--backend",
            help="torch, or ctranslate2 (converted once, then no torch at run time); auto: ctranslate2 on a CPU when it is installed (pip install 'summarize\\[fast]'), else torch \\[default: from the preset, auto].",
            show_default=False,
        ),
    ] = None
    dtype: Annotated[
        Dtype,
        typer.Option(
            "--dtype",
            help="Number format of torch models and of CTranslate2 on a GPU; auto: fp32 on a CPU, bf16 on a GPU for T5-family models (float16 overflows them; fp32 where bf16 is missing), fp16 for the others.",
        ),
    ] = Dtype.auto
    quantize: Annotated[
        Optional[Quantize],
        typer.Option(
            "--quantize", help="int8 weights: torch dynamic int8 on CPU; CTranslate2 int8 (its CPU default; 'none' keeps float32).", show_default=False
        ),
    ] = None
    config: ConfigOption = None
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False

    def options(self, translate: bool | None, strict: bool) -> Options:
        return make_options(
            load_config(self.config),
            model=self.model,
            engine=self.engine,
            translator=self.translator,
            translate=translate,
            beams=self.beams,
            length=self.length,
            max_words=self.max_words,
            long_mode=self.long,
            device=self.device,
            offline=self.offline,
            strict=strict,
            backend=self.backend,
            quantize=self.quantize,
            dtype=self.dtype,
        )


def with_model_flags(command):
    """Give a command the ModelFlags options, handed to it as one `flags` argument: the options are
    declared once, and Typer still sees (and documents) each of them."""
    types = typing.get_type_hints(ModelFlags, include_extras=True)
    shared = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=types[f.name]) for f in fields(ModelFlags)]
    hints = typing.get_type_hints(command, include_extras=True)
    own = [p.replace(annotation=hints[p.name]) for p in inspect.signature(command).parameters.values() if p.name != "flags"]

    @functools.wraps(command)
    def wrapper(**kwargs):
        flags = ModelFlags(**{p.name: kwargs.pop(p.name) for p in shared})
        return command(**kwargs, flags=flags)

    wrapper.__signature__ = inspect.Signature(own + shared)
    wrapper.__annotations__ = {p.name: p.annotation for p in own + shared}
    del wrapper.__wrapped__  # Typer must read the new signature, not the wrapped one's
    return wrapper


@contextmanager
def reported(debug: bool = False):
    """The one place a SummarizeError becomes `summarize: error: …` on stderr and exit code 2."""
    try:
        yield
    except SummarizeError as e:
        if debug:
            raise
        _stderr().print(printable(f"summarize: error: {e}"), markup=False)
        raise typer.Exit(EXIT_USAGE) from None


@app.command(epilog=EPILOG)
@with_model_flags
def summarize(
    paths: Annotated[Optional[list[str]], typer.Argument(help="Files or folders to summarise; '-' or nothing reads piped stdin.", show_default=False)] = None,
    fmt: Annotated[
        Optional[Format], typer.Option("--format", "-f", help="Output format \\[default: rich on a terminal, plain otherwise].", show_default=False)
    ] = None,
    output_dir: Annotated[
        Optional[Path], typer.Option("--output-dir", "-o", help="Write one file per input here instead of to stdout.", file_okay=False)
    ] = None,
    glob: Annotated[Optional[str], typer.Option("--glob", help="Which files of a folder to take \\[default: *.txt].", show_default=False)] = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Also take files from subfolders.")] = False,
    translate: Annotated[
        Optional[bool], typer.Option("--translate/--no-translate", help="Add the English translation \\[default: from models.toml, on].", show_default=False)
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="A model that is not on this machine is an error, instead of falling back to the extractive engine and skipping translation."
        ),
    ] = False,
    skip_existing: Annotated[
        bool, typer.Option("--skip-existing", help="With --output-dir: leave out inputs whose output file is already complete, to resume a run.")
    ] = False,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first input that fails.")] = False,
    errors_file: Annotated[
        Optional[Path], typer.Option("--errors", help="Write every failed input with its reason to this file (JSON lines).", dir_okay=False)
    ] = None,
    max_input_chars: Annotated[int, typer.Option("--max-input-chars", min=1, help="Refuse inputs longer than this many characters.")] = MAX_INPUT_CHARS,
    input_file: Annotated[
        Optional[Path],
        typer.Option("--input-file", "-i", help="Read paths and URLs from this file, one a line ('#' comments; '-' for stdin).", show_default=False),
    ] = None,
    output: Annotated[
        Optional[str],
        typer.Option(
            "--output",
            help="Write one dataset of all results (.jsonl, .csv or .parquet by extension), a row per input or record, keyed by id.",
            show_default=False,
        ),
    ] = None,
    text_field: Annotated[str, typer.Option("--text-field", help="Datasets: the field holding the article.")] = "text",
    id_field: Annotated[str, typer.Option("--id-field", help="Datasets: the field holding a unique id (the record number when absent).")] = "id",
    title_field: Annotated[
        Optional[str], typer.Option("--title-field", help="Datasets: the field holding the headline \\[default: title, when present].", show_default=False)
    ] = None,
    ray: Annotated[bool, typer.Option("--ray", help="Run on Ray Data (pip install 'summarize\\[ray]'): --output is then a folder of Parquet shards.")] = False,
    ray_address: Annotated[
        Optional[str],
        typer.Option(
            "--ray-address", help="With --ray: join this cluster (auto, or ray://HOST:10001) \\[default: a local Ray for this run].", show_default=False
        ),
    ] = None,
    workers: Annotated[
        Optional[int], typer.Option("--workers", min=1, help="With --ray: CPUs to use, actors × threads \\[default: all the cluster's].", show_default=False)
    ] = None,
    *,
    flags: ModelFlags,
) -> None:
    """Summarise Russian news articles and translate the summaries to English."""
    err = _stderr()
    notify = _notifier(err)
    with reported(flags.debug), _quiet_when_the_reader_leaves():
        options = flags.options(translate, strict)
        if skip_existing and not (output_dir or output):
            raise SummarizeError("--skip-existing needs --output-dir or --output: it skips inputs whose result is there")
        if ray or ray_address or workers:
            ray_flags = RayFlags(ray, ray_address, workers, output, output_dir, fmt, fail_fast)
            fields = Fields(text_field, id_field, title_field)
            tally = _run_on_ray(
                paths, input_file, glob, recursive, max_input_chars, fields, skip_existing, options, ray_flags, flags.debug, notify, errors_file
            )
            raise typer.Exit(_finish(tally, True, errors_file, notify))
        paths = [*(paths or []), *(read_input_file(input_file) if input_file else [])] or [_piped_stdin()]
        inputs, notes = drop_repeats(list_inputs(paths, glob, recursive, skip=output_dir))
        many = len(paths) > 1 or len(inputs) > 1 or any(p != STDIN and (Path(p).is_dir() or is_dataset(p)) for p in paths)
        chosen = fmt or (Format.rich if sys.stdout.isatty() else Format.plain)
        for note in notes:
            notify(f"warning: {note}")
        # No output may overwrite an input, nor the list of them.
        reserved = [i.path for i in inputs if i.path is not None] + ([input_file] if input_file and str(input_file) != STDIN else [])
        stdout = sys.stdout
        with (
            _dataset(Path(output) if output else None, reserved, output_dir, errors_file, skip_existing) as dataset,
            _progress(err, len(inputs) if many else 0) as advance,
        ):
            # Made once the bar runs: at a terminal, results then print above it (rich redirects stdout).
            writer, out_dir = _destinations(reserved, chosen, many, output_dir, dataset, errors_file, stdout, err)
            batch = Batch(writer, out_dir, skip_existing, fail_fast, max_input_chars, Fields(text_field, id_field, title_field), dataset)
            tally = run_batch(inputs, Pipeline(options, notify=notify, debug=flags.debug), batch, notify, advance)
    raise typer.Exit(_finish(tally, many, errors_file, notify))


@dataclass(frozen=True)
class RayFlags:
    """--ray and the options it changes or refuses."""

    ray: bool
    address: str | None
    workers: int | None
    output: str | None  # a local folder or a storage URI (s3://bucket/out)
    output_dir: Path | None
    fmt: Format | None
    fail_fast: bool


def _run_on_ray(paths, input_file, glob, recursive, max_input_chars, fields, skip_existing, options, ray: RayFlags, debug, notify, errors_file) -> Tally:
    """--ray: the same inputs, summarised by summarize.distributed into --output's shards."""
    if not ray.ray:
        raise SummarizeError(f"{'--ray-address' if ray.address else '--workers'} is for --ray; add --ray, or leave it out")
    refused = [name for name, given in (("--output-dir", ray.output_dir), ("--format", ray.fmt), ("--fail-fast", ray.fail_fast)) if given]
    if refused or ray.output is None:
        raise SummarizeError(f"--ray writes Parquet shards to --output FOLDER{f' and takes no {refused[0]}' if refused else ''}; give --output OUT/")
    given = [*(paths or []), *(read_input_file(input_file) if input_file else [])]
    if not given or STDIN in given or any(p.startswith(URL_SCHEMES) for p in given):
        raise SummarizeError("--ray reads files, folders, datasets and storage URIs (s3://…) that every node can read, not stdin or web pages; give those")
    inputs, notes = drop_repeats(list_inputs(given, glob, recursive, skip=None if is_uri(ray.output) else Path(ray.output)))
    if errors_file:
        check_output_file(errors_file, "--errors", [i.path for i in inputs if i.path is not None])
        if not is_uri(ray.output) and Path(ray.output).resolve() in errors_file.resolve().parents:
            raise SummarizeError(f"--errors {errors_file}: is inside the --output folder, which holds only shards; choose a file outside it")
    for note in notes:
        notify(f"warning: {note}")
    from summarize.runs.ray_plan import RayJob as Job
    from summarize.runs.ray_plan import run_distributed

    job = Job(tuple(inputs), ray.output, options, fields, max_input_chars, ray.address, ray.workers, skip_existing=skip_existing, debug=debug)
    tally = run_distributed(job, notify)
    tally.resume = f"the shards written stay in {ray.output}; run the same command with --skip-existing to resume"
    return tally


@contextmanager
def _dataset(output: Path | None, reserved: list[Path], output_dir: Path | None, errors_file: Path | None, resume: bool):
    """--output FILE, checked before any work and closed (committed) whatever happens."""
    if output is None:
        yield None
        return
    if output_dir:
        raise SummarizeError("--output and --output-dir: choose one (a dataset file, or a file per input)")
    check_output_file(output, "--output", reserved)
    if errors_file and same_file(errors_file, output):
        raise SummarizeError(f"--errors {errors_file}: is the --output file too; give each its own file")
    with DatasetWriter(output, resume=resume, redo=frozenset({"stdin"})) as dataset:
        yield dataset


def _destinations(reserved: list[Path], fmt: Format, many: bool, output_dir: Path | None, dataset, errors_file: Path | None, stdout, err: Console):
    """Where results go (a dataset, a folder or stdout), every output path checked before any work."""
    if errors_file:
        check_output_file(errors_file, "--errors", reserved)
    if output_dir:
        check_output_dir(output_dir)
        if errors_file and output_dir.resolve() in errors_file.resolve().parents:
            raise SummarizeError(f"--errors {errors_file}: is inside --output-dir {output_dir}, where the results go; choose a file outside it")
    out_dir = OutputDir(output_dir, fmt, reserved, beside_inputs=output_dir is not None and _is_input_folder(output_dir, reserved)) if output_dir else None
    at_terminal = stdout.isatty()
    stream = sys.stdout if at_terminal else stdout  # sys.stdout: the progress bar's proxy, when it runs
    # Warnings go to stderr; where that is the same terminal, a panel need not repeat them.
    writer = None if out_dir or dataset else StdoutWriter(fmt, stream, many, warnings=not (at_terminal and err.is_terminal))
    return writer, out_dir


def _is_input_folder(folder: Path, reserved: list[Path]) -> bool:
    return folder.is_dir() and any(folder.resolve() in path.resolve().parents for path in reserved)


def _piped_stdin() -> str:
    if sys.stdin is None or sys.stdin.isatty():
        raise SummarizeError("no input: give files or folders, or pipe text in (see --help)")
    return STDIN


def _finish(tally: Tally, many: bool, errors_file: Path | None, notify) -> int:
    """The errors file, the tally on stderr, and the exit code."""
    if errors_file:
        write_errors(errors_file, tally)
    if many or tally.stopped_by or tally.skipped:
        notify(tally.line())
        if len(tally.failures) > 1:
            notify("failed inputs:\n" + "\n".join(f"  {reason}" for _, reason in tally.failures))  # each names its input
    if tally.stopped_by:
        return EXIT_INTERRUPTED[tally.stopped_by]
    return EXIT_FAILED if tally.failures else EXIT_OK


@contextmanager
def _progress(err: Console, total: int):
    """A progress bar on stderr for batch runs at a terminal; yields the step function."""
    if total < 2 or not err.is_terminal:
        yield lambda: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(TextColumn("summarising"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("summarising", total=total)
        yield lambda: bar.advance(task)


def _notifier(err: Console):
    """Lines on stderr, each starting with the program's name (and no rich markup)."""

    def notify(message: str) -> None:
        err.print(printable(f"summarize: {message}"), markup=False)

    return notify


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


@models_app.command("list")
def list_models(config: ConfigOption = None) -> None:
    """Show the presets: which is the default, whether it is on this machine, its size and licence."""
    from rich.table import Table

    from summarize import hub

    with reported():
        header, rows = hub.preset_table(load_config(config))
    out = Console(highlight=False)
    if not out.is_terminal:  # scripts get tab-separated lines, nothing cut to a terminal's width
        for row in (header, *rows):
            print("\t".join(row))
        return
    table = Table()
    for name in header:
        table.add_column(name, overflow="fold")  # long names wrap in their cell, never cut
    for row in rows:
        table.add_row(*row)
    out.print(table)


@models_app.command("download")
def download_models(
    names: Annotated[
        Optional[list[str]], typer.Argument(help="Presets to fetch \\[default: the default summariser and translator].", show_default=False)
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Fetch presets into the Hugging Face cache, so that later runs work offline."""
    from summarize import hub

    with reported():
        settings = load_config(config)
        presets = [settings.preset(n) for n in names or [settings.default_summarizer, settings.default_translator]]
    failed = hub.download_presets(presets, _notifier(_stderr()))
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


@eval_app.command(epilog="Summaries are scored as IlyaGusev/summarus does for the published Gazeta numbers; translations with sacreBLEU's defaults.")
@with_model_flags
def evaluate(
    data: Annotated[Path, typer.Argument(help="JSON lines: {id, text, summary}, or {id, ru, en} with --task translate.", show_default=False)],
    task: Annotated[Task, typer.Option("--task", help="What to score.")] = Task.summarize,
    predictions: Annotated[
        Optional[Path],
        typer.Option("--predictions", help="Score these JSON lines ({id, summary}, or {id, en}) instead of running a model.", show_default=False),
    ] = None,
    save_predictions: Annotated[
        Optional[Path], typer.Option("--save-predictions", help="Also write what the model produced, as JSON lines.", show_default=False)
    ] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Only the first N records.", show_default=False)] = None,
    strip_html: Annotated[bool, typer.Option("--strip-html", help="Remove HTML tags and entities from the data (the RIA corpus has them).")] = False,
    fmt: Annotated[ScoreFormat, typer.Option("--format", "-f", help="A table, or one JSON object for scripts.")] = ScoreFormat.table,
    *,
    flags: ModelFlags,
) -> None:
    """Score a summariser (ROUGE-1/2/L, chrF, length, duplicate n-grams) or a translator (BLEU, chrF)."""
    from summarize.evaluate import run as ev
    from summarize.evaluate.run import EvalJob

    err = _stderr()
    with reported(flags.debug):
        if predictions and (save_predictions or flags.engine or flags.model or flags.translator):
            raise SummarizeError("--predictions scores given predictions: --save-predictions, --engine, --model and --translator do not apply")
        if save_predictions:
            check_output_file(save_predictions, "--save-predictions", [data])
        # Scores must belong to the model named: never fall back to another engine here.
        options = flags.options(translate=task is Task.translate, strict=True)
        job = EvalJob(data, task, predictions, save_predictions, limit, strip_html)
        records, given = ev.load(job)
        with _progress(err, len(records) if given is None else 0) as advance:
            report = ev.run(job, records, given, options, _notifier(err), advance, flags.debug)
    if fmt is ScoreFormat.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        _print_scores(report)
    raise typer.Exit(EXIT_FAILED if report["failed"] else EXIT_OK)


def _print_scores(report: dict) -> None:
    from rich.table import Table

    table = Table("", "", title="summarize eval", show_header=False)
    for key, value in report.items():
        table.add_row(key, "-" if value is None else str(value))
    Console(highlight=False).print(table)


SUBCOMMANDS = {"models": models_app, "eval": eval_app}


def main(argv: list[str] | None = None) -> None:
    """The `summarize` program: usage errors as one line, a closed pipe as a quiet exit."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):
        print(f"summarize {_version()}")
        return
    command, prog = (SUBCOMMANDS[args[0]], f"summarize {args[0]}") if args and args[0] in SUBCOMMANDS else (app, "summarize")
    click_error = _click_exception()
    try:
        code = command(args[1:] if command is not app else args, prog_name=prog, standalone_mode=False)
    except click_error as e:
        if type(e).__name__ != "NoArgsIsHelpError":  # that one has printed the help already
            _stderr().print(printable(f"{prog}: error: {e.format_message().rstrip('.')}; see '{prog} --help'"), markup=False)
        code = e.exit_code
    except typer.Abort:
        code = EXIT_INTERRUPTED[signal.SIGINT]
    sys.exit(code or 0)


def _click_exception() -> type[Exception]:
    """Click's usage-error base class, which this Typer carries inside itself (older ones import click)."""
    try:
        from typer._click.exceptions import ClickException
    except ImportError:
        from click.exceptions import ClickException
    return ClickException


@contextmanager
def _quiet_when_the_reader_leaves():
    """`summarize … | head -1`: the reader went away, so there is nothing more to say to anyone.
    (Typer turns a broken pipe into exit code 1 itself, so it is caught here, inside the command.)"""
    try:
        yield
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the final flush must not fail again
        raise typer.Exit(EXIT_CLOSED_PIPE) from None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("summarize")
    except PackageNotFoundError:
        return "unknown"

"""The command line: options → sources → pipeline → writers → exit code. No logic of its own.

Subcommands (`models`, …) are dispatched by main() before Typer parses, so that the main command
can take bare paths; a file literally named `models` is reachable as `./models`.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from dataclasses import asdict, replace
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from summarize.batch import EXIT_INTERRUPTED, Batch, run_batch, write_errors
from summarize.config import Config, ModelSpec, load_config
from summarize.errors import SummarizeError
from summarize.pipeline import Pipeline, make_options
from summarize.render import OutputDir, get_writer, write_atomically
from summarize.sources import MAX_INPUT_CHARS, STDIN, list_inputs

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class Format(str, Enum):
    rich = "rich"
    plain = "plain"
    markdown = "markdown"
    json = "json"
    jsonl = "jsonl"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"
    mps = "mps"


class LongMode(str, Enum):
    truncate = "truncate"
    chunk = "chunk"


class Engine(str, Enum):
    abstractive = "abstractive"
    extractive = "extractive"
    lead = "lead"


class Backend(str, Enum):
    auto = "auto"
    torch = "torch"
    ctranslate2 = "ctranslate2"


class Quantize(str, Enum):
    none = "none"
    int8 = "int8"


class Length(str, Enum):
    short = "short"
    medium = "medium"
    long = "long"


EPILOG = (
    "More: [bold]summarize models list[/bold] (presets, cached or not, size, licence) · "
    "[bold]summarize models download NAME…[/bold] · [bold]summarize eval DATA.jsonl[/bold] (ROUGE, chrF, BLEU). "
    "Exit codes: 0 all inputs done, 1 some input failed, 2 usage or configuration error, "
    "130/143 stopped by Ctrl-C/SIGTERM (finished outputs kept)."
)

app = typer.Typer(add_completion=False, rich_markup_mode="rich", pretty_exceptions_enable=False)
models_app = typer.Typer(
    add_completion=False, rich_markup_mode="rich", pretty_exceptions_enable=False,
    help="List and download the model presets of models.toml.", no_args_is_help=True,
)

ConfigOption = Annotated[
    Optional[Path],
    typer.Option("--config", envvar="SUMMARIZE_CONFIG", help="A models.toml whose presets add to or replace the shipped ones."),
]


# Options the main command and `eval` share.
EngineOption = Annotated[Optional[Engine], typer.Option("--engine", "-e", help="abstractive: a seq2seq model; extractive: the most central sentences (LexRank); lead: the first sentences. The last two need no model \\[default: from the preset].", show_default=False)]
ModelOption = Annotated[Optional[str], typer.Option("--model", "-m", help="Summariser preset from models.toml \\[default: rut5-gazeta].", show_default=False)]
TranslatorOption = Annotated[Optional[str], typer.Option("--translator", help="Translator preset from models.toml \\[default: opus-mt-ru-en].", show_default=False)]
BeamsOption = Annotated[Optional[int], typer.Option("--beams", min=1, help="Beam search width (overrides the preset).", show_default=False)]
LengthOption = Annotated[Optional[Length], typer.Option("--length", help="Summary length (overrides the preset's max_new_tokens; 2/3/5 sentences for extractive and lead).", show_default=False)]
MaxWordsOption = Annotated[Optional[int], typer.Option("--max-words", min=1, help="Word budget for --engine extractive or lead.", show_default=False)]
LongOption = Annotated[LongMode, typer.Option("--long", help="Articles longer than the model's input: keep the lead that fits, or summarise chunks and then their summaries.")]
DeviceOption = Annotated[Device, typer.Option("--device", help="Where the models run; auto picks CUDA, then Apple MPS, then CPU.")]
OfflineOption = Annotated[bool, typer.Option("--offline", envvar="HF_HUB_OFFLINE", help="Never touch the network; use local or cached models only.")]
BackendOption = Annotated[Optional[Backend], typer.Option("--backend", help="torch, or ctranslate2 (converted once, then no torch at run time); auto: ctranslate2 on a CPU when it is installed (pip install 'summarize[fast]'), else torch \\[default: from the preset, auto].", show_default=False)]
QuantizeOption = Annotated[Optional[Quantize], typer.Option("--quantize", help="int8 weights: torch dynamic int8 on CPU; CTranslate2 int8 (its CPU default; 'none' keeps float32).", show_default=False)]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]


@app.command(epilog=EPILOG)
def summarize(
    paths: Annotated[Optional[list[str]], typer.Argument(help="Files or folders to summarise; '-' or nothing reads piped stdin.", show_default=False)] = None,
    fmt: Annotated[Optional[Format], typer.Option("--format", "-f", help="Output format \\[default: rich on a terminal, plain otherwise].", show_default=False)] = None,
    output_dir: Annotated[Optional[Path], typer.Option("--output-dir", "-o", help="Write one file per input here instead of to stdout.", file_okay=False)] = None,
    glob: Annotated[str, typer.Option("--glob", help="Which files of a folder to take.")] = "*.txt",
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Also take files from subfolders.")] = False,
    engine: EngineOption = None,
    model: ModelOption = None,
    translator: TranslatorOption = None,
    translate: Annotated[Optional[bool], typer.Option("--translate/--no-translate", help="Add the English translation \\[default: from models.toml, on].", show_default=False)] = None,
    beams: BeamsOption = None,
    length: LengthOption = None,
    max_words: MaxWordsOption = None,
    strict: Annotated[bool, typer.Option("--strict", help="A model that is not on this machine is an error, instead of falling back to the extractive engine and skipping translation.")] = False,
    long: LongOption = LongMode.truncate,
    device: DeviceOption = Device.auto,
    offline: OfflineOption = False,
    backend: BackendOption = None,
    quantize: QuantizeOption = None,
    skip_existing: Annotated[bool, typer.Option("--skip-existing", help="With --output-dir: leave out inputs whose output file is already complete, to resume a run.")] = False,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first input that fails.")] = False,
    errors_file: Annotated[Optional[Path], typer.Option("--errors", help="Write every failed input with its reason to this file (JSON lines).", dir_okay=False)] = None,
    max_input_chars: Annotated[int, typer.Option("--max-input-chars", min=1, help="Refuse inputs longer than this many characters.")] = MAX_INPUT_CHARS,
    config: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Summarise Russian news articles and translate the summaries to English."""
    err = _stderr()
    try:
        settings = load_config(config)
        options = make_options(
            settings, model=model, engine=engine.value if engine else None, translator=translator,
            translate=translate, beams=beams, length=length.value if length else None, max_words=max_words,
            long_mode=long.value, device=device.value, offline=offline, strict=strict,
            backend=backend.value if backend else None, quantize=quantize.value if quantize else None,
        )
    except SummarizeError as e:
        _die(err, e, EXIT_USAGE, debug)
    if skip_existing and not output_dir:
        _die(err, SummarizeError("--skip-existing needs --output-dir: it skips inputs whose output file is there"), EXIT_USAGE, debug)
    if not paths:
        if sys.stdin is None or sys.stdin.isatty():
            _die(err, SummarizeError("no input: give files or folders, or pipe text in (see --help)"), EXIT_USAGE, debug)
        paths = [STDIN]
    inputs = list_inputs(paths, glob, recursive)
    many = len(paths) > 1 or any(p != STDIN and Path(p).is_dir() for p in paths)
    chosen = (fmt.value if fmt else None) or ("rich" if sys.stdout.isatty() else "plain")
    reserved = [i.path for i in inputs if i.path is not None]  # an output never overwrites an input
    out_dir = OutputDir(output_dir, chosen, reserved) if output_dir else None
    batch = Batch(
        writer=None if out_dir else get_writer(chosen, sys.stdout, many),
        out_dir=out_dir,
        skip_existing=skip_existing,
        fail_fast=fail_fast,
        max_input_chars=max_input_chars,
        debug=debug,
    )

    notify = _notifier(err)
    try:
        with _progress(err, len(inputs) if many else 0) as advance:
            tally = run_batch(inputs, Pipeline(options, notify), batch, notify, advance)
    except SummarizeError as e:  # a model could not load (and no fallback applies): nothing can be done
        _die(err, e, EXIT_USAGE, debug)
    if errors_file:
        write_errors(errors_file, tally)
    if many or tally.stopped_by or tally.skipped:
        notify(tally.line())
        if len(tally.failures) > 1:
            notify("failed inputs:\n" + "\n".join(f"  {source}: {reason}" for source, reason in tally.failures))
    if tally.stopped_by:
        raise typer.Exit(EXIT_INTERRUPTED[tally.stopped_by])
    raise typer.Exit(EXIT_FAILED if tally.failures else EXIT_OK)


@contextmanager
def _progress(err: Console, total: int):
    """A progress bar on stderr for batch runs at a terminal; yields the step function."""
    if total < 2 or not err.is_terminal:
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("summarising"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("summarising", total=total)
        yield lambda: bar.advance(task)


def _notifier(err: Console):
    """Lines on stderr, each starting with the program's name (and no rich markup)."""

    def notify(message: str) -> None:
        err.print(f"summarize: {message}", markup=False)

    return notify


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _die(err: Console, error: Exception, code: int, debug: bool) -> None:
    if debug:
        raise error
    err.print(f"summarize: error: {error}", markup=False)
    raise typer.Exit(code)


@models_app.command("list")
def list_models(config: ConfigOption = None) -> None:
    """Show the presets: which is the default, whether it is on this machine, its size and licence."""
    from rich.table import Table

    from summarize import hub

    try:
        settings = load_config(config)
    except SummarizeError as e:
        _die(_stderr(), e, EXIT_USAGE, False)
    rows = []
    defaults = {settings.default_summarizer, settings.default_translator}
    for role, presets in (("summariser", settings.summarizers), ("translator", settings.translators)):
        for spec in presets.values():
            default = "yes" if spec.name in defaults else ""
            if spec.engine != "abstractive":
                rows.append((spec.name, role, default, f"(no model: {spec.engine})", "yes", "-", "-"))
                continue
            path = _local_path(spec)
            size = f"{hub.dir_size(path) / 1e6:,.0f} MB" if path else "-"
            rows.append((spec.name, role, default, spec.model, "yes" if path else "no", size, spec.licence or "?"))
    header = ("preset", "role", "default", "model", "local", "size", "licence")
    out = Console(highlight=False)
    if not out.is_terminal:  # scripts get tab-separated lines, nothing cut to a terminal's width
        for row in (header, *rows):
            print("\t".join(row))
        return
    table = Table(*header)
    for row in rows:
        table.add_row(*row)
    out.print(table)


def _local_path(spec: ModelSpec) -> Path | None:
    from summarize import hub

    if spec.is_local:
        return Path(spec.model) if Path(spec.model).is_dir() else None
    return hub.cached_dir(spec)


@models_app.command("download")
def download_models(
    names: Annotated[Optional[list[str]], typer.Argument(help="Presets to fetch \\[default: the default summariser and translator].", show_default=False)] = None,
    config: ConfigOption = None,
) -> None:
    """Fetch presets into the Hugging Face cache, so that later runs work offline."""
    from summarize import hub

    err = _stderr()
    try:
        settings = load_config(config)
        every = {**settings.translators, **settings.summarizers}
        chosen = names or [settings.default_summarizer, settings.default_translator]
        specs = [_preset(settings, every, n) for n in chosen]
    except SummarizeError as e:
        _die(err, e, EXIT_USAGE, False)
    failed = 0
    for spec in specs:
        if spec.engine != "abstractive":
            err.print(f"summarize: {spec.name}: the {spec.engine} engine needs no model; nothing to download", markup=False)
            continue
        if spec.is_local:
            err.print(f"summarize: {spec.name}: a local directory ({spec.model}); nothing to download", markup=False)
            continue
        try:
            path = hub.cached_dir(spec) or hub.download(spec)
            hub.check_model_dir(path, spec)
            err.print(f"summarize: {spec.name}: ready in {path}", markup=False)
        except SummarizeError as e:
            failed += 1
            err.print(f"summarize: error: {e}", markup=False)
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


def _preset(config: Config, every: dict[str, ModelSpec], name: str) -> ModelSpec:
    if name not in every:
        raise SummarizeError(f"no preset named {name!r}; choose from: {', '.join(sorted(every))}")
    return every[name]


class Task(str, Enum):
    summarize = "summarize"
    translate = "translate"


class ScoreFormat(str, Enum):
    table = "table"
    json = "json"


eval_app = typer.Typer(add_completion=False, rich_markup_mode="rich", pretty_exceptions_enable=False)


@eval_app.command(epilog="Summaries are scored as IlyaGusev/summarus does for the published Gazeta numbers; translations with sacreBLEU's defaults.")
def evaluate(
    data: Annotated[Path, typer.Argument(help="JSON lines: {id, text, summary}, or {id, ru, en} with --task translate.", show_default=False)],
    task: Annotated[Task, typer.Option("--task", help="What to score.")] = Task.summarize,
    predictions: Annotated[Optional[Path], typer.Option("--predictions", help="Score these JSON lines ({id, summary}, or {id, en}) instead of running a model.", show_default=False)] = None,
    save_predictions: Annotated[Optional[Path], typer.Option("--save-predictions", help="Also write what the model produced, as JSON lines.", show_default=False)] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Only the first N records.", show_default=False)] = None,
    strip_html: Annotated[bool, typer.Option("--strip-html", help="Remove HTML tags and entities from the data (the RIA corpus has them).")] = False,
    fmt: Annotated[ScoreFormat, typer.Option("--format", "-f", help="A table, or one JSON object for scripts.")] = ScoreFormat.table,
    engine: EngineOption = None,
    model: ModelOption = None,
    translator: TranslatorOption = None,
    beams: BeamsOption = None,
    length: LengthOption = None,
    max_words: MaxWordsOption = None,
    long: LongOption = LongMode.truncate,
    device: DeviceOption = Device.auto,
    offline: OfflineOption = False,
    backend: BackendOption = None,
    quantize: QuantizeOption = None,
    config: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Score a summariser (ROUGE-1/2/L, chrF, length, duplicate n-grams) or a translator (BLEU, chrF)."""
    from summarize import evaluate as ev

    err = _stderr()
    try:
        settings = load_config(config)
        records = ev.read_records(data, task.value)
        given = ev.read_predictions(predictions, records, "summary" if task is Task.summarize else "en") if predictions else None
        records, given = records[:limit], (given[:limit] if given else None)
        if strip_html:
            records = [ev.Record(r.id, ev.strip_html(r.text), ev.strip_html(r.reference), r.line) for r in records]
        # Scores must belong to the model named: never fall back to another engine here.
        options = make_options(
            settings, model=model, engine=engine.value if engine else None, translator=translator, translate=False,
            beams=beams, length=length.value if length else None, max_words=max_words, long_mode=long.value,
            device=device.value, offline=offline, strict=True,
            backend=backend.value if backend else None, quantize=quantize.value if quantize else None,
        )
        with _progress(err, len(records) if given is None else 0) as advance:
            if given is not None:
                outputs, failures, who = given, [], {"predictions": str(predictions)}
            elif task is Task.summarize:
                outputs, failures = ev.predict_summaries(records, Pipeline(options), advance)
                who = {"engine": options.engine, "model": options.summarizer.name if options.engine == "abstractive" else None}
            else:
                # The translator alone, loaded as the main command loads it (backend included).
                only_mt = replace(options, engine="lead", translator=settings.translator(translator))
                outputs, failures = ev.predict_translations(records, Pipeline(only_mt, _notifier(err)), advance), []
                who = {"translator": only_mt.translator.name}
    except SummarizeError as e:
        _die(err, e, EXIT_USAGE, debug)
    for failure in failures:
        err.print(f"summarize: error: {failure} (scored as an empty summary)", markup=False)
    if save_predictions and given is None:
        key = "summary" if task is Task.summarize else "en"
        lines = [json.dumps({"id": r.id, key: o}, ensure_ascii=False) for r, o in zip(records, outputs)]
        write_atomically(save_predictions, "".join(line + "\n" for line in lines))
    references = [r.reference for r in records]
    scores = ev.score_summaries(outputs, references) if task is Task.summarize else ev.score_translations(outputs, references)
    report = {"task": task.value, "data": str(data), **who, "failed": len(failures), **_rounded(asdict(scores))}
    if fmt is ScoreFormat.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        _print_scores(report)
    raise typer.Exit(EXIT_FAILED if failures else EXIT_OK)


def _rounded(scores: dict) -> dict:
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in scores.items()}


def _print_scores(report: dict) -> None:
    from rich.table import Table

    table = Table("", "", title="summarize eval", show_header=False)
    for key, value in report.items():
        table.add_row(key, "-" if value is None else str(value))
    Console(highlight=False).print(table)


SUBCOMMANDS = {"models": models_app, "eval": eval_app}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        SUBCOMMANDS[args[0]](args[1:], prog_name=f"summarize {args[0]}")
    else:
        app(args, prog_name="summarize")

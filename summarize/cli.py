"""The command line: options → a run plan → one of runs/ → exit code. No logic of its own.

Each option is declared once, as a field of the dataclass its value lives in (config.Choices,
runs.plan.RunFlags, evaluate.run.EvalJob…, see config.option); the commands here are built from
those declarations. `summarize ARTICLE…` is the group's default command, so bare paths need no
subcommand; a file literally named `models` or `eval` is reachable as `./models`.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import signal
import sys
import typing
from contextlib import contextmanager
from typing import Annotated, Any, Literal

import typer
from typer.core import TyperCommand, TyperGroup

from summarize.config import Choice, Config, Preset, load_config
from summarize.errors import EXIT_CLOSED_PIPE, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, SummarizeError, version
from summarize.flags import CheckJob, Common, Debug, EvalJob, PresetNames, RunFlags, ServeFlags
from summarize.options import PER_REQUEST, Choices, ConfigFile
from summarize.outputs.terminal import notifier, say, stderr

DEFAULT = "summarize"  # the default command's name: `summarize ARTICLE…`
EPILOG = (
    "More: [bold]summarize models list[/bold] (presets, cached or not, size, licence) · "
    "[bold]summarize models download NAME…[/bold] · [bold]summarize eval DATA.jsonl[/bold] (ROUGE, chrF, BLEU) · "
    "[bold]summarize check DATA[/bold] (names and numbers that summaries add to their articles) · "
    "[bold]summarize serve[/bold] (an HTTP API). "
    "Exit codes: 0 all inputs done, 1 some input failed, 2 usage or configuration error, "
    "130/143 stopped by Ctrl-C/SIGTERM (finished outputs kept)."
)


class DefaultGroup(TyperGroup):
    """A group whose default command runs when the first word is not a subcommand's name."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = [DEFAULT, *args]
        return super().parse_args(ctx, args)


class DefaultCommand(TyperCommand):
    """The default command shows its usage as the program's own: `summarize [OPTIONS] [PATHS]...`."""

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        formatter.write_usage(ctx.parent.command_path if ctx.parent else ctx.command_path, " ".join(self.collect_usage_pieces(ctx)))


def _typer(**settings: Any) -> typer.Typer:
    return typer.Typer(add_completion=False, rich_markup_mode="rich", pretty_exceptions_enable=False, **settings)


app = _typer(cls=DefaultGroup, help="Summarise Russian news articles and translate the summaries to English.", epilog=EPILOG)
models_app = _typer(help="List and download the model presets of models.toml.", no_args_is_help=True)
app.add_typer(models_app, name="models")


def _parameter(spec: dataclasses.Field, hint: Any) -> inspect.Parameter:
    """A dataclass field as the Typer parameter its metadata declares. A closed choice (config.Choice)
    is offered as its spellings in any case (`-f JSON`, `-f md`); the command gets the member back."""
    settings = dict(spec.metadata)
    flags, is_argument = settings.pop("flags", ()), settings.pop("argument", False)
    settings.pop(PER_REQUEST, None)  # what a server's request may change: the server's contract, not Typer's
    default = inspect.Parameter.empty if spec.default is dataclasses.MISSING else spec.default
    kind = _choice_kind(hint)
    if kind is not None:
        spelled = Literal[tuple(kind.spellings())]  # type: ignore[valid-type]
        hint = spelled | None if type(None) in typing.get_args(hint) else spelled
        settings.setdefault("case_sensitive", False)
        default = default.value if isinstance(default, Choice) else default
    declared = typer.Argument(**settings) if is_argument else typer.Option(*flags, **settings)
    return inspect.Parameter(spec.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[hint, declared])


def _choice_kind(hint: Any) -> type[Choice] | None:
    """The Choice enum a field holds (`Format`, `Format | None`), if it holds one."""
    kinds = [t for t in (typing.get_args(hint) or (hint,)) if isinstance(t, type) and issubclass(t, Choice)]
    return kinds[0] if kinds else None


def with_options(*kinds: type):
    """Give a command the options of these dataclasses, handed to it as one instance of each (in
    order, as its positional arguments): each option declared once, and Typer still sees and
    documents each of them."""

    def decorate(command):
        groups = [(kind, [f for f in dataclasses.fields(kind) if f.metadata], typing.get_type_hints(kind, include_extras=True)) for kind in kinds]
        parameters = [_parameter(f, hints[f.name]) for _, specs, hints in groups for f in specs]
        choices = {f.name: kind for _, specs, hints in groups for f in specs if (kind := _choice_kind(hints[f.name])) is not None}

        @functools.wraps(command)
        def wrapper(**values):
            for name, kind in choices.items():
                if isinstance(values.get(name), str):
                    values[name] = kind.parse(values[name])
            return command(*(kind(**{f.name: values.pop(f.name) for f in specs}) for kind, specs, _ in groups))

        wrapper.__signature__ = inspect.Signature(parameters)
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        del wrapper.__wrapped__  # Typer must read the new signature, not the wrapped one's
        return wrapper

    return decorate


@contextmanager
def reported(debug: bool = False):
    """The one place a SummarizeError becomes `summarize: error: …` on stderr and exit code 2, and
    a reader that went away (`summarize … | head -1`) a quiet exit 141."""
    try:
        yield
    except SummarizeError as e:
        if debug:
            raise
        say(f"summarize: error: {e}")
        raise typer.Exit(EXIT_USAGE) from None
    except BrokenPipeError:
        _silence_stdout()
        raise typer.Exit(EXIT_CLOSED_PIPE) from None


@app.command(DEFAULT, cls=DefaultCommand, hidden=True, epilog=EPILOG)
@with_options(RunFlags, Choices, Common)
def summarize(flags: RunFlags, choices: Choices, common: Common) -> None:
    """Summarise Russian news articles and translate the summaries to English."""
    from summarize.runs.plan import execute, report

    notify = notifier(stderr())
    with reported(common.debug):
        tally, many = execute(flags, choices, common.config, common.debug, notify)
        code = report(tally, many, notify)
    raise typer.Exit(code)


@models_app.command("list")
@with_options(ConfigFile)
def list_models(file: ConfigFile) -> None:
    """Show the presets: which is the default, whether it is on this machine, its size and licence."""
    from summarize import hub
    from summarize.outputs.reports import print_presets

    with reported():
        print_presets(*hub.preset_table(load_config(file.config)))


@models_app.command("download")
@with_options(PresetNames, ConfigFile)
def download_models(wanted: PresetNames, file: ConfigFile) -> None:
    """Fetch presets into the Hugging Face cache, so that later runs work offline."""
    from summarize import hub

    with reported():
        settings = load_config(file.config)
        routed = wanted.to is not None or wanted.read is not None
        presets = [settings.preset(n) for n in wanted.names or ([] if routed else [settings.default_summarizer, settings.default_translator])]
        if routed:  # --to '' is refused, not the defaults
            from summarize.options import Choices

            presets += _routed_presets(settings, Choices(to=wanted.to, allow_noncommercial=wanted.allow_noncommercial), wanted.read)
        presets = list({p.name: p for p in presets}.values())
        from summarize.routes import refuse_noncommercial

        refuse_noncommercial(presets, wanted.allow_noncommercial or settings.routes.allow_noncommercial)
        failed = hub.download_presets(presets, notifier(stderr()))
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


def _routed_presets(config: Config, choices: Choices, read: str | None) -> list[Preset]:
    """What `models download --to/--read` fetches: the translators the routes pick for the --to targets,
    and those that read the --read languages into Russian."""
    from summarize.options import resolve_sources, resolve_targets
    from summarize.routes import SOURCE, parse_targets

    presets = [t.preset for t in resolve_targets(config, choices)] if choices.to is not None else []
    if read is not None:
        sources = {t.code: t.preset for t in resolve_sources(config, choices)}
        for code in parse_targets(read, "--read"):
            if code not in sources:
                raise SummarizeError(f"--read {code}: summarize reads {', '.join([SOURCE, *sources])}; Russian needs no translator")
            presets.append(sources[code])
    return presets


@app.command("eval", epilog="Summaries are scored as IlyaGusev/summarus does for the published Gazeta numbers; translations with sacreBLEU's defaults.")
@with_options(EvalJob, Choices, Common)
def evaluate(job: EvalJob, choices: Choices, common: Common) -> None:
    """Score a summariser (ROUGE-1/2/L, chrF, length, duplicate n-grams, names and numbers found in the article) or a translator (BLEU, chrF)."""
    from summarize.evaluate import run as ev
    from summarize.outputs.reports import print_scores
    from summarize.outputs.terminal import progress

    err = stderr()
    try:
        with reported(common.debug):
            report = ev.evaluate(job, choices, common.config, notifier(err), lambda total: progress(err, total), common.debug)
            print_scores(report, job.fmt)
    except KeyboardInterrupt:  # scores need every record: a stopped run has none, and saves nothing
        notifier(err)("stopped by SIGINT: nothing scored" + (f", nothing written to {job.save_predictions}" if job.save_predictions else ""))
        raise typer.Exit(EXIT_INTERRUPTED[signal.SIGINT]) from None
    raise typer.Exit(EXIT_FAILED if report["failed"] else EXIT_OK)


@app.command(
    "check",
    epilog="What the check sees and what it cannot: docs/checks.md. Exit codes: 0 nothing flagged, 1 something flagged or a record failed, 2 usage error, "
    "130/143 stopped by Ctrl-C/SIGTERM (finished verdicts kept).",
)
@with_options(CheckJob, Debug)
def check(job: CheckJob, flags: Debug) -> None:
    """Check summaries made by anything against their articles: names, numbers and dates the article lacks."""
    from summarize.runs.check import run_check

    notify = notifier(stderr())
    with reported(flags.debug):
        tally = run_check(job, notify, flags.debug)
    notify(tally.line())
    raise typer.Exit(tally.exit_code)


@app.command("serve", epilog="API, limits and safety: docs/serving.md. Exit codes: 0 stopped by SIGTERM or Ctrl-C, 2 could not start.")
@with_options(ServeFlags, Choices, Common)
def serve(flags: ServeFlags, choices: Choices, common: Common) -> None:
    """Serve the summariser over HTTP (POST /v1/summarize), the models loaded once."""
    if flags.ray:
        from summarize.runs.serve.ray_serve import serve_on_ray as run_server
    else:
        from summarize.runs.serve.server import serve as run_server

    with reported(common.debug):
        code = run_server(flags, choices, common.config, notifier(stderr()), common.debug)
    raise typer.Exit(code)


def main(argv: list[str] | None = None) -> None:
    """The `summarize` program: usage errors as one line, a closed pipe as a quiet exit 141 (Click
    and rich end a closed pipe with exit 1 of their own: that is told apart by the pipe itself)."""
    args = list(sys.argv[1:] if argv is None else argv)
    stdout_at_start = _file_identity(sys.stdout)
    try:
        code = _printversion() if args in (["--version"], ["-V"]) else _run(args)
    except SystemExit as e:  # rich's answer to a closed pipe, among others
        code = e.code
    except typer.Exit as e:
        code = e.exit_code
    if code and code != EXIT_CLOSED_PIPE and _reader_went_away(stdout_at_start):
        code = EXIT_CLOSED_PIPE
    if code == EXIT_CLOSED_PIPE:
        _silence_stdout()
    sys.exit(code or 0)


def _printversion() -> int:
    with reported():
        print(f"summarize {version()}", flush=True)
    return EXIT_OK


def _run(args: list[str]) -> int | None:
    click_error = _click_exception()
    try:
        return app(args, prog_name="summarize", standalone_mode=False)
    except click_error as e:
        if type(e).__name__ != "NoArgsIsHelpError":  # that one has printed the help already
            prog = _prog(e)
            say(f"{prog}: error: {e.format_message().rstrip('.')}; see '{prog} --help'")
        return e.exit_code
    except typer.Exit as e:
        return e.exit_code
    except typer.Abort:
        return EXIT_INTERRUPTED[signal.SIGINT]


def _file_identity(stream: Any) -> tuple[int, int] | None:
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return info.st_dev, info.st_ino


def _reader_went_away(stdout_at_start: tuple[int, int] | None) -> bool:
    """Whether a write to stdout met a closed pipe and a library took it: rich swaps stdout's file for
    /dev/null, Click wraps sys.stdout to quiet the last flush; both then exit 1."""
    swapped = stdout_at_start is not None and _file_identity(sys.__stdout__) != stdout_at_start
    return swapped or type(sys.stdout).__name__ == "PacifyFlushWrapper"


def _silence_stdout() -> None:
    """The interpreter's last flush must not meet the closed pipe again (a second traceback)."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _prog(error: Exception) -> str:
    """The command a usage error belongs to, as the user typed it (the default command is the program)."""
    ctx = getattr(error, "ctx", None)
    if ctx is None or ctx.command.name == DEFAULT:
        return "summarize"
    return ctx.command_path


def _click_exception() -> type[Exception]:
    """Click's usage-error base class, which this Typer carries inside itself (older ones import click)."""
    try:
        from typer._click.exceptions import ClickException
    except ImportError:
        from click.exceptions import ClickException
    return ClickException

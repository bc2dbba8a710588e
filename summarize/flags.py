"""Every command's options, declared once each as a field of the dataclass its value lives in
(options.option: flags, type, default, help). The CLI builds its commands from these alone, so
`--help` and argument errors import no run module; the options several commands take are the
`_`-named factories at the top, so a flag, its default and its help cannot drift apart.
The model options (Choices) live in summarize.options, where make_options resolves them; contract_fields
at the bottom gathers the options marked per_request (what a server's request may change, or may not)."""

from __future__ import annotations

import functools
import typing
from dataclasses import Field, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from summarize.config import MAX_INPUT_CHARS, Format, ScoreFormat, Task
from summarize.options import REQUIRED, Choices, ConfigFile, option, per_request

if TYPE_CHECKING:
    from summarize.inputs.datasets import Fields
    from summarize.inputs.reading import Reading

TOKEN_ENV = "SUMMARIZE_TOKEN"  # the server's --token; the --server client sends it as a Bearer token
SERVER_ENV = "SUMMARIZE_SERVER"


def _output_format() -> Any:
    return option(None, "--format", "-f", show_default=False, help="Output format \\[default: rich on a terminal, plain otherwise].")


def _translate() -> Any:
    return option(
        None,
        "--translate/--no-translate",
        show_default=False,
        per_request=True,
        help="Translate the summaries to English (a server's requests may still ask translate=false) \\[default: from models.toml, on].",
    )


def _strict() -> Any:
    return option(
        False,
        "--strict",
        per_request=False,
        help="A model that is not on this machine is an error (a server does not start), instead of falling back to the extractive engine "
        "and skipping translation.",
    )


def _max_input_chars() -> Any:
    return option(MAX_INPUT_CHARS, "--max-input-chars", min=1, help="Refuse articles longer than this many characters.")


def _text_field() -> Any:
    return option("text", "--text-field", help="Datasets: the field holding the article.")


def _id_field() -> Any:
    return option("id", "--id-field", help="Datasets: the field holding each record's unique id (the record number when absent).")


def _skip_existing(outputs: str) -> Any:
    return option(False, "--skip-existing", help=f"With {outputs}: leave out inputs whose result is already complete, to resume a run.")


def _overwrite(output: str = "--output") -> Any:
    return option(False, "--overwrite", help=f"Replace an existing {output} file (without it, an existing one is refused: nothing is replaced by mistake).")


@dataclass(frozen=True)
class Debug:
    debug: bool = option(False, "--debug", help="Show tracebacks.")


@dataclass(frozen=True)
class Common(Debug, ConfigFile):
    """The options every running command takes besides its own."""


@dataclass(frozen=True)
class PresetNames:
    names: list[str] | None = option(None, argument=True, show_default=False, help="Presets to fetch \\[default: the default summariser and translator].")
    to: str | None = option(None, "--to", show_default=False, help="Also fetch the translators the routes pick for these languages (de,kk…).")
    read: str | None = option(
        None, "--read", show_default=False, help="Also fetch the translators that read articles in these languages into Russian (uk,kk…)."
    )
    allow_noncommercial: bool = option(False, "--allow-noncommercial", help="Let the routes pick CC-BY-NC models (NLLB-200) for --to and --read.")


@dataclass(frozen=True)
class RunFlags:
    """The options of `summarize` itself (the model options are config.Choices)."""

    paths: list[str] | None = option(None, argument=True, show_default=False, help="Files or folders to summarise; '-' or nothing reads piped stdin.")
    fmt: Format | None = _output_format()
    output_dir: Path | None = option(None, "--output-dir", "-o", file_okay=False, help="Write one file per input here instead of to stdout.")
    glob: str | None = option(None, "--glob", show_default=False, help="Which files of a folder to take \\[default: *.txt].")
    recursive: bool = option(False, "--recursive", "-r", help="Also take files from subfolders.")
    translate: bool | None = _translate()
    strict: bool = _strict()
    skip_existing: bool = _skip_existing("--output-dir, --output or --ray")
    overwrite: bool = _overwrite()
    fail_fast: bool = option(False, "--fail-fast", help="Stop at the first input that fails.")
    errors_file: Path | None = option(None, "--errors", dir_okay=False, help="Write every failed input with its reason to this file (JSON lines).")
    max_input_chars: int = _max_input_chars()
    input_file: Path | None = option(
        None, "--input-file", "-i", show_default=False, help="Read paths and URLs from this file, one a line ('#' comments; '-' for stdin)."
    )
    output: str | None = option(
        None,
        "--output",
        show_default=False,
        help="Write one dataset of all results (.jsonl, .csv or .parquet by extension), a row per input or record, keyed by id.",
    )
    text_field: str = _text_field()
    id_field: str = _id_field()
    title_field: str | None = option(
        None, "--title-field", show_default=False, help="Datasets: the field holding the headline \\[default: title, when present]."
    )
    ray: bool = option(False, "--ray", help="Run on Ray Data (pip install 'summarize\\[ray]'): --output is then a folder of Parquet shards.")
    ray_address: str | None = option(
        None, "--ray-address", show_default=False, help="With --ray: join this cluster (auto, or ray://HOST:10001) \\[default: a local Ray for this run]."
    )
    workers: int | None = option(None, "--workers", min=1, show_default=False, help="With --ray: CPUs to use, actors × threads \\[default: all the cluster's].")
    server: str | None = option(
        None,
        "--server",
        envvar=SERVER_ENV,
        show_default=False,
        help="Send the articles to a running `summarize serve` at this address (http://HOST:PORT) instead of loading models here; "
        "the output is the same (a token goes in SUMMARIZE_TOKEN).",
    )

    @property
    def fields(self) -> Fields:
        from summarize.inputs.datasets import Fields

        return Fields(self.text_field, self.id_field, self.title_field)

    @property
    def reading(self) -> Reading:
        from summarize.inputs.reading import Reading

        return Reading(self.max_input_chars, self.fields, self.fail_fast)

    def given(self) -> list[str]:
        """The paths and URLs named, on the command line and in --input-file."""
        from summarize.inputs.listing import read_path_list

        return [*(self.paths or []), *(read_path_list(self.input_file) if self.input_file else [])]


@dataclass(frozen=True)
class CheckJob:
    """What `summarize check` was asked to do: each field is also its command-line option."""

    data: str = option(
        REQUIRED, argument=True, show_default=False, help="A dataset (.jsonl, .csv or .parquet; a storage URI too) of articles and their summaries."
    )
    text_field: str = _text_field()
    summary_field: str = option("summary", "--summary-field", help="The field holding its Russian summary.")
    translation_field: str | None = option(
        None,
        "--translation-field",
        show_default=False,
        help="The field holding the summary's English translation: its numbers are compared with the Russian summary's.",
    )
    id_field: str = _id_field()
    articles: str | None = option(
        None,
        "--articles",
        show_default=False,
        help="Take each record's article from this dataset instead, joined by id (DATA keyed by its `id` field, as an earlier run's --output is; "
        "--text-field and --id-field are this dataset's).",
    )
    strip_html: bool = option(
        False, "--strip-html", help="Remove HTML tags and entities (&nbsp;) from articles, summaries and translations before checking them."
    )
    fmt: Format | None = _output_format()
    output: Path | None = option(
        None,
        "--output",
        dir_okay=False,
        show_default=False,
        help="Also write each record's id, unsupported spans and error to this dataset (.jsonl, .csv or .parquet by extension).",
    )
    skip_existing: bool = _skip_existing("--output")
    overwrite: bool = _overwrite()
    max_input_chars: int = _max_input_chars()


@dataclass(frozen=True)
class EvalJob:
    """What `summarize eval` was asked to do: each field is also its command-line option. A field
    option left out takes the task's default (evaluate.data.TASK_FIELDS)."""

    data: str = option(
        REQUIRED,
        argument=True,
        show_default=False,
        help="A dataset (.jsonl, .csv or .parquet; a storage URI too) of articles and reference summaries, or of Russian and English with --task translate.",
    )
    task: Task = option(Task.summarize, "--task", help="What to score.")
    text_field: str | None = option(
        None, "--text-field", show_default=False, help="The field holding the article (the Russian to translate) \\[default: text; ru with --task translate]."
    )
    summary_field: str | None = option(
        None, "--summary-field", show_default=False, help="The field holding the reference \\[default: summary; en with --task translate]."
    )
    id_field: str = _id_field()
    predictions: str | None = option(
        None,
        "--predictions",
        show_default=False,
        help="Score these predictions (a dataset of {id, summary}, or {id, en}; a storage URI too) instead of running a model.",
    )
    prediction_field: str | None = option(
        None,
        "--prediction-field",
        show_default=False,
        help="The field of --predictions holding each prediction \\[default: summary; en with --task translate].",
    )
    save_predictions: Path | None = option(
        None,
        "--save-predictions",
        dir_okay=False,
        show_default=False,
        help="Also write what the model produced, {id, summary} or {id, en}, to this dataset (.jsonl, .csv or .parquet by extension).",
    )
    overwrite: bool = _overwrite("--save-predictions")
    limit: int | None = option(None, "--limit", min=1, show_default=False, help="Only the first N records.")
    strip_html: bool = option(False, "--strip-html", help="Remove HTML tags and entities from the data (the RIA corpus has them).")
    fmt: ScoreFormat = option(ScoreFormat.table, "--format", "-f", help="A table, or one JSON object for scripts.")
    max_input_chars: int = _max_input_chars()


@dataclass(frozen=True)
class ServeFlags:
    """How the server listens, what it lets in, and how it batches."""

    host: str = option("127.0.0.1", "--host", help="Address to listen on; any but a loopback address needs --token.")
    port: int = option(8000, "--port", min=0, max=65535, help="Port to listen on (0: any free port, said when ready).")
    token: str | None = option(
        None,
        "--token",
        envvar=TOKEN_ENV,
        show_default=False,
        help="Every request but /healthz must carry 'Authorization: Bearer TOKEN' (prefer the environment variable: a flag shows in ps).",
    )
    tokens_file: Path | None = option(
        None,
        "--tokens-file",
        show_default=False,
        help="Named keys: a file of 'NAME TOKEN' lines ('#' comments), each token let in like --token; re-read on SIGHUP. "
        "The access log and metrics name the key, never the token.",
    )
    requests_per_minute: int | None = option(
        None,
        "--requests-per-minute",
        min=1,
        show_default=False,
        help="Most /v1/ requests a minute per key (per client address without a token); past it, 429 and Retry-After \\[default: no limit].",
    )
    cors: list[str] | None = option(None, "--cors", show_default=False, help="Let web pages from this origin call the API (repeatable) \\[default: none].")
    allow_private_urls: bool = option(
        False, "--allow-private-urls", help="Let url requests fetch loopback, private and link-local addresses (never for a server others can reach)."
    )
    translate: bool | None = _translate()
    strict: bool = _strict()
    max_input_chars: int = _max_input_chars()
    max_body: int = option(4 * 1024 * 1024, "--max-body", min=1, help="Refuse request bodies larger than this many bytes.")
    max_batch: int = option(64, "--max-batch", min=1, help="Most documents in one /v1/summarize/batch request.")
    max_beams: int = option(8, "--max-beams", min=1, help="Most beams a request may ask for.")
    queue: int = option(256, "--queue", min=1, help="Documents waiting for the models; past this, requests get 503 and Retry-After.")
    max_group: int | None = option(
        None, "--max-group", min=1, show_default=False, help="Most documents summarised together \\[default: what the device batches well]."
    )
    wait_ms: float = option(5.0, "--wait-ms", min=0, help="How long a group waits for more requests before it runs, in milliseconds.")
    deadline: float = option(
        120.0, "--deadline", min=0.001, help="Seconds a request may take from its first byte, its upload and waiting included; past it, 504."
    )
    read_timeout: float = option(
        15.0, "--read-timeout", min=0.001, help="Seconds a connection has to send a whole request (headers and body); past it, 408 and closed."
    )
    max_connections: int | None = option(
        None,
        "--max-connections",
        min=1,
        show_default=False,
        help="Most open connections; past it, a new one closes the oldest idle one (else 503) \\[default: what the file limit leaves room for].",
    )
    fetchers: int = option(8, "--fetchers", min=1, help="URLs fetched at once, apart from text requests; up to --max-batch more wait, past that 503.")
    grace: float = option(
        30.0, "--grace", min=0, help="On SIGTERM or Ctrl-C, seconds to finish the requests in progress; past it they get 503 and the server exits."
    )
    access_log: bool = option(True, "--access-log/--no-access-log", help="One line on stderr per request (never its headers or body).")
    ray: bool = option(False, "--ray", help="Serve with Ray Serve (pip install 'summarize\\[ray]'): --replicas copies of the models.")
    ray_address: str | None = option(
        None, "--ray-address", show_default=False, help="With --ray: join this cluster (auto, or ray://HOST:10001) \\[default: a local Ray]."
    )
    replicas: int = option(1, "--replicas", min=1, help="With --ray: how many replicas, each with its own models.")

    @property
    def batch_limit(self) -> int:
        """Most documents one batch request may hold: --max-batch, and never more than the queue holds."""
        return min(self.max_batch, self.queue)


@functools.cache
def contract_fields() -> dict[str, tuple[Field, Any]]:
    """Every option a run marks per_request (the model Choices, then the run's own: translate, strict),
    with its type: the one declaration the server's request model, the --server client and the
    server's grouping of requests are derived from."""
    return {spec.name: (spec, typing.get_type_hints(kind)[spec.name]) for kind in (Choices, RunFlags) for spec in fields(kind) if per_request(spec) is not None}


def request_fields() -> dict[str, tuple[Field, Any]]:
    """What a request may change (the options marked per_request=True), each with its type."""
    return {name: marked for name, marked in contract_fields().items() if per_request(marked[0])}

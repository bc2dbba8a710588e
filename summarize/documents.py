"""What flows through a run: an Input found, a Document read, a Result out, and the run's Tally.

Readers (files, web pages, datasets) make Inputs and Documents, sinks take Inputs and Results (or
summarize check's Checked records), and the runs count them in a Tally, so all of them live here,
where every room can import them without importing each other.
"""

from __future__ import annotations

import signal
from dataclasses import asdict, dataclass, field, fields, make_dataclass
from pathlib import Path, PurePath
from typing import Any, TypedDict


@dataclass(frozen=True)
class Document:
    """One article, read and decoded, ready for the engines."""

    source: str  # as shown to the user: the path as given, "stdin", a URL, or a dataset record
    text: str  # the body the engines summarise (never the headline)
    warnings: tuple[str, ...] = field(default=())  # found while reading it; copied into its Result
    title: str | None = None
    url: str | None = None
    date: str | None = None  # as the page or dataset gives it (ISO 8601 where known)


@dataclass(frozen=True)
class Failure:
    """An input that could not be read; it still gets its Result, in its place in the run."""

    source: str
    error: str
    title: str | None = None  # what is known of it all the same (a page's address)
    url: str | None = None
    date: str | None = None


class Unsupported(TypedDict):
    """A span of a model summary that its article does not support (summarize.checks.flags.Flag as
    plain data: a Result holds only what its writers can serialise)."""

    text: str  # the span as it stands in the summary (a number the translation dropped: the Russian span)
    kind: str  # name, number or date
    field: str  # summary_ru, or summary_en: what the translation changed


class Usage(TypedDict):
    """Tokens an LLM endpoint counted for one result, over every request it took (map-reduce rounds,
    an LLM translation): what a hosted API bills."""

    prompt_tokens: int
    completion_tokens: int
    requests: int


@dataclass
class Result:
    """What one input became; also exactly what the json/jsonl writers serialise."""

    # First in every output; keyword-only so that Result(source, …) reads as before. The sinks set it
    # (outputs.sink.Sinks.write): a dataset record's id, else the source (a path, a URL, "stdin").
    id: str | None = field(default=None, kw_only=True)
    source: str
    title: str | None = None  # the headline, when the input has one (never summarised as body text)
    url: str | None = None
    date: str | None = None
    summary_ru: str | None = None
    summary_en: str | None = None  # then summary_<code> for each other --to target, in --to order (`translations`)
    engine: str | None = None  # abstractive, llm, extractive or lead
    model: str | None = None  # the summariser preset (llm: the model name its server answered with); null for the model-free engines
    translator: str | None = None  # the first --to target's preset (--to en: the one)
    translators: list[str] | None = None  # with several targets: each one's preset, in --to order
    language: str | None = None  # the article's, ISO 639-1 (--source-lang, else detected; "und": no letters)
    language_confidence: float | None = None
    source_translator: str | None = None  # the preset that took a non-Russian article into Russian first
    backend: str | None = None  # what ran the summariser: "torch fp32", "ctranslate2 int8", an LLM endpoint's host:port; null without a model
    input_tokens: int | None = None  # model tokens; null for the model-free engines
    used_tokens: int | None = None
    truncated: bool = False
    chunks: int = 0  # model passes over the article's text (0 for the model-free engines)
    seconds: float = 0.0
    usage: Usage | None = None  # what LLM endpoints counted for it; null when no LLM ran
    warnings: list[str] = field(default_factory=list)
    # What the summary check flagged: None when no check ran (extractive and lead copy sentences,
    # --no-check, a failed input); [] when it ran and found nothing. The error stays the last key.
    unsupported: list[Unsupported] | None = None
    error: str | None = None
    # The --to targets other than English, in order: written as summary_<code> keys after summary_en.
    translations: dict[str, str | None] = field(default_factory=dict, kw_only=True, repr=False)
    # The --to order, English included, for the text writers (the machine formats keep summary_en's place).
    targets: tuple[str, ...] = field(default=(), kw_only=True, repr=False)

    def to_dict(self) -> dict[str, Any]:
        row = asdict(self)
        del row["targets"]
        translations = row.pop("translations")
        if not translations:
            return row
        keys = list(row)
        at = keys.index("summary_en") + 1
        return {k: row[k] for k in keys[:at]} | {f"summary_{code}": text for code, text in translations.items()} | {k: row[k] for k in keys[at:]}

    def translated(self) -> list[tuple[str, str | None]]:
        """Each target's translation in --to order (without it: English, then the others); a target
        asked for keeps its place with None when its model was missing."""
        order = self.targets or (("en",) if self.summary_en is not None else ()) + tuple(self.translations)
        return [(code, self.summary_en if code == "en" else self.translations.get(code)) for code in order]


HIDDEN = ("translations", "targets")  # Result fields that are not columns of their own


def row_fields(row_type: type) -> list:
    """The fields of a row type that are columns (Result.translations is spread into summary_<code> ones)."""
    return [spec for spec in fields(row_type) if spec.name not in HIDDEN]


def result_row(targets: tuple[str, ...] = ()) -> type:
    """The columns of a run's --output: Result's, with summary_<code> after summary_en for each target
    other than English (a dataclass of its own, used only for its fields)."""
    extra = [code for code in targets if code != "en"]
    if not extra:
        return Result
    columns: list[tuple[str, Any, Any]] = []
    for spec in fields(Result):
        if spec.name in HIDDEN:
            continue
        columns.append((spec.name, spec.type, field(default=None)))
        if spec.name == "summary_en":
            columns += [(f"summary_{code}", "str | None", field(default=None)) for code in extra]
    return make_dataclass("ResultRow", columns, namespace={"__module__": __name__})


@dataclass
class Checked:
    """One record of `summarize check`: a summary made elsewhere, checked against its article; also
    exactly what its json/jsonl output and --output rows hold."""

    id: str
    unsupported: list[Unsupported] | None = None  # as Result.unsupported; None when the record failed
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(Checked)}  # its row: a subclass's fields are not columns


@dataclass
class CheckedSummaries(Checked):
    """A Checked with the summaries it is about: what `summarize check` hands its sinks, so that a
    rich panel can mark the flagged spans in them. Its row (to_dict, the --output columns) is Checked's."""

    summary_ru: str | None = field(default=None, kw_only=True)
    summary_en: str | None = field(default=None, kw_only=True)


@dataclass
class Tally:
    done: int = 0
    skipped: int = 0
    left: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    stopped_by: signal.Signals | None = None
    seconds: float = 0.0
    resume: str = ""  # how to pick up a stopped run, said after the tally when it stopped
    unread: str = ""  # a dataset stopped part-way: its records past the last one read are not counted in `left`

    def add(self, source: str, error: str | None) -> None:
        """Count one finished input: done, or failed with its reason."""
        if error is None:
            self.done += 1
        else:
            self.failures.append((source, error))

    def line(self) -> str:
        parts = [f"{self.done} done", f"{len(self.failures)} failed"]
        if self.skipped:
            parts.append(f"{self.skipped} skipped (already written)")
        if self.left:
            parts.append(f"{self.left} left")
        text = ", ".join(parts) + f" in {self.seconds:.1f} s" + (f"; not read: {self.unread}" if self.unread else "")
        if not self.stopped_by:
            return text
        return f"stopped by {self.stopped_by.name}: {text}" + (f"; {self.resume}" if self.resume else "")


@dataclass(frozen=True)
class Input:
    """One thing to summarise, found but not read yet (reading is lazy so big batches stream)."""

    source: str  # as shown to the user: the path as given, or "stdin"
    path: Path | None  # None for stdin
    name: PurePath  # relative name for --output-dir: path inside its folder, or the file name
    error: str | None = None  # set when listing already failed (a missing path, an empty folder)
    id: str | None = None  # a dataset record's id (--output rows are keyed by it; else the source)
    url: str | None = None  # a web page to fetch
    uri: str | None = None  # a file in an object store (s3://…, gs://…), read through summarize.storage

    @property
    def is_stdin(self) -> bool:
        return self.path is None and self.url is None and self.id is None and self.uri is None

    @property
    def location(self) -> Path | str | None:
        """Where its bytes are read from: a local path or a storage URI (None: stdin, a page, a record)."""
        return self.path if self.path is not None else self.uri

    @property
    def key(self) -> str:
        return self.id if self.id is not None else self.source

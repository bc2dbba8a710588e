"""What flows through a run: a Document in, a Result out.

Every reader (files, web pages, datasets) makes Documents and every writer takes Results, so both
live here, where readers and writers can import them without importing each other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One article, read and decoded, ready for the engines."""

    source: str  # as shown to the user: the path as given, "stdin", a URL, or a dataset record
    text: str  # the body the engines summarise (never the headline)
    warnings: tuple[str, ...] = field(default=())  # found while reading it; copied into its Result
    title: str | None = None
    url: str | None = None
    date: str | None = None  # as the page or dataset gives it (ISO 8601 where known)
    id: str | None = None  # a dataset record's id


@dataclass(frozen=True)
class Failure:
    """An input that could not be read; it still gets its Result, in its place in the run."""

    source: str
    error: str
    title: str | None = None  # what is known of it all the same (a page's address)
    url: str | None = None
    date: str | None = None


@dataclass
class Result:
    """What one input became; also exactly what the json/jsonl writers serialise."""

    source: str
    title: str | None = None  # the headline, when the input has one (never summarised as body text)
    url: str | None = None
    date: str | None = None
    summary_ru: str | None = None
    summary_en: str | None = None
    engine: str | None = None  # abstractive, extractive or lead
    model: str | None = None  # the summariser preset; null for the model-free engines
    translator: str | None = None
    backend: str | None = None  # what ran the summariser: "torch fp32", "ctranslate2 int8"…; null without a model
    input_tokens: int | None = None  # model tokens; null for the model-free engines
    used_tokens: int | None = None
    truncated: bool = False
    chunks: int = 0  # model passes over the article's text (0 for the model-free engines)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

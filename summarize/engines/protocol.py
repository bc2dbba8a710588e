"""The engines seam: what the pipeline may ask of a summariser or translator.

A leaf module: the engines (seq2seq.py, ct2.py, extractive.py) and their callers import it, and it
imports none of them, so no implementation imports its own package's loader.

Two kinds sit behind it. A `ModelEngine` is a seq2seq model (torch or CTranslate2) or an LLM behind
an OpenAI-compatible endpoint: it counts tokens and generates, and the pipeline fits articles to its
input. An `Extractor` picks sentences and needs no model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from summarize.config import Engine, Preset
from summarize.documents import Usage
from summarize.routes import Leg

Notify = Callable[[str], None]


@dataclass(frozen=True)
class Remote:
    """What a remote engine's server said of one output: its model name and token counts, or why
    there is no output (that input's failure; `overflow`: its prompt was over the server's context,
    which the engine has now learnt, so a refitted input may go again)."""

    model: str | None = None
    usage: Usage | None = None
    failed: str | None = None
    overflow: bool = False
    cancelled: bool = False  # not sent, or given up, because the run is stopping
    notes: tuple[str, ...] = ()  # what the engine changed in the output, for the result's warnings


class Generated(str):
    """A model's output text that also says whether decoding stopped at the length limit
    (max_new_tokens) instead of at the model's own end: such an output may be cut off. A remote
    engine's output also carries what its server said (`remote`); a local model's has None."""

    capped: bool
    remote: Remote | None

    def __new__(cls, text: str, capped: bool = False, remote: Remote | None = None) -> Generated:
        output = super().__new__(cls, text)
        output.capped = capped
        output.remote = remote
        return output


@dataclass(frozen=True)
class Hints:
    """What an engine that writes from a prompt may use beyond the texts: each text's title, the
    sentences asked for (--length), and the run's stop (asked while requests are in flight). A
    seq2seq model reads the body alone, as it was trained, and its generate() call is not cut short."""

    titles: Sequence[str | None] = ()
    sentences: int | None = None
    should_stop: Callable[[], bool] = lambda: False


class ModelEngine(Protocol):
    """A loaded seq2seq model on one device, or an LLM endpoint (device "remote")."""

    preset: Preset
    backend: str  # what runs it, as results record it: "torch fp32", "ctranslate2 int8", an LLM endpoint's host:port
    device: str  # "cpu", "cuda", "mps", or "remote"
    batch_tokens: int  # beams × padded input tokens worth putting into one generate() call (per device)
    special_tokens: int  # tokens the model adds around any input

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text, without the special tokens."""

    def input_length(self, text: str) -> int:
        """Tokens the model sees for this text, special tokens included."""

    def generate(
        self, texts: Sequence[str], settings: dict[str, Any], batch_size: int = 8, hints: Hints | None = None, leg: Leg | None = None
    ) -> list[Generated]:
        """One output per text, in order; `settings` are generate() keyword arguments; `leg`: the
        tokens a translator needs for its language pair (a >>deu<< prefix, a forced first token)."""


@dataclass(frozen=True)
class Extract:
    """Chosen sentences and what happened on the way, so callers never lose text silently."""

    text: str  # chosen sentences joined with spaces, in article order
    sentences: tuple[int, ...]  # indices of the chosen sentences in split_sentences(text)
    total_sentences: int
    warnings: tuple[str, ...]  # a cut sentence, the candidate cap, an empty input


@runtime_checkable
class Extractor(Protocol):
    """A model-free summariser: sentences of the article, chosen and kept verbatim."""

    engine: Engine

    def extract(self, text: str, sentences: int, max_words: int | None) -> Extract: ...


@dataclass
class Engines:
    """What a run summarises and translates with, and the run-wide notices their loading gave."""

    summarizer: ModelEngine | Extractor
    translator: ModelEngine | None = None  # the first target's (--to en: the one)
    notices: list[str] = field(default_factory=list)
    translators: dict[str, ModelEngine | None] = field(default_factory=dict)  # by target code, in --to order; None: not available

    def translator_for(self, code: str, first: bool) -> ModelEngine | None:
        """The engine translating into `code` (engines made without translators: the translator for the first target)."""
        return self.translators.get(code) if self.translators else (self.translator if first else None)

    @property
    def engine(self) -> Engine:
        return self.summarizer.engine if isinstance(self.summarizer, Extractor) else self.summarizer.preset.engine

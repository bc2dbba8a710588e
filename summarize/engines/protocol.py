"""The engines seam: what the pipeline may ask of a summariser or translator.

A leaf module: the engines (seq2seq.py, ct2.py, extractive.py) and their callers import it, and it
imports none of them, so no implementation imports its own package's loader.

Two kinds sit behind it. A `ModelEngine` is a seq2seq model (torch or CTranslate2): it counts
tokens and generates, and the pipeline fits articles to its input. An `Extractor` picks sentences
and needs no model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from summarize.config import Engine, Preset
from summarize.routes import Leg

Notify = Callable[[str], None]


class Generated(str):
    """A model's output text that also says whether decoding stopped at the length limit
    (max_new_tokens) instead of at the model's own end: such an output may be cut off."""

    capped: bool

    def __new__(cls, text: str, capped: bool = False) -> Generated:
        output = super().__new__(cls, text)
        output.capped = capped
        return output


class ModelEngine(Protocol):
    """A loaded seq2seq model on one device."""

    preset: Preset
    backend: str  # what runs it, as results record it: "torch fp32", "ctranslate2 int8"…
    device: str  # "cpu", "cuda" or "mps"
    batch_tokens: int  # beams × padded input tokens worth putting into one generate() call (per device)
    special_tokens: int  # tokens the model adds around any input

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text, without the special tokens."""

    def input_length(self, text: str) -> int:
        """Tokens the model sees for this text, special tokens included."""

    def generate(self, texts: Sequence[str], settings: dict[str, Any], batch_size: int = 8, leg: Leg | None = None) -> list[Generated]:
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
        return self.summarizer.engine if isinstance(self.summarizer, Extractor) else Engine.abstractive

"""Document → Result: fit the article to the model (lead truncation or map-reduce), summarise, translate."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from summarize.config import Config, ModelSpec
from summarize.errors import SummarizeError
from summarize.sources import Document
from summarize.text import chunk_sentences, fit_to_budget, group_digits, join_sentences, split_sentences

LongMode = Literal["truncate", "chunk"]


@dataclass
class Result:
    """What one input became; also exactly what the json/jsonl writers serialise."""

    source: str
    summary_ru: str | None = None
    summary_en: str | None = None
    model: str | None = None
    translator: str | None = None
    input_tokens: int | None = None
    used_tokens: int | None = None
    truncated: bool = False
    chunks: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Options:
    summarizer: ModelSpec
    translator: ModelSpec | None  # None: --no-translate
    summary_settings: dict[str, Any]  # generate() kwargs after --beams/--length
    long_mode: LongMode = "truncate"
    device: str = "auto"
    offline: bool = False


def make_options(
    config: Config,
    *,
    model: str | None = None,
    translator: str | None = None,
    translate: bool | None = None,
    beams: int | None = None,
    length: str | None = None,
    long_mode: LongMode = "truncate",
    device: str = "auto",
    offline: bool = False,
) -> Options:
    """Presets plus command-line overrides; None means "as models.toml says"."""
    spec = config.summarizer(model)
    wants_translation = config.translate if translate is None else translate
    settings = dict(spec.generate)
    if length is not None:
        if length not in config.lengths:
            raise SummarizeError(f"--length {length}: models.toml has no [lengths] entry for it; choose one of: {', '.join(config.lengths)}")
        settings.update(config.lengths[length])
    if beams is not None:
        settings["num_beams"] = beams
    return Options(
        summarizer=spec,
        translator=config.translator(translator) if wants_translation else None,
        summary_settings=settings,
        long_mode=long_mode,
        device=device,
        offline=offline,
    )


class Pipeline:
    """Holds the loaded models so that they load once per run, however many inputs."""

    def __init__(self, options: Options):
        self.options = options
        self._summarizer = None
        self._translator = None

    def load(self) -> None:
        """Load both models; raises SummarizeError naming the model and how to get it."""
        if self._summarizer is not None:
            return
        from summarize import hub
        from summarize.engines.seq2seq import Seq2Seq, pick_device

        opts = self.options
        device = pick_device(opts.device)
        paths = [hub.model_dir(spec, opts.offline) for spec in (opts.summarizer, opts.translator) if spec]
        self._summarizer = Seq2Seq(opts.summarizer, paths[0], device)
        if opts.translator is not None:
            self._translator = Seq2Seq(opts.translator, paths[1], device)

    def run(self, doc: Document) -> Result:
        started = time.perf_counter()
        opts = self.options
        result = Result(
            source=doc.source,
            model=opts.summarizer.name,
            translator=opts.translator.name if opts.translator else None,
            warnings=list(doc.warnings),
        )
        self.load()
        self._summarise(doc.text, result)
        if self._translator is not None and result.summary_ru:
            from summarize.engines.translate import translate

            result.summary_en, notes = translate(self._translator, result.summary_ru, opts.translator.generate)
            result.warnings.extend(notes)
        result.seconds = round(time.perf_counter() - started, 3)
        return result

    def _summarise(self, text: str, result: Result) -> None:
        engine = self._summarizer
        limit = engine.spec.max_input_tokens
        settings = self.options.summary_settings
        result.input_tokens = engine.input_length(text)
        if result.input_tokens <= limit:
            result.used_tokens, result.chunks = result.input_tokens, 1
            result.summary_ru = engine.generate([text], settings)[0]
        elif self.options.long_mode == "chunk":
            self._map_reduce(text, result)
        else:
            self._lead(text, result)
        if not result.summary_ru:
            result.warnings.append("the model produced an empty summary")

    def _lead(self, text: str, result: Result) -> None:
        """Keep the leading sentences that fit: news is lead-heavy and the Gazeta models trained so."""
        engine = self._summarizer
        limit = engine.spec.max_input_tokens
        sentences = split_sentences(text)
        counts = engine.count_tokens(sentences)
        kept = fit_to_budget(counts, limit - engine.special_tokens)
        # Counts of separate sentences can differ by a token from the joined text's; check the real one.
        while kept > 0 and engine.input_length(join_sentences(sentences[:kept])) > limit:
            kept -= 1
        if kept == 0:
            lead = sentences[0]
            used = limit
            how = f"the first sentence alone is {group_digits(counts[0])} tokens long and was cut"
        else:
            lead = join_sentences(sentences[:kept])
            used = engine.input_length(lead)
            how = f"{kept} of {len(sentences)} sentences"
        result.truncated = True
        result.used_tokens = used
        result.chunks = 1
        result.warnings.append(
            f"summarised the first {group_digits(used)} of {group_digits(result.input_tokens)} tokens "
            f"({how}); use --long chunk to summarise all of it"
        )
        result.summary_ru = engine.generate([lead], self.options.summary_settings)[0]

    def _map_reduce(self, text: str, result: Result) -> None:
        """Summarise sentence-aligned chunks that each fit, then their joined summaries, again and
        again until they fit in one input; then summarise that."""
        engine = self._summarizer
        limit = engine.spec.max_input_tokens
        settings = self.options.summary_settings
        current, length = text, result.input_tokens
        while length > limit:
            chunks = self._fitting_chunks(split_sentences(current))
            if not result.chunks:
                result.chunks, result.used_tokens = len(chunks), result.input_tokens
            current = join_sentences([p for p in engine.generate(chunks, settings, batch_size=4) if p])
            shorter = engine.input_length(current)
            if shorter >= length:  # summaries as long as their input: more rounds would never end
                raise SummarizeError(
                    f"{result.source}: the partial summaries are no shorter than the text ({shorter} tokens); "
                    "use --long truncate, or a shorter max_new_tokens for this preset"
                )
            length = shorter
        result.summary_ru = engine.generate([current], settings)[0] if current else ""

    def _fitting_chunks(self, sentences: list[str]) -> list[str]:
        engine = self._summarizer
        limit = engine.spec.max_input_tokens
        budget = limit - engine.special_tokens
        while True:
            chunks = chunk_sentences(sentences, engine.count_tokens, budget)
            worst = max(engine.input_length(c) for c in chunks)
            if worst <= limit or budget <= 1:
                return chunks
            budget -= worst - limit  # joined text took a few more tokens than its sentences did

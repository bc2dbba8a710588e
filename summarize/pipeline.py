"""Document → Result: fit the article to the model (lead truncation or map-reduce), summarise, translate."""

from __future__ import annotations

import time
from dataclasses import dataclass
from collections.abc import Callable, Sequence
from typing import Any, Literal

from summarize.config import Config, ModelSpec
from summarize.errors import ModelNotAvailable, SummarizeError
from summarize.documents import Document, Result
from summarize.text import chunk_sentences, fit_to_budget, group_digits, join_sentences, split_sentences

LongMode = Literal["truncate", "chunk"]
Engine = Literal["abstractive", "extractive", "lead"]



@dataclass(frozen=True)
class Options:
    summarizer: ModelSpec
    translator: ModelSpec | None  # None: --no-translate
    summary_settings: dict[str, Any]  # generate() kwargs after --beams/--length
    engine: Engine = "abstractive"
    sentences: int = 3  # for the extractive and lead engines
    max_words: int | None = None
    long_mode: LongMode = "truncate"
    device: str = "auto"
    offline: bool = False
    strict: bool = False  # a model that is not available is an error, not a fallback
    backend: str | None = None  # None: each preset's own
    quantize: str | None = None


def make_options(
    config: Config,
    *,
    model: str | None = None,
    engine: Engine | None = None,
    translator: str | None = None,
    translate: bool | None = None,
    beams: int | None = None,
    length: str | None = None,
    max_words: int | None = None,
    long_mode: LongMode = "truncate",
    device: str = "auto",
    offline: bool = False,
    strict: bool = False,
    backend: str | None = None,
    quantize: str | None = None,
) -> Options:
    """Presets plus command-line overrides; None means "as models.toml says"."""
    spec = config.summarizer(model)
    engine = engine or spec.engine
    if max_words is not None and engine == "abstractive":
        raise SummarizeError("--max-words is for --engine extractive or lead; for a model, use --length")
    wants_translation = config.translate if translate is None else translate
    chosen_length = config.length(length)
    settings = {**spec.generate, **{k: v for k, v in chosen_length.items() if k != "sentences"}}
    if beams is not None:
        settings["num_beams"] = beams
    return Options(
        summarizer=spec,
        translator=config.translator(translator) if wants_translation else None,
        summary_settings=settings,
        engine=engine,
        sentences=int((chosen_length or config.lengths.get("medium", {})).get("sentences", 3)),
        max_words=max_words,
        long_mode=long_mode,
        device=device,
        offline=offline,
        strict=strict,
        backend=backend,
        quantize=quantize,
    )


def _ctranslate2_on_cpu(device: str) -> bool:
    """The auto backend: CTranslate2 where it is installed and the run is on the CPU (measured
    several times faster there, see bench/results); torch, with its half precision, on a GPU."""
    import importlib.util

    if device not in ("auto", "cpu") or importlib.util.find_spec("ctranslate2") is None:
        return False
    import ctranslate2

    return device == "cpu" or ctranslate2.get_cuda_device_count() == 0


class Pipeline:
    """Holds the loaded models so that they load once per run, however many inputs."""

    def __init__(self, options: Options, progress: Callable[[str], None] = lambda message: None):
        self.options = options
        self.progress = progress  # one-time work worth a line on stderr (a model conversion)
        self.engine: Engine = options.engine  # may become "extractive" when the model is not available
        self.notices: list[str] = []  # run-wide fallbacks, also recorded in every Result's warnings
        self._loaded = False
        self._summarizer = None
        self._translator = None

    def load(self) -> None:
        """Load the models once. A model that is not on this machine and cannot be fetched is
        replaced (extractive engine for the summariser, no translation) unless --strict; any other
        load failure raises SummarizeError naming the model."""
        if self._loaded:
            return
        opts = self.options
        if self.engine == "abstractive":
            self._summarizer = self._load_or_skip(
                opts.summarizer, "summarised with the extractive engine instead"
            )
            if self._summarizer is None:
                self.engine = "extractive"
        if opts.translator is not None:
            self._translator = self._load_or_skip(opts.translator, "the translation is skipped")
        self._loaded = True

    def _load_or_skip(self, spec: ModelSpec, instead: str):
        from summarize import hub

        try:
            path = hub.model_dir(spec, self.options.offline)
        except ModelNotAvailable as e:
            if self.options.strict:
                raise
            self.notices.append(f"{e}; {instead} (--strict makes this an error)")
            return None
        backend = self.options.backend or spec.backend
        quantize = self.options.quantize or spec.quantize
        if backend == "ctranslate2" or (backend == "auto" and _ctranslate2_on_cpu(self.options.device)):
            from summarize.engines.ct2 import CT2Seq2Seq

            try:
                engine = CT2Seq2Seq(spec, path, self.options.device, quantize, self.progress)
            except SummarizeError as e:
                if backend == "ctranslate2":
                    raise
                self.notices.append(f"{e}; using torch for it instead")
            else:
                if engine.ignored:
                    self.notices.append(
                        f"the ctranslate2 backend has no equivalent of {', '.join(engine.ignored)} "
                        f"(preset {spec.name}); decoding goes on without (--backend torch honours them)"
                    )
                return engine
        from summarize.engines.seq2seq import Seq2Seq, pick_device

        return Seq2Seq(spec, path, pick_device(self.options.device), quantize)

    def run(self, doc: Document) -> Result:
        return self.run_many([doc])[0]

    def run_many(self, docs: Sequence[Document], should_stop: Callable[[], bool] = lambda: False) -> list[Result | None]:
        """Summarise and translate documents together: model inputs go through generate() in
        batches within a token budget, and all summary sentences through the translator as one
        padded batch. `should_stop` is asked between batches; documents not reached come back None."""
        started = time.perf_counter()
        self.load()
        results = [self._new_result(doc) for doc in docs]
        inputs = [self._model_input(doc.text, result) for doc, result in zip(docs, results)]
        done = [text is None for text in inputs]
        lengths = [r.used_tokens if text is not None else None for r, text in zip(results, inputs)]
        for batch in self._summary_batches(lengths):
            if should_stop() and any(done):
                break
            summaries = self._summarizer.generate([inputs[i] for i in batch], self.options.summary_settings, len(batch))
            for i, summary in zip(batch, summaries):
                results[i].summary_ru, done[i] = summary, True
        finished = [r for r, ok in zip(results, done) if ok]
        for result in finished:
            if not result.summary_ru:
                result.warnings.append("the summary is empty")
        if self._translator is not None:
            from summarize.engines.translate import translate_many

            texts = [r.summary_ru or "" for r in finished]
            for result, (english, notes) in zip(finished, translate_many(self._translator, texts, self.options.translator.generate)):
                result.summary_en = english if result.summary_ru else None
                result.warnings.extend(notes)
        share = round((time.perf_counter() - started) / max(1, len(finished)), 3)
        for result in finished:
            result.seconds = share  # documents batched together share its time
        return [r if ok else None for r, ok in zip(results, done)]

    def translate_many(self, texts: Sequence[str]) -> list[str]:
        """English for Russian texts with the loaded translator (for `summarize eval --task translate`)."""
        from summarize.engines.translate import translate_many

        self.load()
        if self._translator is None:
            raise SummarizeError("no translator is loaded; drop --no-translate")
        return [english for english, _ in translate_many(self._translator, texts, self.options.translator.generate)]

    def _new_result(self, doc: Document) -> Result:
        opts = self.options
        return Result(
            source=doc.source,
            engine=self.engine,
            model=opts.summarizer.name if self._summarizer is not None else None,
            translator=opts.translator.name if self._translator is not None else None,
            backend=self._summarizer.description if self._summarizer is not None else None,
            warnings=[*doc.warnings, *self.notices],
        )

    def _summary_batches(self, lengths: Sequence[int | None]) -> list[list[int]]:
        """Indices of the pending inputs (their token counts; None when done), shortest first,
        grouped so that beams × padded tokens stays within the engine's batch_tokens (how much
        batching pays differs by backend)."""
        pending = sorted((i for i, n in enumerate(lengths) if n is not None), key=lambda i: lengths[i])
        beams = int(self.options.summary_settings.get("num_beams", 1))
        batches: list[list[int]] = []
        for i in pending:
            longest = lengths[i]  # sorted, so the last is the longest
            if batches and beams * longest * (len(batches[-1]) + 1) <= self._summarizer.batch_tokens:
                batches[-1].append(i)
            else:
                batches.append([i])
        return batches

    def _model_input(self, text: str, result: Result) -> str | None:
        """What goes into the summariser for this document; None when its summary is already made
        (the model-free engines, or map-reduce, which needs several rounds of its own)."""
        if self.engine != "abstractive":
            self._extract(text, result)
            return None
        engine = self._summarizer
        result.input_tokens = engine.input_length(text)
        if result.input_tokens <= engine.spec.max_input_tokens:
            result.used_tokens, result.chunks = result.input_tokens, 1
            return text
        if self.options.long_mode == "chunk":
            self._map_reduce(text, result)
            return None
        return self._truncate_to_lead(text, result)

    def _extract(self, text: str, result: Result) -> None:
        from summarize.engines.extractive import extract_central, extract_lead

        pick = extract_central if self.engine == "extractive" else extract_lead
        extract = pick(text, self.options.sentences, self.options.max_words)
        result.summary_ru = extract.text
        result.warnings.extend(extract.warnings)

    def _truncate_to_lead(self, text: str, result: Result) -> str:
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
        return lead

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

"""Documents → Results, the only place that calls engines.

`Pipeline.run_all` is what every caller runs (the CLI's batch loop, `summarize eval`, the library):
it takes documents a group at a time, fits each to the summariser (lead truncation or map-reduce),
generates in batches within the engine's token budget, translates every summary sentence in one
padded batch, and retries a failing group one document at a time, so one bad input fails alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from itertools import islice

from summarize.checks.checker import LOAD_ERRORS, Checker, unchecked_notice
from summarize.config import Engine, LongMode
from summarize.documents import Document, Failure, Result
from summarize.engines.device import CPU_GROUP, group_size, summary_batches
from summarize.engines.llm import cyrillic_share, max_tokens
from summarize.engines.loader import load_engines, load_translator
from summarize.engines.protocol import Engines, Extractor, Hints, ModelEngine, Notify
from summarize.errors import SummarizeError, first_line
from summarize.fitting import fitting_chunks, truncate_to_lead
from summarize.options import Options
from summarize.source_language import in_russian
from summarize.text import group_digits, join_sentences, repeated_phrase, split_sentences
from summarize.translations import add_usage, keep_translation

MAP_BATCH = 4  # chunks of one article per generate() call in map-reduce


class Pipeline:
    """Holds the engines, loaded once per run however many documents go through.

    Engines may be passed in (tests, `summarize eval`); otherwise they load on first use from the
    options. `notify` receives the lines worth showing on stderr: run-wide notices (once), each
    document's warnings, and one-time work such as a model conversion.
    """

    def __init__(
        self,
        options: Options,
        engines: Engines | None = None,
        notify: Notify = lambda _: None,
        debug: bool = False,
        checker: Checker | None = None,
        readers: dict[str, tuple[ModelEngine, list[str]]] | None = None,
    ):
        self.options = options
        self.notify = notify
        self.debug = debug  # a model failure on one document raises instead of failing that document
        self._engines = engines
        self._checker = checker  # else made on the first model summary to check (natasha loads then); a server shares one
        self._check_off: str | None = None  # why this run's summaries go unchecked, said once
        self._translator_alone: ModelEngine | None = None  # translate_texts() before the engines are loaded
        # Translators into Russian of the non-Russian articles, by preset, each loaded with the first article
        # that needs it; a server passes its own dict, so that they load once and stay, as its summariser does.
        self._readers: dict[str, tuple[ModelEngine, list[str]]] = {} if readers is None else readers

    @property
    def engines(self) -> Engines:
        """The engines, loaded on first use; raises SummarizeError when a model cannot load."""
        if self._engines is None:
            self._engines = load_engines(self.options, self.notify)
            for notice in self._engines.notices:
                self.notify(f"warning: {notice}")
        return self._engines

    @property
    def translator(self) -> ModelEngine | None:
        """The run's translator; when the engines are not loaded yet, it alone is (`summarize eval
        --task translate` needs no summariser)."""
        if self._engines is not None:
            return self._engines.translator
        if self._translator_alone is None:
            self._translator_alone, notices = load_translator(self.options, self.notify)
            for notice in notices:
                self.notify(f"warning: {notice}")
        return self._translator_alone

    def translate_texts(self, texts: Sequence[str]) -> list[str]:
        """Russian texts in the first --to language (English by default), sentence by sentence as the run translates its summaries."""
        from summarize.engines.translate import translate_many

        if self.translator is None:
            raise SummarizeError("no translator: the run was made with --no-translate, or its model is not available")
        leg = self.options.targets[0].leg if self.options.targets else None
        return [english for english, _ in translate_many(self.translator, list(texts), self.options.translator.generate, leg)]

    def run_all(
        self,
        items: Iterable[Document | Failure],
        should_stop: Callable[[], bool] = lambda: False,
        group_size: int | None = None,
        blocking: Callable[[], AbstractContextManager] = nullcontext,
    ) -> Iterator[tuple[Document | Failure, Result]]:
        """Each item with its Result, in order, streamed group by group. `should_stop` is asked
        between generate() calls: documents not reached then get no Result (left for a rerun).
        Loading the engines (a download, a conversion) runs inside `blocking()`, where a caller
        may let a signal interrupt it. A group (sorted by length inside, so batches are dense) is
        `group_size` documents, or as many as the engine's device batches well."""
        iterator = iter(items)
        while not should_stop():
            group = list(islice(iterator, group_size or self._group_size()))
            if not group:
                return
            docs = [item for item in group if isinstance(item, Document)]
            if docs:
                with blocking():
                    self.engines  # noqa: B018 - a model that cannot load ends the run here, not per document
            summarised = iter(self._run_group(docs, should_stop) if docs else [])
            for item in group:
                result = next(summarised) if isinstance(item, Document) else self._result(item.source, error=item.error, doc=item)
                if result is None:
                    continue
                if result.error is None:
                    self._record_notices(item, result)
                yield item, result

    def _group_size(self) -> int:
        engine = self._engines.summarizer if self._engines is not None else None
        if engine is None or isinstance(engine, Extractor):
            return CPU_GROUP  # the engines load with the first group (a GPU's group size is known from the second)
        beams = int(self.options.summary_settings.get("num_beams", 1))
        return group_size(engine.device, engine.batch_tokens, beams, engine.preset.max_input_tokens)

    def run(self, doc: Document) -> Result:
        """One document; errors raise instead of becoming a failed Result (library use)."""
        result = self._summarise([doc])[0]
        self._record_notices(doc, result)
        return result

    def _run_group(self, docs: list[Document], should_stop: Callable[[], bool]) -> list[Result | None]:
        """The group in one go; if that fails, each document alone, so one bad input fails alone."""
        if len(docs) > 1:
            try:
                return self._summarise(docs, should_stop)
            except Exception:  # noqa: BLE001 - find the culprit below
                pass
        results: list[Result | None] = []
        for doc in docs:
            if should_stop() and results:
                results.append(None)
                continue
            try:
                results.append(self._summarise([doc])[0])
            except SummarizeError as e:
                results.append(self._result(doc.source, error=str(e), doc=doc))
            except Exception as e:  # a model failure on one input (out of memory, say) must not stop the batch
                if self.debug:
                    raise
                message = f"{doc.source}: the model failed on it ({type(e).__name__}: {first_line(e, 200)}); rerun with --debug for details"
                results.append(self._result(doc.source, error=message, doc=doc))
        return results

    def _summarise(self, docs: Sequence[Document], should_stop: Callable[[], bool] = lambda: False) -> list[Result | None]:
        """Summarise and translate documents together: model inputs go through generate() in
        batches within the engine's token budget, and all summary sentences through the translator
        as one padded batch. Documents not reached before `should_stop` come back None; one whose
        input overflowed a remote engine's context (learnt from that answer) is fitted again and retried."""
        started = time.perf_counter()
        results = [self._result(doc.source, list(doc.warnings), doc=doc) for doc in docs]
        docs = [in_russian(doc, result, self.options, self._readers, self.notify) for doc, result in zip(docs, results)]  # its failure its own
        inputs = [self._input_or_failure(doc.text, result, should_stop) if result.error is None else None for doc, result in zip(docs, results)]
        done = [text is None and (result.summary_ru is not None or result.error is not None) for text, result in zip(inputs, results)]
        overflowed = self._generate(docs, inputs, results, done, should_stop, first=True)
        if overflowed and not should_stop():
            again: list[str | None] = [None] * len(docs)
            for i in overflowed:
                again[i] = self._input_or_failure(docs[i].text, results[i], should_stop)
                done[i] = again[i] is None and (results[i].summary_ru is not None or results[i].error is not None)
            self._generate(docs, again, results, done, should_stop, first=False)
        finished = [r for r, ok in zip(results, done) if ok and r.error is None]
        for result in finished:
            self._say_what_is_odd(result)
        self._translate(finished)
        self._check([(doc, r) for doc, r, ok in zip(docs, results, done) if ok and r.error is None])
        share = round((time.perf_counter() - started) / max(1, len(finished)), 3)
        for result in finished:
            result.seconds = share  # documents batched together share its time
        return [r if ok else None for r, ok in zip(results, done)]

    def _generate(
        self, docs: Sequence[Document], inputs: list[str | None], results: list[Result], done: list[bool], should_stop: Callable[[], bool], first: bool
    ) -> list[int]:
        """The pending inputs through the summariser in batches, each output taken into its Result;
        returns the indices whose input overflowed a remote engine's context (on the first pass)."""
        engine, overflowed = self.engines.summarizer, []
        if all(text is None for text in inputs):
            return overflowed  # all done already (a model-free engine, map-reduce): nothing to batch
        lengths = [r.used_tokens if text is not None else None for r, text in zip(results, inputs)]
        beams = int(self.options.summary_settings.get("num_beams", 1))
        for batch in summary_batches(lengths, engine.batch_tokens, beams):
            if should_stop() and any(done):
                break
            hints = Hints([docs[i].title for i in batch], self.options.sentences, should_stop)
            outputs = engine.generate([inputs[i] for i in batch], self.options.summary_settings, len(batch), hints)
            for i, output in zip(batch, outputs):
                remote, result = getattr(output, "remote", None), results[i]  # None: a local model's output
                add_usage(result, output)
                if remote is not None and remote.cancelled:
                    continue
                if remote is not None and remote.overflow and first:
                    result.warnings.append(f"the prompt was longer than the LLM's context ({remote.failed}); fitted again with --long {self.options.long_mode}")
                    overflowed.append(i)
                    continue
                if remote is not None and remote.failed:
                    result.error, result.translator = f"{result.source}: {remote.failed}", None
                else:
                    result.summary_ru, result.model = output, (remote.model if remote and remote.model else result.model)
                    result.warnings.extend(remote.notes if remote else ())
                done[i] = True
        return overflowed

    def _say_what_is_odd(self, result: Result) -> None:
        """Warnings for a summary that may be cut off, is empty, loops, or (an LLM's) is not Russian."""
        summarizer = self.engines.summarizer
        if getattr(result.summary_ru, "capped", False):
            result.warnings.append(f"the summary stopped at the length limit ({self._limit()}), not at its end: it may be cut off; try --length long")
        if not result.summary_ru:
            result.warnings.append("the summary is empty")
        elif loop := repeated_phrase(result.summary_ru):
            why = "its sentences, taken from the article, repeat it" if isinstance(summarizer, Extractor) else "the model fell into a loop"
            result.warnings.append(f"the summary repeats {loop!r}: {why}")
        if result.summary_ru and self.engines.engine is Engine.llm and (share := cyrillic_share(result.summary_ru)) < 0.5:
            result.warnings.append(f"the summary is not in Russian ({share:.0%} of its letters are Cyrillic): the LLM answered in another language")

    def _limit(self) -> str:
        preset, settings = self.engines.summarizer.preset, self.options.summary_settings
        if preset.llm is not None:
            return f"the LLM's max_tokens = {max_tokens(preset.llm, settings)}"
        return f"max_new_tokens = {settings['max_new_tokens']}" if "max_new_tokens" in settings else "the model's maximum length"

    def _translate(self, results: list[Result]) -> None:
        """Every summary into each --to target, one padded batch per target's engine; a target whose
        model is not available keeps its field null (the run's notice says why)."""
        if not results:
            return
        from summarize.engines.translate import translate_many

        texts = [r.summary_ru or "" for r in results]
        several = len(self.options.targets) > 1
        for result in results:
            result.targets = tuple(target.code for target in self.options.targets)
        for i, target in enumerate(self.options.targets):
            translator = self.engines.translator_for(target.code, i == 0)
            if target.code != "en":
                for result in results:
                    result.translations[target.code] = None
            if translator is None:
                continue
            for result, (text, notes) in zip(results, translate_many(translator, texts, target.preset.generate, target.leg)):
                add_usage(result, text)
                failed = getattr(text, "remote", None) is not None and text.remote.failed
                keep_translation(result, target.code, text if result.summary_ru and not failed else None, notes, several)

    def _check(self, summarised: list[tuple[Document, Result]]) -> None:
        """Each model summary (and its translation) checked against the whole article, not only the
        lead the model saw: what a summary says must be in the article either way. The model-free
        engines copy the article's sentences, so theirs stay unchecked (None)."""
        if not self.options.check or self._check_off or not summarised or isinstance(self.engines.summarizer, Extractor):
            return
        for doc, result in summarised:
            try:
                self._checker = self._checker or Checker()
                flags = self._checker.check(doc.text, result.summary_ru, result.summary_en)
                flags += self._checker.check_translations(result.summary_ru, result.translations)
            except LOAD_ERRORS as e:
                if self.debug:
                    raise
                self._check_off = unchecked_notice(e)
                self.notify(f"warning: {self._check_off}")
                return
            except Exception as e:  # noqa: BLE001 - a check that fails on one summary leaves it unchecked, said in its warnings
                if self.debug:
                    raise
                result.warnings.append(f"the summary check failed on it ({type(e).__name__}: {first_line(e, 200)}); its summary is not checked")
                continue
            result.unsupported = [flag.to_dict() for flag in flags]
            if flags:
                result.warnings.append(self._checker.warning(flags))
            if result.translations:
                codes = ", ".join(result.translations)
                result.warnings.append(f"names are checked in the Russian summary only: the translations into {codes} were checked for their digits alone")

    def _record_notices(self, doc: Document, result: Result) -> None:
        """Say the document's own warnings, then record the run-wide notices (already said once)
        in its Result too, after what reading it found, so each result is complete on its own."""
        for warning in result.warnings:
            self.notify(f"warning: {result.source}: {warning}")
        read = len(doc.warnings)
        unchecked = [self._check_off] if self._check_off and result.model and result.unsupported is None else []
        result.warnings[read:read] = [*self.engines.notices, *unchecked]

    def _result(self, source: str, warnings: list[str] | None = None, error: str | None = None, doc: Document | Failure | None = None) -> Result:
        """The one way a Result starts: what ran it is filled in from the engines (or, before they
        load, from the options). A failed one names only what it reached: nothing for an input
        that was never read (a Failure), the summariser for one that failed in the engines, and
        never a translator, since no translation was made."""
        engines, opts = self._engines, self.options
        if engines is None:
            model_engine = not opts.engine.model_free
            translator = opts.translator.name if opts.translator else None
            engine, backend = opts.engine.value, None
        else:
            model_engine = not isinstance(engines.summarizer, Extractor)
            first = engines.translator_for(opts.targets[0].code, True) if opts.targets else None  # a server's: this request's first target
            translator = first.preset.name if first else None
            engine, backend = engines.engine.value, engines.summarizer.backend if model_engine else None
        preset = opts.summarizer
        model = (preset.llm.model if preset.llm else preset.name) if model_engine else None  # an LLM's: as its server answers, once it has
        if isinstance(doc, Failure):
            engine = model = backend = None
        several = len(opts.targets) > 1 and error is None and translator is not None
        if error is not None:
            translator = None
        return Result(
            source=source,
            title=doc.title if doc else None,
            url=doc.url if doc else None,
            date=doc.date if doc else None,
            engine=engine,
            model=model,
            translator=translator,
            translators=[t.preset.name for t in opts.targets] if several else None,
            backend=backend,
            warnings=warnings or [],
            error=error,
            translations={t.code: None for t in opts.targets if t.code != "en"},  # a failed row has every target's key, as summary_en
        )

    def _input_or_failure(self, text: str, result: Result, should_stop: Callable[[], bool]) -> str | None:
        """_model_input, with a SummarizeError (a map-reduce that cannot end, a remote request that
        failed on a chunk) made that document's failure, not its group's."""
        try:
            return self._model_input(text, result, should_stop)
        except SummarizeError as e:
            result.error, result.translator = str(e), None
            return None

    def _model_input(self, text: str, result: Result, should_stop: Callable[[], bool]) -> str | None:
        """What goes into the summariser for this document; None when its summary is already made
        (the model-free engines, or map-reduce, which needs several rounds of its own; a map-reduce
        stopped by `should_stop` leaves summary_ru None)."""
        engine = self.engines.summarizer
        if isinstance(engine, Extractor):
            extract = engine.extract(text, self.options.sentences, self.options.max_words)
            result.summary_ru = extract.text
            result.warnings.extend(extract.warnings)
            return None
        result.input_tokens, result.chunks = engine.input_length(text), 0  # (again, after an overflow: chunks counted afresh)
        if result.input_tokens <= engine.preset.max_input_tokens:
            result.used_tokens, result.chunks = result.input_tokens, 1
            return text
        if self.options.long_mode is LongMode.chunk:
            self._map_reduce(text, result, should_stop)
            return None
        return truncate_to_lead(engine, text, result)

    def _map_reduce(self, text: str, result: Result, should_stop: Callable[[], bool]) -> None:
        """Summarise sentence-aligned chunks that each fit, then their joined summaries, again and
        again until they fit in one input; then summarise that. `should_stop` is asked between
        generate() calls: a long article must not hold a Ctrl-C for all of its chunks."""
        engine = self.engines.summarizer
        current, length = text, result.input_tokens
        while length > engine.preset.max_input_tokens:
            chunks = fitting_chunks(engine, split_sentences(current))
            if not result.chunks:
                result.chunks, result.used_tokens = len(chunks), result.input_tokens
            partial: list[str] = []
            for start in range(0, len(chunks), MAP_BATCH):
                outputs = None if should_stop() else self._round(chunks[start : start + MAP_BATCH], result, result.title, should_stop)
                if outputs is None:
                    return
                partial += outputs
            current = join_sentences([p for p in partial if p])
            shorter = engine.input_length(current)
            if shorter >= length:  # summaries as long as their input: more rounds would never end
                raise SummarizeError(
                    f"{result.source}: the partial summaries are no shorter than the text ({group_digits(shorter)} tokens); "
                    f"use --long truncate, or a shorter {'max_tokens' if engine.preset.llm else 'max_new_tokens'} for this preset"
                )
            length = shorter
        final = self._round([current], result, result.title, should_stop) if current else [""]
        if final is not None:
            result.summary_ru = final[0]
            result.model = getattr(final[0], "remote", None) and final[0].remote.model or result.model

    def _round(self, texts: list[str], result: Result, title: str | None, should_stop: Callable[[], bool]) -> list[str] | None:
        """One map-reduce call, its usage counted; None when the run stopped it; a failed remote request fails the document."""
        hints = Hints([title] * len(texts), self.options.sentences, should_stop)
        outputs = self.engines.summarizer.generate(texts, self.options.summary_settings, batch_size=len(texts), hints=hints)
        for output in outputs:
            add_usage(result, output)
            if output.remote is not None and output.remote.cancelled:
                return None
            if output.remote is not None and output.remote.failed:
                raise SummarizeError(f"{result.source}: {output.remote.failed}")
        return outputs

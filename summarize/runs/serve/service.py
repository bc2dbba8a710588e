"""The served summariser, apart from HTTP: the engines loaded once, the options a request may change
within the server's limits, and the batcher that runs documents of concurrent requests together (a
request's documents are read by inputs.given). The Ray Serve replica holds one too."""

from __future__ import annotations

import concurrent.futures
from dataclasses import fields, replace
from typing import Any

from summarize.checks.checker import LOAD_ERRORS, Checker, unchecked_notice
from summarize.config import Config, Engine, LongMode
from summarize.documents import Document, Failure, Result
from summarize.engines.device import CPU_GROUP, group_size
from summarize.engines.protocol import Engines, Extractor, Notify
from summarize.errors import SummarizeError
from summarize.flags import ServeFlags, request_fields
from summarize.options import Choices, OptionConflict, Options, make_options
from summarize.pipeline import Pipeline
from summarize.routes import parse_targets
from summarize.runs.serve.batching import Batcher, Watcher
from summarize.runs.serve.error_shape import UNPROCESSABLE, Rejected, http_spelling
from summarize.runs.serve.fetching import Fetchers

CHOICE_NAMES = {spec.name for spec in fields(Choices)}  # what a request changes of the server's Choices; the rest are make_options's arguments


class Service:
    """One server's summariser. `load()` loads the engines (the server answers 503 until it is done);
    every request's pipeline shares them, whatever options it asks for."""

    def __init__(self, config: Config, choices: Choices, flags: ServeFlags, notify: Notify, watcher: Watcher = Watcher()):
        self.config, self.choices, self.flags, self.notify, self.watcher = config, choices, flags, notify, watcher
        self.options = make_options(config, choices, flags.translate, flags.strict)  # the presets are checked here, before anything loads
        self.engines: Engines | None = None
        self.checker: Checker | None = None  # natasha, loaded once at start when summaries are checked
        self.readers: dict = {}  # the translators into Russian, loaded with the first article that needs each, kept (one batcher thread)
        self.batcher = Batcher(self._run_group, self._group_limit, flags.queue, flags.wait_ms / 1000, watcher)
        self.fetchers = Fetchers(flags.fetchers, flags.max_batch)  # urls apart from text requests (fetching.py)

    @property
    def ready(self) -> bool:
        return self.engines is not None

    def load(self) -> None:
        """Load the engines and the check (their notices said once, here), then start taking documents."""
        engines = Pipeline(self.options, notify=self.notify).engines
        if self.options.check and not isinstance(engines.summarizer, Extractor):
            self.checker = _load_checker(engines, self.notify)
        self.engines = engines
        self.batcher.start()

    def close(self) -> None:
        self.batcher.close()
        self.fetchers.close()

    def describe(self) -> str:
        """What serves, for the ready line: the model and its backend, or the engine; the translator."""
        engines = self.engines
        summarizer = engines.summarizer
        what = (
            f"{summarizer.engine} engine"
            if isinstance(summarizer, Extractor)
            else f"model {summarizer.preset.name}, {summarizer.backend} on {summarizer.device}"
        )
        translator = f"translator {engines.translator.preset.name}" if engines.translator else "no translation"
        return f"{what}; {translator}"

    def options_for(self, asked: dict[str, Any]) -> Options:
        """The server's options with the request's changes (its Choices fields replaced on the server's
        Choices, the others make_options's own arguments); Rejected when the server cannot run them:
        what combines options is make_options's to say, in the request's words (options.max_words)."""
        self._refuse_unloaded(asked)
        changes = {name: value for name, value in asked.items() if name in CHOICE_NAMES}
        if asked.get("translate") is False:  # the server's --to is not the request's: translate false drops it
            changes["to"] = None
        if changes.get("engine", Engine.abstractive).model_free:  # the server's model settings (its endpoint too) are not a model-free engine's
            changes |= {"long_mode": LongMode.truncate, "beams": changes.get("beams"), "llm_url": None, "llm_model": None}
        given = {"translate": self.options.translate, "strict": self.flags.strict} | {k: v for k, v in asked.items() if k not in CHOICE_NAMES}
        try:
            return make_options(self.config, replace(self.choices, **changes), **given)
        except OptionConflict as e:
            raise Rejected(UNPROCESSABLE, e.said(http_spelling)) from None
        except SummarizeError as e:
            raise Rejected(UNPROCESSABLE, str(e)) from None

    def _refuse_unloaded(self, asked: dict) -> None:
        """The server's own limits: what a request asks that it did not load (a model, the translator,
        the check) or allow (beams over --max-beams)."""
        engine = asked.get("engine") or self.options.engine
        model_free = engine.model_free
        if asked.get("beams", 0) > self.flags.max_beams and engine is Engine.abstractive:  # other engines' beams: make_options says why not
            raise Rejected(UNPROCESSABLE, f"{http_spelling('beams')} is over this server's limit of {self.flags.max_beams}")
        if not model_free and engine is not self.options.engine:  # a model, or an LLM endpoint, is the server's to load, never a request's
            lacks = "has no LLM endpoint" if engine is Engine.llm else "runs no model" if self.options.engine.model_free else "runs no local model"
            *others, last = [e.value for e in Engine if e.model_free or e is self.options.engine]
            raise Rejected(
                UNPROCESSABLE,
                f"this server {lacks} (it was started with the {self.options.engine} engine); ask for {http_spelling('engine')} {', '.join(others)} or {last}",
            )
        if asked.get("to") is not None and asked.get("translate") is not False and self.options.translate:  # "" too: in the request's words
            offered = [t.code for t in self.options.targets]
            try:
                codes = parse_targets(asked["to"], http_spelling("to"))
            except SummarizeError as e:
                raise Rejected(UNPROCESSABLE, str(e)) from None
            if lacking := [code for code in codes if code not in offered]:
                raise Rejected(UNPROCESSABLE, f"this server translates into {', '.join(offered)}, not {', '.join(lacking)}; start it with --to to offer more")
        if asked.get("to") is not None and (asked.get("translate") is False or not self.options.translate):
            off = f"{http_spelling('translate')} false" if asked.get("translate") is False else "a server started with --no-translate"
            raise Rejected(UNPROCESSABLE, f"{http_spelling('to')} asks for translations, which {off} does not make; leave out one of them")
        if asked.get("translate") and not self.options.translate:
            raise Rejected(UNPROCESSABLE, f"this server does not translate (it was started with --no-translate); leave out {http_spelling('translate')}")
        if asked.get("check") and self.checker is None and not model_free:
            raise Rejected(
                UNPROCESSABLE,
                f"this server does not check summaries (started with --no-check, or the check cannot load); leave out {http_spelling('check')}",
            )

    def submit(self, work: list[tuple[Options, Document]], deadline: float) -> list[concurrent.futures.Future]:
        """Queue documents, each with its options, all or none (batching.QueueFull when there is no room)."""
        return self.batcher.submit([(_group_key(options), options, doc) for options, doc in work], deadline)

    def failed(self, options: Options, failure: Failure) -> Result:
        """A document that could not be read, as the result a local run gives it."""
        return next(Pipeline(options, engines=self._engines_for(options), checker=self.checker).run_all([failure]))[1]

    def _run_group(self, options: Options, docs: list[Document]) -> list[Result]:
        options = replace(options, check=options.check and self.checker is not None)
        pipeline = Pipeline(options, engines=self._engines_for(options), checker=self.checker, readers=self.readers)
        return [result for _, result in pipeline.run_all(docs, group_size=len(docs))]

    def _engines_for(self, options: Options) -> Engines:
        """The loaded engines as these options use them: a model-free engine in place of the model,
        no translator for translate=false."""
        from summarize.engines.extractive import EXTRACTORS

        loaded = self.engines
        summarizer = EXTRACTORS[options.engine] if options.engine.model_free else loaded.summarizer
        translating = options.translator is not None
        return Engines(summarizer, loaded.translator if translating else None, loaded.notices, loaded.translators if translating else {})

    def _group_limit(self, options: Options) -> int:
        """Documents per group: --max-group, else what the device batches well for these options."""
        engine = self._engines_for(options).summarizer
        if self.flags.max_group:
            return self.flags.max_group
        if isinstance(engine, Extractor):
            return CPU_GROUP
        return group_size(engine.device, engine.batch_tokens, int(options.summary_settings.get("num_beams", 1)), engine.preset.max_input_tokens)


def _group_key(options: Options) -> tuple:
    """Documents whose options are equal in what a request may change run in one group."""
    return tuple(getattr(options, name) for name in request_fields())


def _load_checker(engines: Engines, notify: Notify) -> Checker | None:
    """The names-and-numbers check, natasha loaded now rather than on the first request; None when it
    cannot load, said once here and recorded in every result (the summaries go unchecked)."""
    checker = Checker()
    try:
        checker.names  # noqa: B018 - loads natasha and pymorphy3
    except LOAD_ERRORS as e:
        notice = unchecked_notice(e)
        notify(f"warning: {notice}")
        engines.notices.append(notice)
        return None
    return checker

"""Loading the engines a run asks for, with the fallbacks it may take: a model that is not on this
machine → the extractive engine or no translation; CTranslate2 that cannot run → torch. Every
fallback is a notice, never silent. An LLM endpoint has none: the user asked for that server, so one
that does not answer is an error at load, --strict or not."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from summarize.config import Backend, Device, Dtype, Engine, Preset, Quantize
from summarize.engines.device import accelerators, pick_device
from summarize.engines.protocol import Engines, Extractor, ModelEngine, Notify
from summarize.errors import BackendUnavailable, ModelNotAvailable, SummarizeError
from summarize.options import Options
from summarize.routes import unscored


def load_engines(options: Options, notify: Notify) -> Engines:
    """Both engines; the models that are not on this machine get a short notice each, and one
    shared line says how to get them (a fresh machine without network: three lines in all)."""
    summarizer, notices = load_summarizer(options, notify)
    translators, more = load_translators(options, notify)
    missing = [options.summarizer.name] if options.engine is Engine.abstractive and isinstance(summarizer, Extractor) else []
    missing += list(dict.fromkeys(t.preset.name for t in options.targets if translators[t.code] is None))
    advice = (
        [
            f"to get {'it' if len(missing) == 1 else 'them'}: `summarize models download {' '.join(missing)}` on a connected machine, or point `model` "
            "in models.toml at a local directory (--strict makes a missing model an error)"
        ]
        if missing
        else []
    )
    translator = translators[options.targets[0].code] if options.targets else None
    return Engines(summarizer, translator, notices + more + advice + unscored([t.code for t in options.targets]), translators)


def load_summarizer(options: Options, notify: Notify) -> tuple[ModelEngine | Extractor, list[str]]:
    """The run's summariser and the run-wide notices its loading gave (a fallback, an ignored setting)."""
    from summarize.engines.extractive import EXTRACTORS

    notices: list[str] = []
    if options.engine is Engine.llm:
        return load_llm(options.summarizer, options, options.summary_settings), notices
    if options.engine is not Engine.abstractive:
        return EXTRACTORS[options.engine], notices
    engine = _load_or_skip(options.summarizer, options, notify, notices, "summarised with the extractive engine instead")
    return (engine or EXTRACTORS[Engine.extractive]), notices


def load_translator(options: Options, notify: Notify) -> tuple[ModelEngine | None, list[str]]:
    """The run's translator (None with --no-translate, or when it is not available) and its notices."""
    notices: list[str] = []
    if options.translator is None:
        return None, notices
    if options.translator.engine is Engine.llm:
        return load_llm(options.translator, options, options.translator.generate, translation=True), notices
    return _load_or_skip(options.translator, options, notify, notices, "the translation is skipped"), notices


def load_translators(options: Options, notify: Notify) -> tuple[dict[str, ModelEngine | None], list[str]]:
    """Each --to target's translator, by code (a preset shared by several targets loads once), and the notices."""
    notices: list[str] = []
    loaded: dict[str, ModelEngine | None] = {}
    for target in options.targets:
        if target.preset.name in loaded:
            continue
        if target.preset.engine is Engine.llm:  # an endpoint: probed now, an error when it does not answer
            loaded[target.preset.name] = load_llm(target.preset, options, target.preset.generate, translation=True)
        else:
            instead = "the translation is skipped" if len(options.targets) == 1 else f"the translation into {target.code} is skipped"
            loaded[target.preset.name] = _load_or_skip(target.preset, options, notify, notices, instead)
    return {t.code: loaded[t.preset.name] for t in options.targets}, notices


def load_llm(preset: Preset, options: Options, generate: dict, translation: bool = False) -> ModelEngine:
    """An LLM preset's endpoint, probed now: SummarizeError (exit 2, before any work) when it does not
    answer, refuses the key or lacks the model. `generate`: the settings whose max_new_tokens the
    context keeps free for the answer (an llm preset's own max_tokens wins)."""
    from summarize.engines.llm import LLMEngine, max_tokens

    return LLMEngine(preset, options.llm_concurrency, translation, max_tokens(preset.llm, generate, translation) if preset.llm else None)


def load_reader(preset: Preset, options: Options, notify: Notify) -> tuple[ModelEngine, list[str]]:
    """A translator into Russian for a non-Russian article, and the notices its loading gave (CTranslate2
    that fell back to torch); a model not on this machine is that article's failure."""
    from summarize import hub

    if preset.engine is Engine.llm:
        return load_llm(preset, options, preset.generate, translation=True), []
    notices: list[str] = []
    return _load_local(preset, hub.model_dir(preset, options.offline), options, notify, notices), notices


def _load_or_skip(preset: Preset, options: Options, notify: Notify, notices: list[str], instead: str) -> ModelEngine | None:
    from summarize import hub

    try:
        path = hub.model_dir(preset, options.offline)
    except ModelNotAvailable as e:
        if options.strict:
            raise
        notices.append(f"{str(e).partition('; ')[0]}; {instead}")  # how to get it: one line for all, see load_engines
        return None
    return _load_local(preset, path, options, notify, notices)


def _load_local(preset: Preset, path: Path, options: Options, notify: Notify, notices: list[str]) -> ModelEngine:
    """The model in `path` with the run's backend, quantisation, device, dtype and CPU threads over the preset's."""
    backend = options.backend or preset.backend
    quantize = options.quantize or preset.quantize
    return load_engine(preset, path, options.device, backend, quantize, notify=notify, notices=notices, dtype=options.dtype, cpu_threads=options.cpu_threads)


def load_engine(
    preset: Preset,
    path: Path,
    device: Device,
    backend: Backend,
    quantize: Quantize | None,
    *,
    notify: Notify = lambda message: None,
    notices: list[str] | None = None,
    dtype: Dtype = Dtype.auto,
    cpu_threads: int | None = None,
) -> ModelEngine:
    """The model in `path` on the backend asked for. `auto` is CTranslate2 where it is installed
    and the run is on a CPU (several times faster there, see bench/results), torch otherwise. An
    auto choice of CTranslate2 that cannot convert the model, or CTranslate2 that cannot run on
    this GPU at all (its CUDA libraries missing), falls back to torch with a notice. `cpu_threads`
    bounds CTranslate2's threads on a CPU (None: the cores this process may use)."""
    notices = [] if notices is None else notices
    check_input_limit(preset, path)
    if backend is Backend.ctranslate2 or (backend is Backend.auto and _ctranslate2_on_cpu(device)):
        from summarize.engines.ct2 import TORCH_ADVICE, CT2Seq2Seq

        try:
            engine = CT2Seq2Seq(preset, path, pick_device(device, Backend.ctranslate2), quantize, notify, dtype=dtype, cpu_threads=cpu_threads)
        except SummarizeError as e:
            if backend is Backend.ctranslate2 and not isinstance(e, BackendUnavailable):
                raise
            notices.append(f"{str(e).removesuffix(TORCH_ADVICE)}; using torch for it instead")
        else:
            if engine.ignored:
                notices.append(
                    f"the ctranslate2 backend has no equivalent of {', '.join(engine.ignored)} "
                    f"(preset {preset.name}); decoding goes on without (--backend torch honours them)"
                )
            return engine
    from summarize.engines.seq2seq import Seq2Seq

    return Seq2Seq(preset, path, pick_device(device, Backend.torch), quantize, dtype)


def check_input_limit(preset: Preset, path: Path) -> None:
    """max_input_tokens within the model's table of positions, checked once at load: over it, every
    input would fail inside the model (torch: "index out of range in self"). T5-family models
    (relative positions, `relative_attention_num_buckets`) have no such table and no limit."""
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # the backend's own loading says what is wrong with the directory
    if not isinstance(config, dict) or "relative_attention_num_buckets" in config:
        return
    limit = config.get("max_position_embeddings") or config.get("n_positions")
    if isinstance(limit, int) and not isinstance(limit, bool) and preset.max_input_tokens > limit:
        raise SummarizeError(
            f"preset {preset.name}: max_input_tokens = {preset.max_input_tokens} is more than model {preset.model} can read "
            f"({limit} tokens, its config.json); set max_input_tokens to at most {limit} in models.toml"
        )


def _ctranslate2_on_cpu(device: Device) -> bool:
    if device not in (Device.auto, Device.cpu) or importlib.util.find_spec("ctranslate2") is None:
        return False
    return device is Device.cpu or not accelerators(Backend.ctranslate2)[0]

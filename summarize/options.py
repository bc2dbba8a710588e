"""The run's options: each one declared once (name, type, default, help) as a field of the dataclass its
value lives in; the model options users share (Choices) resolved against the presets into Options.

Each Choices field is also marked per_request=True (a server's request may change it: the request model,
the --server client and the server's grouping are derived from the mark, see flags.contract_fields) or
per_request=False (the server's own choice, fixed when it starts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from pathlib import Path
from string import Formatter
from typing import Any, get_args, get_type_hints

from summarize.config import CONFIG_ENV, MAX_BEAMS, Backend, Choice, Config, Device, Dtype, Engine, Length, LongMode, Preset, Quantize
from summarize.errors import SummarizeError
from summarize.llm_presets import LLM_KEY_ENV, LLMSettings, check_url
from summarize.routes import SOURCE, Leg, noncommercial, parse_targets, refuse_noncommercial


def option(default: Any, *flags: str, help: str, per_request: bool | None = None, **typer_settings: Any) -> Any:
    """A dataclass field that is also a command-line option: its flags and help sit beside its type
    and default, the one place each is written. The CLI reads them from the field's metadata
    (summarize.cli), so this module needs no Typer. `per_request`: whether a server's request may
    change it (True), or it is the server's own (False); the CLI does not pass it on to Typer."""
    metadata = {"flags": flags, "help": help, **typer_settings} | ({PER_REQUEST: per_request} if per_request is not None else {})
    return field(metadata=metadata) if default is REQUIRED else field(default=default, metadata=metadata)


REQUIRED = MISSING  # option(REQUIRED, …): a value the command cannot run without
PER_REQUEST = "per_request"  # the metadata key of the mark
ADHOC_LLM = "llm"  # the name of the summariser preset --engine llm --llm-url URL --llm-model NAME makes


def per_request(spec: Field) -> bool | None:
    """An option's mark: True, a request may change it; False, the server's own; None, unmarked."""
    return spec.metadata.get(PER_REQUEST)


def flag_of(spec: Field) -> str:
    """The option as the command line spells it: its first flag (`--long`; `--check` of --check/--no-check)."""
    return spec.metadata["flags"][0].split("/")[0]


@dataclass(frozen=True)
class Choices:
    """The model options `summarize` and `summarize eval` share, as the user gave them (None: as the
    preset says); also the keyword arguments of the library's Summarizer."""

    engine: Engine | None = option(
        None,
        "--engine",
        "-e",
        show_default=False,
        per_request=True,
        help="abstractive: a seq2seq model; extractive: the most central sentences near the top (LexRank × a position prior); lead: the first sentences; "
        "llm: an instruction LLM behind an OpenAI-compatible endpoint (an llm preset, or --llm-url and --llm-model). "
        "extractive and lead need no model \\[default: from the preset].",
    )
    model: str | None = option(
        None, "--model", "-m", show_default=False, per_request=False, help="Summariser preset from models.toml \\[default: rut5-gazeta]."
    )
    translator: str | None = option(
        None,
        "--translator",
        show_default=False,
        per_request=False,
        help="Translator preset from models.toml for English, or for the one --to target \\[default: opus-mt-tc-big-zle-en; other targets: their route].",
    )
    to: str | None = option(
        None, "--to", show_default=False, per_request=True,
        help="The languages to translate the summary into, ISO 639-1, comma-separated (en, de,kk…); each takes the first [[routes]] entry of "
        "models.toml that makes it \\[default: from models.toml, en].",
    )  # fmt: skip
    source_lang: str | None = option(
        None, "--source-lang", show_default=False, per_request=True,
        help="The articles' language, ISO 639-1 (ru, uk, be, kk, en…), or auto: detected per article; a non-Russian one is translated into "
        "Russian first \\[default: auto].",
    )  # fmt: skip
    allow_noncommercial: bool = option(
        False, "--allow-noncommercial", per_request=False,
        help="Let routes use CC-BY-NC models (NLLB-200): not for commercial use \\[default: models.toml's allow_noncommercial, false].",
    )  # fmt: skip
    beams: int | None = option(None, "--beams", min=1, max=MAX_BEAMS, show_default=False, per_request=True, help="Beam search width (overrides the preset).")
    length: Length | None = option(
        None,
        "--length",
        show_default=False,
        per_request=True,
        help="Summary length (overrides the preset's max_new_tokens; 2/3/5 sentences for extractive and lead).",
    )
    max_words: int | None = option(None, "--max-words", min=1, show_default=False, per_request=True, help="Word budget for --engine extractive or lead.")
    long_mode: LongMode = option(
        LongMode.truncate,
        "--long",
        per_request=False,
        help="Articles longer than the model's input: keep the lead that fits, or summarise chunks and then their summaries.",
    )
    device: Device = option(Device.auto, "--device", per_request=False, help="Where the models run; auto picks CUDA, then Apple MPS, then CPU.")
    # Where this machine's models come from: the server's own, and an --server client loads none (nor is it
    # refused: HF_HUB_OFFLINE may be set for every program of the user's shell, not asked of this run).
    offline: bool = option(False, "--offline", envvar="HF_HUB_OFFLINE", per_request=False, help="Never touch the network; use local or cached models only.")
    backend: Backend | None = option(
        None,
        "--backend",
        show_default=False,
        per_request=False,
        help="torch, or ctranslate2 (converted once, then no torch at run time); auto: ctranslate2 on a CPU when it is installed "
        "(pip install 'summarize\\[fast]'), else torch \\[default: from the preset, auto].",
    )
    dtype: Dtype = option(
        Dtype.auto,
        "--dtype",
        per_request=False,
        help="Number format of torch models and of CTranslate2 on a GPU; auto: fp32 on a CPU, bf16 on a GPU for T5-family models "
        "(float16 overflows them; fp32 where bf16 is missing), fp16 for the others.",
    )
    quantize: Quantize | None = option(
        None,
        "--quantize",
        show_default=False,
        per_request=False,
        help="int8 weights: torch dynamic int8 on CPU; CTranslate2 int8 (its CPU default; 'none' keeps float32).",
    )
    # None: not given (on, unless a server was started with --no-check); an explicit --check is sent by --server.
    check: bool | None = option(
        None,
        "--check/--no-check",
        show_default=False,
        per_request=True,
        help="Flag the names, numbers and dates of a model summary that its article lacks, and numbers its translation changed "
        "(see docs/checks.md); extractive and lead copy the article's sentences, so they are not checked \\[default: on].",
    )
    # Where an LLM is: the server's own, never a request's (a request choosing the URL would make the server call anywhere).
    llm_url: str | None = option(
        None,
        "--llm-url",
        show_default=False,
        per_request=False,
        help="With --engine llm: the OpenAI-compatible API base, e.g. http://127.0.0.1:8080/v1; the key, if it needs one, goes in "
        f"{LLM_KEY_ENV} (a flag would show in ps) \\[default: the llm preset's url].",
    )
    llm_model: str | None = option(
        None,
        "--llm-model",
        show_default=False,
        per_request=False,
        help="With --engine llm: the model name the endpoint lists at its /models \\[default: the llm preset's model].",
    )
    llm_concurrency: int = option(
        4, "--llm-concurrency", min=1, max=64, per_request=False, help="Requests an LLM engine keeps in flight to its endpoint at once."
    )


_CHOICES = {spec.name: spec for spec in fields(Choices)}
_HINTS = get_type_hints(Choices)  # the fields' types, for checking the library's arguments


@dataclass(frozen=True, kw_only=True)
class Options(Choices):
    """One run's settings: the user's Choices, with the presets they name resolved and the command
    line's overrides applied to them."""

    summarizer: Preset
    translator: Preset | None  # the first target's preset (resolved from --translator or its route); None: --no-translate
    targets: tuple[Target, ...] = ()  # --to, resolved: one per target language, in --to order
    sources: tuple[Target, ...] = ()  # the languages an article may be in besides Russian, each with its way into Russian
    summary_settings: dict[str, Any]  # generate() kwargs after --beams/--length
    engine: Engine = Engine.abstractive  # resolved: the preset's, unless --engine said otherwise
    check: bool = True  # resolved: on, unless --no-check
    sentences: int = 3  # for the extractive and lead engines
    strict: bool = False  # a model that is not available is an error, not a fallback
    # CPU threads a CTranslate2 model may use; None: every core this process may run on. A Ray
    # actor is given k CPUs but not pinned to them, so it says k here (summarize.runs.ray_plan).
    cpu_threads: int | None = None

    def __post_init__(self) -> None:
        if self.translator is not None and not self.targets:  # made by hand with one translator (tests, the library): English
            object.__setattr__(self, "targets", (Target("en", self.translator, Leg(SOURCE, "en", self.translator.name)),))

    @property
    def translate(self) -> bool:
        """Whether the summaries are translated (the per-request option; a translator preset resolved)."""
        return self.translator is not None


@dataclass(frozen=True)
class Target:
    """One language the summaries are translated into: its preset and the tokens its model needs."""

    code: str  # ISO 639-1
    preset: Preset
    leg: Leg

    @property
    def field(self) -> str:
        """Its key in a result: summary_en, summary_de…"""
        return f"summary_{self.code}"


class OptionConflict(SummarizeError):
    """Options that cannot go together, said in the caller's own words: the template names each
    Choices field as {name} (or {name:value}, spelled with the value given), and `said(spell)` spells
    them as the caller gives them (str(): as the command line does, `--long chunk`)."""

    def __init__(self, template: str, **values: Any):
        self.template, self.values = template, values
        super().__init__(self.said(lambda name: flag_of(_CHOICES[name])))

    @property
    def names(self) -> list[str]:
        """The option fields the message names, in order."""
        return [name for _, name, _, _ in Formatter().parse(self.template) if name in _CHOICES]

    def said(self, spell: Callable[[str], str]) -> str:
        return self.template.format(**{name: _Spelled(spell(name)) for name in self.names}, **self.values)


class _Spelled(str):
    def __format__(self, value: str) -> str:
        return f"{self} {value}" if value else str(self)


def make_options(config: Config, choices: Choices = Choices(), translate: bool | None = None, strict: bool = False) -> Options:
    """The presets the choices name, with their overrides applied; checked for combinations that
    cannot work together. `translate` None: as models.toml says."""
    preset = _summarizer(config, choices)
    engine = choices.engine or preset.engine
    _check_engine(preset, engine, choices)
    if translate is False and choices.to is not None:  # never a --to silently dropped (nor one models.toml's translate = false drops)
        raise OptionConflict("{to} asks for translations and {off} for none; give one of them", off="--no-translate")
    wants_translation = (config.translate or choices.to is not None) if translate is None else translate
    targets = resolve_targets(config, choices) if wants_translation else ()
    translator = targets[0].preset if targets else None
    if engine is Engine.llm and (translator is None or translator.llm is not None) and (choices.backend or choices.quantize):
        raise OptionConflict(
            ("{backend}" if choices.backend else "{quantize}") + " is for a local model; the llm engine runs on its endpoint and no local model translates"
        )
    chosen_length = config.length(str(choices.length) if choices.length else None)
    settings = {**preset.generate, **{k: v for k, v in chosen_length.items() if k != "sentences"}}
    if engine is Engine.llm:  # only the reply's length applies; --length, else the preset's max_tokens, else [lengths] medium's
        medium = config.lengths.get("medium", {}).get("max_new_tokens")
        tokens = settings.get("max_new_tokens") if chosen_length else preset.llm.max_tokens or medium
        settings = {} if tokens is None else {"max_new_tokens": tokens}
    if choices.beams is not None:
        settings["num_beams"] = choices.beams
    given = {f.name: getattr(choices, f.name) for f in fields(Choices) if f.name not in ("engine", "translator", "to")}  # resolved below
    given["check"] = choices.check is not False  # not given: on
    return Options(
        **given,
        summarizer=preset,
        translator=translator,
        targets=targets,
        sources=resolve_sources(config, choices),
        to=",".join(t.code for t in targets) or choices.to,
        summary_settings=settings,
        engine=engine,
        sentences=int((chosen_length or config.lengths.get("medium", {})).get("sentences", 3)),
        strict=strict,
    )


def resolve_targets(config: Config, choices: Choices) -> tuple[Target, ...]:
    """--to (else [defaults] to): each target's translator. English, or a single target, takes --translator
    when given (else English takes [defaults] translator); the others the first route allowed to make them."""
    codes = parse_targets(choices.to) if choices.to is not None else config.routes.to  # --to '' is no list, not the default's
    if choices.translator and len(codes) > 1:
        raise OptionConflict("{translator} picks the translator of one target; with several {to} targets each takes its route from models.toml")
    if SOURCE in codes:
        raise SummarizeError(f"--to {SOURCE}: the summary is Russian already (summary_ru); give the languages to translate it into")
    opted = choices.allow_noncommercial or config.routes.allow_noncommercial
    targets = []
    for code in codes:
        if choices.translator or code == "en":
            preset = config.translator(choices.translator)
            leg = config.routes.leg(SOURCE, code, lambda name: name == preset.name)
            if leg is None and code != "en" and preset.llm is None:  # an English model's output must not fill summary_de
                raise SummarizeError(config.routes.no_route(code, preset.name))
            leg = leg or Leg(SOURCE, code, preset.name)
        else:
            leg = config.routes.leg(SOURCE, code, lambda name: opted or not noncommercial(config.translators[name].licence))
            if leg is None:
                raise SummarizeError(config.routes.no_route(code))
            preset = config.translator(leg.translator)
        if preset.llm and preset.llm.prompt and "{language}" not in preset.llm.prompt and code != "en":
            raise SummarizeError(f"translator {preset.name}: its prompt has no {{language}}, so it cannot say to translate into {code}; add {{language}} to it")
        refuse_noncommercial([preset], opted)
        targets.append(Target(code, preset, leg))
    return tuple(targets)


def resolve_sources(config: Config, choices: Choices) -> tuple[Target, ...]:
    """Each language the routes take into Russian (a non-commercial one with the opt-in), with its route; a
    --source-lang none of them reads is a usage error, not every article's failure."""
    opted = choices.allow_noncommercial or config.routes.allow_noncommercial
    legs = [config.routes.leg(code, SOURCE, lambda name: opted or not noncommercial(config.translators[name].licence)) for code in config.routes.sources()[1:]]
    sources = tuple(Target(leg.source, config.translator(leg.translator), leg) for leg in legs if leg is not None)
    readable = [SOURCE, *(t.code for t in sources)]
    if (choices.source_lang or "auto").strip().lower() not in ("auto", *readable):
        raise OptionConflict(
            "{source_lang} {given!r}: summarize reads {readable} (or auto: detected per article)", given=choices.source_lang, readable=", ".join(readable)
        )
    return sources


def _summarizer(config: Config, choices: Choices) -> Preset:
    """The summariser preset: the one --model names (or the default), with --llm-url/--llm-model over an
    llm preset's; with --engine llm and no llm preset named, an ad-hoc one from those two flags."""
    preset = config.summarizer(choices.model)
    if choices.engine is Engine.llm and preset.llm is None and choices.model is None:
        return _adhoc_llm(choices)
    given = "{llm_url}" if choices.llm_url is not None else "{llm_model}" if choices.llm_model is not None else None
    if given is None:
        return preset
    if preset.llm is None or (choices.engine or preset.engine) is not Engine.llm:
        raise OptionConflict(given + ' is for {engine:llm} (or {model} naming a kind = "llm" preset of models.toml)')
    url = preset.llm.url if choices.llm_url is None else check_url(choices.llm_url, "--llm-url")
    model = preset.llm.model if choices.llm_model is None else _llm_model(choices.llm_model)
    return replace(preset, model=model, llm=replace(preset.llm, url=url, model=model))


def _adhoc_llm(choices: Choices) -> Preset:
    """--engine llm --llm-url URL --llm-model NAME: an endpoint without a models.toml preset, its key
    (when it needs one) read from $SUMMARIZE_LLM_KEY alone."""
    if choices.llm_url is None or choices.llm_model is None:
        missing = "{llm_url}" if choices.llm_url is None else "{llm_model}"
        raise OptionConflict("{engine:llm} needs an endpoint: give " + missing + ' too (both), or {model} naming a kind = "llm" preset of models.toml')
    model = _llm_model(choices.llm_model)
    settings = LLMSettings(url=check_url(choices.llm_url, "--llm-url"), model=model, key_env=LLM_KEY_ENV)
    return Preset(name=ADHOC_LLM, model=model, max_input_tokens=0, engine=Engine.llm, llm=settings)


def _llm_model(name: str) -> str:
    if not name.strip():
        raise SummarizeError("--llm-model is empty; give the model name the endpoint lists at its /models")
    return name.strip()


def _check_engine(preset: Preset, engine: Engine, choices: Choices) -> None:
    """Combinations of the engine and the model options that cannot work together."""
    if engine is Engine.abstractive and preset.engine is not Engine.abstractive:
        what = "is an LLM endpoint, not a local model" if preset.llm else "has no model (it is the {kind} engine)"
        raise OptionConflict(
            "preset {preset} " + what + "; drop {engine:abstractive} or pick a model preset with {model}", preset=preset.name, kind=preset.engine
        )
    if engine is Engine.llm and preset.llm is None:
        raise OptionConflict('preset {preset} is not an LLM endpoint (kind = "llm" in models.toml); drop {model} or {engine:llm}', preset=preset.name)
    if choices.max_words is not None and not engine.model_free:
        raise OptionConflict("{max_words} is for {engine:extractive} or lead; for a model, use {length}")
    if engine is Engine.llm and choices.beams is not None:
        raise OptionConflict("{beams} is for a local model's beam search; the llm engine asks its endpoint for one answer (use {length})")
    if engine.model_free and (choices.beams is not None or choices.long_mode is LongMode.chunk):
        which = "{beams}" if choices.beams is not None else "{long_mode:chunk}"
        raise OptionConflict(which + " is for a model; the {kind} engine picks whole sentences (use {length} or {max_words})", kind=engine)


def choices_from(values: dict[str, Any]) -> Choices:
    """Choices from keyword arguments (the library's), held to the CLI's rules: the same choices in any
    case (or the enum members), the same bounds, booleans only True or False; None is "not given"
    (the preset's, or the option's default). Anything else is a SummarizeError naming the argument."""
    known = {f.name for f in fields(Choices)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise SummarizeError(f"unknown option {unknown[0]!r}; options are: {', '.join(sorted(known))}")
    return Choices(**{name: _library_value(_CHOICES[name], value) for name, value in values.items() if value is not None})


def _library_value(spec: Field, value: Any) -> Any:
    """One keyword argument checked as its command-line option checks it (`spec` declares its type and bounds)."""
    kind = next(t for t in get_args(_HINTS[spec.name]) or (_HINTS[spec.name],) if t is not type(None))
    where = f"{spec.name}={value!r} (as {flag_of(spec)})"
    if isinstance(kind, type) and issubclass(kind, Choice):
        if isinstance(value, kind):
            return value
        try:
            if isinstance(value, str):
                return kind.parse(value)
        except ValueError:
            pass
        raise SummarizeError(f"{where}: must be one of {', '.join(kind.spellings())}")
    if kind is bool or kind is int:
        if type(value) is not kind:  # True is no beam count, and "no" is no False
            raise SummarizeError(f"{where}: must be {'True or False' if kind is bool else 'a whole number'}")
        low, high = spec.metadata.get("min"), spec.metadata.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise SummarizeError(f"{where}: must be {bounds}")
        return value
    if not isinstance(value, str) or not value.strip():
        raise SummarizeError(f"{where}: must be {'a preset name from models.toml' if spec.name in ('model', 'translator') else 'a non-empty string'}")
    return value


@dataclass(frozen=True)
class ConfigFile:
    """--config: a models.toml over the shipped presets (every command that reads presets takes it)."""

    config: Path | None = option(None, "--config", envvar=CONFIG_ENV, help="A models.toml whose presets add to or replace the shipped ones.")

"""models.toml and the run's settings: presets loaded, merged and validated into dataclasses; the
closed choices (engine, backend, device…) defined once, as enums the CLI and the engines share."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any

from summarize.errors import SummarizeError
from summarize.llm_presets import LLM_KEYS, LLMSettings, llm_settings


class Choice(str, Enum):
    """A closed choice: its value is what users type and what results record."""

    def __str__(self) -> str:
        return self.value

    @classmethod
    def spellings(cls) -> list[str]:
        """What users may type: each value, then each alias's name (`md = "markdown"`); any case."""
        return [m.value for m in cls] + [name for name, m in cls.__members__.items() if name != m.name]

    @classmethod
    def parse(cls, text: str) -> Choice:
        """The member a spelling names, in any case; ValueError for anything else."""
        folded = text.casefold()
        for name, member in cls.__members__.items():
            if folded in (member.value.casefold(), name.casefold()):
                return member
        raise ValueError(f"{text!r} is not one of: {', '.join(cls.spellings())}")


class Engine(Choice):
    abstractive = "abstractive"  # a seq2seq model writes the summary
    extractive = "extractive"  # the most central sentences near the top (LexRank × a position prior)
    lead = "lead"  # the first sentences
    llm = "llm"  # an instruction LLM behind an OpenAI-compatible endpoint writes it (kind = "llm" presets)

    @property
    def model_free(self) -> bool:
        """extractive and lead keep the article's own sentences: no model, no beams, nothing to check."""
        return self in (Engine.extractive, Engine.lead)


class Backend(Choice):
    auto = "auto"  # CTranslate2 on a CPU when it is installed, else torch
    torch = "torch"
    ctranslate2 = "ctranslate2"


class Quantize(Choice):
    none = "none"
    int8 = "int8"


class Device(Choice):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"
    mps = "mps"


class Dtype(Choice):
    auto = "auto"  # fp32 on a CPU; on a GPU bf16 for T5-family models (never fp16), fp16 for the others
    fp32 = "fp32"
    fp16 = "fp16"
    bf16 = "bf16"


class LongMode(Choice):
    truncate = "truncate"  # keep the lead that fits
    chunk = "chunk"  # map-reduce over chunks that fit


class Length(Choice):
    short = "short"
    medium = "medium"
    long = "long"


class Format(Choice):
    rich = "rich"  # a panel per input, for people
    plain = "plain"  # the summaries alone, for pipes
    markdown = "markdown"
    md = "markdown"  # an alias (`-f md`): the same member
    json = "json"  # one object, or an array for several inputs
    jsonl = "jsonl"  # one object per line, as each input finishes


class Task(Choice):
    summarize = "summarize"  # records {"id", "text", "summary"}
    translate = "translate"  # records {"id", "ru", "en"}


class ScoreFormat(Choice):
    table = "table"
    json = "json"


# Characters of one article (--max-input-chars): a long news feature is ~30 000; a million is a book,
# far past any sensible summary.
MAX_INPUT_CHARS = 1_000_000
KINDS = ("summarizers", "translators")
PRESET_KEYS = {"engine", "model", "revision", "max_input_tokens", "licence", "generate", "backend", "quantize"}
DEFAULT_KEYS = {"summarizer", "translator", "translate"}
TOP_KEYS = {"defaults", "lengths", *KINDS}
CONFIG_ENV = "SUMMARIZE_CONFIG"
# generate() settings a config may set: plain decoding knobs only. Others (custom_generate,
# trust_remote_code, assistant_model, streamer…) could make transformers fetch and run code.
# Settings whose value must be a whole number of at least N (a count), and those that must be
# positive numbers; checked at load, so a bad value is one line at start, not a failure per input.
AT_LEAST = {
    "num_beams": 1,
    "max_new_tokens": 1,
    "max_length": 1,
    "sentences": 1,
    "num_beam_groups": 1,
    "min_new_tokens": 0,
    "min_length": 0,
    "no_repeat_ngram_size": 0,
    "encoder_no_repeat_ngram_size": 0,
    "top_k": 0,
}
MAX_BEAMS = 32  # wider beams cost memory and time in proportion and stop helping news summaries long before
AT_MOST = {"num_beams": MAX_BEAMS, "num_beam_groups": MAX_BEAMS}  # --beams and models.toml alike
POSITIVE = {"temperature", "top_p", "typical_p", "repetition_penalty"}
GENERATE_KEYS = {
    "num_beams",
    "no_repeat_ngram_size",
    "encoder_no_repeat_ngram_size",
    "max_new_tokens",
    "min_new_tokens",
    "max_length",
    "min_length",
    "length_penalty",
    "early_stopping",
    "repetition_penalty",
    "do_sample",
    "temperature",
    "top_k",
    "top_p",
    "typical_p",
    "num_beam_groups",
    "diversity_penalty",
    "use_cache",
    "forced_bos_token_id",
    "forced_eos_token_id",
    "decoder_start_token_id",
}


@dataclass(frozen=True)
class Preset:
    """One preset: which model, how long its input may be, and how to generate with it."""

    name: str
    model: str  # hub id, or an absolute local directory; "" for the model-free engines
    max_input_tokens: int
    generate: dict[str, Any] = field(default_factory=dict)
    revision: str | None = None
    licence: str | None = None
    engine: Engine = Engine.abstractive  # extractive / lead: no model at all
    backend: Backend = Backend.auto
    quantize: Quantize | None = None  # None: the backend's default (torch fp32, CTranslate2 int8 on CPU)
    llm: LLMSettings | None = None  # engine llm: the endpoint that writes it

    @property
    def is_local(self) -> bool:
        return self.llm is None and Path(self.model).is_absolute()


@dataclass(frozen=True)
class Config:
    summarizers: dict[str, Preset]
    translators: dict[str, Preset]
    default_summarizer: str
    default_translator: str
    translate: bool
    lengths: dict[str, dict[str, Any]]

    def length(self, name: str | None) -> dict[str, Any]:
        """What --length NAME means: generate() settings plus `sentences` for the extractive engines."""
        if name is None:
            return {}
        if name not in self.lengths:
            raise SummarizeError(f"--length {name}: models.toml has no [lengths] entry for it; choose one of: {', '.join(self.lengths)}")
        return self.lengths[name]

    def summarizer(self, name: str | None) -> Preset:
        return _pick(self.summarizers, name or self.default_summarizer, "summariser", "--model")

    def translator(self, name: str | None) -> Preset:
        return _pick(self.translators, name or self.default_translator, "translator", "--translator")

    def preset(self, name: str) -> Preset:
        """Any preset by name (`models download NAME`)."""
        every = {**self.translators, **self.summarizers}
        if name not in every:
            raise SummarizeError(f"no preset named {name!r}; choose from: {', '.join(sorted(every))}")
        return every[name]


def _pick(presets: dict[str, Preset], name: str, what: str, option: str) -> Preset:
    if name not in presets:
        choices = ", ".join(sorted(presets)) or "none"
        raise SummarizeError(f"{option} {name!r}: no such {what} preset; choose one of: {choices}")
    return presets[name]


def packaged_models_toml() -> Path:
    """The presets that ship with the package (the repository's root models.toml in a checkout)."""
    shipped = resources.files("summarize") / "models.toml"
    if shipped.is_file():
        return Path(str(shipped))
    return Path(__file__).resolve().parent.parent / "models.toml"


def load_config(user_file: str | os.PathLike | None = None) -> Config:
    """Read the shipped presets, then the user file (argument, else $SUMMARIZE_CONFIG) over them."""
    files = [packaged_models_toml()]
    user_file = user_file or os.environ.get(CONFIG_ENV) or None
    if user_file:
        files.append(Path(user_file).expanduser())
    raw: dict[str, Any] = {}
    for path in files:
        raw = _merge(raw, _read_toml(path))
    return _validate(raw, " + ".join(str(f) for f in files))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(_read_utf8(path))
    except FileNotFoundError:
        raise SummarizeError(f"config {path}: no such file; check the path given by --config or ${CONFIG_ENV}") from None
    except OSError as e:
        raise SummarizeError(f"config {path}: cannot read it ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise SummarizeError(f"config {path}: not valid TOML ({e}); fix the file or drop --config") from None
    _check_keys(raw, TOP_KEYS, path, "")
    # A local model path is relative to the file that names it, not to where summarize runs.
    for table in KINDS:
        _check_table(raw.get(table, {}), path, table)
        for body in raw.get(table, {}).values():
            if isinstance(body, dict) and isinstance(body.get("model"), str) and body.get("kind") != "llm":  # an llm's is the server's name
                body["model"] = _local_or_hub(body["model"], path.resolve().parent)
    return raw


def _read_utf8(path: Path) -> str:
    """The file's text: UTF-8, with or without the BOM Windows editors write; any other encoding is one line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SummarizeError(f"config {path}: not UTF-8 text; save it as UTF-8 (TOML files must be UTF-8)") from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Table-wise merge: a later file adds presets or replaces single keys of existing ones."""
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        out[key] = _merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return out


def _check_table(table: Any, path: Path | str, where: str) -> None:
    if not isinstance(table, dict):
        raise SummarizeError(f"config {path}: [{where}] must be a table")


def _check_keys(table: Any, allowed: set[str], path: Path | str, where: str) -> None:
    _check_table(table, path, where)
    for key in table:
        if key not in allowed:
            name = f"{where}.{key}" if where else key
            raise SummarizeError(f"config {path}: unknown key {name!r}; valid keys: {', '.join(sorted(allowed))}")


def _validate(raw: dict[str, Any], where: str) -> Config:
    _check_keys(raw, TOP_KEYS, where, "")
    presets: dict[str, dict[str, Preset]] = {}
    for table in KINDS:
        section = raw.get(table, {})
        _check_table(section, where, table)
        presets[table] = {name: _preset(name, table == "translators", body, where, f"{table}.{name}") for name, body in section.items()}
    defaults = raw.get("defaults", {})
    _check_keys(defaults, DEFAULT_KEYS, where, "defaults")
    lengths = raw.get("lengths", {})
    _check_table(lengths, where, "lengths")
    for name, value in lengths.items():
        _check_generate(value, where, f"lengths.{name}", extra={"sentences"})
    translate = defaults.get("translate", True)
    if not isinstance(translate, bool):
        raise SummarizeError(f"config {where}: defaults.translate must be true or false")
    config = Config(
        summarizers=presets["summarizers"],
        translators=presets["translators"],
        default_summarizer=str(defaults.get("summarizer", "")),
        default_translator=str(defaults.get("translator", "")),
        translate=translate,
        lengths=lengths,
    )
    for key, pick in (("summarizer", config.summarizer), ("translator", config.translator)):
        try:
            pick(None)
        except SummarizeError as e:
            raise SummarizeError(f"config {where}: defaults.{key}: {e}") from None
    return config


def _check_generate(table: Any, where: str, key: str, extra: set[str] = frozenset()) -> None:
    if not isinstance(table, dict):
        raise SummarizeError(f"config {where}: {key} must be a table of generate() settings")
    _check_keys(table, GENERATE_KEYS | extra, where, key)
    for name, value in table.items():
        if not isinstance(value, (int, float, bool)):
            raise SummarizeError(f"config {where}: {key}.{name} must be a number or true/false")
        if name in AT_LEAST and (isinstance(value, bool) or not isinstance(value, int) or value < AT_LEAST[name]):
            raise SummarizeError(f"config {where}: {key}.{name} must be a whole number of at least {AT_LEAST[name]}")
        if name in AT_MOST and value > AT_MOST[name]:
            raise SummarizeError(f"config {where}: {key}.{name} must be at most {AT_MOST[name]}")
        if name in POSITIVE and (isinstance(value, bool) or value <= 0 or (name in ("top_p", "typical_p") and value > 1)):
            limit = "between 0 and 1" if name in ("top_p", "typical_p") else "greater than 0"
            raise SummarizeError(f"config {where}: {key}.{name} must be a number {limit}")


def _preset(name: str, translator: bool, body: Any, where: str, key: str) -> Preset:
    _check_table(body, where, key)
    if "kind" in body:
        return _llm_preset(name, body, where, key)
    stray = sorted(set(body) & (LLM_KEYS - PRESET_KEYS))
    if stray or body.get("engine") == "llm":
        said = f"{key}.{stray[0]} is a key of LLM presets" if stray else f'{key}.engine = "llm" is spelled kind = "llm"'
        raise SummarizeError(f'config {where}: {said}; an LLM endpoint preset says kind = "llm" (with url and model)')
    _check_keys(body, PRESET_KEYS, where, key)
    local = [Engine.abstractive] if translator else [e for e in Engine if e is not Engine.llm]
    engine = _choice(Engine, body.get("engine", "abstractive"), where, f"{key}.engine", local)
    model = body.get("model", "")
    limit = body.get("max_input_tokens", 0)
    if engine is Engine.abstractive:
        if not isinstance(model, str) or not model:
            raise SummarizeError(f"config {where}: {key}.model is missing; give a hub id or a local directory")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 8:
            raise SummarizeError(f"config {where}: {key}.max_input_tokens must be an integer of at least 8")
    generate = body.get("generate", {})
    _check_generate(generate, where, f"{key}.generate")
    revision = body.get("revision")
    if revision is not None and not isinstance(revision, str):
        raise SummarizeError(f"config {where}: {key}.revision must be a string")
    quantize = body.get("quantize")
    return Preset(
        name=name,
        model=model,
        max_input_tokens=limit,
        generate=dict(generate),
        revision=revision,
        licence=body.get("licence"),
        engine=engine,
        backend=_choice(Backend, body.get("backend", "auto"), where, f"{key}.backend", list(Backend)),
        quantize=None if quantize is None else _choice(Quantize, quantize, where, f"{key}.quantize", list(Quantize)),
    )


def _llm_preset(name: str, body: dict[str, Any], where: str, key: str) -> Preset:
    """A kind = "llm" preset: an endpoint, not a model here (its model is the server's name for it)."""
    _check_keys(body, LLM_KEYS, where, key)
    if body["kind"] != "llm":
        raise SummarizeError(f'config {where}: {key}.kind must be "llm" (the one kind); a local model preset leaves kind out')
    settings = llm_settings(body, where, key)
    licence = body.get("licence")
    if licence is not None and not isinstance(licence, str):
        raise SummarizeError(f"config {where}: {key}.licence must be a string")
    return Preset(name=name, model=settings.model, max_input_tokens=0, licence=licence, engine=Engine.llm, llm=settings)


def _choice(kind: type[Choice], value: Any, where: str, key: str, allowed: list[Choice]) -> Any:
    if value not in [a.value for a in allowed]:
        raise SummarizeError(f"config {where}: {key} must be one of: {', '.join(a.value for a in allowed)}")
    return kind(value)


def _local_or_hub(model: str, base: Path) -> str:
    """A value that looks like a path becomes absolute (relative to its file); anything else is a hub id."""
    path = Path(model).expanduser()
    path = path if path.is_absolute() else base / path
    if model.startswith(("/", ".", "~")) or model.count("/") > 1 or path.is_dir():
        return str(path.resolve())
    return model

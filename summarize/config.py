"""models.toml: load the shipped presets, merge a user file over them, validate into dataclasses."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from summarize.errors import SummarizeError

KINDS = {"summarizers": "summarizer", "translators": "translator"}
PRESET_KEYS = {"engine", "model", "revision", "max_input_tokens", "licence", "generate", "backend", "quantize"}
ENGINES = ("abstractive", "extractive", "lead")
BACKENDS = ("auto", "torch", "ctranslate2")
QUANTIZE = ("none", "int8")
DEFAULT_KEYS = {"summarizer", "translator", "translate"}
TOP_KEYS = {"defaults", "lengths", *KINDS}
CONFIG_ENV = "SUMMARIZE_CONFIG"
# generate() settings a config may set: plain decoding knobs only. Others (custom_generate,
# trust_remote_code, assistant_model, streamer…) could make transformers fetch and run code.
GENERATE_KEYS = {
    "num_beams", "no_repeat_ngram_size", "encoder_no_repeat_ngram_size", "max_new_tokens", "min_new_tokens",
    "max_length", "min_length", "length_penalty", "early_stopping", "repetition_penalty", "do_sample",
    "temperature", "top_k", "top_p", "typical_p", "num_beam_groups", "diversity_penalty", "use_cache",
    "forced_bos_token_id", "forced_eos_token_id", "decoder_start_token_id",
}


@dataclass(frozen=True)
class ModelSpec:
    """One preset: which model, how long its input may be, and how to generate with it."""

    name: str
    kind: str  # "summarizer" or "translator"
    model: str  # hub id, or an absolute local directory; "" for the model-free engines
    max_input_tokens: int
    generate: dict[str, Any] = field(default_factory=dict)
    revision: str | None = None
    licence: str | None = None
    engine: str = "abstractive"  # or "extractive" / "lead": no model at all
    backend: str = "auto"  # auto: CTranslate2 on a CPU when it is installed, else torch
    quantize: str | None = None  # "int8" or "none"; None: the backend's default (torch fp32, CTranslate2 int8 on CPU)

    @property
    def is_local(self) -> bool:
        return Path(self.model).is_absolute()


@dataclass(frozen=True)
class Config:
    summarizers: dict[str, ModelSpec]
    translators: dict[str, ModelSpec]
    default_summarizer: str
    default_translator: str
    translate: bool
    lengths: dict[str, dict[str, Any]]
    files: tuple[str, ...]  # where the settings came from, for error messages

    def length(self, name: str | None) -> dict[str, Any]:
        """What --length NAME means: generate() settings plus `sentences` for the extractive engines."""
        if name is None:
            return {}
        if name not in self.lengths:
            raise SummarizeError(f"--length {name}: models.toml has no [lengths] entry for it; choose one of: {', '.join(self.lengths)}")
        return self.lengths[name]

    def summarizer(self, name: str | None) -> ModelSpec:
        return _pick(self.summarizers, name or self.default_summarizer, "summariser", "--model")

    def translator(self, name: str | None) -> ModelSpec:
        return _pick(self.translators, name or self.default_translator, "translator", "--translator")


def _pick(presets: dict[str, ModelSpec], name: str, what: str, option: str) -> ModelSpec:
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
    return _validate(raw, [str(f) for f in files])


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
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
            if isinstance(body, dict) and isinstance(body.get("model"), str):
                body["model"] = _local_or_hub(body["model"], path.resolve().parent)
    return raw


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


def _validate(raw: dict[str, Any], files: list[str]) -> Config:
    where = " + ".join(files)
    _check_keys(raw, TOP_KEYS, where, "")
    presets: dict[str, dict[str, ModelSpec]] = {}
    for table, kind in KINDS.items():
        section = raw.get(table, {})
        _check_table(section, where, table)
        presets[table] = {
            name: _spec(name, kind, body, where, f"{table}.{name}")
            for name, body in section.items()
        }
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
        files=tuple(files),
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


def _spec(name: str, kind: str, body: Any, where: str, key: str) -> ModelSpec:
    _check_keys(body, PRESET_KEYS, where, key)
    engine = body.get("engine", "abstractive")
    if engine not in ENGINES or (kind == "translator" and engine != "abstractive"):
        allowed = ENGINES if kind == "summarizer" else ENGINES[:1]
        raise SummarizeError(f"config {where}: {key}.engine must be one of: {', '.join(allowed)}")
    model = body.get("model", "")
    limit = body.get("max_input_tokens", 0)
    if engine == "abstractive":
        if not isinstance(model, str) or not model:
            raise SummarizeError(f"config {where}: {key}.model is missing; give a hub id or a local directory")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 8:
            raise SummarizeError(f"config {where}: {key}.max_input_tokens must be an integer of at least 8")
    generate = body.get("generate", {})
    _check_generate(generate, where, f"{key}.generate")
    for option, allowed in (("backend", BACKENDS), ("quantize", QUANTIZE)):
        if option in body and body[option] not in allowed:
            raise SummarizeError(f"config {where}: {key}.{option} must be one of: {', '.join(allowed)}")
    revision = body.get("revision")
    if revision is not None and not isinstance(revision, str):
        raise SummarizeError(f"config {where}: {key}.revision must be a string")
    return ModelSpec(
        name=name,
        kind=kind,
        model=model,
        max_input_tokens=limit,
        generate=dict(generate),
        revision=revision,
        licence=body.get("licence"),
        engine=engine,
        backend=body.get("backend", "auto"),
        quantize=body.get("quantize"),
    )


def _local_or_hub(model: str, base: Path) -> str:
    """A value that looks like a path becomes absolute (relative to its file); anything else is a hub id."""
    path = Path(model).expanduser()
    path = path if path.is_absolute() else base / path
    if model.startswith(("/", ".", "~")) or model.count("/") > 1 or path.is_dir():
        return str(path.resolve())
    return model

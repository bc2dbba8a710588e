"""Model files: a local directory or the Hugging Face cache; downloads for presets.

No torch or transformers here, so `summarize models list` stays instant.
"""

from __future__ import annotations

import json
from pathlib import Path

from summarize.config import Config, Engine, Preset
from summarize.errors import ModelNotAvailable, SummarizeError

# What a seq2seq model needs at run time; TF/Flax/ONNX/rust weights in the same repo are skipped.
RUNTIME_FILES = ["*.json", "*.model", "*.spm", "*.txt"]
TOKENIZER_FILES = ["tokenizer.json", "spiece.model", "sentencepiece.bpe.model", "source.spm", "vocab.json", "vocab-src.json"]


def model_dir(preset: Preset, offline: bool) -> Path:
    """The directory holding the preset's files, downloading them unless offline."""
    if preset.is_local:
        path = Path(preset.model)
        if not path.is_dir():
            raise SummarizeError(
                f"model {preset.model} (preset {preset.name}): no such directory; fix `model` in models.toml"
            )
        return check_model_dir(path, preset)
    cached = cached_dir(preset)
    if cached is not None:
        return check_model_dir(cached, preset)
    if offline:
        raise ModelNotAvailable(_missing(preset, "offline mode is on"))
    return check_model_dir(download(preset), preset)


def cached_dir(preset: Preset) -> Path | None:
    """The cached snapshot of a hub model, without touching the network."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        path = Path(snapshot_download(preset.model, revision=preset.revision, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    return path if (path / "config.json").is_file() else None


def download(preset: Preset) -> Path:
    """Fetch the files a preset needs (safetensors over .bin when the repo has both), with progress."""
    from huggingface_hub import list_repo_files, snapshot_download

    try:
        files = list_repo_files(preset.model, revision=preset.revision)
        weights = ["*.safetensors"] if any(f.endswith(".safetensors") for f in files) else ["pytorch_model*.bin"]
        return Path(
            snapshot_download(preset.model, revision=preset.revision, allow_patterns=RUNTIME_FILES + weights)
        )
    except Exception as e:  # network, auth, missing repo: all end the same way for the user
        raise ModelNotAvailable(_missing(preset, _reason(e))) from None


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _missing(preset: Preset, reason: str) -> str:
    from huggingface_hub import constants

    return (
        f"model {preset.model} (preset {preset.name}) is not in the local cache ({constants.HF_HUB_CACHE}) "
        f"and could not be downloaded ({reason}); run `summarize models download {preset.name}` on a "
        "connected machine, or set `model` of that preset in models.toml to a local directory"
    )


def check_model_dir(path: Path, preset: Preset) -> Path:
    """Fail early, naming what is missing, instead of deep inside transformers."""
    where = f"model directory {path} (preset {preset.name})"
    config = path / "config.json"
    if not config.is_file():
        raise SummarizeError(f"{where} has no config.json; it is not a saved transformers model")
    try:
        json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SummarizeError(f"{where}: config.json is not valid JSON; download the model again") from None
    if not any(path.glob("*.safetensors")) and not any(path.glob("pytorch_model*.bin")):
        raise SummarizeError(f"{where} has no weights (model.safetensors or pytorch_model.bin)")
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise SummarizeError(f"{where} has no tokenizer files ({', '.join(TOKENIZER_FILES)})")
    return path


def dir_size(path: Path) -> int:
    """Bytes on disk, following the cache's symlinks into its blob store."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def local_dir(preset: Preset) -> Path | None:
    """Where the preset's model is on this machine, or None (never touches the network)."""
    if preset.is_local:
        return Path(preset.model) if Path(preset.model).is_dir() else None
    return cached_dir(preset)


def preset_table(config: Config) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """`models list`: a header and a row per preset (default, cached or not, size, licence)."""
    rows = []
    defaults = {config.default_summarizer, config.default_translator}
    for role, presets in (("summariser", config.summarizers), ("translator", config.translators)):
        for preset in presets.values():
            default = "yes" if preset.name in defaults else ""
            if preset.engine is not Engine.abstractive:
                rows.append((preset.name, role, default, f"(no model: {preset.engine})", "yes", "-", "-"))
                continue
            path = local_dir(preset)
            size = f"{dir_size(path) / 1e6:,.0f} MB" if path else "-"
            rows.append((preset.name, role, default, preset.model, "yes" if path else "no", size, preset.licence or "?"))
    return ("preset", "role", "default", "model", "local", "size", "licence"), rows


def download_presets(presets: list[Preset], notify) -> int:
    """`models download`: fetch each preset that has a hub model; returns how many failed."""
    failed = 0
    for preset in presets:
        if preset.engine is not Engine.abstractive:
            notify(f"{preset.name}: the {preset.engine} engine needs no model; nothing to download")
        elif preset.is_local:
            notify(f"{preset.name}: a local directory ({preset.model}); nothing to download")
        else:
            try:
                path = cached_dir(preset) or download(preset)
                check_model_dir(path, preset)
                notify(f"{preset.name}: ready in {path}")
            except SummarizeError as e:
                failed += 1
                notify(f"error: {e}")
    return failed

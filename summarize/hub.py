"""Model files: a local directory or the Hugging Face cache; downloads for presets.

No torch or transformers here, so `summarize models list` stays instant.
"""

from __future__ import annotations

import json
from pathlib import Path

from summarize.config import ModelSpec
from summarize.errors import ModelNotAvailable, SummarizeError

# What a seq2seq model needs at run time; TF/Flax/ONNX/rust weights in the same repo are skipped.
RUNTIME_FILES = ["*.json", "*.model", "*.spm", "*.txt"]
TOKENIZER_FILES = ["tokenizer.json", "spiece.model", "sentencepiece.bpe.model", "source.spm", "vocab.json", "vocab-src.json"]


def model_dir(spec: ModelSpec, offline: bool) -> Path:
    """The directory holding the preset's files, downloading them unless offline."""
    if spec.is_local:
        path = Path(spec.model)
        if not path.is_dir():
            raise SummarizeError(
                f"model {spec.model} (preset {spec.name}): no such directory; fix `model` in models.toml"
            )
        return check_model_dir(path, spec)
    cached = cached_dir(spec)
    if cached is not None:
        return check_model_dir(cached, spec)
    if offline:
        raise ModelNotAvailable(_missing(spec, "offline mode is on"))
    return check_model_dir(download(spec), spec)


def cached_dir(spec: ModelSpec) -> Path | None:
    """The cached snapshot of a hub model, without touching the network."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        path = Path(snapshot_download(spec.model, revision=spec.revision, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    return path if (path / "config.json").is_file() else None


def download(spec: ModelSpec) -> Path:
    """Fetch the files a preset needs (safetensors over .bin when the repo has both), with progress."""
    from huggingface_hub import list_repo_files, snapshot_download

    try:
        files = list_repo_files(spec.model, revision=spec.revision)
        weights = ["*.safetensors"] if any(f.endswith(".safetensors") for f in files) else ["pytorch_model*.bin"]
        return Path(
            snapshot_download(spec.model, revision=spec.revision, allow_patterns=RUNTIME_FILES + weights)
        )
    except Exception as e:  # network, auth, missing repo: all end the same way for the user
        raise ModelNotAvailable(_missing(spec, _reason(e))) from None


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _missing(spec: ModelSpec, reason: str) -> str:
    from huggingface_hub import constants

    return (
        f"model {spec.model} (preset {spec.name}) is not in the local cache ({constants.HF_HUB_CACHE}) "
        f"and could not be downloaded ({reason}); run `summarize models download {spec.name}` on a "
        "connected machine, or set `model` of that preset in models.toml to a local directory"
    )


def check_model_dir(path: Path, spec: ModelSpec) -> Path:
    """Fail early, naming what is missing, instead of deep inside transformers."""
    where = f"model directory {path} (preset {spec.name})"
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

"""Model files: a local directory or the Hugging Face cache; downloads for presets.

No torch or transformers here, so `summarize models list` stays instant.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Literal

from summarize.config import Config, Engine, Preset
from summarize.errors import ModelNotAvailable, SummarizeError
from summarize.llm_presets import endpoint
from summarize.routes import noncommercial

# What a seq2seq model needs at run time; TF/Flax/ONNX/rust weights in the same repo are skipped.
RUNTIME_FILES = ["*.json", "*.model", "*.spm", "*.txt"]
TOKENIZER_FILES = ["tokenizer.json", "spiece.model", "sentencepiece.bpe.model", "source.spm", "vocab.json", "vocab-src.json"]
WEIGHT_PATTERNS = ["*.safetensors", "pytorch_model*.bin"]
# One look at the hub per run, this long at most. huggingface_hub's own calls wait without limit
# (its client has no timeout) or 10 s, and its paginated listings retry 5 times with backoff: with
# no network that was 23 s per model. HF_HUB_ETAG_TIMEOUT, the library's knob for metadata
# requests, raises it on a slow link.
QUICK_TIMEOUT = 3.0

CacheState = Literal["complete", "incomplete", "absent"]

# Endpoint → why it could not be reached, for the rest of the process: the translator's lookup
# after the summariser's must not wait again.
_unreachable: dict[str, str] = {}


def model_dir(preset: Preset, offline: bool) -> Path:
    """The directory holding the preset's files, downloading (or completing) them unless offline."""
    if preset.is_local:
        path = Path(preset.model)
        if not path.is_dir():
            raise SummarizeError(f"model {preset.model} (preset {preset.name}): no such directory; fix `model` in models.toml")
        return check_model_dir(path, preset)
    state, path = _cache(preset)
    if state == "complete":
        return check_model_dir(path, preset)
    if offline:
        raise ModelNotAvailable(_missing(preset, state, "offline mode is on"))
    return check_model_dir(download(preset), preset)


def cache_state(preset: Preset) -> CacheState:
    """Whether the hub cache holds all of a preset's files, some (an interrupted download) or none."""
    return _cache(preset)[0]


def cached_dir(preset: Preset) -> Path | None:
    """The complete cached snapshot of a hub model, without touching the network."""
    state, path = _cache(preset)
    return path if state == "complete" else None


def _cache(preset: Preset) -> tuple[CacheState, Path | None]:
    path = _snapshot(preset)
    if path is None:
        return "absent", None
    return ("incomplete" if missing_files(path) else "complete"), path


def _snapshot(preset: Preset) -> Path | None:
    """The snapshot folder the revision points at, complete or not: read from the cache's layout
    (models--org--name/refs/<revision> → snapshots/<commit>) rather than through snapshot_download,
    which hides a partial folder once it has a file listing to compare with."""
    from huggingface_hub import constants
    from huggingface_hub.file_download import repo_folder_name

    repo = Path(constants.HF_HUB_CACHE) / repo_folder_name(repo_id=preset.model, repo_type="model")
    revision = preset.revision or "main"
    try:
        commit = (repo / "refs" / revision).read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        commit = revision  # a commit hash is pinned directly, without a ref
    path = repo / "snapshots" / commit
    return path if commit and path.is_dir() else None


def missing_files(path: Path) -> list[str]:
    """What of config, weights and tokenizer a model directory lacks; [] when it has them all.
    A dangling cache symlink (its blob never finished) counts as missing."""
    missing = []
    if not (path / "config.json").is_file():
        missing.append("config.json")
    if not any(f.is_file() for pattern in WEIGHT_PATTERNS for f in path.glob(pattern)):
        missing.append("weights (model.safetensors or pytorch_model.bin)")
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        missing.append(f"tokenizer files ({', '.join(TOKENIZER_FILES)})")
    return missing


def download(preset: Preset, downloading: bool = False) -> Path:
    """Fetch the files a preset needs, or the rest of an incomplete snapshot (safetensors over .bin
    when the repo has both), with progress. One quick look decides whether the hub is there at all.
    `downloading`: this is `models download` itself, whose errors must not advise running it."""
    from huggingface_hub import constants, snapshot_download

    state = cache_state(preset)
    reason = "offline mode is on (HF_HUB_OFFLINE)" if constants.HF_HUB_OFFLINE else _unreachable.get(constants.ENDPOINT)
    if reason is not None:
        raise ModelNotAvailable(_missing(preset, state, reason, downloading))
    with _library_quiet():
        try:
            _knock(constants.ENDPOINT)
            files = _repo_files(preset)
            weights = ["*.safetensors"] if any(f.endswith(".safetensors") for f in files) else ["pytorch_model*.bin"]
            path = snapshot_download(preset.model, revision=preset.revision, allow_patterns=RUNTIME_FILES + weights)
        except Exception as e:  # network, auth, missing repo: all end the same way for the user
            reason = f"could not be downloaded ({_reason(e)})"
            down = _hub_is_down(e)
            if down:
                reason = f"the hub at {constants.ENDPOINT} is unreachable ({_reason(e)})"
                _unreachable[constants.ENDPOINT] = reason
            raise ModelNotAvailable(_missing(preset, state, reason, downloading, down)) from None
    return Path(path)


def _knock(endpoint: str) -> None:
    """One bare request with a short timeout and no retries: any HTTP answer means the hub is there.
    It comes first because the library's first authenticated call also fetches a telemetry registry
    from the hub (huggingface_hub.utils._detect_agent, 3 s more against a silent host)."""
    from huggingface_hub.utils import get_session

    get_session().head(f"{endpoint}/api/models", timeout=_quick_timeout())


def _repo_files(preset: Preset) -> list[str]:
    """The repo's file names; no retries (model_info makes a single request)."""
    from huggingface_hub import HfApi, constants

    info = HfApi().model_info(preset.model, revision=preset.revision, timeout=constants.HF_HUB_ETAG_TIMEOUT)
    return [s.rfilename for s in info.siblings or []]


def _quick_timeout() -> float:
    try:
        return float(os.environ["HF_HUB_ETAG_TIMEOUT"])
    except (KeyError, ValueError):
        return QUICK_TIMEOUT


def _hub_is_down(error: Exception) -> bool:
    """No connection, a timeout or offline mode, or the hub answering 5xx: the next model would
    fail the same way. A 404 or 401 is about one repo and says nothing of the others."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    if isinstance(error, (httpx2.TransportError, OfflineModeIsEnabled)):
        return True
    response = getattr(error, "response", None) if isinstance(error, HfHubHTTPError) else None
    return response is not None and response.status_code >= 500


@contextmanager
def _library_quiet() -> Iterator[None]:
    """huggingface_hub logs every retry ("Retrying in 8s [Retry 5/5]") to stderr; what failed
    reaches the user once, in our own message. Its progress bars are not logging and stay."""
    logger = logging.getLogger("huggingface_hub")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _missing(preset: Preset, state: CacheState, reason: str, downloading: bool = False, hub_down: bool = True) -> str:
    """Why the model is not here, and what to do: fetch it elsewhere, copy it in, or use a folder.
    `models download` that failed (`downloading`) is never told to run `models download`."""
    from huggingface_hub import constants

    where = f"model {preset.model} (preset {preset.name})"
    local = "point its `model` in models.toml at a local directory"
    if not hub_down:
        advice = f"check `model` (and `revision`) of preset {preset.name} in models.toml, or {local}"
    elif downloading:
        advice = (
            f"connect this machine to the network (with HF_HUB_OFFLINE unset) and run it again, or copy the model into the cache "
            f"({constants.HF_HUB_CACHE}) from a machine that has it, or {local}"
        )
    elif state == "incomplete":
        advice = f"run `summarize models download {preset.name}` to complete it"
    else:
        advice = f"run `summarize models download {preset.name}` on a connected machine (cache: {constants.HF_HUB_CACHE}), or {local}"
    if state == "incomplete":
        lacking = ", ".join(missing_files(_snapshot(preset) or Path(constants.HF_HUB_CACHE)))
        return f"{where} is incomplete in the local cache (no {lacking}) and {reason}; {advice}"
    return f"{where} is not in the local cache and {reason}; {advice}"


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
    missing = missing_files(path)
    if missing:
        raise SummarizeError(f"{where} has no {missing[0]}")
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
    answers = _endpoint_answers(config)
    for role, presets in (("summariser", config.summarizers), ("translator", config.translators)):
        for preset in presets.values():
            default = "yes" if preset.name in defaults else ""
            if preset.llm is not None:
                rows.append(
                    (preset.name, role, default, f"{preset.llm.model} at {endpoint(preset.llm.url)}", answers[id(preset.llm)], "-", preset.licence or "?")
                )
                continue
            if preset.engine is not Engine.abstractive:
                rows.append((preset.name, role, default, f"(no model: {preset.engine})", "yes", "-", "-"))
                continue
            path = local_dir(preset)
            state = "yes" if path else "no" if preset.is_local else {"complete": "yes", "incomplete": "incomplete", "absent": "no"}[cache_state(preset)]
            size = f"{dir_size(path) / 1e6:,.0f} MB" if path else f"{preset.size} to fetch" if preset.size else "-"
            licence = f"{preset.licence} (no commercial use: --allow-noncommercial)" if noncommercial(preset.licence) else preset.licence or "?"
            rows.append((preset.name, role, default, preset.model, state, size, licence))
    return ("preset", "role", "default", "model", "local", "size", "licence"), rows


def _endpoint_answers(config: Config) -> dict[int, str]:
    """Whether each LLM preset's endpoint answers (the local column of an endpoint), asked all at once."""
    from summarize.llm_probe import probe_all

    endpoints = [p.llm for presets in (config.summarizers, config.translators) for p in presets.values() if p.llm is not None]
    return {id(settings): answer for settings, answer in zip(endpoints, probe_all(endpoints))}


def download_presets(presets: list[Preset], notify) -> int:
    """`models download`: fetch each preset that has a hub model; returns how many failed."""
    failed = 0
    for preset in presets:
        if preset.llm is not None:
            notify(f"{preset.name}: model {preset.llm.model} lives on its server at {endpoint(preset.llm.url)}; nothing to download")
        elif preset.engine is not Engine.abstractive:
            notify(f"{preset.name}: the {preset.engine} engine needs no model; nothing to download")
        elif preset.is_local:
            notify(f"{preset.name}: a local directory ({preset.model}); nothing to download")
        else:
            try:
                path = cached_dir(preset) or download(preset, downloading=True)
                check_model_dir(path, preset)
                notify(f"{preset.name}: ready in {path}")
            except SummarizeError as e:
                failed += 1
                notify(f"error: {e}")
    return failed

"""CTranslate2 conversions: a seq2seq model converted once into CTranslate2's format, with the recipe
that turns text into its tokens without transformers, kept in a cache keyed by what the model's files
hold (so a copied or moved model finds its conversion)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from summarize.config import Preset
from summarize.errors import SummarizeError, first_line

RECIPE = "summarize-tokens.json"  # how to turn text into this model's input tokens, written at conversion
FORMAT = 2  # of what convert() writes: a change makes older conversions be redone, not misread
KEY_LENGTH = 16  # hex digits of the content key in a conversion's folder name
SAMPLE = "Проверка связи"  # text whose tokens show which special tokens a tokenizer adds around text


def converted_dir(model_dir: Path, quantization: str, cache_root: Path, index: Path | None = None) -> Path:
    """Where the conversion of this model's content into `quantization` lives: keyed by what the
    files hold, not where they are, so a copied or moved cache still finds its conversions."""
    hashes = content_hashes(model_dir, index or hash_index())
    stamp = "|".join(f"{name}:{digest}" for name, digest in sorted(hashes.items()))
    key = hashlib.sha256(f"{FORMAT}|{stamp}".encode()).hexdigest()[:KEY_LENGTH]
    return cache_root / f"{_model_name(model_dir)}-{key}-{quantization}"


def _model_name(model_dir: Path) -> str:
    """models--org--name for a hub snapshot, the folder's name for a local directory."""
    return model_dir.parent.parent.name if model_dir.parent.name == "snapshots" else model_dir.name


def content_hashes(model_dir: Path, index: Path) -> dict[str, str]:
    """File name → hash of its content, for the files of a model directory.

    A hub snapshot's files link to blobs named by their content hash (git SHA-1, or SHA-256 for LFS
    weights): those names are used as they are. Other files are hashed in full (SHA-256) once and the
    digest kept in `index` under (resolved path, size, mtime), so a 1 GB model is read only when it
    changes. Hashing only its size and first/last MiB would be cheaper but would confuse two
    fine-tunes of one base model, which differ only in the middle of the file.
    """
    known = _read_index(index)
    hashes: dict[str, str] = {}
    changed = False
    for path in sorted(p for p in model_dir.iterdir() if p.is_file()):
        target = path.resolve()
        if path.is_symlink() and target.parent.name == "blobs":
            hashes[path.name] = target.name
            continue
        info = target.stat()
        stamp = [info.st_size, info.st_mtime_ns]
        entry = known.get(str(target))
        if entry is None or entry[:2] != stamp:
            known[str(target)] = entry = [*stamp, _sha256(target)]
            changed = True
        hashes[path.name] = entry[2]
    if changed:
        _write_index(index, known)
    return hashes


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _read_index(index: Path) -> dict[str, list]:
    """The index of earlier hashes; an unreadable one is only a lost shortcut, so it starts afresh."""
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, list) and len(v) == 3}


def _write_index(index: Path, known: dict[str, list]) -> None:
    """Atomically, without the entries of files that are gone. A concurrent writer may win, and an
    unwritable cache loses the index: either costs one more hashing later, never a wrong key."""
    kept = {k: v for k, v in known.items() if os.path.exists(k)}
    temporary = None
    try:
        index.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{index.name}.", dir=index.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(kept, f)
        os.replace(temporary, index)
    except OSError:
        pass
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def remove_older_conversions(target: Path) -> list[Path]:
    """Delete the conversions of the same model under other keys (older files, an older FORMAT),
    in every quantization: each is a full copy of the weights. Returns what was removed."""
    stem, _, _ = target.name.rpartition("-")
    model, key = stem[: -(KEY_LENGTH + 1)], stem[-KEY_LENGTH:]
    pattern = re.compile(rf"{re.escape(model)}-([0-9a-f]{{{KEY_LENGTH}}})-[0-9a-z_]+")
    removed = []
    for other in sorted(target.parent.iterdir()):
        match = pattern.fullmatch(other.name)
        if match and match.group(1) != key and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)
            removed.append(other)
    return removed


def hash_index() -> Path:
    """Digests of local model files, by path, size and mtime: facts about files, not about one
    conversion cache, so one index beside the Hugging Face cache serves every cache root."""
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "summarize-hashes.json"


def default_cache_root() -> Path:
    """Beside the Hugging Face cache, so that clearing one place clears both."""
    from huggingface_hub import constants

    return Path(os.environ.get("SUMMARIZE_CT2_CACHE") or Path(constants.HF_HOME) / "summarize-ct2")


def convert(preset: Preset, model_dir: Path, target: Path, quantization: str) -> Path:
    """Convert with CTranslate2's converter (needs torch and transformers, once), then write the
    vocabulary and special tokens ourselves: with transformers 5 the converter drops tokens the
    tokenizer adds outside sentencepiece (Marian's <pad>) and picks the wrong decoder start token."""
    from ctranslate2.converters import TransformersConverter

    from summarize.engines.seq2seq import load_checked

    # The converter would fill missing weights with random values as transformers does; check first.
    tokenizer, model = load_checked(preset, model_dir)
    config = model.config
    del model
    if config.model_type == "mbart" and not hasattr(config, "normalize_before"):
        _patch_mbart_config()
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        TransformersConverter(str(model_dir)).convert(str(work), quantization=quantization, force=True)
        vocabulary = [token if token is not None else f"<unused{i}>" for i, token in enumerate(tokenizer.convert_ids_to_tokens(list(range(config.vocab_size))))]
        _write_json(work / "shared_vocabulary.json", vocabulary)
        for name in ("vocabulary.json", "source_vocabulary.json", "target_vocabulary.json"):
            (work / name).unlink(missing_ok=True)
        settings = json.loads((work / "config.json").read_text(encoding="utf-8"))
        settings["decoder_start_token"] = vocabulary[config.decoder_start_token_id]
        _write_json(work / "config.json", settings)
        _write_json(work / RECIPE, _token_recipe(tokenizer, model_dir, work))
        shutil.rmtree(target, ignore_errors=True)  # a broken earlier conversion
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    remove_older_conversions(target)
    return target


def read_recipe(path: Path) -> dict[str, Any] | None:
    """The recipe of a finished conversion; None when there is none (or an unreadable one) to redo."""
    try:
        recipe = json.loads((path / RECIPE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return recipe if isinstance(recipe, dict) and recipe.get("kind") in ("tokenizers", "sentencepiece") else None


def _patch_mbart_config() -> None:
    """ctranslate2 4.x reads MBartConfig.normalize_before, which transformers 5 removed; MBart is
    a pre-norm model, so the value is True."""
    from transformers import MBartConfig

    MBartConfig.normalize_before = True


def _token_recipe(tokenizer, model_dir: Path, target: Path) -> dict[str, Any]:
    """How to make exactly the HF tokenizer's tokens without transformers.

    A fast tokenizer is saved as tokenizer.json and run by the `tokenizers` library (its BPE can
    differ from raw sentencepiece, so this is the only exact way). Otherwise (Marian) sentencepiece
    runs with the special tokens the HF tokenizer adds around its pieces, found on a sample.
    """
    special = sorted(set(tokenizer.all_special_tokens))  # dropped from outputs, as skip_special_tokens does
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        backend.save(str(target / "tokenizer.json"))
        return {"kind": "tokenizers", "special": special}
    import sentencepiece

    source = next((n for n in ("spiece.model", "sentencepiece.bpe.model", "source.spm") if (model_dir / n).is_file()), None)
    if source is None:
        raise ValueError("its tokenizer is neither a fast tokenizer nor sentencepiece, which this backend reads")
    output = "target.spm" if (model_dir / "target.spm").is_file() else source
    for name in {source, output}:
        shutil.copy(model_dir / name, target / name)
    pieces = sentencepiece.SentencePieceProcessor(model_file=str(model_dir / source)).encode(SAMPLE, out_type=str)
    full = tokenizer.convert_ids_to_tokens(tokenizer(SAMPLE)["input_ids"])
    start = next((i for i in range(len(full)) if full[i : i + len(pieces)] == pieces), None)
    if start is None:
        raise ValueError(f"sentencepiece and the model's tokenizer split text differently ({pieces} vs {full})")
    return {
        "kind": "sentencepiece",
        "source_spm": source,
        "target_spm": output,
        "prefix": full[:start],
        "suffix": full[start + len(pieces) :],
        "unk": tokenizer.unk_token,
        "special": special,
    }


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def ensure_converted(
    preset: Preset, model_dir: Path, quantization: str, cache_root: Path, progress: Callable[[str], None], advice: str
) -> tuple[Path, dict[str, Any]]:
    """The conversion of this model into `quantization` and its token recipe, converted now (saying
    so) when there is none yet; a model that cannot be converted is one line ending in `advice`."""
    path = converted_dir(model_dir, quantization, cache_root)
    recipe = read_recipe(path)
    if recipe is None:
        progress(f"converting {preset.model} to CTranslate2 ({quantization}) once, into {path}")
        try:
            convert(preset, model_dir, path, quantization)
        except (ImportError, OSError, ValueError, KeyError, AttributeError, NotImplementedError) as e:
            gist = first_line(e, 200).partition(" (supported configurations are")[0]  # not a list of 40 names
            raise SummarizeError(
                f"model {preset.model} (preset {preset.name}) could not be converted for the ctranslate2 backend ({type(e).__name__}: {gist}){advice}"
            ) from None
        recipe = read_recipe(path)
    return path, recipe

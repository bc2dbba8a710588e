"""The CTranslate2 backend: the same seq2seq model converted once into CTranslate2's format.

CTranslate2 (what faster-whisper runs on) decodes T5, MBart and Marian with fused int8 kernels.
Once converted, a run needs neither torch nor transformers: tokens come from the model's own
sentencepiece files, which also saves the seconds of importing them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from summarize.config import Dtype, Preset, Quantize
from summarize.engines.device import batch_budget, bytes_per_token, ct2_compute_type
from summarize.engines.protocol import Generated
from summarize.errors import BackendUnavailable, SummarizeError, first_line

RECIPE = "summarize-tokens.json"  # how to turn text into this model's input tokens, written at conversion
FORMAT = 2  # of what convert() writes: a change makes older conversions be redone, not misread
KEY_LENGTH = 16  # hex digits of the content key in a conversion's folder name
SAMPLE = "Проверка связи"  # text whose tokens show which special tokens a tokenizer adds around text
# generate() settings → translate_batch() arguments; the rest have no CTranslate2 equivalent.
SETTINGS = {
    "num_beams": "beam_size",
    "no_repeat_ngram_size": "no_repeat_ngram_size",
    "max_new_tokens": "max_decoding_length",
    "min_new_tokens": "min_decoding_length",
    "length_penalty": "length_penalty",
    "repetition_penalty": "repetition_penalty",
    "top_k": "sampling_topk",
    "top_p": "sampling_topp",
    "temperature": "sampling_temperature",
}
TORCH_ADVICE = "; use --backend torch"  # ends a conversion error; the auto backend takes the advice itself
IGNORED_QUIETLY = {"early_stopping", "use_cache", "do_sample", "decoder_start_token_id", "forced_bos_token_id", "forced_eos_token_id"}


def _free_gpu_memory() -> int | None:
    """Free bytes on the current GPU, through torch when it is there (CTranslate2 does not say)."""
    try:
        import torch

        return torch.cuda.mem_get_info()[0]
    except Exception:  # noqa: BLE001 - no torch, or no CUDA for it: the CPU budget stands
        return None


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


def _read_recipe(path: Path) -> dict[str, Any] | None:
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


class CT2Seq2Seq:
    """A ModelEngine (see engines/protocol.py) on a CTranslate2 model."""

    # CTranslate2's int8 kernels gain from batching where torch does not: on 2 CPU cores, 4 articles
    # of ~300 tokens with 5 beams took 0.33 s each together against 0.71 s one at a time.
    CPU_BATCH_TOKENS = 16_000

    def __init__(
        self,
        preset: Preset,
        model_dir: Path,
        device: str,
        quantize: Quantize | None,
        progress: Callable[[str], None] = lambda message: None,
        *,
        cache_root: Path | None = None,
        dtype: Dtype = Dtype.auto,
        cpu_threads: int | None = None,
    ):
        import ctranslate2

        self.preset = preset
        self.device = device
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        kind = ct2_compute_type(device, quantize, dtype, config.get("model_type", ""))
        # int8 weights are stored as int8 and run as int8 on CPU; float32/float16 stored as such.
        stored = "int8" if kind.startswith("int8") else kind
        path = converted_dir(model_dir, stored, cache_root or default_cache_root())
        recipe = _read_recipe(path)
        if recipe is None:
            progress(f"converting {preset.model} to CTranslate2 ({stored}) once, into {path}")
            try:
                convert(preset, model_dir, path, stored)
            except (ImportError, OSError, ValueError, KeyError, AttributeError, NotImplementedError) as e:
                gist = first_line(e, 200).partition(" (supported configurations are")[0]  # not a list of 40 names
                raise SummarizeError(
                    f"model {preset.model} (preset {preset.name}) could not be converted for the ctranslate2 backend ({type(e).__name__}: {gist}){TORCH_ADVICE}"
                ) from None
            recipe = _read_recipe(path)
        # On a CPU, parallel workers on parts of a batch beat threads inside one matmul: on 2 cores,
        # 4 articles took 0.44 s each with 2 one-thread workers against 0.72 s with one 2-thread
        # worker, and one article 1.2 s on one thread against 1.8 s on two.
        cores = cpu_threads or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
        threads = max(1, cores // 4) if self.device == "cpu" else 0
        self.workers = max(1, cores // threads) if self.device == "cpu" else 1
        self.translator = ctranslate2.Translator(str(path), device=self.device, compute_type=kind, intra_threads=threads, inter_threads=self.workers)
        self.tokenizer = _Tokens(path, recipe)
        if device == "cuda":
            self._probe(kind)
        free = _free_gpu_memory() if device == "cuda" else None
        self.batch_tokens = batch_budget(device, self.CPU_BATCH_TOKENS, free, bytes_per_token(config, 4 if kind == "float32" else 2))
        self.backend = f"ctranslate2 {kind}"
        self.special_tokens = self.tokenizer.special_count
        self.ignored = sorted(set(preset.generate) - set(SETTINGS) - IGNORED_QUIETLY)

    def _probe(self, kind: str) -> None:
        """One real call: CTranslate2 can see a GPU and still lack the CUDA libraries it was built
        for (libcublas.so.12 on a CUDA 13 machine), which only a call reveals."""
        try:
            self.translator.translate_batch([self.tokenizer.tokens(SAMPLE)], max_decoding_length=1)
        except Exception as e:  # noqa: BLE001 - whatever the runtime says, it cannot run here
            raise BackendUnavailable(f"ctranslate2 cannot run {kind} on this GPU ({first_line(e, 200)})") from None

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.tokenizer.count(texts) if texts else []

    def input_length(self, text: str) -> int:
        return len(self.tokenizer.tokens(text))

    def generate(self, texts: Sequence[str], settings: dict[str, Any], batch_size: int = 8) -> list[Generated]:
        """Like Seq2Seq.generate; inputs over max_input_tokens are cut to it, as a last resort."""
        options = {SETTINGS[k]: v for k, v in settings.items() if k in SETTINGS}
        options.setdefault("max_decoding_length", 256)
        batch = []
        for text in texts:
            tokens = self.tokenizer.tokens(text)
            if len(tokens) > self.preset.max_input_tokens:
                suffix = self.tokenizer.suffix
                tokens = tokens[: self.preset.max_input_tokens - len(suffix)] + suffix
            batch.append(tokens)
        per_worker = max(1, min(batch_size, math.ceil(len(batch) / self.workers)))  # every worker gets a part
        results = self.translator.translate_batch(batch, max_batch_size=per_worker, max_input_length=0, **options)
        # CTranslate2 leaves the end token out of its hypotheses: one as long as the limit was cut there.
        limit = options["max_decoding_length"]
        return [Generated(self.tokenizer.decode(r.hypotheses[0]).strip(), len(r.hypotheses[0]) >= limit) for r in results]


class _Tokens:
    """Text ↔ token strings for one converted model, by the recipe written at conversion."""

    def __init__(self, path: Path, recipe: dict[str, Any]):
        self.special = set(recipe["special"])
        if recipe["kind"] == "tokenizers":
            from tokenizers import Tokenizer

            self.fast = Tokenizer.from_file(str(path / "tokenizer.json"))
            full = self.fast.encode(SAMPLE).tokens
            content = self.fast.encode(SAMPLE, add_special_tokens=False).tokens
            start = next(i for i in range(len(full)) if full[i : i + len(content)] == content)
            self.suffix = full[start + len(content) :]
            self.special_count = len(full) - len(content)
        else:
            import sentencepiece

            self.fast = None
            self.source = sentencepiece.SentencePieceProcessor(model_file=str(path / recipe["source_spm"]))
            self.target = sentencepiece.SentencePieceProcessor(model_file=str(path / recipe["target_spm"]))
            self.vocabulary = set(json.loads((path / "shared_vocabulary.json").read_text(encoding="utf-8")))
            self.prefix, self.suffix, self.unk = recipe["prefix"], recipe["suffix"], recipe["unk"]
            self.special_count = len(self.prefix) + len(self.suffix)

    def tokens(self, text: str) -> list[str]:
        if self.fast is not None:
            return self.fast.encode(text).tokens
        pieces = self.source.encode(text, out_type=str)
        return [*self.prefix, *(p if p in self.vocabulary else self.unk for p in pieces), *self.suffix]

    def count(self, texts: Sequence[str]) -> list[int]:
        if self.fast is not None:
            return [len(e.tokens) for e in self.fast.encode_batch(list(texts), add_special_tokens=False)]
        return [len(p) for p in self.source.encode(list(texts), out_type=str)]

    def decode(self, tokens: list[str]) -> str:
        kept = [t for t in tokens if t not in self.special]
        if self.fast is not None:
            # Ids past the tokenizer's vocabulary (embedding rows padded to a round size) have no
            # text, as transformers' decode gives them none; they are dropped.
            ids = [self.fast.token_to_id(t) for t in kept]
            return self.fast.decode([i for i in ids if i is not None])
        # Tokens of vocab.json that the target sentencepiece lacks are written as they are, as
        # transformers' Marian tokenizer does, rather than lost.
        parts: list[str] = []
        run: list[str] = []
        for token in kept:
            if self.target.piece_to_id(token) == self.target.unk_id() and token != self.unk:
                parts += [self.target.decode(run), token] if run else [token]
                run = []
            else:
                run.append(token)
        if run:
            parts.append(self.target.decode(run))
        return " ".join(p for p in parts if p)

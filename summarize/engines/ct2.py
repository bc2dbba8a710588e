"""The CTranslate2 backend: the same seq2seq model converted once into CTranslate2's format.

CTranslate2 (what faster-whisper runs on) decodes T5, MBart and Marian with fused int8 kernels.
Once converted, a run needs neither torch nor transformers: tokens come from the model's own
sentencepiece files, which also saves the seconds of importing them. The conversion and its cache
are ct2_convert.py's.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from summarize.config import Dtype, Preset, Quantize
from summarize.engines.ct2_convert import SAMPLE, default_cache_root, ensure_converted
from summarize.engines.device import batch_budget, bytes_per_token, ct2_compute_type
from summarize.engines.protocol import Generated, Hints
from summarize.errors import BackendUnavailable, first_line

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
        path, recipe = ensure_converted(preset, model_dir, stored, cache_root or default_cache_root(), progress, TORCH_ADVICE)
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

    def generate(self, texts: Sequence[str], settings: dict[str, Any], batch_size: int = 8, hints: Hints | None = None) -> list[Generated]:
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

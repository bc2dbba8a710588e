"""A pretrained encoder-decoder: load once, count tokens, generate in padded batches.

Both the summariser and the translator are this; transformers 5 has no pipelines, so this is
the preprocess → generate → postprocess split those pipelines had, kept small.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from summarize.config import Dtype, Preset, Quantize
from summarize.engines.device import batch_budget, bytes_per_token, pick_dtype
from summarize.engines.protocol import Generated, Hints
from summarize.errors import SummarizeError


def load_checked(preset: Preset, path: Path, dtype=None):
    """Tokenizer and model from a directory, refusing weights that do not fit the config (which
    transformers would fill with random values and run, writing fluent-looking nonsense)."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
    from transformers.utils import logging

    # Our own messages say what matters; the per-tensor progress bars are noise on stderr.
    logging.disable_progress_bar()
    logging.set_verbosity_error()
    where = f"model {preset.model} (preset {preset.name})"
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        # Never trust_remote_code: a model directory must not be able to run code.
        model, info = AutoModelForSeq2SeqLM.from_pretrained(path, dtype=dtype, trust_remote_code=False, output_loading_info=True)
    except (OSError, ValueError, KeyError, TypeError, ImportError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SummarizeError(f"{where} could not be loaded from {path}: {first}") from None
    missing = info.get("missing_keys") or []
    mismatched = info.get("mismatched_keys") or []
    if missing or mismatched:
        keys = ", ".join(sorted(map(str, [*missing, *mismatched]))[:3])
        raise SummarizeError(
            f"{where}: the weights in {path} do not fit its config.json ({len(missing) + len(mismatched)} "
            f"tensors missing or of the wrong shape, e.g. {keys}); download the model again"
        )
    return tokenizer, model


class Seq2Seq:
    """Tokenizer + AutoModelForSeq2SeqLM on one device."""

    # beams × padded input tokens per generate() call. On a CPU, 4 articles × 5 beams × 600 tokens
    # in one call were slower per article than one at a time (the cross-attention cache traffic
    # grows with each; 2 articles of ~300 tokens gained 7%), so only short articles share a call.
    CPU_BATCH_TOKENS = 3_000

    def __init__(self, preset: Preset, path: Path, device: str, quantize: Quantize | None = None, dtype: Dtype = Dtype.auto):
        import torch

        self.preset = preset
        self.device = device
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
        chosen = pick_dtype(dtype, config.get("model_type", ""), device, bf16)
        torch_dtype = {Dtype.fp32: torch.float32, Dtype.fp16: torch.float16, Dtype.bf16: torch.bfloat16}[chosen]
        self.tokenizer, self.model = load_checked(preset, path, torch_dtype)
        self.model.to(device).eval()
        free = torch.cuda.mem_get_info()[0] if device == "cuda" else None  # after the weights are in
        self.batch_tokens = batch_budget(device, self.CPU_BATCH_TOKENS, free, bytes_per_token(config, torch_dtype.itemsize))
        if quantize == "int8":
            if device != "cpu":
                raise SummarizeError("--quantize int8 is torch's CPU dynamic quantisation; on a GPU use half precision (the default) or --backend ctranslate2")
            # Linear weights to int8, activations quantised on the fly: ~2x less memory traffic per step.
            with warnings.catch_warnings():  # torch marks its quantised tensors deprecated (for torchao); they still work
                warnings.simplefilter("ignore", UserWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                # In place: a quantised copy beside the fp32 model would double the peak memory.
                torch.ao.quantization.quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
        self.special_tokens = len(self.tokenizer("")["input_ids"])
        self.backend = f"torch {'int8' if quantize == 'int8' else chosen}"

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text, without the special tokens the model adds around a whole input."""
        if not texts:
            return []
        ids = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(i) for i in ids]

    def input_length(self, text: str) -> int:
        """Tokens the model would see for this text, special tokens included."""
        return len(self.tokenizer(text)["input_ids"])

    def generate(self, texts: Sequence[str], settings: dict[str, Any], batch_size: int = 8, hints: Hints | None = None) -> list[Generated]:
        """Generate for each text; inputs are cut at max_input_tokens only as a last resort —
        callers fit them to the budget first and report any cut."""
        import torch

        # Similar lengths together: less padding to run through the model.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        outputs: list[Generated] = [Generated("")] * len(texts)
        for start in range(0, len(order), batch_size):
            indices = order[start : start + batch_size]
            batch = [texts[i] for i in indices]
            encoded = self.tokenizer(
                batch,
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=self.preset.max_input_tokens,
            ).to(self.device)
            with torch.inference_mode():
                generated = self.model.generate(**encoded, **settings)
            capped = self._capped(generated, settings.get("max_new_tokens"))
            for i, text, cut in zip(indices, self.tokenizer.batch_decode(generated, skip_special_tokens=True), capped):
                outputs[i] = Generated(text.strip(), cut)
        return outputs

    def _capped(self, generated, limit: int | None) -> list[bool]:
        """Which rows used all max_new_tokens (the first position is the decoder's start token;
        padding fills rows that ended earlier). A forced end token at the limit still counts."""
        if limit is None:
            return [False] * len(generated)
        pad = self.model.generation_config.pad_token_id
        return [int((row[1:] != pad).sum()) >= limit for row in generated]

"""A pretrained encoder-decoder: load once, count tokens, generate in padded batches.

Both the summariser and the translator are this; transformers 5 has no pipelines, so this is
the preprocess → generate → postprocess split those pipelines had, kept small.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from summarize.config import ModelSpec
from summarize.errors import SummarizeError


def pick_device(name: str) -> str:
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise SummarizeError("--device cuda: torch sees no CUDA device here; use --device cpu or auto")
    if name == "mps" and not torch.backends.mps.is_available():
        raise SummarizeError("--device mps: torch sees no Apple GPU here; use --device cpu or auto")
    return name


class Seq2Seq:
    """Tokenizer + AutoModelForSeq2SeqLM on one device."""

    def __init__(self, spec: ModelSpec, path: Path, device: str):
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.spec = spec
        self.device = device
        # Half precision halves memory traffic on a GPU; CPUs have no fast fp16 matmul.
        dtype = torch.float16 if device in ("cuda", "mps") else torch.float32
        from transformers.utils import logging

        # Our own messages say what matters; the per-tensor progress bars are noise on stderr.
        logging.disable_progress_bar()
        logging.set_verbosity_error()
        where = f"model {spec.model} (preset {spec.name})"
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            # Never trust_remote_code: a model directory must not be able to run code.
            self.model, info = AutoModelForSeq2SeqLM.from_pretrained(
                path, dtype=dtype, trust_remote_code=False, output_loading_info=True
            )
        except (OSError, ValueError, KeyError, TypeError, ImportError, RuntimeError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise SummarizeError(f"{where} could not be loaded from {path}: {first}") from None
        missing = info.get("missing_keys") or []
        mismatched = info.get("mismatched_keys") or []
        if missing or mismatched:  # random weights would give fluent-looking nonsense: refuse
            keys = ", ".join(sorted(map(str, [*missing, *mismatched]))[:3])
            raise SummarizeError(
                f"{where}: the weights in {path} do not fit its config.json ({len(missing) + len(mismatched)} "
                f"tensors missing or of the wrong shape, e.g. {keys}); download the model again"
            )
        self.model.to(device).eval()
        self.special_tokens = len(self.tokenizer("")["input_ids"])

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text, without the special tokens the model adds around a whole input."""
        if not texts:
            return []
        ids = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(i) for i in ids]

    def input_length(self, text: str) -> int:
        """Tokens the model would see for this text, special tokens included."""
        return len(self.tokenizer(text)["input_ids"])

    def generate(self, texts: Sequence[str], settings: dict[str, Any], batch_size: int = 8) -> list[str]:
        """Generate for each text; inputs are cut at max_input_tokens only as a last resort —
        callers fit them to the budget first and report any cut."""
        import torch

        outputs: list[str] = []
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            encoded = self.tokenizer(
                batch,
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=self.spec.max_input_tokens,
            ).to(self.device)
            with torch.inference_mode():
                generated = self.model.generate(**encoded, **settings)
            outputs.extend(t.strip() for t in self.tokenizer.batch_decode(generated, skip_special_tokens=True))
        return outputs

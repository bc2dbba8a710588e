"""How far each stage of the summariser is from what this machine's hardware allows, measured
in-process with torch on the model itself.

- Decoding one token is bound by memory: each step must read the decoder's weights (and the output
  projection) plus the cached keys and values of self- and cross-attention for every beam and
  document. The least time a step can take is those bytes over the measured copy bandwidth.
- Encoding is bound by arithmetic: its matrix products over the whole input, against the measured
  peak of a large fp32 matmul.
A ratio of 1 means at the limit; the report shows how many times slower each stage runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Module names of the attention projections in T5 (SelfAttention.k) and BART-family models
# (Marian, MBart: self_attn.k_proj); their output widths give the key/value cache sizes.
SELF_KEYS = ("SelfAttention.k", "self_attn.k_proj")
CROSS_KEYS = ("EncDecAttention.k", "encoder_attn.k_proj")
CROSS_KEYS_VALUES = (*CROSS_KEYS, "EncDecAttention.v", "encoder_attn.v_proj")  # applied once, not per step
QUERIES = ("SelfAttention.q", "self_attn.q_proj")


@dataclass(frozen=True)
class Roofline:
    model: str
    documents: int
    beams: int
    input_tokens: int  # per document
    steps: int
    copy_gb_s: float  # measured: bytes read + written per second by a large tensor copy
    gemm_gflop_s: float  # measured: a large fp32 matmul
    encoder_s: float
    encoder_gflop: float
    encoder_gflop_s: float
    encoder_fraction_of_peak: float
    generate_s: float
    step_ms: float  # (generate − encoder) / steps
    step_weights_mb: float  # decoder weights read per step, output projection included
    step_cross_kv_mb: float
    step_self_kv_mb: float  # mean over the steps
    step_bound_ms: float  # all of the above at the measured bandwidth
    step_over_bound: float  # measured step / bound


def measure(
    model_dir: Path,
    text: str,
    settings: dict[str, Any],
    input_tokens: int,
    documents: int = 1,
    repeats: int = 3,
    copy_mb: int = 512,
    gemm_size: int = 2048,
) -> Roofline:
    """`settings` are the summariser's generate() kwargs with min_new_tokens == max_new_tokens,
    so that every run decodes exactly that many steps. Times are the best of `repeats`: the limit
    a stage can reach on this machine, with as little as possible of other load on it."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()  # e.g. "both max_new_tokens and max_length set": true, and known
    copy_gb_s = copy_bandwidth(copy_mb, repeats)
    gemm_gflop_s = gemm_peak(gemm_size, repeats)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir).eval()
    while len(tokenizer(text)["input_ids"]) < input_tokens:  # long enough to fill the input
        text = f"{text}\n{text}"
    inputs = tokenizer([text] * documents, truncation=True, max_length=input_tokens, return_tensors="pt")
    length = inputs["input_ids"].shape[1]
    encoder = model.get_encoder()
    with torch.inference_mode():
        encoder_s = _best(lambda: encoder(**inputs), repeats)
        generate_s = _best(lambda: model.generate(**inputs, **settings), repeats)

    steps = settings["max_new_tokens"]
    beams = settings.get("num_beams", 1)
    encoder_flop = 2 * documents * length * _linear_weights(encoder) + 4 * documents * length**2 * _width(encoder, QUERIES)
    decoder = model.get_decoder()
    element = next(model.parameters()).element_size()
    weights = (_linear_weights(decoder, skip=CROSS_KEYS_VALUES) + _norm_weights(decoder)) * element
    weights += model.get_output_embeddings().weight.numel() * element
    per_position = 2 * element * beams * documents  # keys and values, every beam of every document
    cross_kv = per_position * length * _width(decoder, CROSS_KEYS)
    self_kv = per_position * (steps + 1) / 2 * _width(decoder, SELF_KEYS)
    step_s = (generate_s - encoder_s) / steps
    bound_s = (weights + cross_kv + self_kv) / (copy_gb_s * 1e9)
    return Roofline(
        model=str(model_dir),
        documents=documents,
        beams=beams,
        input_tokens=length,
        steps=steps,
        copy_gb_s=copy_gb_s,
        gemm_gflop_s=gemm_gflop_s,
        encoder_s=encoder_s,
        encoder_gflop=encoder_flop / 1e9,
        encoder_gflop_s=encoder_flop / encoder_s / 1e9,
        encoder_fraction_of_peak=encoder_flop / encoder_s / 1e9 / gemm_gflop_s,
        generate_s=generate_s,
        step_ms=step_s * 1e3,
        step_weights_mb=weights / 1e6,
        step_cross_kv_mb=cross_kv / 1e6,
        step_self_kv_mb=self_kv / 1e6,
        step_bound_ms=bound_s * 1e3,
        step_over_bound=step_s / bound_s,
    )


def copy_bandwidth(megabytes: int, repeats: int) -> float:
    """GB/s of a tensor copy far larger than the caches, counting the read and the write."""
    import torch

    source = torch.ones(megabytes * 2**20 // 4)
    target = torch.empty_like(source)
    seconds = _best(lambda: target.copy_(source), repeats + 2)
    return 2 * source.numel() * source.element_size() / seconds / 1e9


def gemm_peak(size: int, repeats: int) -> float:
    """GFLOP/s of an fp32 size × size matmul: the best the encoder's matrix products could do."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    seconds = _best(lambda: a @ b, repeats + 2)
    return 2 * size**3 / seconds / 1e9


def _best(work, repeats: int) -> float:
    work()  # warm-up: first-call allocations and kernel selection are not the steady state
    times = []
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def _linear_weights(module, skip: tuple[str, ...] = ()) -> int:
    """Parameters of the matrix products (nn.Linear), leaving out the modules named in skip."""
    import torch

    return sum(
        sum(p.numel() for p in m.parameters(recurse=False)) for name, m in module.named_modules() if isinstance(m, torch.nn.Linear) and not name.endswith(skip)
    )


def _norm_weights(module) -> int:
    """Layer-norm parameters: small, but read every step too."""
    return sum(sum(p.numel() for p in m.parameters(recurse=False)) for _, m in module.named_modules() if "norm" in type(m).__name__.lower())


def _width(module, suffixes: tuple[str, ...]) -> int:
    """Summed output width of the named projections: across layers, the key (or query) width."""
    import torch

    return sum(m.out_features for name, m in module.named_modules() if isinstance(m, torch.nn.Linear) and name.endswith(suffixes))

"""Where a model runs and how precisely: the device, the number format, the batch budget.

Pure policy, so that it is tested without a GPU: the callers pass in what the hardware said.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from summarize.config import Backend, Device, Dtype
from summarize.errors import SummarizeError

# T5 and its descendants (rut5 is mT5-derived) overflow float16 activations (inf/NaN → empty or
# garbage output: transformers #4586, #9295, #10956); their authors ran them in bfloat16.
T5_FAMILY = frozenset({"t5", "mt5", "umt5", "longt5"})
REMOTE_GROUP = 32  # documents handed to an LLM endpoint's client together (its --llm-concurrency bounds what is in flight)
CPU_GROUP = 8  # documents read and given to the models together on a CPU (more can share a batch; fewer wait on a signal)
GPU_GROUP_LIMIT = 256  # at most this many documents wait for one another on a GPU
GPU_MEMORY_SHARE = 0.4  # of the free memory at load, for one generate() call's inputs and caches


def pick_device(requested: Device, backend: Backend) -> str:
    """The device a backend runs on: `auto` picks CUDA, then Apple MPS (torch only), then the CPU."""
    cuda, mps = accelerators(backend)
    if requested is Device.auto:
        return "cuda" if cuda else "mps" if mps else "cpu"
    if requested is Device.cuda and not cuda:
        raise SummarizeError(f"--device cuda: {backend} sees no CUDA device here; use --device cpu or auto")
    if requested is Device.mps and not mps:
        if backend is Backend.ctranslate2:
            raise SummarizeError("--device mps: the ctranslate2 backend runs on CPU or CUDA only; use --backend torch")
        raise SummarizeError("--device mps: torch sees no Apple GPU here; use --device cpu or auto")
    return requested.value


@functools.cache
def accelerators(backend: Backend) -> tuple[bool, bool]:
    """(CUDA, MPS) as the backend sees them; asked once a process (a probe initialises the runtime)."""
    if backend is Backend.ctranslate2:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0, False
    import torch

    return torch.cuda.is_available(), torch.backends.mps.is_available()


def pick_dtype(requested: Dtype, model_type: str, device: str, bf16_supported: bool) -> Dtype:
    """The number format a torch model runs in.

    auto: fp32 on a CPU (no fast half-precision matmul there); on a GPU bf16 for the T5 family where
    the GPU has it (fp32 where it does not: never fp16, which overflows), fp16 for the others
    (Marian, MBart), which were trained and run in it. An explicit choice is kept, except what cannot
    run (bf16 on a GPU without it, fp16 on a CPU)."""
    t5 = model_type in T5_FAMILY
    if requested is Dtype.auto:
        if device == "cpu":
            return Dtype.fp32
        if t5:
            return Dtype.bf16 if bf16_supported else Dtype.fp32
        return Dtype.fp16
    if requested is Dtype.bf16 and device != "cpu" and not bf16_supported:
        raise SummarizeError(f"--dtype bf16: this {device} device has no bfloat16; use --dtype auto")
    if requested is Dtype.fp16 and device == "cpu":
        raise SummarizeError("--dtype fp16: CPUs have no fast float16; use --dtype auto (fp32) or bf16")
    return requested


def ct2_compute_type(device: str, quantize: str | None, dtype: Dtype, model_type: str) -> str:
    """CTranslate2's compute type: int8 on a CPU; on a GPU int8 weights with half-precision
    activations, or half precision throughout — bfloat16 for the T5 family, never float16.
    `--quantize none` (or `--dtype fp32`) keeps float32."""
    if quantize == "none" or dtype is Dtype.fp32:
        return "float32"
    if device == "cpu":
        return "int8"
    half = "bfloat16" if model_type in T5_FAMILY or dtype is Dtype.bf16 else "float16"
    return f"int8_{half}" if quantize == "int8" else half


def batch_budget(device: str, cpu_tokens: int, free_bytes: int | None, bytes_per_token: int) -> int:
    """beams × padded input tokens for one generate() call. On a CPU the backend's measured
    budget; on a GPU what a share of the free memory holds, and never less than the CPU's."""
    if device != "cuda" or not free_bytes or bytes_per_token <= 0:
        return cpu_tokens
    return max(cpu_tokens, int(free_bytes * GPU_MEMORY_SHARE / bytes_per_token))


def group_size(device: str, budget: int, beams: int, max_input_tokens: int) -> int:
    """How many documents wait for one another (and are sorted by length together): on a GPU as
    many as a full batch of the longest inputs holds, so that batches are full; on a CPU a few; for
    a remote engine (an LLM endpoint) enough to keep its client's concurrency busy."""
    if device == "remote":
        return REMOTE_GROUP
    if device != "cuda":
        return CPU_GROUP
    return max(CPU_GROUP, min(GPU_GROUP_LIMIT, budget // max(1, beams * max_input_tokens)))


def bytes_per_token(config: dict, dtype_bytes: int) -> int:
    """Memory one input token of one beam takes while decoding: the encoder's output and, in every
    decoder layer, its cross-attention keys and values; doubled for activations and workspace."""
    width = config.get("d_model") or config.get("hidden_size") or 0
    layers = config.get("num_decoder_layers") or config.get("decoder_layers") or config.get("num_layers") or 0
    return 2 * (1 + 2 * layers) * width * dtype_bytes


def summary_batches(lengths: Sequence[int | None], budget: int, beams: int) -> list[list[int]]:
    """Indices of the pending inputs (their token counts; None when done), shortest first, grouped
    so that beams × padded tokens stays within the engine's batch_tokens (how much batching pays
    differs by backend)."""
    pending = sorted((i for i, n in enumerate(lengths) if n is not None), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    for i in pending:
        longest = lengths[i]  # sorted, so the last is the longest
        if batches and beams * longest * (len(batches[-1]) + 1) <= budget:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches

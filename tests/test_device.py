"""Device policy without a GPU: precision, CTranslate2 compute types, batch budgets, fallbacks."""

import json

import pytest
from helpers import ROOT

from summarize.config import Backend, Device, Dtype, Preset, load_config
from summarize.engines.device import batch_budget, bytes_per_token, ct2_compute_type, group_size, pick_dtype
from summarize.engines.loader import load_engine
from summarize.engines.protocol import Engines
from summarize.errors import BackendUnavailable, SummarizeError
from summarize.options import Choices, make_options

RUT5 = json.loads((ROOT / "bench" / "configs" / "rut5_base_sum_gazeta.json").read_text())["config"]


@pytest.mark.parametrize(
    "model_type, device, bf16, expected",
    [
        ("t5", "cpu", False, Dtype.fp32),
        ("t5", "cuda", True, Dtype.bf16),  # T5 activations overflow float16
        ("mt5", "cuda", True, Dtype.bf16),
        ("t5", "cuda", False, Dtype.fp32),  # no bf16 (pre-Ampere): full precision, never fp16
        ("t5", "mps", False, Dtype.fp32),
        ("marian", "cuda", True, Dtype.fp16),
        ("mbart", "cuda", False, Dtype.fp16),
        ("marian", "mps", False, Dtype.fp16),
        ("marian", "cpu", True, Dtype.fp32),
    ],
)
def test_auto_precision_policy(model_type, device, bf16, expected):
    assert pick_dtype(Dtype.auto, model_type, device, bf16) is expected


def test_explicit_precision_is_kept_unless_the_device_cannot_run_it():
    assert pick_dtype(Dtype.bf16, "marian", "cuda", True) is Dtype.bf16
    assert pick_dtype(Dtype.fp32, "t5", "cuda", True) is Dtype.fp32
    with pytest.raises(SummarizeError, match="no bfloat16"):
        pick_dtype(Dtype.bf16, "t5", "cuda", False)
    with pytest.raises(SummarizeError, match="CPUs have no fast float16"):
        pick_dtype(Dtype.fp16, "marian", "cpu", False)


@pytest.mark.parametrize(
    "device, quantize, dtype, model_type, expected",
    [
        ("cpu", None, Dtype.auto, "t5", "int8"),
        ("cpu", "none", Dtype.auto, "t5", "float32"),
        ("cuda", None, Dtype.auto, "t5", "bfloat16"),
        ("cuda", "int8", Dtype.auto, "t5", "int8_bfloat16"),
        ("cuda", None, Dtype.auto, "marian", "float16"),
        ("cuda", "int8", Dtype.auto, "mbart", "int8_float16"),
        ("cuda", None, Dtype.bf16, "marian", "bfloat16"),
        ("cuda", None, Dtype.fp32, "marian", "float32"),
        ("cuda", None, Dtype.fp16, "t5", "bfloat16"),  # never float16 for T5, even when asked
    ],
)
def test_ctranslate2_compute_types(device, quantize, dtype, model_type, expected):
    assert ct2_compute_type(device, quantize, dtype, model_type) == expected


def test_budget_grows_with_free_gpu_memory_and_stays_put_on_a_cpu():
    per_token = bytes_per_token(RUT5, 2)
    assert per_token == 2 * (1 + 2 * 12) * 768 * 2  # encoder output + cross-attention K/V in 12 layers, fp16
    assert batch_budget("cpu", 3_000, 40 * 2**30, per_token) == 3_000
    assert batch_budget("cuda", 3_000, None, per_token) == 3_000
    big = batch_budget("cuda", 3_000, 40 * 2**30, per_token)
    assert big == int(40 * 2**30 * 0.4 / per_token) > 100_000
    assert batch_budget("cuda", 3_000, 2**20, per_token) == 3_000  # a nearly full GPU: never below the CPU's
    assert group_size("cpu", big, 5, 600) == 8
    assert group_size("cuda", big, 5, 600) == big // (5 * 600)
    assert group_size("cuda", 10**9, 5, 600) == 256


class _OnAGpu:
    """A real tiny engine that says it is on a GPU with room for `tokens` per call."""

    def __init__(self, engine, tokens):
        self.engine, self.batch_tokens, self.device = engine, tokens, "cuda"
        self.calls = []

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def generate(self, texts, settings, batch_size=8, hints=None, leg=None):
        self.calls.append(list(texts))
        return self.engine.generate(texts, settings, batch_size)


def test_on_a_gpu_documents_are_batched_across_the_run_by_length_and_come_back_in_order(models, fast_config):
    from summarize.documents import Document
    from summarize.engines.ct2 import CT2Seq2Seq
    from summarize.pipeline import Pipeline

    options = make_options(load_config(fast_config), Choices(beams=1), translate=False)
    tiny = CT2Seq2Seq(options.summarizer, models["t5"], "cpu", None)
    gpu = _OnAGpu(tiny, tokens=64 * 40)  # room for 40 inputs of 64 tokens, one beam
    docs = [Document(f"d{i}", "Правительство утвердило программу. " * (1 + i % 5)) for i in range(30)]
    results = list(Pipeline(options, Engines(gpu)).run_all(docs))
    assert [item.source for item, _ in results] == [d.source for d in docs]
    assert all(r.summary_ru for _, r in results)
    # The 30 documents are one group (not groups of 8 as on a CPU), batched shortest first.
    assert sum(len(call) for call in gpu.calls) == 30 and len(gpu.calls) < 30 / 8
    lengths = [tiny.input_length(text) for call in gpu.calls for text in call]
    assert lengths == sorted(lengths)


def test_ctranslate2_that_cannot_run_on_this_gpu_falls_back_to_torch_with_one_notice(models, monkeypatch):
    from summarize.engines import ct2

    def no_cuda_libraries(self, *args, **kwargs):
        raise BackendUnavailable("ctranslate2 cannot run int8_float16 on this GPU (Library libcublas.so.12 is not found)")

    monkeypatch.setattr(ct2.CT2Seq2Seq, "__init__", no_cuda_libraries)
    notices = []
    preset = Preset(name="t5", model=str(models["t5"]), max_input_tokens=64)
    engine = load_engine(preset, models["t5"], Device.cpu, Backend.ctranslate2, None, notices=notices)
    assert engine.backend == "torch fp32"
    assert notices == ["ctranslate2 cannot run int8_float16 on this GPU (Library libcublas.so.12 is not found); using torch for it instead"]


def test_the_gpu_probe_turns_a_missing_cuda_library_into_one_line(models, tmp_path):
    from summarize.engines.ct2 import CT2Seq2Seq

    engine = CT2Seq2Seq(Preset(name="t5", model=str(models["t5"]), max_input_tokens=64), models["t5"], "cpu", None, cache_root=tmp_path)

    class Broken:
        def translate_batch(self, *args, **kwargs):
            raise RuntimeError("Library libcublas.so.12 is not found or cannot be loaded\n" + "x" * 26_000)

    engine.translator = Broken()
    with pytest.raises(BackendUnavailable) as caught:
        engine._probe("int8_float16")
    assert str(caught.value) == "ctranslate2 cannot run int8_float16 on this GPU (Library libcublas.so.12 is not found or cannot be loaded)"

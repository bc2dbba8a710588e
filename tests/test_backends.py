"""Speed paths: torch dynamic int8 and the CTranslate2 backend, checked against torch fp32."""

import json
import re
import subprocess
import sys

import pytest
from helpers import clean_env, invoke

from summarize import cli
from summarize.config import Preset
from summarize.engines.ct2 import CT2Seq2Seq
from summarize.engines.seq2seq import Seq2Seq

TEXTS = [
    "Правительство утвердило программу ремонта дорог.",
    "Курс рубля снизился на торгах Московской биржи в понедельник, сообщили аналитики.",
]
GREEDY = {"num_beams": 1, "max_new_tokens": 20, "min_new_tokens": 20}


@pytest.mark.parametrize("name", ["t5", "marian", "mbart"])
def test_ctranslate2_float32_reproduces_torch_greedy_token_for_token(models, tmp_path, name):
    spec = Preset(name=name, model=str(models[name]), max_input_tokens=64)
    torch_engine = Seq2Seq(spec, models[name], "cpu")
    fast = CT2Seq2Seq(spec, models[name], "cpu", "none", cache_root=tmp_path)
    assert fast.count_tokens(TEXTS) == torch_engine.count_tokens(TEXTS)
    assert fast.special_tokens == torch_engine.special_tokens
    assert [fast.input_length(t) for t in TEXTS] == [torch_engine.input_length(t) for t in TEXTS]
    # transformers forces EOS at the length limit (forced_eos_token_id); CTranslate2 does not.
    expected = torch_engine.generate(TEXTS, {**GREEDY, "forced_eos_token_id": None})
    assert fast.generate(TEXTS, GREEDY) == expected
    assert all(expected)


def test_conversion_happens_once_and_is_reported(models, tmp_path):
    spec = Preset(name="t5", model=str(models["t5"]), max_input_tokens=64)
    lines = []
    CT2Seq2Seq(spec, models["t5"], "cpu", None, lines.append, cache_root=tmp_path)
    CT2Seq2Seq(spec, models["t5"], "cpu", None, lines.append, cache_root=tmp_path)
    assert len(lines) == 1 and "converting" in lines[0] and "(int8) once" in lines[0]
    assert [p.name.endswith("-int8") for p in tmp_path.iterdir()] == [True]


def test_a_broken_conversion_is_redone(models, tmp_path):
    spec = Preset(name="t5", model=str(models["t5"]), max_input_tokens=64)
    CT2Seq2Seq(spec, models["t5"], "cpu", None, cache_root=tmp_path)
    [converted] = tmp_path.iterdir()
    (converted / "summarize-tokens.json").write_text("{truncated", encoding="utf-8")
    lines = []
    engine = CT2Seq2Seq(spec, models["t5"], "cpu", None, lines.append, cache_root=tmp_path)
    assert len(lines) == 1 and engine.generate(TEXTS[:1], GREEDY)[0]


def test_cli_ctranslate2_backend_and_its_notices(fast_config, tmp_path, monkeypatch):
    monkeypatch.setenv("SUMMARIZE_CT2_CACHE", str(tmp_path / "ct2"))
    config = tmp_path / "c.toml"
    text = fast_config.read_text().replace("generate = { num_beams = 2,", "generate = { encoder_no_repeat_ngram_size = 3, num_beams = 2,", 1)
    config.write_text(text, encoding="utf-8")
    path = tmp_path / "a.txt"
    path.write_text(" ".join(TEXTS), encoding="utf-8")
    result = invoke(cli.app, path, "--backend", "ctranslate2", "-f", "json", "--config", config)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["summary_ru"] and data["summary_en"] and data["error"] is None
    assert result.stderr.count("converting") == 2  # summariser and translator, once each
    assert any("no equivalent of encoder_no_repeat_ngram_size" in w for w in data["warnings"])


@pytest.fixture
def decoding_options(monkeypatch) -> list[dict]:
    """The keyword arguments of every ctranslate2 translate_batch() call, on their way to the real one."""
    import ctranslate2

    calls = []
    real = ctranslate2.Translator.translate_batch

    def recording(self, source, *args, **kwargs):
        calls.append(kwargs)
        return real(self, source, *args, **kwargs)

    monkeypatch.setattr(ctranslate2.Translator, "translate_batch", recording)
    return calls


@pytest.mark.parametrize(
    "flags, beams",
    [(["--no-translate"], 3), (["--no-translate", "--beams", "1"], 1), (["--engine", "lead"], 4)],
    ids=["summariser-preset", "beams-flag", "translator-preset"],
)
def test_ctranslate2_decodes_with_the_beams_and_length_asked_for(fast_config, tmp_path, decoding_options, flags, beams):
    config = tmp_path / "c.toml"  # beam counts unlike CTranslate2's default of 2, and each its own
    text = fast_config.read_text().replace("num_beams = 2", "num_beams = 3", 1).replace("num_beams = 1", "num_beams = 4", 1)
    config.write_text(text, encoding="utf-8")
    result = invoke(cli.app, "-", *flags, "--backend", "ctranslate2", "-f", "json", "--config", config, input=" ".join(TEXTS))
    assert result.exit_code == 0, result.stderr
    assert decoding_options and [o.get("beam_size") for o in decoding_options] == [beams] * len(decoding_options)
    assert [o.get("max_decoding_length") for o in decoding_options] == [12] * len(decoding_options)  # max_new_tokens


@pytest.mark.parametrize(
    "flags, backend",
    [
        ([], "ctranslate2 int8"),
        (["--backend", "torch"], "torch fp32"),
        (["--backend", "torch", "--quantize", "int8"], "torch int8"),
        (["--quantize", "none"], "ctranslate2 float32"),
    ],
)
def test_each_backend_says_what_ran(fast_config, tmp_path, flags, backend):
    path = tmp_path / "a.txt"
    path.write_text(" ".join(TEXTS), encoding="utf-8")
    result = invoke(cli.app, path, *flags, "-f", "json", "--config", fast_config)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["summary_ru"] and data["backend"] == backend and "Warning" not in result.stderr


def test_weights_that_do_not_fit_are_refused_before_conversion(models, tmp_path):
    import shutil

    from summarize.errors import SummarizeError

    mixed = tmp_path / "mixed"
    shutil.copytree(models["t5"], mixed)
    shutil.copy(models["marian"] / "model.safetensors", mixed / "model.safetensors")
    spec = Preset(name="mixed", model=str(mixed), max_input_tokens=64)
    with pytest.raises(SummarizeError, match="do not fit its config.json"):
        CT2Seq2Seq(spec, mixed, "cpu", None, cache_root=tmp_path / "ct2")
    assert not (tmp_path / "ct2").exists() or not any((tmp_path / "ct2").iterdir())


@pytest.mark.slow
def test_converted_models_run_without_torch_or_transformers(models, tmp_path):
    env = clean_env(SUMMARIZE_CT2_CACHE=str(tmp_path))
    args = [sys.executable, "-X", "importtime", "-m", "summarize", "-", "--backend", "ctranslate2", "-f", "json", "--beams", "1"]
    first = subprocess.run(args, input=TEXTS[0].encode(), capture_output=True, env=env, timeout=300)
    assert first.returncode == 0, first.stderr.decode()[-2000:]
    second = subprocess.run(args, input=TEXTS[0].encode(), capture_output=True, env=env, timeout=300)
    assert second.returncode == 0
    modules = {line.split("|")[-1].strip().split(".")[0] for line in second.stderr.decode().splitlines() if "|" in line}
    assert "ctranslate2" in modules and not {"torch", "transformers"} & modules
    assert json.loads(first.stdout)["summary_ru"] == json.loads(second.stdout)["summary_ru"]


@pytest.fixture(scope="module")
def marian_that_stops(models, tmp_path_factory):
    """The tiny Marian with its end token made certain: its outputs end well before any limit."""
    import shutil

    from safetensors.torch import load_file, save_file

    path = tmp_path_factory.mktemp("eos") / "marian"
    shutil.copytree(models["marian"], path)
    weights = load_file(path / "model.safetensors")
    weights["final_logits_bias"][0, json.loads((path / "config.json").read_text())["eos_token_id"]] = 1000.0
    save_file(weights, path / "model.safetensors", metadata={"format": "pt"})
    return path


@pytest.mark.parametrize("backend", ["torch", "ctranslate2"])
def test_an_output_cut_at_max_new_tokens_says_so_and_one_that_ended_does_not(models, marian_that_stops, tmp_path, backend):
    def engine(path):
        preset = Preset(name="m", model=str(path), max_input_tokens=64)
        if backend == "torch":
            return Seq2Seq(preset, path, "cpu")
        return CT2Seq2Seq(preset, path, "cpu", None, cache_root=tmp_path)

    settings = {"num_beams": 2, "max_new_tokens": 4}
    assert [o.capped for o in engine(models["marian"]).generate(TEXTS, settings)] == [True, True]  # random weights never end
    assert [o.capped for o in engine(marian_that_stops).generate(TEXTS, settings)] == [False, False]


def test_a_capped_summary_and_translation_are_warnings(run, short_file):
    result = run(short_file, "-f", "json", "--length", "short", "--backend", "torch")
    data = json.loads(result.stdout)
    assert any(w.startswith("the summary stopped at the length limit (max_new_tokens = ") for w in data["warnings"])
    assert any(re.match(r"the translation of [1-9]\d* sentence\(s\) stopped at the length limit", w) for w in data["warnings"])
    assert f"summarize: warning: {short_file}: the summary stopped at the length limit" in result.stderr


@pytest.fixture(scope="module")
def unconvertible(models, tmp_path_factory):
    """A tiny BlenderbotSmall (the tiny MBart's tokenizer): torch runs it, CTranslate2 has no converter for it."""
    import torch
    import transformers

    path = tmp_path_factory.mktemp("blenderbot") / "model"
    tokenizer = transformers.AutoTokenizer.from_pretrained(models["mbart"])
    sizes = {"d_model": 16, "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 2, "decoder_attention_heads": 2}
    config = transformers.BlenderbotSmallConfig(
        **sizes, vocab_size=len(tokenizer), encoder_ffn_dim=32, decoder_ffn_dim=32, pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2
    )
    torch.manual_seed(0)
    model = transformers.BlenderbotSmallForConditionalGeneration(config)
    for p in model.parameters():  # large random weights, as tiny_models has them: output that varies
        torch.nn.init.normal_(p, std=0.5)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def config_with(fast_config, tmp_path, model, max_input_tokens=64):
    """fast.toml with its default summariser on another model directory and input limit."""
    config = tmp_path / "other.toml"
    config.write_text(
        f'{fast_config.read_text()}\n[summarizers.other]\nmodel = "{model}"\nmax_input_tokens = {max_input_tokens}\ngenerate = {{ max_new_tokens = 8 }}\n',
        encoding="utf-8",
    )
    return config


def test_auto_backend_runs_a_model_ctranslate2_cannot_convert_on_torch_and_says_so(fast_config, unconvertible, tmp_path, monkeypatch):
    monkeypatch.setenv("SUMMARIZE_CT2_CACHE", str(tmp_path / "ct2"))
    config = config_with(fast_config, tmp_path, unconvertible)
    result = invoke(cli.app, "-", "--model", "other", "--no-translate", "-f", "json", "--config", config, input=TEXTS[1])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["error"], data["backend"]) == (None, "torch fp32")  # the run went on, on torch
    notice = "could not be converted for the ctranslate2 backend (ValueError: No conversion is registered for the model configuration BlenderbotSmallConfig); using torch for it instead"
    assert any(notice in w for w in data["warnings"]) and notice in result.stderr


def test_explicit_ctranslate2_backend_on_a_model_it_cannot_convert_is_one_line(fast_config, unconvertible, tmp_path, monkeypatch):
    monkeypatch.setenv("SUMMARIZE_CT2_CACHE", str(tmp_path / "ct2"))
    config = config_with(fast_config, tmp_path, unconvertible)
    result = invoke(cli.app, "-", "--model", "other", "--no-translate", "--backend", "ctranslate2", "--config", config, input=TEXTS[1])
    assert (result.exit_code, result.stdout) == (2, "")
    *progress, error = result.stderr.splitlines()
    assert [line.split(" to CTranslate2")[0] for line in progress] == [f"summarize: converting {unconvertible}"]
    assert error.startswith("summarize: error: model ") and error.endswith("model configuration BlenderbotSmallConfig); use --backend torch")


@pytest.mark.parametrize("backend", ["torch", "ctranslate2"])
@pytest.mark.parametrize("kind, limit", [("marian", 512), ("mbart", 1024)])
def test_max_input_tokens_over_the_models_positions_is_one_line_at_load(fast_config, models, tmp_path, monkeypatch, backend, kind, limit):
    monkeypatch.setenv("SUMMARIZE_CT2_CACHE", str(tmp_path / "ct2"))
    config = config_with(fast_config, tmp_path, models[kind], max_input_tokens=limit + 1)
    result = invoke(cli.app, "-", "--model", "other", "--no-translate", "--backend", backend, "--config", config, input=TEXTS[1])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"summarize: error: preset other: max_input_tokens = {limit + 1} is more than model {models[kind]} can read ({limit} tokens, "
        f"its config.json); set max_input_tokens to at most {limit} in models.toml\n"
    )


def test_t5_has_relative_positions_and_no_input_limit(fast_config, models, tmp_path):
    config = config_with(fast_config, tmp_path, models["t5"], max_input_tokens=100_000)
    result = invoke(cli.app, "-", "--model", "other", "--no-translate", "--backend", "torch", "-f", "json", "--config", config, input=TEXTS[1])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["summary_ru"]

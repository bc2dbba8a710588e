"""LLM endpoints as presets and options: `kind = "llm"` presets checked key by key into one line,
`--engine llm --llm-url URL --llm-model NAME` as an ad-hoc preset keyed by $SUMMARIZE_LLM_KEY, the
combinations that cannot work, a request that can never choose the endpoint, and `models list`
asking real local servers whether they answer."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading

import pytest
from helpers import NewsServer, clean_env, invoke

from summarize import cli
from summarize.config import Backend, Engine, LongMode, Quantize, load_config
from summarize.errors import SummarizeError
from summarize.flags import ServeFlags
from summarize.llm_presets import LLM_KEY_ENV, endpoint, endpoint_host
from summarize.options import Choices, OptionConflict, make_options
from summarize.runs.serve.error_shape import Rejected, http_spelling
from summarize.runs.serve.requests import RequestOptions
from summarize.runs.serve.service import Service

QWEN = """
[summarizers.qwen]
kind = "llm"
url = "http://127.0.0.1:8080/v1/"
model = "Qwen/Qwen2.5-7B-Instruct/q4"
key_env = "QWEN_KEY"
temperature = 0.2
seed = 7
max_tokens = 300
context_tokens = 8192
prompt = "Перескажи в {sentences} предложениях: {title}\\n{article}"
extra_body = { top_p = 0.9, options = { num_ctx = 8192 } }
timeout = 30
licence = "Apache-2.0"

[translators.qwen-en]
kind = "llm"
url = "https://llm.example:8443/api/v1"
model = "qwen2.5"
"""
HEAVY = {"torch", "transformers", "httpx", "trafilatura", "pyarrow", "ray", "ctranslate2", "natasha"}


def config_of(tmp_path, text: str = QWEN, name: str = "llm.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_an_llm_preset_is_read_with_every_key(tmp_path):
    config = config_of(tmp_path)
    qwen = config.summarizer("qwen")
    assert (qwen.engine, qwen.model, qwen.licence, qwen.is_local, qwen.max_input_tokens) == (Engine.llm, "Qwen/Qwen2.5-7B-Instruct/q4", "Apache-2.0", False, 0)
    settings = qwen.llm
    assert settings.url == "http://127.0.0.1:8080/v1"  # no trailing slash: {url}/models joins cleanly
    assert settings.model == "Qwen/Qwen2.5-7B-Instruct/q4"  # the server's name: never taken for a local path
    assert (settings.key_env, settings.temperature, settings.seed, settings.max_tokens, settings.context_tokens, settings.timeout) == (
        "QWEN_KEY",
        0.2,
        7,
        300,
        8192,
        30.0,
    )
    assert settings.prompt == "Перескажи в {sentences} предложениях: {title}\n{article}"
    assert settings.extra_body == {"top_p": 0.9, "options": {"num_ctx": 8192}}
    translator = config.translator("qwen-en")
    assert (translator.engine, translator.llm.url, translator.llm.key_env, translator.llm.temperature, translator.llm.timeout) == (
        Engine.llm,
        "https://llm.example:8443/api/v1",
        None,
        0.0,
        120.0,
    )


def test_the_shipped_presets_have_no_llm_default():
    config = load_config()
    assert all(p.llm is None for p in (*config.summarizers.values(), *config.translators.values()))


def preset(**keys) -> str:
    body = {"kind": '"llm"', "url": '"http://127.0.0.1:8080/v1"', "model": '"m"'} | keys
    return "[summarizers.x]\n" + "".join(f"{key} = {value}\n" for key, value in body.items() if value is not None)


@pytest.mark.parametrize(
    "body, message",
    [
        (preset(url=None), r"summarizers\.x\.url is missing; give the API base, e\.g\. http://127\.0\.0\.1:8080/v1"),
        (preset(url='"ftp://host/v1"'), r"summarizers\.x\.url must be an http:// or https:// address with a host"),
        (preset(url='"http:///v1"'), r"summarizers\.x\.url must be an http:// or https:// address with a host"),
        (preset(url='"127.0.0.1:8080/v1"'), r"summarizers\.x\.url must be an http:// or https:// address"),
        (preset(url='"http://host:port/v1"'), r"summarizers\.x\.url has a port that is not a number"),
        (preset(url='"http://user:hunter2@host/v1"'), r"summarizers\.x\.url holds credentials \(user:password@\): put the key in an environment variable"),
        (preset(url='"http://host/v1?key=hunter2"'), r"summarizers\.x\.url must be the API base alone \(no \?query"),
        (preset(url='"http://host/v 1"'), r"summarizers\.x\.url must be the API base alone"),
        (preset(model=None), r"summarizers\.x\.model is missing; give the model name the server lists at \{url\}/models"),
        (preset(model='"  "'), r"summarizers\.x\.model is missing"),
        (preset(key_env='"sk-hunter2"'), r"summarizers\.x\.key_env must be the NAME of an environment variable \(letters, digits, _\), never the key itself"),
        (preset(key_env="1"), r"summarizers\.x\.key_env must be the NAME"),
        (preset(api_key='"hunter2"'), r"unknown key 'summarizers\.x\.api_key'; valid keys: context_tokens, extra_body, key_env, kind, licence, max_tokens"),
        (preset(key='"hunter2"'), r"unknown key 'summarizers\.x\.key'"),
        (preset(temperature="-0.1"), r"summarizers\.x\.temperature must be a number of at least 0"),
        (preset(temperature='"hot"'), r"summarizers\.x\.temperature must be a number of at least 0"),
        (preset(temperature="true"), r"summarizers\.x\.temperature must be a number"),
        (preset(temperature="nan"), r"summarizers\.x\.temperature must be a number"),
        (preset(seed="1.5"), r"summarizers\.x\.seed must be a whole number$"),
        (preset(seed="true"), r"summarizers\.x\.seed must be a whole number$"),
        (preset(max_tokens="0"), r"summarizers\.x\.max_tokens must be a whole number of at least 1"),
        (preset(context_tokens="63"), r"summarizers\.x\.context_tokens must be a whole number of at least 64"),
        (preset(timeout="0"), r"summarizers\.x\.timeout must be a number of seconds greater than 0"),
        (preset(prompt="3"), r"summarizers\.x\.prompt must be a string using \{article\}, \{title\}, \{sentences\}"),
        (preset(prompt='"Summarise {summary}: {article}"'), r"summarizers\.x\.prompt has the field \{summary\}; a prompt may use only \{article\}, \{title\}"),
        (preset(prompt='"{article.__class__}"'), r"summarizers\.x\.prompt has the field \{article\.__class__\}"),
        (preset(prompt='"{article!r}"'), r"summarizers\.x\.prompt has the field \{article\}; a prompt may use only"),
        (preset(prompt='"{}"'), r"summarizers\.x\.prompt has the field \{\}"),
        (preset(prompt='"Summarise {article"'), r"summarizers\.x\.prompt is not a valid template \(.*\); write a literal brace as \{\{ or \}\}"),
        (preset(prompt='"Summarise {title} in {sentences} sentences"'), r"summarizers\.x\.prompt must contain \{article\}, where the text goes"),
        (preset(extra_body='"top_p=1"'), r"summarizers\.x\.extra_body must be a table of request body fields"),
        (preset(extra_body="{ messages = [] }"), r"summarizers\.x\.extra_body\.messages is the request's own \(model, messages, stream and n"),
        (preset(extra_body="{ stream = true }"), r"summarizers\.x\.extra_body\.stream is the request's own"),
        (preset(kind='"openai"'), r'summarizers\.x\.kind must be "llm" \(the one kind\); a local model preset leaves kind out'),
        (preset(max_input_tokens="512"), r"unknown key 'summarizers\.x\.max_input_tokens'"),
        (preset(engine='"llm"'), r"unknown key 'summarizers\.x\.engine'"),
        (preset(licence="1"), r"summarizers\.x\.licence must be a string"),
        ('[summarizers.x]\nengine = "llm"\nmodel = "m"', r'summarizers\.x\.engine = "llm" is spelled kind = "llm"; an LLM endpoint preset says kind = "llm"'),
        ('[summarizers.x]\nurl = "http://h/v1"\nmodel = "m"', r'summarizers\.x\.url is a key of LLM presets; an LLM endpoint preset says kind = "llm"'),
        ('[translators.x]\nengine = "lead"', r"translators\.x\.engine must be one of: abstractive$"),
    ],
)
def test_a_bad_llm_preset_is_one_line_naming_the_file_and_key(tmp_path, body, message):
    with pytest.raises(SummarizeError, match=message) as caught:
        config_of(tmp_path, body, "broken.toml")
    said = str(caught.value)
    assert "broken.toml" in said and "\n" not in said and "hunter2" not in said


def test_endpoint_forms_never_show_credentials_or_a_query():
    assert endpoint("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"
    assert endpoint("https://u:secret@api.example/v1/?k=secret") == "https://api.example/v1"
    assert endpoint_host("https://u:secret@api.example:8443/v1") == "api.example:8443"
    assert endpoint_host("http://[::1]:8080/v1") == "[::1]:8080"


# Options


def test_engine_llm_with_url_and_model_is_an_adhoc_preset_keyed_by_one_variable(monkeypatch):
    monkeypatch.setenv(LLM_KEY_ENV, "sk-never-shown")
    options = make_options(load_config(), Choices(engine=Engine.llm, llm_url=" http://127.0.0.1:8080/v1/ ", llm_model="qwen2.5"))
    assert options.engine is Engine.llm
    assert (options.summarizer.name, options.summarizer.model, options.summarizer.engine) == ("llm", "qwen2.5", Engine.llm)
    llm = options.summarizer.llm
    assert (llm.url, llm.model, llm.key_env, llm.temperature) == ("http://127.0.0.1:8080/v1", "qwen2.5", LLM_KEY_ENV, 0.0)
    assert options.llm_concurrency == 4
    assert options.summary_settings == {"max_new_tokens": 120}  # [lengths] medium: the reply's length, nothing of a seq2seq model
    assert "sk-never-shown" not in repr(options) and "sk-never-shown" not in repr(options.summarizer)


def test_a_model_naming_an_llm_preset_means_engine_llm_and_the_flags_override_it(tmp_path):
    config = config_of(tmp_path)
    options = make_options(config, Choices(model="qwen"))
    assert options.engine is Engine.llm and options.summarizer.llm.url == "http://127.0.0.1:8080/v1"
    assert options.summary_settings == {"max_new_tokens": 300}  # the preset's max_tokens, --length not given
    moved = make_options(config, Choices(model="qwen", llm_url="http://10.0.0.5:11434/v1", llm_model="qwen2.5:7b", length="short"))
    assert (moved.summarizer.llm.url, moved.summarizer.llm.model, moved.summarizer.model) == ("http://10.0.0.5:11434/v1", "qwen2.5:7b", "qwen2.5:7b")
    assert moved.summarizer.llm.key_env == "QWEN_KEY" and moved.summarizer.llm.seed == 7  # the rest is the preset's
    assert moved.summary_settings == {"max_new_tokens": 60}  # --length short
    assert make_options(config, Choices(model="qwen", long_mode=LongMode.chunk)).long_mode is LongMode.chunk
    lead = make_options(config, Choices(model="qwen", engine=Engine.lead))  # a model-free engine needs nothing of the preset
    assert lead.engine is Engine.lead


def test_an_llm_default_summariser_needs_no_flags(tmp_path):
    config = config_of(tmp_path, QWEN + '\n[defaults]\nsummarizer = "qwen"\ntranslator = "qwen-en"\n')
    options = make_options(config, Choices(engine=Engine.llm, llm_model="other"))
    assert (options.summarizer.name, options.summarizer.llm.model, options.translator.llm.model) == ("qwen", "other", "qwen2.5")


@pytest.mark.parametrize(
    "choices, said, names",
    [
        (Choices(engine=Engine.llm), "--engine llm needs an endpoint: give --llm-url too (both), or --model naming a kind", ["engine", "llm_url", "model"]),
        (Choices(engine=Engine.llm, llm_url="http://h/v1"), "--engine llm needs an endpoint: give --llm-model too (both)", ["engine", "llm_model", "model"]),
        (
            Choices(llm_url="http://h/v1", llm_model="m"),
            '--llm-url is for --engine llm (or --model naming a kind = "llm" preset',
            ["llm_url", "engine", "model"],
        ),
        (Choices(llm_model="m", engine=Engine.extractive), "--llm-model is for --engine llm", ["llm_model", "engine", "model"]),
        (Choices(model="qwen", engine=Engine.abstractive), "preset qwen is an LLM endpoint, not a local model; drop --engine abstractive", ["engine", "model"]),
        (Choices(model="qwen", llm_url="http://h/v1", engine=Engine.lead), "--llm-url is for --engine llm", ["llm_url", "engine", "model"]),
        (
            Choices(model="lead", engine=Engine.llm),
            'preset lead is not an LLM endpoint (kind = "llm" in models.toml); drop --model or --engine llm',
            ["model", "engine"],
        ),
        (Choices(model="qwen", beams=2), "--beams is for a local model's beam search; the llm engine asks its endpoint for one answer", ["beams", "length"]),
        (Choices(model="qwen", max_words=20), "--max-words is for --engine extractive or lead; for a model, use --length", ["max_words", "engine", "length"]),
        (
            Choices(model="qwen", translator="qwen-en", backend=Backend.torch),
            "--backend is for a local model; the llm engine runs on its endpoint",
            ["backend"],
        ),
        (Choices(model="qwen", translator="qwen-en", quantize=Quantize.int8), "--quantize is for a local model", ["quantize"]),
    ],
)
def test_options_that_cannot_go_with_an_llm_are_one_line_in_each_callers_words(tmp_path, choices, said, names):
    with pytest.raises(OptionConflict) as raised:
        make_options(config_of(tmp_path), choices)
    assert str(raised.value).startswith(said) and "\n" not in str(raised.value)
    assert raised.value.names == names
    assert ("options.engine" in raised.value.said(http_spelling)) == ("engine" in names)  # a request's engine as a server's caller names it


def test_a_local_translator_still_takes_the_local_model_options(tmp_path):
    options = make_options(config_of(tmp_path), Choices(model="qwen", backend=Backend.torch, quantize=Quantize.int8))
    assert options.translator.name == "opus-mt-tc-big-zle-en" and options.backend is Backend.torch


@pytest.mark.parametrize(
    "url, said",
    [
        ("ftp://h/v1", "--llm-url must be an http:// or https:// address"),
        ("http://me:hunter2@h/v1", "--llm-url holds credentials (user:password@): put the key in an environment variable (key_env, or $SUMMARIZE_LLM_KEY)"),
    ],
)
def test_a_bad_llm_url_is_one_line_that_never_repeats_a_secret(url, said):
    with pytest.raises(SummarizeError) as raised:
        make_options(load_config(), Choices(engine=Engine.llm, llm_url=url, llm_model="m"))
    assert str(raised.value).startswith(said) and "hunter2" not in str(raised.value)


def test_an_empty_llm_model_is_refused():
    with pytest.raises(SummarizeError, match="^--llm-model is empty"):
        make_options(load_config(), Choices(engine=Engine.llm, llm_url="http://h/v1", llm_model=" "))


# A server: the endpoint is its own, never a request's


def test_a_request_cannot_name_an_endpoint():
    for field in ("llm_url", "llm_model", "llm_concurrency"):
        with pytest.raises(ValueError, match="Extra inputs are not permitted"):
            RequestOptions(**{field: "http://169.254.169.254/latest" if field != "llm_concurrency" else 64})
    assert RequestOptions(engine="llm").engine is Engine.llm  # the engine is per request: the server says whether it has one


def service(config, **choices) -> Service:
    """A server's Service before it loads anything: what it lets a request ask for is decided here."""
    return Service(config, Choices(**choices), ServeFlags(translate=False), notify=lambda line: None)


@pytest.mark.parametrize(
    "server, asked, said",
    [
        (
            {"engine": Engine.lead},
            Engine.llm,
            "this server has no LLM endpoint (it was started with the lead engine); ask for options.engine extractive or lead",
        ),
        (
            {},
            Engine.llm,
            "this server has no LLM endpoint (it was started with the abstractive engine); ask for options.engine abstractive, extractive or lead",
        ),
        (
            {"model": "qwen"},
            Engine.abstractive,
            "this server runs no local model (it was started with the llm engine); ask for options.engine extractive, lead or llm",
        ),
    ],
)
def test_a_request_for_an_engine_the_server_did_not_start_is_refused_in_one_line(tmp_path, server, asked, said):
    served = service(config_of(tmp_path), **server)
    try:
        with pytest.raises(Rejected) as refused:
            served.options_for({"engine": asked})
        assert (refused.value.status, refused.value.message) == (422, said)
    finally:
        served.close()


def test_an_llm_server_runs_model_free_requests_and_its_own_endpoint(tmp_path):
    served = service(config_of(tmp_path), engine=Engine.llm, llm_url="http://127.0.0.1:9/v1", llm_model="m", long_mode=LongMode.chunk)
    try:
        lead = served.options_for({"engine": Engine.lead})  # the server's endpoint flags are not the lead engine's
        assert lead.engine is Engine.lead and lead.llm_url is None and lead.long_mode is LongMode.truncate
        own = served.options_for({"engine": Engine.llm, "length": "short"})
        assert (own.summarizer.llm.url, own.summary_settings, own.long_mode) == ("http://127.0.0.1:9/v1", {"max_new_tokens": 60}, LongMode.chunk)
        with pytest.raises(Rejected, match="^options.beams is for a local model's beam search"):
            served.options_for({"beams": 2})
    finally:
        served.close()


# models list and download


def closed_port() -> int:
    """A loopback port nothing listens on (taken, then let go)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        return taken.getsockname()[1]


@pytest.fixture
def endpoints(tmp_path):
    """Three llm presets: a real local server listing the model, one whose /models wants a key, and a closed port."""
    listing, locked = NewsServer(), NewsServer()
    listing.add("/v1/models", json.dumps({"object": "list", "data": [{"id": "qwen2.5", "object": "model"}]}), "application/json")
    locked.add("/v1/models", json.dumps({"error": {"message": "no key"}}), "application/json", status=401)
    config = tmp_path / "endpoints.toml"
    config.write_text(
        f"""
[summarizers.up]
kind = "llm"
url = "{listing.base}/v1"
model = "qwen2.5"
licence = "Apache-2.0"

[summarizers.other-model]
kind = "llm"
url = "{listing.base}/v1"
model = "llama3"

[summarizers.locked]
kind = "llm"
url = "http://localhost:{locked.port}/v1"
model = "m"
key_env = "LOCKED_KEY"

[translators.down]
kind = "llm"
url = "http://127.0.0.1:{closed_port()}/v1"
model = "qwen2.5"
""",
        encoding="utf-8",
    )
    yield config, listing, locked
    listing.stop()
    locked.stop()


def test_models_list_shows_each_endpoint_and_whether_it_answers(endpoints, monkeypatch):
    config, listing, locked = endpoints
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")  # a proxy that is not there: loopback is asked directly
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{closed_port()}")
    result = invoke(cli.models_app, "list", "--config", config)
    assert result.exit_code == 0, result.stderr
    rows = {line.split("\t")[0]: line.split("\t") for line in result.stdout.splitlines()[1:]}
    assert rows["up"][1:] == ["summariser", "", f"qwen2.5 at {listing.base}/v1", "answers", "-", "Apache-2.0"]
    assert rows["other-model"][4] == "answers, without model llama3"
    assert rows["locked"][3:5] == [f"m at http://localhost:{locked.port}/v1", "answers 401: set $LOCKED_KEY"]
    assert rows["down"][1] == "translator" and rows["down"][4] == "no answer (connection refused)"
    assert listing.hits["/v1/models"] == 1  # the same endpoint, model and key: asked once
    assert "Authorization" not in locked.seen_headers[0]


def test_models_list_sends_the_key_from_its_variable_and_says_when_it_is_refused(endpoints, monkeypatch):
    config, _, locked = endpoints
    monkeypatch.setenv("LOCKED_KEY", "sk-test-key")
    result = invoke(cli.models_app, "list", "--config", config)
    rows = {line.split("\t")[0]: line.split("\t") for line in result.stdout.splitlines()[1:]}
    assert rows["locked"][4] == "answers 401: the key in $LOCKED_KEY is refused"
    assert locked.seen_headers[0]["Authorization"] == "Bearer sk-test-key"
    assert "sk-test-key" not in result.stdout + result.stderr


def test_models_list_says_a_key_no_header_can_carry_without_showing_it(endpoints, monkeypatch):
    config, _, locked = endpoints
    monkeypatch.setenv("LOCKED_KEY", "sk-test-key\nsecond-line")
    result = invoke(cli.models_app, "list", "--config", config)
    rows = {line.split("\t")[0]: line.split("\t") for line in result.stdout.splitlines()[1:]}
    assert rows["locked"][4].startswith("$LOCKED_KEY holds what an HTTP header cannot carry")
    assert "sk-test-key" not in result.stdout + result.stderr and locked.hits["/v1/models"] == 0


def test_models_list_gives_up_on_an_endpoint_that_trickles_its_answer():
    """The socket's timeout is per read: a byte every 0.3 s would hold the listing for ever without a deadline."""
    from helpers import Route

    from summarize.llm_presets import LLMSettings
    from summarize.llm_probe import probe

    trickling = NewsServer()
    trickling.routes["/v1/models"] = Route(b" " * 100_000, content_type="application/json", drip=0.3)
    said: list[str] = []
    asking = threading.Thread(target=lambda: said.append(probe(LLMSettings(url=f"{trickling.base}/v1", model="m"), timeout=0.5)), daemon=True)
    asking.start()
    asking.join(60)  # a hang guard only
    trickling.stop()
    assert said == ["no answer (timed out)"]


def test_models_download_of_an_llm_preset_says_there_is_nothing_to_download(endpoints):
    config, listing, _ = endpoints
    result = invoke(cli.models_app, "download", "up", "--config", config)
    assert result.exit_code == 0
    assert result.stderr.strip() == f"summarize: up: model qwen2.5 lives on its server at {listing.base}/v1; nothing to download"
    assert listing.hits["/v1/models"] == 0


# The real program: argument errors and the listing import no HTTP client, no model library


def imported(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "summarize", *args], capture_output=True, text=True, timeout=120, env=clean_env())
    return done, {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}


def said(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stderr.splitlines() if "|" not in line]  # -X importtime's lines have a |


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, line",
    [
        (["-", "--engine", "llm"], "summarize: error: --engine llm needs an endpoint: give --llm-url too (both)"),
        (["-", "--llm-url", "http://127.0.0.1:9/v1", "--llm-model", "m"], "summarize: error: --llm-url is for --engine llm"),
        (["-", "--engine", "llm", "--llm-url", "ftp://h", "--llm-model", "m"], "summarize: error: --llm-url must be an http:// or https:// address"),
        (["-", "--engine", "llm", "--llm-url", "http://h/v1", "--llm-model", "m", "--beams", "2"], "summarize: error: --beams is for a local model's"),
        (["-", "--llm-concurrency", "0"], "summarize: error: Invalid value for '--llm-concurrency'"),
    ],
)
def test_an_llm_argument_error_is_one_line_and_exit_2_without_heavy_imports(args, line):
    done, modules = imported(*args)
    assert done.returncode == 2 and len(said(done)) == 1 and said(done)[0].startswith(line), done.stderr[-2000:]
    assert not HEAVY & modules


@pytest.mark.slow
def test_models_list_with_llm_presets_imports_no_http_client(endpoints):
    config, listing, _ = endpoints
    done, modules = imported("models", "list", "--config", str(config))
    assert done.returncode == 0 and "answers" in done.stdout and not said(done), done.stderr[-2000:]
    assert not HEAVY & modules
    assert listing.hits["/v1/models"] == 1


def test_the_summariser_options_say_how_to_reach_an_llm():
    result = invoke(cli.app, "--help")
    assert "--llm-url" in result.stdout and "--llm-model" in result.stdout and "--llm-concurrency" in result.stdout


def test_a_service_never_sees_a_key(tmp_path, monkeypatch):
    monkeypatch.setenv("QWEN_KEY", "sk-in-the-environment")
    served = service(config_of(tmp_path), model="qwen")
    try:
        assert served.options.summarizer.llm.key_env == "QWEN_KEY" and "sk-in-the-environment" not in repr(served.options)
    finally:
        served.close()

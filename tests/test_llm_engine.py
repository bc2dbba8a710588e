"""`summarize --engine llm` end to end against a scripted OpenAI-compatible server on 127.0.0.1
(tests/fake_llm.py): honest results (the server's model, the endpoint's host, usage), a failure
that stays its input's own, context overflows fitted with --long, the check on LLM summaries, an LLM
translator, the key kept out of every output, and a Ctrl-C that ends a run promptly."""

import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from fake_llm import SUMMARY, FakeLLM, Step
from helpers import BIN, clean_env, invoke, parse_jsonl

SHORT = "Москва, 3 марта. Правительство утвердило программу ремонта дорог. Работы начнутся весной."
LONG = " ".join(f"В пункте {i} программы правительство описало ремонт дороги номер {i}." for i in range(80))
KEY = "sk-test-5d1c0e9a7b"  # unique: grepped for in every output


def summarize(*args, input: str | None = None):
    from summarize import cli

    return invoke(cli.app, *args, input=input)


def adhoc(server: FakeLLM) -> list[str]:
    return ["--engine", "llm", "--llm-url", server.url, "--llm-model", server.model, "--no-translate"]


def articles(tmp_path: Path, **texts: str) -> list[Path]:
    paths = []
    for name, text in texts.items():
        paths.append(tmp_path / f"{name}.txt")
        paths[-1].write_text(text, encoding="utf-8")
    return paths


def config(tmp_path: Path, server: FakeLLM, **settings) -> Path:
    """A models.toml with llm presets on the server: a summariser `fake` and a translator `fake-en`."""
    extra = "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())
    path = tmp_path / "llm.toml"
    path.write_text(
        f'[summarizers.fake]\nkind = "llm"\nurl = "{server.url}"\nmodel = "{server.model}"\n{extra}\n'
        f'[translators.fake-en]\nkind = "llm"\nurl = "{server.url}"\nmodel = "{server.model}"\n{extra}',
        encoding="utf-8",
    )
    return path


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_summary_from_the_server_with_what_ran_it(tmp_path):
    (article,) = articles(tmp_path, a=SHORT)
    with FakeLLM(answered_model="qwen2.5-7b-instruct-q4") as server:
        result = summarize(article, *adhoc(server), "--no-check", "--format", "json")
        (chat,) = server.chats
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["summary_ru"], data["engine"], data["model"]) == (SUMMARY, "llm", "qwen2.5-7b-instruct-q4")
    assert data["backend"] == server.url.removeprefix("http://").removesuffix("/v1")  # host:port, no scheme or path
    assert data["usage"] == {"prompt_tokens": chat_tokens(chat.body), "completion_tokens": 16, "requests": 1}
    assert data["warnings"] == [] and data["error"] is None and result.stderr == ""
    body = chat.body
    assert (body["model"], body["temperature"], body["max_tokens"], body["stream"]) == (server.model, 0.0, 120, False)  # [lengths] medium
    (message,) = body["messages"]
    assert "в 3 предложениях" in message["content"] and message["content"].endswith(SHORT)


def chat_tokens(body: dict) -> int:
    from fake_llm import prompt_tokens

    return prompt_tokens(body)


def test_length_asks_for_the_sentences_and_caps_the_reply(tmp_path):
    (article,) = articles(tmp_path, a=SHORT)
    with FakeLLM() as server:
        result = summarize(article, *adhoc(server), "--no-check", "--length", "short")
        (chat,) = server.chats
    assert result.exit_code == 0, result.stderr
    assert chat.body["max_tokens"] == 60 and "в 2 предложениях" in chat.body["messages"][0]["content"]


def test_a_reply_cut_by_max_tokens_is_a_warning_and_one_not_in_russian_too(tmp_path):
    paths = articles(tmp_path, cut=SHORT, english=SHORT + " Английский.")
    english = lambda body: Step(text="The government approved a road plan.") if "Английский" in body["messages"][0]["content"] else Step(finish_reason="length")  # noqa: E731
    with FakeLLM(reply=english) as server:
        result = summarize(*paths, *adhoc(server), "--no-check", "--format", "json")
    assert result.exit_code == 0, result.stderr
    cut, other = json.loads(result.stdout)
    assert cut["warnings"] == ["the summary stopped at the length limit (the LLM's max_tokens = 120), not at its end: it may be cut off; try --length long"]
    assert other["warnings"] == ["the summary is not in Russian (0% of its letters are Cyrillic): the LLM answered in another language"]
    assert f"warning: {paths[1]}: the summary is not in Russian" in result.stderr


def test_an_empty_reply_fails_its_input_alone(tmp_path):
    paths = articles(tmp_path, empty=SHORT + " Пусто.", fine=SHORT)
    empty = lambda body: Step(text="", think="Ничего не скажу.") if "Пусто" in body["messages"][0]["content"] else Step()  # noqa: E731
    with FakeLLM(reply=empty) as server:
        result = summarize(*paths, *adhoc(server), "--no-check", "--format", "json")
    assert result.exit_code == 1, result.stderr
    failed, fine = json.loads(result.stdout)
    assert failed["error"] == f"{paths[0]}: the LLM gave no summary: its reply was empty" and failed["summary_ru"] is None
    assert fine["summary_ru"] == SUMMARY and fine["error"] is None
    assert "Ничего" not in result.stdout + result.stderr  # reasoning never reaches the screen


def test_a_hung_request_is_its_inputs_failure_while_the_others_are_summarised(tmp_path):
    paths = articles(tmp_path, hung=SHORT + " Зависни.", a=SHORT, b=SHORT)
    hang = lambda body: Step(hang=True) if "Зависни" in body["messages"][0]["content"] else Step()  # noqa: E731
    with FakeLLM(reply=hang) as server:
        result = summarize(*paths, "--config", config(tmp_path, server, timeout=1), "--model", "fake", "--no-translate", "--no-check", "-f", "json")
    assert result.exit_code == 1, result.stderr
    hung, *others = json.loads(result.stdout)
    assert "did not answer within 1 s" in hung["error"] and hung["error"].startswith(f"{paths[0]}: LLM endpoint {server.url} (preset fake)")
    assert [r["summary_ru"] for r in others] == [SUMMARY, SUMMARY]


def test_each_article_of_a_batch_gets_the_summary_of_its_own_prompt(tmp_path):
    """Articles of different lengths (the pipeline sorts a group by length, the client answers out of
    order): each result holds the reply to its own prompt, never a neighbour's."""
    import re

    lengths = {"a": 9, "b": 1, "c": 5, "d": 3, "e": 7}  # extra sentences, so the order by length is not the order given
    paths = articles(tmp_path, **{name: f"Метка{name}. " + " ".join(["Правительство утвердило программу."] * n) + " " + SHORT for name, n in lengths.items()})

    def own(body):
        name = re.search(r"Метка(\w)", body["messages"][0]["content"]).group(1)
        return Step(text=f"Итог статьи {name}.", delay=0.01 * lengths[name])  # longer prompts answer later

    with FakeLLM(reply=own) as server:
        result = summarize(*paths, *adhoc(server), "--llm-concurrency", "3", "--no-check", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(row["source"], row["summary_ru"]) for row in rows] == [(str(path), f"Итог статьи {path.stem}.") for path in paths]


def test_the_check_flags_what_the_llm_invented(tmp_path):
    (article,) = articles(tmp_path, a=SHORT)
    with FakeLLM() as server:
        server.script(Step(text="В 2031 году правительство утвердило программу ремонта дорог."))
        result = summarize(article, *adhoc(server), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [flag["text"] for flag in data["unsupported"]] == ["2031"]


def test_terminal_escapes_in_a_reply_are_removed_saying_so_and_never_checked_as_numbers(tmp_path):
    (article,) = articles(tmp_path, a=SHORT)
    english = "The government \x1b[1mapproved\x1b[0m a programme."
    with FakeLLM(answered_model="qwen\x1b]0;pwned\x07") as server:
        server.script(Step(text="Правительство \x1b[31mутвердило\x1b[0m программу\x07.\r\nРаботы начнутся весной."), Step(text=english))
        result = summarize(article, "--config", config(tmp_path, server), "--model", "fake", "--translator", "fake-en", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["summary_ru"], data["summary_en"], data["model"]) == (
        "Правительство утвердило программу.\nРаботы начнутся весной.",
        "The government approved a programme.",
        "qwen",
    )
    assert data["unsupported"] == []  # "31m" and "0m" are not numbers the summary invented
    assert "the LLM's reply had 10 control character(s) (terminal escapes?); they are removed" in data["warnings"]
    assert "the LLM's translation had 8 control character(s) (terminal escapes?); they are removed" in data["warnings"]
    assert not any(c in result.stdout + result.stderr for c in "\x1b\x07\r")


def test_an_llm_translator_translates_each_summary_whole(tmp_path):
    (article,) = articles(tmp_path, a=SHORT)
    english = "The government approved a road repair programme. Work starts in spring."
    with FakeLLM() as server:
        server.script(Step(text="Правительство утвердило программу. Работы начнутся весной."), Step(text=english))
        result = summarize(article, "--config", config(tmp_path, server), "--model", "fake", "--translator", "fake-en", "--no-check", "-f", "json")
        summary_chat, translation_chat = server.chats
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["summary_en"], data["translator"], data["usage"]["requests"]) == (english, "fake-en", 2)
    prompt = translation_chat.body["messages"][0]["content"]
    assert prompt.startswith("Translate this Russian news summary into English") and prompt.endswith(
        "Правительство утвердило программу. Работы начнутся весной."
    )


@pytest.mark.parametrize("props", [False, True], ids=["learnt-from-a-400", "from-props"])
def test_an_article_over_a_llama_cpp_context_is_truncated_to_its_lead(tmp_path, props):
    (article,) = articles(tmp_path, long=LONG)
    with FakeLLM(n_ctx=900, props=props, tokenize=True) as server:
        result = summarize(article, *adhoc(server), "--no-check", "-f", "json")
        chats = server.chats
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["truncated"] and data["summary_ru"] == SUMMARY and data["used_tokens"] < data["input_tokens"]
    assert chat_tokens(chats[-1].body) <= 900
    said = [w for w in data["warnings"] if "longer than the LLM's context" in w]
    # Told the context up front (/props), the engine fits the article before sending it; else it learns it from the 400.
    assert len(chats) == (1 if props else 2) and len(said) == (0 if props else 1)
    assert data["warnings"][-1].startswith("summarised the first ") and data["warnings"][-1].endswith("use --long chunk to summarise all of it")


def test_an_article_over_the_context_is_map_reduced_with_long_chunk(tmp_path):
    (article,) = articles(tmp_path, long=LONG)
    with FakeLLM(n_ctx=900) as server:
        result = summarize(article, *adhoc(server), "--no-check", "--long", "chunk", "-f", "json")
        chats = server.chats
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert not data["truncated"] and data["chunks"] > 1 and data["summary_ru"] == SUMMARY
    assert data["usage"]["requests"] == len(chats) == 1 + data["chunks"] + 1  # the 400, the chunks, their summary
    assert data["usage"]["prompt_tokens"] == sum(chat_tokens(c.body) for c in chats[1:])


def test_ollamas_silent_cut_is_detected_and_the_article_fitted(tmp_path):
    (article,) = articles(tmp_path, long=LONG)
    with FakeLLM(silent_cut=600) as server:  # answers every prompt, counting at most 600 of its tokens
        result = summarize(article, *adhoc(server), "--no-check", "-f", "json")
        chats = server.chats
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(chats) == 2 and chat_tokens(chats[1].body) <= 600 and data["truncated"]
    assert any("it cut the prompt to its context (as Ollama does past num_ctx)" in w for w in data["warnings"])


def test_an_endpoint_that_does_not_answer_is_exit_2_before_any_work(tmp_path):
    (article,) = articles(tmp_path, a=SHORT)
    url = f"http://127.0.0.1:{closed_port()}/v1"
    result = summarize(article, "--engine", "llm", "--llm-url", url, "--llm-model", "m", "--no-translate")
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"summarize: error: LLM endpoint {url} (preset llm) does not answer (")


def test_a_refused_key_is_exit_2_naming_its_variable(tmp_path, monkeypatch):
    (article,) = articles(tmp_path, a=SHORT)
    with FakeLLM(key=KEY) as server:
        missing = summarize(article, *adhoc(server))
        monkeypatch.setenv("SUMMARIZE_LLM_KEY", "wrong")
        wrong = summarize(article, *adhoc(server))
    assert (missing.exit_code, wrong.exit_code) == (2, 2)
    assert "set $SUMMARIZE_LLM_KEY to the server's key" in missing.stderr and "$SUMMARIZE_LLM_KEY was refused" in wrong.stderr


def test_an_unknown_model_is_exit_2_listing_the_servers_models(tmp_path):
    (article,) = articles(tmp_path, a=SHORT)
    with FakeLLM(models=["qwen2.5:7b", "llama3.1:8b"]) as server:
        result = summarize(article, "--engine", "llm", "--llm-url", server.url, "--llm-model", "qwen", "--no-translate")
    assert result.exit_code == 2 and "has no model 'qwen'; it serves: qwen2.5:7b, llama3.1:8b" in result.stderr


def test_the_key_appears_in_no_output(tmp_path, monkeypatch):
    monkeypatch.setenv("SUMMARIZE_LLM_KEY", KEY)
    paths = articles(tmp_path, echo=SHORT + " Эхо.", fine=SHORT)
    out = tmp_path / "out.jsonl"
    # A careless server that echoes the key in an error: it must not reach any output either.
    echo = lambda body: Step(status=400, body={"error": {"message": f"bad request for key {KEY}"}}) if "Эхо" in body["messages"][0]["content"] else Step()  # noqa: E731
    with FakeLLM(key=KEY, reply=echo) as server:
        result = summarize(*paths, *adhoc(server), "-f", "json", "--output", out)
        assert {r.headers["Authorization"] for r in server.requests} == {f"Bearer {KEY}"}
    assert result.exit_code == 1, result.stderr
    failed, fine = parse_jsonl(out.read_text(encoding="utf-8"))
    assert failed["error"].endswith("answered 400 (bad request for key ***)") and fine["summary_ru"] == SUMMARY
    for text in (result.stdout, result.stderr, out.read_text(encoding="utf-8")):
        assert KEY not in text


@pytest.mark.slow
def test_ctrl_c_ends_the_run_promptly_keeping_what_is_finished(tmp_path):
    paths = articles(tmp_path, first=SHORT + " Первая.", second=SHORT, third=SHORT)
    hang = lambda body: Step() if "Первая" in body["messages"][0]["content"] else Step(hang=True)  # noqa: E731
    with FakeLLM(reply=hang) as server:
        args = [BIN, *paths, *adhoc(server), "--no-check", "-f", "jsonl"]
        process = subprocess.Popen(list(map(str, args)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
        deadline = time.monotonic() + 120  # a bound for a stuck start only
        while not (len(server.chats) == 3 and any(r.ended for r in server.chats)) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()[1].decode()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)  # without cancellation it would wait on the hung requests for ever
    assert process.returncode == 130, stderr.decode()
    (row,) = parse_jsonl(stdout.decode())
    assert (row["source"], row["summary_ru"]) == (str(paths[0]), SUMMARY)
    assert "stopped by SIGINT: 1 done, 0 failed, 2 left" in stderr.decode()


def test_the_docs_show_the_shipped_prompts():
    from helpers import ROOT

    from summarize.engines.llm import SUMMARY_PROMPT, TRANSLATION_PROMPT

    docs = (ROOT / "docs" / "llm.md").read_text(encoding="utf-8")
    assert f"```text\n{SUMMARY_PROMPT}\n```" in docs and f"```text\n{TRANSLATION_PROMPT}\n```" in docs


@pytest.mark.parametrize("long_mode", ["truncate", "chunk"])
def test_an_article_longer_than_a_real_llama_cpp_context_is_fitted_before_it_is_sent(llm_server, tmp_path, long_mode):
    # The context comes from llama.cpp's /props and tokens from its /tokenize: no request is refused.
    from llm_servers import REPLY

    (article,) = articles(tmp_path, long=LONG)
    result = summarize(
        article,
        "--engine",
        "llm",
        "--llm-url",
        llm_server.url,
        "--llm-model",
        llm_server.model,
        "--no-translate",
        "--no-check",
        "--long",
        long_mode,
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["summary_ru"] == REPLY and data["input_tokens"] > llm_server.n_ctx
    assert not any("longer than the LLM's context" in w for w in data["warnings"])
    if long_mode == "truncate":
        assert data["truncated"] and data["used_tokens"] <= llm_server.n_ctx - 120 and data["usage"]["requests"] == 1
    else:
        assert not data["truncated"] and data["chunks"] > 1 and data["usage"]["requests"] > data["chunks"]


def test_a_failed_translation_keeps_the_summary_untranslated_saying_why(tmp_path, monkeypatch):
    from summarize.engines import llm_client

    monkeypatch.setattr(llm_client, "BACKOFF", 0.01)
    (article,) = articles(tmp_path, a=SHORT)
    with FakeLLM() as server:
        server.script(Step(), *[Step(status=503)] * 4)  # the summary, then four refusals of its translation
        result = summarize(article, "--config", config(tmp_path, server), "--model", "fake", "--translator", "fake-en", "--no-check", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["summary_ru"], data["summary_en"], data["error"]) == (SUMMARY, None, None)
    (warning,) = data["warnings"]
    assert warning.startswith("the translation failed, the summary is left untranslated: LLM endpoint") and warning.endswith(
        "answered 503 4 times (status 503); try again later"
    )
    assert data["usage"]["requests"] == 2  # the summary's and the translation's (its retries are one request's)


def test_an_llm_translator_is_asked_for_the_to_language(tmp_path):
    (article,) = articles(tmp_path, a=SHORT)
    german = "Die Regierung hat ein Straßenbauprogramm beschlossen."
    with FakeLLM() as server:
        server.script(Step(text="Правительство утвердило программу."), Step(text=german))
        result = summarize(
            article, "--config", config(tmp_path, server), "--model", "fake", "--translator", "fake-en", "--to", "de", "--no-check", "-f", "json"
        )
        _, translation_chat = server.chats
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["summary_de"], data["summary_en"], data["translator"]) == (german, None, "fake-en")
    prompt = translation_chat.body["messages"][0]["content"]
    assert prompt.startswith("Translate this Russian news summary into German.") and "English" not in prompt


def test_an_llm_prompt_of_ones_own_names_the_language_or_is_refused_for_another_target(tmp_path):
    (article,) = articles(tmp_path, a=SHORT)
    with FakeLLM() as server:
        server.script(Step(text="Правительство утвердило программу."), Step(text="Le gouvernement a approuvé un programme."))
        ok = summarize(
            article,
            "--config",
            config(tmp_path, server, prompt="Into {language} please:\n{article}"),
            "--model",
            "fake",
            "--translator",
            "fake-en",
            "--to",
            "fr",
            "--no-check",
            "-f",
            "json",
        )
        sent = server.chats[-1].body["messages"][0]["content"]
        refused = summarize(
            article, "--config", config(tmp_path, server, prompt="Into English:\n{article}"), "--model", "fake", "--translator", "fake-en", "--to", "fr"
        )
    assert ok.exit_code == 0, ok.stderr
    assert sent.startswith("Into French please:\n")
    assert refused.exit_code == 2 and "its prompt has no {language}" in refused.stderr and "Traceback" not in refused.stderr

"""The LLM client against a scripted OpenAI-compatible server on 127.0.0.1 (tests/fake_llm.py): what
it does at load (the probe's one-line errors), and per request (retries honouring Retry-After,
timeouts, reasoning dropped, concurrency bounded, order kept)."""

import email.utils
import socket
import threading
import time

import pytest
from fake_llm import FakeLLM, Step

from summarize.engines import llm_client
from summarize.engines.llm import LLMEngine
from summarize.engines.llm_client import ContextOverflow, LLMClient, Reply, RequestFailed, drop_reasoning, retry_after
from summarize.errors import SummarizeError
from summarize.llm_presets import LLMSettings

NEVER = threading.Event()  # a stop that never comes


def client(server: FakeLLM, concurrency: int = 4, **settings) -> LLMClient:
    return LLMClient(LLMSettings(url=server.url, model=settings.pop("model", server.model), **settings), "test", concurrency)


def ask(c: LLMClient, text: str = "Статья.") -> Reply | None:
    return c.chat([{"role": "user", "content": text}], 50, NEVER)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def quick_backoff(monkeypatch):
    monkeypatch.setattr(llm_client, "BACKOFF", 0.01)


# Load: the probe


def test_an_endpoint_that_does_not_answer_is_one_line_naming_it():
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with pytest.raises(SummarizeError) as e:
        LLMClient(LLMSettings(url=url, model="m"), "test", 1)
    message = str(e.value)
    assert message.startswith(f"LLM endpoint {url} (preset test) does not answer (") and "start the server" in message
    assert "\n" not in message


def test_a_url_that_is_not_an_api_base_says_it_usually_ends_in_v1():
    with FakeLLM() as server, pytest.raises(SummarizeError, match=r"not an OpenAI-compatible API base .*404.* usually ends in /v1"):
        LLMClient(LLMSettings(url=server.url.removesuffix("/v1"), model=server.model), "test", 1)


def test_an_unknown_model_lists_the_servers_models():
    names = [f"model-{i:02d}" for i in range(15)]
    with FakeLLM(models=names) as server, pytest.raises(SummarizeError) as e:
        client(server, model="missing")
    assert "has no model 'missing'; it serves: " + ", ".join(names[:10]) + " and 5 more" in str(e.value)


@pytest.mark.parametrize("given, said", [(None, "set $MY_LLM_KEY to the server's key"), ("wrong-key", "$MY_LLM_KEY was refused")])
def test_a_401_names_the_keys_variable(monkeypatch, given, said):
    if given:
        monkeypatch.setenv("MY_LLM_KEY", given)
    with FakeLLM(key="right-key") as server, pytest.raises(SummarizeError) as e:
        client(server, key_env="MY_LLM_KEY")
    assert "refused the request (401)" in str(e.value) and said in str(e.value)
    assert "right-key" not in str(e.value) and (given is None or given not in str(e.value))


def test_the_key_goes_as_a_bearer_token_and_nowhere_else(monkeypatch):
    monkeypatch.setenv("MY_LLM_KEY", "key-7f3a")
    with FakeLLM(key="key-7f3a") as server:
        c = client(server, key_env="MY_LLM_KEY")
        assert ask(c).text
        assert {r.headers["Authorization"] for r in server.requests} == {"Bearer key-7f3a"}
        assert "key-7f3a" not in repr(c.__dict__) and "key-7f3a" not in repr(c._http.headers)


def test_a_key_with_a_line_end_around_it_is_sent_without_it(monkeypatch):
    monkeypatch.setenv("MY_LLM_KEY", "key-7f3a\r\n")  # a key file's line end
    with FakeLLM(key="key-7f3a") as server:
        assert ask(client(server, key_env="MY_LLM_KEY")).text
        assert {r.headers["Authorization"] for r in server.requests} == {"Bearer key-7f3a"}


@pytest.mark.parametrize("key", ["sk-секрет-7f3a", "sk-7f3a\nsecond-line", "sk-7f3a\x1b[2J"])
def test_a_key_no_header_can_carry_is_one_line_naming_its_variable_never_the_key(monkeypatch, key):
    monkeypatch.setenv("MY_LLM_KEY", key)
    with FakeLLM(key="key-7f3a") as server, pytest.raises(SummarizeError) as e:
        client(server, key_env="MY_LLM_KEY")
    message = str(e.value)
    assert message.startswith("$MY_LLM_KEY holds what an HTTP header cannot carry") and "7f3a" not in message and "\n" not in message
    assert server.requests == []


def test_a_loopback_endpoint_is_reached_without_the_environments_proxy(monkeypatch):
    dead = f"http://127.0.0.1:{closed_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead)
    with FakeLLM() as server:
        assert ask(client(server)).text


# Requests


def test_a_429_is_retried_after_the_wait_its_retry_after_asks():
    with FakeLLM() as server:
        server.script(Step(status=429, headers={"Retry-After": "1"}), Step(text="Ответ."))
        assert ask(client(server)).text == "Ответ."
        first, second = server.chats
        assert second.started - first.started >= 1.0


def test_a_retry_after_given_as_an_http_date_is_honoured():
    with FakeLLM() as server:
        c = client(server)
        server.script(Step(status=503, headers={"Retry-After": email.utils.formatdate(time.time() + 2, usegmt=True)}), Step(text="Ответ."))
        assert ask(c).text == "Ответ."
        first, second = server.chats
        assert second.started - first.started >= 1.0  # the date has whole seconds: at least one of the two is left


def test_a_retry_after_past_the_cap_fails_that_input_saying_so():
    with FakeLLM() as server:
        server.script(Step(status=429, headers={"Retry-After": "3600"}))
        with pytest.raises(RequestFailed, match=r"asked to wait 3600 s \(Retry-After\), more than the 60 s"):
            ask(client(server))
        assert len(server.chats) == 1


def test_a_500_then_a_reply_is_the_reply(quick_backoff):
    with FakeLLM() as server:
        server.script(Step(status=500), Step(text="Ответ."))
        assert ask(client(server)).text == "Ответ."
        assert len(server.chats) == 2


def test_a_server_failing_every_attempt_fails_the_input_after_four(quick_backoff):
    with FakeLLM() as server:
        server.script(*[Step(status=502)] * 4)
        with pytest.raises(RequestFailed, match="answered 502 4 times"):
            ask(client(server))
        assert len(server.chats) == 4


def test_a_hung_request_times_out_as_that_inputs_failure_while_the_others_are_answered():
    hang = lambda body: Step(hang=True) if "ВИСНИ" in body["messages"][0]["content"] else Step(text="Ответ.")  # noqa: E731
    with FakeLLM(reply=hang) as server:
        c = client(server, timeout=1.0)
        outcomes = c.chat_many([[{"role": "user", "content": t}] for t in ("раз", "ВИСНИ", "три")], 50, lambda: False)
    assert [o.text for o in (outcomes[0], outcomes[2])] == ["Ответ.", "Ответ."]
    assert isinstance(outcomes[1], RequestFailed) and "did not answer within 1 s" in str(outcomes[1])


def test_a_body_that_never_ends_is_that_inputs_timeout_not_a_hang():
    """httpx's timeouts are per read: a byte every 10 ms would hold the request for ever without a deadline."""
    with FakeLLM() as server:
        server.script(Step(endless=True))
        outcome: list[BaseException] = []
        asking = threading.Thread(target=lambda: outcome.append(pytest.raises(RequestFailed, ask, client(server, timeout=1.0)).value), daemon=True)
        asking.start()
        asking.join(60)  # a hang guard only
        assert not asking.is_alive(), "the request outlived its timeout by a minute"
    assert "did not answer within 1 s" in str(outcome[0])


def test_an_answer_too_large_is_refused_before_it_is_held_whole(monkeypatch):
    monkeypatch.setattr(llm_client, "MAX_ANSWER", 2**20)
    with FakeLLM() as server:
        server.script(Step(oversize=64 * 2**20))
        with pytest.raises(RequestFailed, match=r"sent an answer of more than 1 MiB to POST /v1/chat/completions; it is not read"):
            ask(client(server))


def test_reasoning_never_reaches_the_answer():
    with FakeLLM() as server:
        server.script(Step(think="Думаю о главном.", reasoning="Скрытое рассуждение.", text="Итог."))
        reply = ask(client(server))
    assert reply.text == "Итог." and reply.finish_reason == "stop" and reply.model == server.model
    assert drop_reasoning("<think>a</think>Ответ <think>b</think>тут") == "Ответ тут"
    assert drop_reasoning("Ответ. <think>не законченная мысль") == "Ответ."
    assert drop_reasoning("мысль без начала</think>Ответ.") == "Ответ."


def test_the_reply_says_its_model_and_usage():
    with FakeLLM(answered_model="served-name") as server:
        reply = ask(client(server), "Статья о дорогах.")
    assert (reply.model, reply.prompt_tokens, reply.completion_tokens) == ("served-name", 6, 16)


def test_a_llama_cpp_overflow_is_told_apart_from_other_400s():
    with FakeLLM(n_ctx=10) as server:
        c = client(server)
        with pytest.raises(ContextOverflow) as e:
            ask(c, "длинная статья " * 10)
        assert e.value.n_ctx == 10 and "exceed its context of 10 tokens" in str(e.value)
        server.script(Step(status=400, body={"error": {"message": "bad temperature"}}))
        with pytest.raises(RequestFailed, match=r"answered 400 \(bad temperature\)") as e:
            ask(c)
        assert not isinstance(e.value, ContextOverflow)


def test_out_of_order_replies_come_back_in_order():
    # The first request is answered last, the last first.
    slow_first = lambda body: Step(text=f"Итог {body['messages'][0]['content']}.", delay=0.05 * (8 - int(body["messages"][0]["content"])))  # noqa: E731
    with FakeLLM(reply=slow_first) as server:
        outcomes = client(server, concurrency=8).chat_many([[{"role": "user", "content": str(i)}] for i in range(8)], 50, lambda: False)
        finished = sorted(server.chats, key=lambda r: r.ended)
    assert [o.text for o in outcomes] == [f"Итог {i}." for i in range(8)]
    assert [r.body["messages"][0]["content"] for r in finished] != [str(i) for i in range(8)]  # they did finish out of order


def test_no_more_requests_are_in_flight_than_the_concurrency():
    # Each request waits until 3 are in flight (a hang guard of 30 s), so the bound is reached and never passed.
    def three_at_once(body):
        deadline = time.monotonic() + 30
        while server.in_flight < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        return Step(text="Ответ.")

    with FakeLLM(reply=three_at_once) as server:
        outcomes = client(server, concurrency=3).chat_many([[{"role": "user", "content": str(i)}] for i in range(9)], 50, lambda: False)
    assert all(isinstance(o, Reply) for o in outcomes)
    assert server.most_in_flight == 3


def test_a_stop_sends_nothing_more_and_gives_up_what_is_in_flight():
    stop = threading.Event()
    with FakeLLM(reply=lambda body: Step(hang=True)) as server:
        server.script(Step(text="Ответ."))
        c = client(server, concurrency=2)

        def stop_when_two_arrived() -> bool:
            if len(server.chats) >= 2:
                stop.set()
            return stop.is_set()

        outcomes = c.chat_many([[{"role": "user", "content": str(i)}] for i in range(6)], 50, stop_when_two_arrived)
        assert outcomes[2:] == [None] * 4 and None in outcomes[:2]
        assert len(server.chats) <= 3  # the answered one's thread may have taken one more before the stop


def test_retry_after_reads_seconds_and_dates():
    assert retry_after("7") == 7.0 and retry_after(None) is None and retry_after("soon") is None
    assert retry_after(email.utils.formatdate(time.time() - 10, usegmt=True)) == 0.0  # a date past: at once


def test_the_engine_counts_with_the_servers_tokenizer_and_learns_its_context():
    with FakeLLM(tokenize=True, props=True, n_ctx=2000) as server:
        engine = LLMEngine(_preset(server), 2, answer_tokens=100)
        assert engine.context == 2000 and engine.preset.max_input_tokens == 1900
        assert engine.count_tokens(["абвгдежз"]) == [3]  # the fake's tokens are 3 characters
        assert engine.backend == server.url.removeprefix("http://").removesuffix("/v1")
    with FakeLLM() as server:  # no /tokenize, no /props: estimated, unlimited
        engine = LLMEngine(_preset(server), 2, answer_tokens=100)
        assert engine.context is None and engine.count_tokens(["абвгд"]) == [2]


def _preset(server: FakeLLM):
    from summarize.config import Engine, Preset

    return Preset(name="test", model=server.model, max_input_tokens=0, engine=Engine.llm, llm=LLMSettings(url=server.url, model=server.model))

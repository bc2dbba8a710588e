"""The real OpenAI-compatible server the llm engine is tested on (llama.cpp's, tests/llm_servers.py)
answers as the engine expects: these pin what llama.cpp does, so that a new xllamacpp that changes
it fails here, by name, rather than somewhere inside an engine test.

Found on xllamacpp 2026.10 and pinned below:
- GET /v1/models lists the alias; the request's "model" is NOT checked (any name gets the one model's
  reply, whose "model" is the alias): a client must check the name against /v1/models itself.
- The reply's content starts with a space (the SentencePiece word start): a client strips it.
- POST /tokenize counts without BOS; GET /props gives one slot's n_ctx and the slot count.
- A prompt past the context: 400, body as llm_servers.OVERFLOW_EXAMPLE.
- No reasoning_content for a chat template llama.cpp does not know as a reasoning one (its chat
  format is "Content-only"); `seed` is honoured (same seed, same sampled reply).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import llm_servers
from helpers import ARTICLE, SHORT
from llm_servers import REPLY, get, request


def chat(server, text: str, **settings) -> tuple[int, dict]:
    body = {"model": server.model, "messages": [{"role": "user", "content": text}], "temperature": 0} | settings
    return request(server.url + "/chat/completions", body)


def test_models_lists_the_alias_and_any_model_name_gets_the_one_model(llm_server):
    status, listing = get(llm_server.url + "/models")
    assert status == 200 and [m["id"] for m in listing["data"]] == [llm_server.model]
    status, reply = chat(llm_server, SHORT, model="no-such-model")
    assert status == 200 and reply["model"] == llm_server.model


def test_a_chat_completion_is_the_planted_russian_reply_with_usage(llm_server):
    status, reply = chat(llm_server, SHORT)
    assert status == 200, reply
    (choice,) = reply["choices"]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["content"] == " " + REPLY  # the word-start space is the client's to strip
    assert "reasoning_content" not in choice["message"]
    tokens = len(request(llm_server.root + "/tokenize", {"content": SHORT})[1]["tokens"])
    # The prompt is the article's tokens plus the chat template's; the reply's ten pieces plus <|im_end|>.
    assert reply["usage"]["prompt_tokens"] > tokens and reply["usage"]["completion_tokens"] == 11


def test_max_tokens_cuts_the_reply_with_finish_reason_length(llm_server):
    status, reply = chat(llm_server, SHORT, max_tokens=3)
    assert status == 200, reply
    assert reply["choices"][0]["finish_reason"] == "length" and reply["usage"]["completion_tokens"] == 3
    assert reply["choices"][0]["message"]["content"] == " Власти выделили "


def test_tokenize_encodes_any_text_without_bos(llm_server):
    text = "Москва, 3 марта 😀 Ünïcode"
    status, pieces = request(llm_server.root + "/tokenize", {"content": text, "with_pieces": True})
    assert status == 200
    ids = [p["id"] for p in pieces["tokens"]]
    assert 1 not in ids  # no BOS unless "add_special": true
    # Byte-fallback tokens carry the emoji: its pieces are bytes, not text, so they are put back together as bytes.
    assert b"".join(p["piece"].encode() if isinstance(p["piece"], str) else bytes(p["piece"]) for p in pieces["tokens"]) == (" " + text).encode()
    status, plain = request(llm_server.root + "/tokenize", {"content": text})
    assert plain["tokens"] == ids
    status, with_bos = request(llm_server.root + "/tokenize", {"content": text, "add_special": True})
    assert with_bos["tokens"] == [1, *ids]


def test_props_give_one_requests_context_and_the_slots(llm_server):
    status, props = get(llm_server.root + "/props")
    assert status == 200
    assert props["default_generation_settings"]["n_ctx"] == llm_server.n_ctx == llm_servers.N_CTX
    assert props["total_slots"] == llm_servers.PARALLEL


def test_a_prompt_past_the_context_is_a_400_with_the_sizes(llm_server):
    status, body = chat(llm_server, ARTICLE.read_text(encoding="utf-8"))
    assert status == 400
    assert body.keys() == llm_servers.OVERFLOW_EXAMPLE.keys() and body["error"].keys() == llm_servers.OVERFLOW_EXAMPLE["error"].keys()
    error = body["error"]
    assert (error["code"], error["type"], error["n_ctx"]) == (400, "exceed_context_size_error", llm_server.n_ctx)
    assert error["n_prompt_tokens"] > llm_server.n_ctx
    assert error["message"] == f"request ({error['n_prompt_tokens']} tokens) exceeds the available context size ({llm_server.n_ctx} tokens), try increasing it"


def test_every_slot_has_the_whole_context_at_once(llm_server):
    """Eight requests near the context's size at once (two per slot): none overflows, as each slot has n_ctx."""
    long = " ".join([SHORT] * 20)
    assert len(request(llm_server.root + "/tokenize", {"content": long})[1]["tokens"]) > llm_server.n_ctx * 0.6
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: chat(llm_server, long, max_tokens=12), range(8)))
    assert [status for status, _ in answers] == [200] * 8, answers


def test_the_seed_is_honoured(llm_server):
    """Sampled with llama.cpp's own filters off (min_p, top_p, top_k: the planted reply is too sure of
    itself for anything else to pass them), the same seed gives the same reply and others differ."""

    def sampled(seed: int) -> str:
        settings = {"temperature": 1.5, "seed": seed, "max_tokens": 6, "min_p": 0.0, "top_p": 1.0, "top_k": 0}
        return chat(llm_server, SHORT, **settings)[1]["choices"][0]["message"]["content"]

    assert sampled(7) == sampled(7)
    assert len({sampled(seed) for seed in range(6)}) > 1


def test_the_server_goes_when_the_process_that_started_it_dies(tmp_path):
    """A test process killed outright must not leave llama.cpp's server behind."""
    script = (
        "import sys, pathlib, time; sys.path.insert(0, sys.argv[1]); import llm_servers\n"
        "with llm_servers.start_llm_server(pathlib.Path(sys.argv[2])) as s:\n"
        "    print(s.process.pid, s.root, flush=True); time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script, os.path.dirname(__file__), str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        pid, root = parent.stdout.readline().split()
        assert get(root + "/health")[0] == 200
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        parent.stdout.close()
    until = time.monotonic() + 30
    while time.monotonic() < until and os.path.exists(f"/proc/{pid}") and "Z" not in _state(pid):
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}") or "Z" in _state(pid), "the server outlived its parent"
    assert get(root + "/health", timeout=2)[0] == 0


def _state(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_the_helpers_ignore_proxy_settings(llm_server, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "example.org")
    assert get(llm_server.root + "/health")[0] == 200

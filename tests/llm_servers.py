"""A real OpenAI-compatible server for the tests and the bench: llama.cpp's own server (from the
prebuilt `xllamacpp` wheel) on a tiny random-weight llama GGUF written here with the `gguf` package.

    with start_llm_server(tmp_path) as server:   # or the session fixture `llm_server` (conftest.py)
        httpx.post(server.url + "/chat/completions", json={"model": server.model, "messages": [...]})

The server runs in a child process (`python tests/llm_servers.py MODEL ...`), never in the caller's:
a crash of llama.cpp cannot take pytest down, and the child exits by itself when its parent dies
(it blocks on its stdin, a pipe only the parent holds: EOF means the parent is gone).

The model (about 500 KB, written in well under a second) is a llama of two layers, hidden size 64,
whose SentencePiece-style vocabulary holds the byte-fallback tokens <0x00>..<0xFF> (so any text,
Cyrillic or emoji, encodes), every letter, digit and punctuation mark a Russian news text uses, and
the words of WORDS (with their prefixes, which SentencePiece's merges need), so Russian takes about
a token a word or a letter. Its weights are random but for planted features that make greedy
decoding answer REPLY to any prompt and stop (finish_reason "stop", 11 completion tokens): Russian
text with a number the check flags, instead of byte soup. max_tokens under 11 cuts it ("length").

What the server does, as found on xllamacpp 2026.10 (pinned by test_llm_server_fixture.py):

- GET  {root}/v1/models → {"object": "list", "data": [{"id": ALIAS, "object": "model", "owned_by":
  "llamacpp", "meta": {"n_ctx": …, …}}], "models": [...]}. The request's "model" is not checked:
  any name gets this model's reply, whose "model" is the alias.
- POST {root}/v1/chat/completions → OpenAI's shape: usage {prompt_tokens, completion_tokens,
  total_tokens, prompt_tokens_details: {cached_tokens}}, finish_reason "stop" or "length", plus
  llama.cpp's "timings". The content starts with the word-start space (" Власти …").
- POST {root}/tokenize {"content": TEXT} → {"tokens": [ids]}, without BOS unless "add_special": true.
- GET  {root}/props → default_generation_settings.n_ctx is ONE slot's context (llama.cpp gives each
  slot n_ctx / parallel unless the KV cache is unified: the child asks for N_CTX × PARALLEL, so each
  slot has N_CTX), total_slots the slot count.
- A prompt past the slot's context → HTTP 400 with the body in OVERFLOW_EXAMPLE.
- No reasoning_content: llama.cpp parses reasoning only for chat templates it knows as reasoning ones
  (this one's chat format is "Content-only"). `seed` is honoured when sampling.
- GET  {root}/metrics (Prometheus): llamacpp:tokens_predicted_total and others, for the tests' counts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MODEL = "tiny-llama"  # the alias the server lists in /v1/models and answers with
N_CTX = 512  # small, so that a long article really overflows (llama.cpp's 400, see OVERFLOW_EXAMPLE)
PARALLEL = 4  # slots: requests decoded at once
START_TIMEOUT = 60.0  # seconds to a ready server (it takes well under one on an idle machine)
STOP_TIMEOUT = 10.0

# The 400 llama.cpp answers to a prompt past the slot's context, exactly as the real server sent it
# (test_llm_server_fixture.py asserts this shape on every run): error.type names it, and
# n_prompt_tokens / n_ctx give the sizes, so a client can learn the limit from it.
OVERFLOW_EXAMPLE = {
    "error": {
        "code": 400,
        "message": "request (1430 tokens) exceeds the available context size (512 tokens), try increasing it",
        "type": "exceed_context_size_error",
        "n_prompt_tokens": 1430,
        "n_ctx": 512,
    }
}

# What the model answers to any prompt (then <|im_end|>): Russian, one sentence, and a number that an
# article seldom has, so that the check has something to flag in an LLM summary.
REPLY = "Власти выделили 5 миллиардов рублей на ремонт дорог."
# Whole-word tokens (with SentencePiece's "▁" word start): the words the model is pushed to write.
WORDS = (
    "в на и по с не что для из о от до за как его их это года году был была были будет также "
    "москва россии россия правительство президент министр министерство губернатор власти города город "
    "региона регион области жители компании проект программу программа ремонт ремонта выделили дорог работы начнутся "
    "весной летом осенью зимой сообщили заявил сообщила отметил пресс-служба рублей миллиардов миллионов "
    "тысяч процентов трамвай испытания транспорта линии вагон пассажиров завод строительство новости "
    "школа больница мост река дороги суд закон решение совет депутаты выборы экономика бюджет цены "
    "утвердило утвердил новый новая первые первый один два три марта ноября января мая"
).split()
CHARS = (
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?-–—()«»\"'/%№…\n"
)
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL = ("<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>")
HIDDEN, LAYERS, HEADS, FFN = 64, 2, 4, 128
LIFT, OUTPUT_NOISE, STOP_SHARE, FEATURE, LAYER_NOISE = 1.0, 0.15, 0.9, 4.0, 0.2  # the planted word lift against the random logits


def _vocabulary() -> tuple[list[str], list[float], list[int]]:
    """Tokens, scores and types: specials, the 256 byte fallbacks, single characters, then every
    prefix of every "▁word" (SentencePiece merges adjacent pieces only into pieces it knows)."""
    from gguf import TokenType

    tokens = list(SPECIAL)
    types = [TokenType.UNKNOWN, *[TokenType.CONTROL] * (len(SPECIAL) - 1)]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [TokenType.BYTE] * 256
    pieces = dict.fromkeys(c if c != " " else "▁" for c in CHARS)
    for word in WORDS:
        for form in (word, word.capitalize()):
            for end in range(2, len(form) + 2):
                pieces[("▁" + form)[:end]] = None
    tokens += list(pieces)
    types += [TokenType.NORMAL] * len(pieces)
    scores = [0.0] * (len(SPECIAL) + 256) + [float(len(p)) for p in pieces]  # longer pieces merge first
    return tokens, scores, [int(t) for t in types]


def _weights(tokens: list[str], seed: int) -> dict[str, object]:
    """Random weights with REPLY planted (see the module's docstring): dimension 0 is a constant in
    every embedding that points at REPLY's first token; dimension 2+k is set only in the embedding of
    REPLY's k-th token and points at the token after it (the last, ".", at <|im_end|>). The layers
    never write to those dimensions, so whatever the prompt, greedy decoding writes REPLY and stops."""
    import numpy as np

    rng = np.random.default_rng(seed)

    def normal(*shape: int, scale: float = 0.05) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    chain = [tokens.index(piece) for piece in _reply_pieces(tokens)] + [tokens.index("<|im_end|>")]
    planted = len(chain)  # dimensions 0 and 2..planted (1 is unused)
    embedding, output = normal(len(tokens), HIDDEN, scale=0.3), normal(len(tokens), HIDDEN)
    embedding[:, : planted + 1], output[:, : planted + 1] = 0.0, 0.0
    embedding[:, 0], output[chain[0], 0] = FEATURE, 1.0
    for k, (token, following) in enumerate(zip(chain, chain[1:]), start=2):
        embedding[token, k], output[following, k] = FEATURE, 2.0
    tensors = {"token_embd.weight": embedding, "output_norm.weight": np.ones(HIDDEN, np.float32), "output.weight": output}
    for n in range(LAYERS):
        layer = {
            "attn_norm.weight": np.ones(HIDDEN, np.float32),
            "attn_q.weight": normal(HIDDEN, HIDDEN),
            "attn_k.weight": normal(HIDDEN, HIDDEN),
            "attn_v.weight": normal(HIDDEN, HIDDEN),
            "attn_output.weight": normal(HIDDEN, HIDDEN),
            "ffn_norm.weight": np.ones(HIDDEN, np.float32),
            "ffn_gate.weight": normal(FFN, HIDDEN),
            "ffn_up.weight": normal(FFN, HIDDEN),
            "ffn_down.weight": normal(HIDDEN, FFN),
        }
        layer["attn_output.weight"][: planted + 1] = 0.0  # the planted features pass the layers untouched
        layer["ffn_down.weight"][: planted + 1] = 0.0
        tensors.update({f"blk.{n}.{name}": value for name, value in layer.items()})
    # Matrices in half precision (the file's size halves; llama.cpp computes on them as they are).
    return {name: value.astype(np.float16) if value.ndim == 2 else value for name, value in tensors.items()}


def _reply_pieces(tokens: list[str]) -> list[str]:
    """REPLY as the vocabulary's pieces, each used once (a piece maps to exactly one next piece)."""
    pieces = []
    for word in REPLY.replace(".", " .").split():
        pieces += ["▁", word] if word.isdigit() else ["▁" + word] if word != "." else ["."]
    missing = [p for p in pieces if p not in tokens]
    assert not missing and len(set(pieces)) == len(pieces), (missing, pieces)
    return pieces


def build_gguf(path: Path, seed: int = 0) -> Path:
    """The tiny llama GGUF at `path` (about 300 KB), with its tokenizer and a ChatML chat template."""
    from gguf import GGUFWriter

    tokens, scores, types = _vocabulary()
    writer = GGUFWriter(str(path), "llama")
    writer.add_name("summarize-tests-tiny-llama")
    writer.add_context_length(32768)  # what llama.cpp lets a slot have without a warning
    writer.add_embedding_length(HIDDEN)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(HEADS)
    writer.add_rope_dimension_count(HIDDEN // HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(1)  # mostly F16
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)
    for name, value in _weights(tokens, seed).items():
        writer.add_tensor(name, value)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@dataclass(frozen=True)
class LLMServer:
    """A running llama.cpp server: `url` is the OpenAI API base (…/v1), `root` its own endpoints'
    (/tokenize, /props, /health), `model` the id /v1/models lists, `n_ctx` one request's context."""

    url: str
    root: str
    model: str
    n_ctx: int
    parallel: int
    process: subprocess.Popen
    log: Path


@contextmanager
def start_llm_server(
    folder: Path, n_ctx: int = N_CTX, parallel: int = PARALLEL, threads: int = 1, alias: str = MODEL, prompt_cache: bool = True
) -> Iterator[LLMServer]:
    """The tiny model built in `folder` and served on 127.0.0.1 (a port the server picks), ready
    (/health 200) when this yields; stopped when it returns, and by itself if this process dies.
    prompt_cache=False: every request computes its whole prompt (a bench's rounds all do the same work)."""
    folder.mkdir(parents=True, exist_ok=True)
    model, log = build_gguf(folder / "tiny-llama.gguf"), folder / "llama-server.log"
    argv = [sys.executable, str(Path(__file__).resolve()), str(model), alias, str(n_ctx), str(parallel), str(threads), str(int(prompt_cache))]
    with open(log, "wb") as err:
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, cwd=folder)
    try:
        root = _wait_ready(process, log)
        yield LLMServer(url=root + "/v1", root=root, model=alias, n_ctx=n_ctx, parallel=parallel, process=process, log=log)
    finally:
        _stop(process)


def _wait_ready(process: subprocess.Popen, log: Path) -> str:
    """The server's address from the child's first line, once /health answers 200 (the model loaded)."""
    import selectors

    until = time.monotonic() + START_TIMEOUT
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        line = process.stdout.readline().decode() if selector.select(START_TIMEOUT) else ""
    if not line.startswith("listening "):
        raise RuntimeError(f"llama.cpp's server did not start: {_tail(log)}")
    root = line.split()[1]
    while time.monotonic() < until and process.poll() is None:
        if get(root + "/health")[0] == 200:
            return root
        time.sleep(0.05)
    raise RuntimeError(f"llama.cpp's server at {root} did not get ready: {_tail(log)}")


def _stop(process: subprocess.Popen) -> None:
    """Closing its stdin is the child's signal to exit; a kill if it does not."""
    try:
        process.stdin.close()
        process.wait(timeout=STOP_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        process.kill()
        process.wait()
    finally:
        process.stdout.close()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"


def _no_proxy() -> urllib.request.OpenerDirector:
    """A urllib opener that never goes through HTTP_PROXY/ALL_PROXY, whatever the environment says."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str, timeout: float = 5.0) -> tuple[int, dict | None]:
    """GET → (status, JSON body or None); 0 when nothing answers."""
    return request(url, None, timeout)


def request(url: str, body: dict | None, timeout: float = 60.0) -> tuple[int, dict | None]:
    """POST `body` as JSON (GET when None) → (status, JSON body or None); 0 when nothing answers."""
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    sent = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with _no_proxy().open(sent, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        with e:
            text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, None
    except (OSError, ValueError):
        return 0, None


def get_metric(server: LLMServer, name: str) -> float:
    """One sample of the server's /metrics (Prometheus text), e.g. llamacpp:tokens_predicted_total."""
    with _no_proxy().open(server.root + "/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.split(" ")[0] == name:
                return float(line.split(" ")[1])
    raise KeyError(f"{name} is not among llama.cpp's metrics")


def serve(model: str, alias: str, n_ctx: int, parallel: int, threads: int, prompt_cache: int) -> None:
    """The child: llama.cpp's server in this process, its address on stdout, until stdin closes.

    Each slot gets the whole n_ctx (the KV cache is n_ctx × parallel, not shared), so /props and an
    overflow report n_ctx however many requests run at once."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model
    params.model_alias = {alias}
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the server picks a free one and reports it in listening_address
    params.n_ctx = n_ctx * parallel
    params.n_parallel = parallel
    params.kv_unified = False
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads
    params.n_threads_http = 4 * parallel + 8  # every waiting client holds a connection thread
    params.endpoint_props = params.endpoint_metrics = True  # /props for the engine, /metrics for the tests' counts
    params.warmup = False
    if not prompt_cache:  # llama.cpp reuses a slot's last prompt, and keeps more in RAM (cache_ram_mib)
        params.cache_prompt, params.cache_ram_mib = False, 0
    server = xllamacpp.Server(params)
    print("listening", server.listening_address, flush=True)
    sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe, or died
    os._exit(0)  # at once: the server's own shutdown waits on idle connections


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Serve the tests' tiny llama GGUF with llama.cpp's server until stdin closes.")
    for name in ("model", "alias"):
        parser.add_argument(name)
    for name in ("n_ctx", "parallel", "threads", "prompt_cache"):
        parser.add_argument(name, type=int)
    serve(**vars(parser.parse_args()))

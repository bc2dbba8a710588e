"""A small OpenAI-compatible server for the failure paths a real one will not show on demand (401,
429 with Retry-After, 500, a hang, <think>, a cut reply, llama.cpp's 400 overflow, Ollama's silent
cut): a stdlib ThreadingHTTPServer on 127.0.0.1:0 whose chat replies a test scripts, and which
records every request (its time, headers and body) for the test to read.

    with FakeLLM() as server:
        server.script(Step(status=429, headers={"Retry-After": "1"}), Step(text="Ответ."))
        ... LLMSettings(url=server.url, model=server.model) ...
        server.chats  # the recorded chat requests

Tokens here are 3 characters each (as Russian runs in BPE vocabularies): its /tokenize, its usage
and its context all count them so.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SUMMARY = "Правительство утвердило программу ремонта дорог."


@dataclass
class Step:
    """One scripted chat reply. `body` replaces the whole JSON answer; otherwise one is built from
    text, think (a <think> block before it), reasoning (reasoning_content) and finish_reason."""

    status: int = 200
    text: str = SUMMARY
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0  # seconds before answering
    hang: bool = False  # never answer (until the server stops)
    endless: bool = False  # a 200 whose chunked body never ends (a byte at a time, until the server stops)
    oversize: int = 0  # bytes of a 200 body that is one endless JSON string (never a reply)
    think: str | None = None
    reasoning: str | None = None
    finish_reason: str = "stop"
    prompt_tokens: int | None = None  # usage as reported; None: the words of the prompt


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    started: float  # time.monotonic() when the request arrived
    ended: float = 0.0


class FakeLLM:
    """The server; `reply(body) -> Step` makes the answer when no scripted step is left."""

    def __init__(
        self,
        model: str = "fake-model",
        models: list[str] | None = None,
        key: str | None = None,
        n_ctx: int | None = None,
        props: bool = False,
        tokenize: bool = False,
        silent_cut: int | None = None,
        reply: Callable[[dict], Step] | None = None,
        answered_model: str | None = None,
    ):
        self.model, self.models, self.key = model, models if models is not None else [model], key
        self.n_ctx, self.props, self.tokenize, self.silent_cut = n_ctx, props, tokenize, silent_cut
        self.reply = reply or (lambda body: Step())
        self.answered_model = answered_model or model
        self.steps: deque[Step] = deque()
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self.in_flight = self.most_in_flight = 0
        self.stopping = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def script(self, *steps: Step) -> None:
        self.steps.extend(steps)

    @property
    def chats(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    def __enter__(self) -> FakeLLM:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def next_step(self, body: dict) -> Step:
        with self.lock:
            if self.steps:
                return self.steps.popleft()
        return self.reply(body)


def tokens(text: str) -> int:
    return -(-len(text) // 3)


def prompt_tokens(body: dict) -> int:
    return sum(tokens(str(m.get("content", ""))) for m in body.get("messages", []))


def _handler(server: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve(None)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                body = raw.decode("utf-8", "replace")
            self._serve(body)

        def _serve(self, body: Any) -> None:
            record = Recorded(self.command, self.path, dict(self.headers.items()), body, time.monotonic())
            with server.lock:
                server.requests.append(record)
                server.in_flight += 1
                server.most_in_flight = max(server.most_in_flight, server.in_flight)
            try:
                self._route(body)
            finally:
                with server.lock:
                    server.in_flight -= 1
                record.ended = time.monotonic()

        def _route(self, body: Any) -> None:
            if server.key and self.headers.get("Authorization") != f"Bearer {server.key}":
                return self._send(401, {"error": {"message": "Invalid API key", "type": "authentication_error"}})
            if self.path == "/v1/models" and self.command == "GET":
                return self._send(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in server.models]})
            if self.path == "/props" and server.props:
                return self._send(200, {"default_generation_settings": {"n_ctx": server.n_ctx}})
            if self.path == "/tokenize" and server.tokenize:
                return self._send(200, {"tokens": list(range(tokens(str(body.get("content", "")))))})
            if self.path == "/v1/chat/completions" and self.command == "POST":
                return self._chat(body)
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found_error"}})

        def _chat(self, body: dict) -> None:
            step = server.next_step(body)
            if step.hang:
                server.stopping.wait()
                return
            if step.delay:
                time.sleep(step.delay)
            if step.endless or step.oversize:
                return self._flood(step)
            prompt = prompt_tokens(body)
            if server.n_ctx is not None and prompt > server.n_ctx:
                error = {"code": 400, "message": "the request exceeds the available context size, try increasing it", "type": "exceed_context_size_error"}
                return self._send(400, {"error": error | {"n_prompt_tokens": prompt, "n_ctx": server.n_ctx}})
            if step.body is not None or step.status != 200:
                return self._send(step.status, step.body if step.body is not None else {"error": {"message": f"status {step.status}"}}, step.headers)
            reported = step.prompt_tokens if step.prompt_tokens is not None else min(prompt, server.silent_cut or prompt)
            content = (f"<think>{step.think}</think>" if step.think is not None else "") + step.text
            message = {"role": "assistant", "content": content} | ({"reasoning_content": step.reasoning} if step.reasoning else {})
            self._send(
                200,
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "model": server.answered_model,
                    "choices": [{"index": 0, "message": message, "finish_reason": step.finish_reason}],
                    "usage": {"prompt_tokens": reported, "completion_tokens": tokens(step.text), "total_tokens": reported + tokens(step.text)},
                },
                step.headers,
            )

        def _flood(self, step: Step) -> None:
            """A body that never ends (a byte every 10 ms), or one of step.oversize bytes."""
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header(*(("Transfer-Encoding", "chunked") if step.endless else ("Content-Length", str(step.oversize))))
            self.end_headers()
            block = b'{"choices": [{"message": {"content": "'.ljust(65536, b"a")
            try:
                while step.endless and not server.stopping.wait(0.01):
                    self.wfile.write(b"1\r\n \r\n")
                    self.wfile.flush()
                for sent in range(0, step.oversize, len(block)):
                    self.wfile.write(block[: step.oversize - sent])
            except OSError:
                pass  # the client gave up on it

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up on it

    return Handler

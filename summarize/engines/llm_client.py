"""An OpenAI-compatible chat endpoint over httpx: probed at load, then asked in parallel.

httpx rather than the `openai` package: it is already a dependency, and it shows what a careful
client needs (the status, Retry-After, separate timeouts, one connection pool) where `openai` would
hide its own retries. Requests run on daemon threads, never a ThreadPoolExecutor: a thread blocked
reading a socket cannot be woken (closing the client does not end its read), and the interpreter
joins an executor's threads at exit, so one hung request would hold a stopped run for its timeout.

The key is read once from the environment variable the preset names and lives only in the httpx
client's headers (whose repr hides it); every message the server sends back is scrubbed of it.
"""

from __future__ import annotations

import email.utils
import queue
import random
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from summarize.errors import SummarizeError
from summarize.inputs.addresses import is_loopback
from summarize.llm_presets import LLMSettings, endpoint, read_key
from summarize.llm_probe import model_ids

ATTEMPTS = 4  # a request and three retries, on connection errors, 429 and the 5xx below
RETRY_STATUSES = {429, 500, 502, 503, 504}
BACKOFF = 0.5  # seconds before the first retry, doubled for each next, with jitter
RETRY_AFTER_CAP = 60.0  # a longer Retry-After fails that input, saying so, instead of holding the run
PROBE_TIMEOUT = 10.0  # seconds for GET /models at load: a server that answers is quick to list
POLL = 0.1  # seconds between looks at should_stop while requests are in flight
# ANSI/VT escape sequences: CSI (ESC [ … final), OSC (ESC ] … BEL or ST) and two-character ones.
ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])|\x9b[0-?]*[ -/]*[@-~]")
LISTED = 10  # models named when the one asked for is not among them
MAX_ANSWER = 16 * 1024 * 1024  # bytes of one answer read: a summary's is a few KB; a server sending more is broken or hostile


class RequestFailed(Exception):
    """One request that gave no usable reply: that input's failure (the message says why)."""


class AnswerTooLarge(RequestFailed):
    """An answer past MAX_ANSWER bytes: reading it whole could take all of this machine's memory."""


class ContextOverflow(RequestFailed):
    """The prompt is longer than the server's context (llama.cpp's exceed_context_size_error)."""

    def __init__(self, message: str, n_ctx: int | None):
        super().__init__(message)
        self.n_ctx = n_ctx


@dataclass(frozen=True)
class Reply:
    """One chat completion, reasoning dropped."""

    text: str
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    model: str | None  # the model name the server answered with
    removed: int = 0  # control characters (terminal escapes) taken out of the text


class LLMClient:
    """One endpoint: probed at construction (SummarizeError when it cannot serve this preset), then
    asked with `chat_many`, at most `concurrency` requests at once."""

    def __init__(self, settings: LLMSettings, preset: str, concurrency: int):
        import httpx

        self.settings, self.preset, self.concurrency = settings, preset, max(1, concurrency)
        self.url = settings.url.rstrip("/")
        self.root = self.url.removesuffix("/v1")  # llama.cpp's own routes (/tokenize, /props) sit beside /v1
        key = read_key(settings.key_env)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        # A proxy cannot reach this machine's own loopback; for any other host the environment's
        # proxies, NO_PROXY and CA bundle apply (a user behind a proxy reaching a hosted API needs them).
        timeout = httpx.Timeout(settings.timeout, connect=min(settings.timeout, PROBE_TIMEOUT))
        limits = httpx.Limits(max_connections=self.concurrency + 2, max_keepalive_connections=self.concurrency + 2)
        self._http = httpx.Client(headers=headers, timeout=timeout, limits=limits, trust_env=not is_loopback(urlsplit(self.url).hostname or ""))
        self.models = self._probe()
        self.context = self._server_context()
        self.can_tokenize = self._tokenize_works()

    def close(self) -> None:
        self._http.close()

    def scrub(self, text: str) -> str:
        """A server's text with the key (should it echo it) masked."""
        key = self._http.headers.get("Authorization", "").removeprefix("Bearer ")
        return text.replace(key, "***") if key else text

    def _where(self) -> str:
        return f"LLM endpoint {endpoint(self.url)} (preset {self.preset})"

    def _probe(self) -> list[str]:
        """The model ids the server lists; SummarizeError, one line, when it cannot serve this preset."""
        import httpx

        try:
            answer = self._fetch("GET", f"{self.url}/models", PROBE_TIMEOUT)
        except (httpx.HTTPError, AnswerTooLarge) as e:
            raise SummarizeError(
                f"{self._where()} does not answer ({self._gist(e)}): start the server, or fix the url (--llm-url, or the preset's url in models.toml)"
            ) from None
        if answer.status_code in (401, 403):
            raise SummarizeError(f"{self._where()} refused the request ({answer.status_code}): {self._key_advice()}")
        if answer.status_code == 404:
            raise SummarizeError(f"{self._where()}: not an OpenAI-compatible API base (GET {endpoint(self.url)}/models: 404); the URL usually ends in /v1")
        if answer.status_code >= 400:
            raise SummarizeError(f"{self._where()}: GET /models answered {answer.status_code} ({self._said(answer)})")
        listed = model_ids(answer.content)
        if listed is None:
            raise SummarizeError(f"{self._where()}: GET /models did not answer with a model list; is the URL an OpenAI-compatible API base?")
        if listed and self.settings.model not in listed:
            more = f" and {len(listed) - LISTED} more" if len(listed) > LISTED else ""
            raise SummarizeError(
                f"{self._where()} has no model {self.settings.model!r}; it serves: {', '.join(listed[:LISTED])}{more} (fix --llm-model or the preset's model)"
            )
        return listed

    def _fetch(self, method: str, url: str, seconds: float, **kw: Any) -> Any:
        """The whole answer within `seconds` and MAX_ANSWER bytes. httpx's timeouts are per read: a
        server that trickles (or never ends) its body would hold the request for ever, and one that
        sends gigabytes would have them all held in memory. A deadline passed is httpx.ReadTimeout."""
        import httpx

        deadline = time.monotonic() + seconds
        timeout = httpx.Timeout(seconds, connect=min(seconds, PROBE_TIMEOUT))
        with self._http.stream(method, url, timeout=timeout, **kw) as answer:
            body = bytearray()
            for chunk in answer.iter_bytes():  # decoded: a small gzip bomb is counted as what it expands to
                body += chunk
                if len(body) > MAX_ANSWER:
                    raise AnswerTooLarge(
                        f"{self._where()} sent an answer of more than {MAX_ANSWER // 2**20} MiB to {method} {urlsplit(url).path}; it is not read"
                    )
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout(f"no whole answer within {seconds:g} s", request=answer.request)
        headers = [(name, value) for name, value in answer.headers.multi_items() if name.lower() != "content-encoding"]
        return httpx.Response(answer.status_code, headers=headers, content=bytes(body), request=answer.request)

    def _key_advice(self) -> str:
        name = self.settings.key_env
        if not name:
            return "the server wants a key; name its environment variable as key_env in the preset (--engine llm reads $SUMMARIZE_LLM_KEY)"
        return f"${name} was refused; check the key in it" if "Authorization" in self._http.headers else f"set ${name} to the server's key"

    def _server_context(self) -> int | None:
        """The server's context size where it says it (llama.cpp: GET /props); None elsewhere."""
        try:
            answer = self._fetch("GET", f"{self.root}/props", PROBE_TIMEOUT)
            props = answer.json() if answer.status_code == 200 else {}
            n_ctx = (props.get("default_generation_settings") or {}).get("n_ctx") or props.get("n_ctx")
        except Exception:  # noqa: BLE001 - a server without /props (most): the context is learnt otherwise
            return None
        return n_ctx if isinstance(n_ctx, int) and not isinstance(n_ctx, bool) and n_ctx > 0 else None

    def _tokenize_works(self) -> bool:
        return self.tokenize("проверка") is not None

    def tokenize(self, text: str) -> int | None:
        """Tokens of `text` by the server's own tokenizer (llama.cpp and vLLM: POST /tokenize); None without one."""
        try:
            answer = self._fetch("POST", f"{self.root}/tokenize", PROBE_TIMEOUT, json={"content": text, "add_special": False})
            tokens = answer.json().get("tokens") if answer.status_code == 200 else None
        except Exception:  # noqa: BLE001 - no tokenizer endpoint: the caller estimates
            return None
        return len(tokens) if isinstance(tokens, list) else None

    def chat_many(
        self, requests: Sequence[list[dict[str, str]]], max_tokens: int | None, should_stop: Callable[[], bool]
    ) -> list[Reply | RequestFailed | None]:
        """Each request's reply or failure, in order; None for those not sent or given up because
        `should_stop()` turned true (queued ones are never sent; in-flight ones are abandoned to
        their daemon threads, whose replies are dropped)."""
        outcomes: list[Reply | RequestFailed | None] = [None] * len(requests)
        if not requests:
            return outcomes
        stop, order, lock, finished = threading.Event(), iter(range(len(requests))), threading.Lock(), queue.SimpleQueue()

        def work() -> None:
            while not stop.is_set():
                with lock:
                    i = next(order, None)
                if i is None:
                    return
                outcome = self._outcome(requests[i], max_tokens, stop)
                if not stop.is_set():
                    outcomes[i] = outcome
                finished.put(i)

        for _ in range(min(self.concurrency, len(requests))):
            threading.Thread(target=work, name="summarize-llm", daemon=True).start()
        left = len(requests)
        while left:
            if should_stop():
                stop.set()
                return list(outcomes)  # a reply that lands from here on is dropped
            try:
                finished.get(timeout=POLL)
                left -= 1
            except queue.Empty:
                pass
        return outcomes

    def _outcome(self, messages: list[dict[str, str]], max_tokens: int | None, stop: threading.Event) -> Reply | RequestFailed | None:
        try:
            return self.chat(messages, max_tokens, stop)
        except RequestFailed as e:
            return e
        except Exception as e:  # noqa: BLE001 - anything else is still that input's failure, not the run's
            return RequestFailed(f"the request to {self._where()} failed ({type(e).__name__}: {self._gist(e)})")

    def chat(self, messages: list[dict[str, str]], max_tokens: int | None, stop: threading.Event) -> Reply | None:
        """One chat completion, retried on connection errors, 429 and 5xx; None when stopped first."""
        import httpx

        body = self._body(messages, max_tokens)
        for attempt in range(ATTEMPTS):
            last = attempt == ATTEMPTS - 1
            try:
                answer = self._fetch("POST", f"{self.url}/chat/completions", self.settings.timeout, json=body)
            except httpx.TimeoutException as e:
                # No retry: a server too slow for this input would be as slow again (and holds a slot meanwhile).
                raise RequestFailed(
                    f"{self._where()} did not answer within {self.settings.timeout:g} s ({self._gist(e)}); raise timeout in the preset"
                ) from None
            except httpx.TransportError as e:
                if last:
                    raise RequestFailed(f"{self._where()} could not be reached after {ATTEMPTS} attempts ({self._gist(e)})") from None
                wait = self._backoff(attempt)
            else:
                if answer.status_code not in RETRY_STATUSES:
                    return self._reply(answer)
                if last:
                    raise RequestFailed(f"{self._where()} answered {answer.status_code} {ATTEMPTS} times ({self._said(answer)}); try again later")
                wait = self._wait_for(answer, attempt)
            if stop.wait(wait):
                return None
        return None  # not reached: the last attempt returns or raises

    def _body(self, messages: list[dict[str, str]], max_tokens: int | None) -> dict[str, Any]:
        settings = self.settings
        body: dict[str, Any] = {"model": settings.model, "messages": messages, "temperature": settings.temperature, "stream": False}
        if settings.seed is not None:
            body["seed"] = settings.seed
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        return {**body, **settings.extra_body}

    @staticmethod
    def _backoff(attempt: int) -> float:
        return BACKOFF * 2**attempt * random.uniform(1.0, 1.5)

    def _wait_for(self, answer: Any, attempt: int) -> float:
        """Seconds before the next attempt: the server's Retry-After (seconds or an HTTP date) when it
        gives one, else exponential backoff with jitter. Past RETRY_AFTER_CAP, that input fails."""
        asked = retry_after(answer.headers.get("retry-after"))
        if asked is None:
            return self._backoff(attempt)
        if asked > RETRY_AFTER_CAP:
            raise RequestFailed(
                f"{self._where()} answered {answer.status_code} and asked to wait {asked:.0f} s (Retry-After), "
                f"more than the {RETRY_AFTER_CAP:.0f} s this client waits; try again later"
            )
        return asked + random.uniform(0, min(1.0, asked / 10))  # never sooner than asked

    def _reply(self, answer: Any) -> Reply:
        if answer.status_code == 400 and (overflow := self._overflow(answer)) is not None:
            raise overflow
        if answer.status_code in (401, 403):
            raise RequestFailed(f"{self._where()} refused the request ({answer.status_code}): {self._key_advice()}")
        if answer.status_code >= 400:
            raise RequestFailed(f"{self._where()} answered {answer.status_code} ({self._said(answer)})")
        try:
            data = answer.json()
            choice = data["choices"][0]
            message = choice.get("message") or {}
            usage = data.get("usage") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise RequestFailed(f"{self._where()} answered with no chat completion in it ({self._said(answer)})") from None
        # reasoning_content (DeepSeek, vLLM, llama.cpp's reasoning parsers) is never read: it is not the answer.
        text, removed = without_controls(drop_reasoning(message.get("content") if isinstance(message.get("content"), str) else ""))
        model = without_controls(data["model"])[0].strip() if isinstance(data.get("model"), str) else None
        return Reply(
            text=text.strip(),
            finish_reason=choice.get("finish_reason") if isinstance(choice.get("finish_reason"), str) else None,
            prompt_tokens=_count(usage.get("prompt_tokens")),
            completion_tokens=_count(usage.get("completion_tokens")),
            model=model or None,
            removed=removed,
        )

    def _overflow(self, answer: Any) -> ContextOverflow | None:
        """llama.cpp's 400 for a prompt over its context: {"error": {"type": "exceed_context_size_error", "n_prompt_tokens", "n_ctx"}}."""
        try:
            error = answer.json()["error"]
            kind = error.get("type") or error.get("code")
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if kind != "exceed_context_size_error":
            return None
        n_ctx, n_prompt = _count(error.get("n_ctx")), _count(error.get("n_prompt_tokens"))
        said = f"{n_prompt} prompt tokens" if n_prompt else "the prompt"
        return ContextOverflow(f"{self._where()}: {said} exceed its context of {n_ctx or '?'} tokens", n_ctx)

    def _said(self, answer: Any) -> str:
        """The server's own words for an error, on one line, bounded, key scrubbed."""
        try:
            data = answer.json()
            error = data.get("error", data) if isinstance(data, dict) else data
            text = error.get("message", error) if isinstance(error, dict) else error
        except ValueError:
            text = answer.text
        line = " ".join(str(text).split()) or answer.reason_phrase or "no reason given"
        return self.scrub(_printable(line[:200]))

    def _gist(self, error: BaseException) -> str:
        return self.scrub(_printable(" ".join(str(error).split())[:200] or type(error).__name__))


def retry_after(value: str | None) -> float | None:
    """A Retry-After header in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def drop_reasoning(text: str) -> str:
    """The answer without <think>…</think> blocks, nor a leading <think> never closed (a reply cut
    while the model was still thinking has no answer in it)."""
    while (start := text.find("<think>")) != -1:
        end = text.find("</think>", start)
        if end == -1:
            text = text[:start]
            break
        text = text[:start] + text[end + len("</think>") :]
    text = text.split("</think>")[-1]  # a template that opened <think> itself leaves only its end in the text
    return text.strip()


def without_controls(text: str) -> tuple[str, int]:
    """The text without terminal escape sequences and control characters (but line breaks and tabs),
    and how many characters went: written to a CSV or a terminal they would act, not read, and the
    check would take an escape's digits ("\x1b[31m") for numbers the article lacks."""
    kept = ESCAPES.sub("", text.replace("\r\n", "\n"))
    kept = "".join(c for c in kept if c in "\n\t" or unicodedata.category(c) != "Cc")
    return kept, len(text.replace("\r\n", "\n")) - len(kept)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else " " for c in text)

"""Whether the LLM presets' endpoints answer, for `summarize models list`: GET {url}/models with the
standard library (httpx's import alone costs what the whole listing may), a short timeout, every
endpoint at once. A loopback endpoint is asked directly, never through a proxy the shell names."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from summarize.errors import SummarizeError
from summarize.inputs.addresses import is_loopback
from summarize.llm_presets import LLMSettings, read_key

PROBE_TIMEOUT = 2.0  # seconds: a listing waits for at most this, however many endpoints it shows
MAX_LISTING = 4 * 1024 * 1024  # bytes of a /models answer read: a server listing thousands of models is still far below


def probe_all(endpoints: list[LLMSettings], timeout: float = PROBE_TIMEOUT) -> list[str]:
    """What each endpoint answers, in order: each distinct endpoint (URL and key) asked once, all at once."""
    asked = {(s.url, s.key_env): s for s in endpoints}
    if not asked:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(asked))) as pool:
        answers = dict(zip(asked, pool.map(lambda settings: _ask(settings, timeout), asked.values())))
    return [_said(answers[(s.url, s.key_env)], s) for s in endpoints]


def probe(settings: LLMSettings, timeout: float = PROBE_TIMEOUT) -> str:
    """One short line: "answers", or why not ("no answer (connection refused)", "answers 401: …")."""
    return _said(_ask(settings, timeout), settings)


def _ask(settings: LLMSettings, timeout: float) -> list[str] | str:
    """The model ids the endpoint lists, or the line that says why there are none."""
    try:
        request = urllib.request.Request(f"{settings.url}/models", headers=_headers(settings))
    except SummarizeError as e:
        return str(e)
    direct = is_loopback(urlsplit(settings.url).hostname or "")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({})) if direct else urllib.request.build_opener()
    try:
        with opener.open(request, timeout=timeout) as answer:
            body = _read(answer, time.monotonic() + timeout)
    except urllib.error.HTTPError as e:
        return _refused(e.code, settings)
    except (urllib.error.URLError, OSError, ValueError) as e:  # no connection, a timeout, an answer that is not HTTP
        return f"no answer ({_why(e)})"
    ids = model_ids(body)
    return "answers, but not with an OpenAI model list" if ids is None else ids


def _read(answer, deadline: float) -> bytes:
    """At most MAX_LISTING bytes of the body, by the deadline (TimeoutError after it): the socket's
    timeout is per read, and a server trickling a byte at a time would hold the listing for ever."""
    body = b""
    while len(body) < MAX_LISTING and (chunk := answer.read1(MAX_LISTING - len(body))):
        body += chunk
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")
    return body


def _said(answer: list[str] | str, settings: LLMSettings) -> str:
    if isinstance(answer, str):
        return answer
    return "answers" if settings.model in answer else f"answers, without model {settings.model}"


def _headers(settings: LLMSettings) -> dict[str, str]:
    """The key as the engine sends it, when its variable is set: a hosted API lists models only to a key."""
    key = read_key(settings.key_env)
    return {"Accept": "application/json"} | ({"Authorization": f"Bearer {key}"} if key else {})


def _refused(status: int, settings: LLMSettings) -> str:
    if status in (401, 403):
        if read_key(settings.key_env):
            return f"answers {status}: the key in ${settings.key_env} is refused"
        return f"answers {status}: set ${settings.key_env}" if settings.key_env else f"answers {status}: it wants a key (name its variable in key_env)"
    if status == 404:
        return "answers 404: not an OpenAI-compatible API base (it usually ends in /v1)"
    return f"answers {status}"


def _why(error: Exception) -> str:
    reason = getattr(error, "reason", error)
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return "timed out"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return text.splitlines()[0] if text.strip() else type(reason).__name__


def model_ids(body: bytes) -> list[str] | None:
    """The ids an OpenAI /models answer lists ({"data": [{"id": …}, …]}), in its order; Ollama's /v1
    answers the same. None for anything else. The engine's load reads the listing with it too."""
    try:
        listing = json.loads(body)
    except ValueError:
        return None
    data = listing.get("data") if isinstance(listing, dict) else None
    if not isinstance(data, list) or not all(isinstance(item, dict) and "id" in item for item in data):
        return None  # an entry without an id is no OpenAI listing either: the model asked for cannot be looked up in it
    return list(dict.fromkeys(str(item["id"]) for item in data))

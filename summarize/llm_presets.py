"""The `kind = "llm"` presets of models.toml: how to reach and ask an OpenAI-compatible chat endpoint,
each key checked into one line naming it. A leaf (config imports it), with the endpoint's display
forms, so that nothing that shows a preset can show a credential."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from string import Formatter
from typing import Any
from urllib.parse import urlsplit

from summarize.errors import SummarizeError

LLM_KEY_ENV = "SUMMARIZE_LLM_KEY"  # the key of an ad-hoc endpoint (--llm-url): an environment variable, never a flag (ps shows flags)
LLM_KEYS = {"kind", "url", "model", "key_env", "temperature", "seed", "max_tokens", "context_tokens", "prompt", "extra_body", "timeout", "licence"}
# str.format fields a prompt may use; {article} is required. {language}: the language to write (a
# translation's --to target by its English name, "Russian" for a summary), {source}: the one read.
PROMPT_FIELDS = ("article", "title", "sentences", "language", "source")
RESERVED_BODY = {"model", "messages", "stream", "n"}  # the request's own: extra_body may not replace them
MIN_CONTEXT = 64  # tokens: less holds no prompt, article and answer together
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
URL_EXAMPLE = "e.g. http://127.0.0.1:8080/v1"


@dataclass(frozen=True)
class LLMSettings:
    """How to reach and ask an OpenAI-compatible chat endpoint (a `kind = "llm"` preset). Holds the
    *name* of the key's environment variable, never a key: presets are printed, logged and shipped."""

    url: str  # the API base, e.g. http://127.0.0.1:8080/v1 (no trailing slash)
    model: str  # the model name the server lists at {url}/models
    key_env: str | None = None  # None: no key is sent
    temperature: float = 0.0
    seed: int | None = None
    max_tokens: int | None = None  # None: from --length ([lengths] max_new_tokens)
    context_tokens: int | None = None  # None: the server's, else learnt from an overflow
    prompt: str | None = None  # None: the shipped default for a summary or a translation
    extra_body: dict[str, Any] = field(default_factory=dict)
    timeout: float = 120.0  # seconds per request


def check_url(url: Any, said: str) -> str:
    """An API base the client may join paths to: http(s), a host, no credentials, no query or fragment;
    returned without a trailing slash. `said` names it in the error (`config F: summarizers.x.url`)."""
    if not isinstance(url, str) or not url.strip():
        raise SummarizeError(f"{said} is missing; give the API base, {URL_EXAMPLE}")
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        raise SummarizeError(f"{said} has a port that is not a number; give the API base, {URL_EXAMPLE}") from None
    if parts.username is not None or parts.password is not None:
        raise SummarizeError(f"{said} holds credentials (user:password@): put the key in an environment variable (key_env, or ${LLM_KEY_ENV})")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SummarizeError(f"{said} must be an http:// or https:// address with a host, {URL_EXAMPLE}")
    if parts.query or parts.fragment or any(ord(c) < 33 for c in url.strip()):
        raise SummarizeError(f"{said} must be the API base alone (no ?query, #fragment or spaces), {URL_EXAMPLE}")
    return url.strip().rstrip("/")


def read_key(key_env: str | None) -> str | None:
    """The key in $key_env, None when unset or blank. The whitespace around it is dropped (a key
    file's line end); a key an HTTP header cannot carry (a control character, a non-ASCII letter) is
    a SummarizeError naming the variable: left to the HTTP library, its error quotes the header, key
    and all, or is a traceback."""
    key = os.environ.get(key_env, "").strip() if key_env else ""
    if key and not all(" " <= c <= "~" for c in key):
        raise SummarizeError(
            f"${key_env} holds what an HTTP header cannot carry (a line break, a control character or a non-ASCII letter): put the key alone in it"
        )
    return key or None


def endpoint(url: str) -> str:
    """The endpoint as it may be shown: scheme://host[:port]/path, never credentials or a query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{endpoint_host(url)}{parts.path.rstrip('/')}"


def endpoint_host(url: str) -> str:
    """host[:port] alone (a result's backend): no scheme, path or credentials."""
    parts = urlsplit(url)
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port is not None else host


def llm_settings(body: dict[str, Any], where: str, key: str) -> LLMSettings:
    """A kind = "llm" preset's table (its keys already checked against LLM_KEYS) as LLMSettings;
    a bad value is one line, `config WHERE: KEY.NAME …`."""

    def said(name: str) -> str:
        return f"config {where}: {key}.{name}"

    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise SummarizeError(f"{said('model')} is missing; give the model name the server lists at {{url}}/models")
    key_env = body.get("key_env")
    if key_env is not None and (not isinstance(key_env, str) or not _ENV_NAME.fullmatch(key_env)):
        raise SummarizeError(f"{said('key_env')} must be the NAME of an environment variable (letters, digits, _), never the key itself")
    return LLMSettings(
        url=check_url(body.get("url"), said("url")),
        model=model.strip(),
        key_env=key_env,
        temperature=_number(body, "temperature", 0.0, said, lambda v: v >= 0, "a number of at least 0"),
        seed=_whole(body, "seed", None, said),
        max_tokens=_whole(body, "max_tokens", 1, said),
        context_tokens=_whole(body, "context_tokens", MIN_CONTEXT, said),
        prompt=_prompt(body.get("prompt"), said("prompt")),
        extra_body=_extra_body(body.get("extra_body", {}), said("extra_body")),
        timeout=_number(body, "timeout", 120.0, said, lambda v: v > 0, "a number of seconds greater than 0"),
    )


def _number(body: dict, name: str, default: float, said, fits, what: str) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not fits(value):
        raise SummarizeError(f"{said(name)} must be {what}")
    return float(value)


def _whole(body: dict, name: str, least: int | None, said) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or (least is not None and value < least):
        raise SummarizeError(f"{said(name)} must be a whole number" + (f" of at least {least}" if least is not None else ""))
    return value


def _prompt(prompt: Any, said: str) -> str | None:
    """A str.format template over PROMPT_FIELDS alone: anything else would fail on every input, or
    (`{article.__class__}`) reach into Python objects."""
    if prompt is None:
        return None
    fields_ = ", ".join("{" + name + "}" for name in PROMPT_FIELDS)
    if not isinstance(prompt, str):
        raise SummarizeError(f"{said} must be a string using {fields_}")
    try:
        parts = list(Formatter().parse(prompt))
    except ValueError as e:
        raise SummarizeError(f"{said} is not a valid template ({e}); write a literal brace as {{{{ or }}}}") from None
    for _, name, spec, conversion in parts:
        if name is not None and (name not in PROMPT_FIELDS or spec or conversion):
            raise SummarizeError(f"{said} has the field {{{name}}}; a prompt may use only {fields_} (a literal brace is {{{{ or }}}})")
    if "article" not in {name for _, name, _, _ in parts}:
        raise SummarizeError(f"{said} must contain {{article}}, where the text goes")
    return prompt


def _extra_body(extra: Any, said: str) -> dict[str, Any]:
    if not isinstance(extra, dict):
        raise SummarizeError(f"{said} must be a table of request body fields, e.g. {{ top_p = 0.9 }}")
    reserved = sorted(RESERVED_BODY & set(extra))
    if reserved:
        raise SummarizeError(f"{said}.{reserved[0]} is the request's own (model, messages, stream and n are set by summarize); remove it")
    return dict(extra)

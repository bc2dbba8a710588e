"""An article given whole in one call (a server's request object): its text, a page's HTML, or a url
to fetch, read as the CLI reads a file or a page. What is wrong with it is a SummarizeError; a given
text's own problems are the subclasses below, so that a server can answer each in its own way."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import replace

from summarize.documents import Document
from summarize.errors import SummarizeError
from summarize.inputs.decode import decode, language_warnings, visible
from summarize.inputs.reading import TooLong, document_from_bytes, page_document
from summarize.text import group_digits

KINDS = ("text", "url", "html")


class TooLarge(SummarizeError):
    """A given text, page or fetched page over the character limit: one status for all three."""


class Empty(SummarizeError):
    """A given text with nothing in it but spaces and invisible characters."""


class NotText(SummarizeError):
    """A given text that is not text: a lone surrogate, NUL bytes, control characters."""


def read_given(
    kind: str, value: str, title: str | None, max_chars: int, deadline: float, allow_private: bool, fetched: Callable[[float], None] = lambda seconds: None
) -> Document:
    """`value` as a Document: a text (`kind` "text", with its `title`), a page's HTML ("html") or a
    url to fetch ("url"; blocking, given up at `deadline`, a time.monotonic(); `fetched` is told how
    long the download took). Its source is the url as given, else the kind."""
    if kind == "text":
        return text_document(value, title, max_chars)
    try:
        if kind == "html":
            return document_from_bytes("html", value.encode("utf-8", "replace"), max_chars, None, "text/html; charset=utf-8", html=True)
        if kind == "url":
            return fetch_document(value, max_chars, deadline, allow_private, fetched)
    except TooLong as e:  # in a caller's words: it cannot raise the server's limit
        raise TooLarge(f"{e.source}: is over the limit of {group_digits(e.max_chars)} characters: it {e.size}; split it into articles") from None
    raise ValueError(f"unknown kind {kind!r}; the kinds are {', '.join(KINDS)}")


def text_document(text: str, title: str | None, max_chars: int) -> Document:
    """A given text's Document: the text is the body as it is (never split into a headline), checked
    as a file's text is (empty, binary, not Russian), and refused past max_chars before decoding."""
    source = "text"
    if len(text) > max_chars:
        raise TooLarge(f"{source}: is over the limit of {group_digits(max_chars)} characters; split it into articles")
    if not visible(text):
        raise Empty(f"{source}: is empty; nothing to summarise")  # spaces and invisible characters only
    try:
        decoded, _ = decode(text.encode("utf-8"), source)
    except UnicodeEncodeError:
        raise NotText(f"{source}: holds a lone surrogate, not text; send UTF-8 text") from None
    except SummarizeError as e:  # binary data: NUL bytes, control characters
        raise NotText(str(e)) from None
    return Document(source, decoded, tuple(language_warnings(decoded)), title=title)


def fetch_document(url: str, max_chars: int, deadline: float, allow_private: bool, fetched: Callable[[float], None] = lambda seconds: None) -> Document:
    """The page at `url`, fetched now (under inputs.web's limits, and no later than `deadline`), as the CLI reads a page."""
    from summarize.inputs.web import FetchLimits, fetch_all

    limits = FetchLimits(allow_private=allow_private)
    limits = replace(limits, deadline=max(0.001, min(limits.deadline, deadline - time.monotonic())))
    started = time.monotonic()
    with contextlib.closing(fetch_all([url], ahead=1, per_host=1, limits=limits)) as pages:
        _, page = next(pages)
    fetched(time.monotonic() - started)
    if isinstance(page, SummarizeError):
        raise page
    return page_document(url, page, max_chars)

"""Inputs: paths, folders and stdin → Documents, decoded with charset-normalizer."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import BinaryIO

from summarize.config import MAX_INPUT_CHARS
from summarize.documents import Document, Failure, Input
from summarize.errors import SummarizeError
from summarize.inputs.datasets import Fields, read_dataset
from summarize.inputs.decode import decode, language_warnings
from summarize.storage import (
    is_dataset,
    read_bytes,
    redact,
    suffix,
)
from summarize.text import (
    group_digits,
    split_front_matter,
    split_title,
    strip_markdown,
)

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
MARKDOWN_SUFFIXES = (".md", ".markdown")


@dataclass(frozen=True)
class Reading:
    """How a run reads its inputs, and when it gives up (the local and the --server runs alike)."""

    max_input_chars: int
    fields: Fields = Fields()  # which fields of a dataset's records to read
    fail_fast: bool = False


def read_documents(
    inputs: list[Input], max_chars: int, fields: Fields, done: Callable[[int, Input], bool] = lambda index, item: False
) -> Iterator[tuple[int, Input, Document | Failure | None]]:
    """Every input's articles in order, with the index of the input they came from. Web pages are
    fetched ahead, a few at a time, while earlier inputs are summarised (inputs.web). `done` is
    asked first, in order, of each input that is not a dataset, then of each record as it is read:
    one already done is neither read nor fetched, and comes back with None. A record whose id an
    earlier record of this run had is a Failure, done or not (SeenIds)."""
    skipped = {i for i, item in enumerate(inputs) if not _is_dataset(item) and done(i, item)}
    fetched = _fetch_ahead([item.url for i, item in enumerate(inputs) if item.url and i not in skipped])
    seen = SeenIds()
    try:
        for index, item in enumerate(inputs):
            if index in skipped:
                yield index, item, None
                continue
            if item.url:
                _, page = next(fetched)
                yield index, item, _page(item, page, max_chars)
                continue
            for found, read in documents_in(item, max_chars, fields, seen, functools.partial(done, index)):
                yield index, found, read
    finally:
        fetched.close()


def _fetch_ahead(urls: list[str]):
    if not urls:
        return (page for page in ())
    from summarize.inputs.web import fetch_all

    return fetch_all(urls)


def _page(item: Input, page, max_chars: int) -> Document | Failure:
    """A fetched page as a Document: its article (HTML) or its text (text/plain). The download cap
    bounds the raw page (scripts, inline images…); --max-input-chars bounds the text taken out of it.
    Its url is stored redacted (no password or token)."""
    if isinstance(page, SummarizeError):
        return Failure(item.source, str(page), url=redact(item.url))
    try:
        return page_document(item.source, page, max_chars)
    except SummarizeError as e:
        return Failure(item.source, str(e), url=redact(item.url))


def page_document(source: str, page, max_chars: int) -> Document:
    """A fetched page (inputs.web.Fetched) as a Document: its article, or a text/plain page's text;
    its url redacted. The CLI and the server read pages here."""
    return document_from_bytes(source, page.data, max_chars, redact(page.final_url), page.content_type)


def document_from_bytes(
    source: str, data: bytes, max_chars: int, url: str | None = None, content_type: str | None = None, *, html: bool = False, markdown: bool = False
) -> Document:
    """An input's bytes as a Document: a web page's article (by its type, its name or its
    content), else its decoded text; refused past max_chars, warned about when not Russian."""
    from summarize.inputs.pages import extract_page, looks_like_html

    if html or "html" in (content_type or "") or looks_like_html(data):
        doc = extract_page(data, source=source, url=url, content_type=content_type)
    else:
        text, _ = decode(data, source)
        front, notes = {}, []
        if markdown:
            front, text, notes = split_front_matter(text)
            text = strip_markdown(text)
        title, body = split_title(text)
        if front.get("title") and title not in (None, front["title"]):
            title, body = None, text  # the first line is the article's, not a second headline
        title = front.get("title") or title
        if title is not None and not body:
            doc = Document(source, text, (*notes, "the text is only a headline; it is summarised as it is"), url=url, date=front.get("date"))
        else:
            doc = Document(source, body, tuple(notes), title=title, url=url, date=front.get("date"))
    if len(doc.text) > max_chars:
        raise _too_long(source, f"has {group_digits(len(doc.text))} characters", max_chars)
    return replace(doc, warnings=(*doc.warnings, *language_warnings(doc.text)))


def documents_in(
    item: Input, max_chars: int, fields: Fields, seen: SeenIds | None = None, done: Callable[[Input], bool] = lambda found: False
) -> Iterator[tuple[Input, Document | Failure | None]]:
    """What one input holds: one article, or for a dataset (.jsonl, .csv, .parquet) one per
    record, streamed. What cannot be read is a Failure in its place, never an exception; what
    `done` says is done comes back None, unread (a record: after its id is checked against `seen`)."""
    if not _is_dataset(item):
        if done(item):
            yield item, None
            return
        try:
            yield item, read_article(item, max_chars)
        except SummarizeError as e:
            yield item, Failure(item.source, str(e))
        return
    seen = SeenIds() if seen is None else seen
    try:
        for number, (record_id, record) in enumerate(read_dataset(item.location, fields, max_chars), 1):
            name = PurePath(item.name.stem) / _record_name(record_id)
            found = Input(record.source, None, name, id=record_id)
            again = seen.again(found, f"record {number} of {item.source}")
            if again is not None:
                yield found, again
            elif done(found):
                yield found, None
            else:
                yield found, record if isinstance(record, Document) else Failure(record.source, f"{record.source}: {record.error}")
    except SummarizeError as e:
        yield item, Failure(item.source, str(e))


class SeenIds:
    """The ids of one run's records, each with where it first came: a later record with the same id
    is that record's error in every run mode, since outputs and resume go by id. It holds every id
    of the run (a few dozen bytes each: ~100 MB for a million records)."""

    def __init__(self) -> None:
        self.first: dict[str, str] = {}

    def again(self, found: Input, where: str) -> Failure | None:
        """None the first time found's id comes; after that, its Failure naming the first."""
        if found.key not in self.first:
            self.first[found.key] = where
            return None
        first = self.first[found.key]
        return Failure(
            found.source, f"{found.source}: id {found.key!r} again (first at {first}); ids must be unique — pick a column of unique ids with --id-field"
        )


def _is_dataset(item: Input) -> bool:
    return item.location is not None and not item.error and is_dataset(item.location)


def _record_name(record_id: str) -> str:
    """A record's id as one file name (--output-dir): no folders, nothing hidden."""
    return record_id.replace("/", "_").replace("\\", "_").lstrip(".") or "_"


def read_article(item: Input, max_chars: int = MAX_INPUT_CHARS, stdin: BinaryIO | None = None) -> Document:
    """Read and decode one input; raises SummarizeError naming it when it cannot be summarised.

    At most 4 bytes a character are read, so a huge file costs neither the memory nor the time
    to read it whole before it is refused.
    """
    if item.error:
        raise SummarizeError(f"{item.source}: {item.error}")
    limit = max_chars * 4 + 1
    if item.uri is not None:
        data = read_bytes(item.uri, limit)
    elif item.path is None:
        data = (stdin or sys.stdin.buffer).read(limit)
    else:
        try:
            with open(item.path, "rb") as f:
                data = f.read(limit)
        except IsADirectoryError:
            raise SummarizeError(f"{item.source}: is a folder, not a file; give the folder as an argument to summarise its files") from None
        except FileNotFoundError:
            raise SummarizeError(f"{item.source}: no such file (it may have been moved or deleted)") from None
        except OSError as e:
            raise SummarizeError(f"{item.source}: cannot read it ({e.strerror}); check its permissions") from None
    if len(data) == limit:
        raise _too_long(item.source, f"has more than {group_digits(limit - 1)} bytes (a character takes at most 4)", max_chars)
    kind = suffix(item.location) if item.location is not None else ""
    return document_from_bytes(item.source, data, max_chars, html=kind in HTML_SUFFIXES, markdown=kind in MARKDOWN_SUFFIXES)


class TooLong(SummarizeError):
    """An input over the character limit: a server answers it as it answers a text over it (413),
    in its own words (the caller cannot raise --max-input-chars)."""

    def __init__(self, source: str, size: str, max_chars: int):
        super().__init__(f"{source}: is over the limit of {group_digits(max_chars)} characters: it {size}; split it into articles, or raise --max-input-chars")
        self.source, self.size, self.max_chars = source, size, max_chars


def _too_long(source: str, size: str, max_chars: int) -> SummarizeError:
    return TooLong(source, size, max_chars)

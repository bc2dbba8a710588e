"""Inputs: paths, folders and stdin → Documents, decoded with charset-normalizer."""

from __future__ import annotations

import codecs
import re
import sys
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path, PurePath, PurePosixPath
from collections.abc import Callable, Iterator
from typing import BinaryIO

from summarize.corpus import Fields
from summarize.documents import Document, Failure
from summarize.outputs import RESULT_MARK
from summarize.errors import SummarizeError
from summarize.storage import GLOB_MAGIC, URL_SCHEMES, exists, is_uri, list_files, read_bytes, split_glob, suffix
from summarize.text import group_digits, other_cyrillic_language, split_title, strip_markdown

STDIN = "-"
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
MARKDOWN_SUFFIXES = (".md", ".markdown")
DEFAULT_GLOB = "*.txt"  # the files of a folder that are taken when no --glob says otherwise
# Code pages Russian text is found in; used when the general detector's guess is not Cyrillic.
CYRILLIC_CODEPAGES = ["cp1251", "koi8_r", "koi8_u", "mac_cyrillic", "cp866", "iso8859_5"]
BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
MIN_CYRILLIC_SHARE = 0.5
NON_RUSSIAN_CYRILLIC = re.compile("[^\u0410-\u044f\u0401\u0451\\W\\d_a-zA-Z]")  # a letter that is not А-я, Ёё or Latin
# A long news feature is ~30 000 characters; a million is a book, far past any sensible summary.
MAX_INPUT_CHARS = 1_000_000


@dataclass(frozen=True)
class Input:
    """One thing to summarise, found but not read yet (reading is lazy so big batches stream)."""

    source: str  # as shown to the user: the path as given, or "stdin"
    path: Path | None  # None for stdin
    name: PurePath  # relative name for --output-dir: path inside its folder, or the file name
    error: str | None = None  # set when listing already failed (a missing path, an empty folder)
    id: str | None = None  # a dataset record's id (--output rows are keyed by it; else the source)
    url: str | None = None  # a web page to fetch
    uri: str | None = None  # a file in an object store (s3://…, gs://…), read through summarize.storage

    @property
    def is_stdin(self) -> bool:
        return self.path is None and self.url is None and self.id is None and self.uri is None

    @property
    def location(self) -> Path | str | None:
        """Where its bytes are read from: a local path or a storage URI (None: stdin, a page, a record)."""
        return self.path if self.path is not None else self.uri

    @property
    def key(self) -> str:
        return self.id if self.id is not None else self.source


def list_inputs(paths: list[str], pattern: str | None = None, recursive: bool = False, skip: Path | None = None) -> list[Input]:
    """Expand files, folders and storage URIs ('-' is stdin). Folders are listed in natural order (a2
    before a10), hidden files and anything under `skip` (the run's output folder) left out. A
    wildcard in the last part of a path ('news/*.jsonl', quoted) is its folder with that pattern;
    `pattern` (--glob, else DEFAULT_GLOB) is for the folders given without one."""
    if pattern is not None:
        _check_pattern(pattern)
    inputs: list[Input] = []
    for given in paths:
        if given == STDIN:
            inputs.append(Input("stdin", None, PurePath("stdin")))
            continue
        if given.startswith(URL_SCHEMES):
            inputs.append(Input(shown(given), None, _url_name(given), url=given))
            continue
        # A name with wildcard characters that exists as it is (a file 'a[1].txt') is that name.
        globbed = split_glob(given) if GLOB_MAGIC.search(given) and not exists(given) else None
        if globbed and pattern is not None:
            raise SummarizeError(f"{given}: has a wildcard, and --glob {pattern!r} is given too; give the pattern once")
        folder, wanted = globbed or (given, pattern or DEFAULT_GLOB)
        _check_pattern(wanted)
        if is_uri(given):
            inputs.extend(_list_uri(given, folder, wanted, recursive))
            continue
        path = Path(folder)
        if path.is_dir():
            inputs.extend(_list_folder(folder, path, wanted, recursive, skip))
        elif path.exists():
            inputs.append(Input(shown(given), path, PurePath(path.name)))
        else:
            inputs.append(Input(shown(given), path, PurePath(path.name), "no such file or folder; check the path"))
    return inputs


def read_input_file(path: Path) -> list[str]:
    """--input-file: a path or URL a line; blank lines and '#' comments skipped; '-' is stdin."""
    try:
        lines = (sys.stdin.read() if str(path) == STDIN else path.read_text(encoding="utf-8-sig")).splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise SummarizeError(f"--input-file {path}: cannot read it ({getattr(e, 'strerror', None) or e}); give a UTF-8 text file, one path or URL a line") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def drop_repeats(inputs: list[Input]) -> tuple[list[Input], list[str]]:
    """Each file (or stdin) once, however often it was given; a note for each repeat."""
    seen: set[object] = set()
    kept, notes = [], []
    for item in inputs:
        key = _identity(item)
        if key is not None and key in seen:
            notes.append(f"{item.source}: given more than once; summarised once")
            continue
        seen.add(key)
        kept.append(item)
    return kept, notes


def _identity(item: Input) -> object:
    if item.url is not None or item.uri is not None:
        return item.url or item.uri
    if item.path is None:
        return "stdin"
    try:
        status = item.path.stat()  # the same file through a symlink or a hard link is one file
    except OSError:
        return None
    return (status.st_dev, status.st_ino)


def _check_pattern(pattern: str) -> None:
    if not pattern or Path(pattern).is_absolute() or ".." in Path(pattern).parts:
        raise SummarizeError(f"--glob {pattern!r}: give a pattern for names inside the folder, such as '*.txt' or 'news-*.txt'")


def _list_folder(given: str, folder: Path, pattern: str, recursive: bool, skip: Path | None) -> list[Input]:
    found = folder.rglob(pattern) if recursive else folder.glob(pattern)
    # An output folder inside an input folder is never walked: its files are results, not news.
    # When the input folder is the output folder, the results are the files named *.summary.*.
    same = skip is not None and skip.resolve() == folder.resolve()
    skipped = skip.resolve() if skip and not same else None
    files = sorted(
        (
            p.relative_to(folder)
            for p in found
            if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(folder).parts)
            and not (skipped and p.resolve().is_relative_to(skipped))
            and not (same and p.stem.endswith(RESULT_MARK))
        ),
        key=_natural,
    )
    if not files:
        where = "in it or its subfolders" if recursive else "in it (add --recursive for subfolders)"
        return [Input(shown(given), folder, PurePath(folder.name), f"no files match {pattern!r} {where}; use --glob to pick others")]
    return [Input(shown(str(folder / rel)), folder / rel, rel) for rel in files]


def _list_uri(given: str, folder: str, pattern: str, recursive: bool) -> list[Input]:
    """A storage URI's files (itself, or those under it that match), in natural order."""
    try:
        found = sorted(list_files(folder, pattern, recursive), key=lambda pair: _natural(pair[1]))
    except SummarizeError as e:
        return [Input(shown(given), None, PurePath(PurePosixPath(folder).name), str(e).removeprefix(f"{folder}: "), uri=given)]
    if not found:
        where = "under it" if recursive else "in it (add --recursive for subfolders)"
        return [Input(shown(given), None, PurePath(PurePosixPath(folder).name), f"no files match {pattern!r} {where}; use --glob to pick others", uri=given)]
    return [Input(uri, None, PurePath(rel), uri=uri) for uri, rel in found]


def _natural(path: PurePath) -> list[tuple[int, object]]:
    """a2 before a10: runs of digits compare as numbers."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", path.as_posix())]


def shown(path: str) -> str:
    """A path as it can be printed and stored as UTF-8: bytes of a non-UTF-8 file name (which
    Python keeps as lone surrogates) become \\xNN escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_all(
    inputs: list[Input], max_chars: int, fields: Fields, done: Callable[[int, Input], bool] = lambda index, item: False
) -> Iterator[tuple[int, Input, Document | Failure | None]]:
    """Every input's articles in order, with the index of the input they came from. Web pages are
    fetched ahead, a few at a time, while earlier inputs are summarised (summarize.web). `done` is
    asked first, in order, of each input that is not a dataset: one already done is neither read
    nor fetched, and comes back with None."""
    skipped = {i for i, item in enumerate(inputs) if not _is_dataset(item) and done(i, item)}
    fetched = _fetch_ahead([item.url for i, item in enumerate(inputs) if item.url and i not in skipped])
    try:
        for index, item in enumerate(inputs):
            if index in skipped:
                yield index, item, None
                continue
            if item.url:
                _, page = next(fetched)
                yield index, item, _page(item, page, max_chars)
                continue
            for found, read in read_inputs(item, max_chars, fields):
                yield index, found, read
    finally:
        fetched.close()


def _fetch_ahead(urls: list[str]):
    if not urls:
        return (page for page in ())
    from summarize.web import fetch_all

    return fetch_all(urls)


def _page(item: Input, page, max_chars: int) -> Document | Failure:
    """A fetched page as a Document: its article (HTML) or its text (text/plain)."""
    if isinstance(page, SummarizeError):
        return Failure(item.source, str(page), url=item.url)
    try:
        if len(page.data) > max_chars * 4:
            raise _too_long(item.source, f"has {group_digits(len(page.data))} bytes", max_chars)
        return _document(item.source, page.data, max_chars, page.final_url, page.content_type)
    except SummarizeError as e:
        return Failure(item.source, str(e), url=item.url)


def _document(
    source: str, data: bytes, max_chars: int, url: str | None = None, content_type: str | None = None, html: bool = False, markdown: bool = False
) -> Document:
    """An input's bytes as a Document: a web page's article (by its type, its name or its
    content), else its decoded text; refused past max_chars, warned about when not Russian."""
    from summarize.web import extract_page, looks_like_html

    if html or "html" in (content_type or "") or looks_like_html(data):
        doc = extract_page(data, source=source, url=url, content_type=content_type)
    else:
        text, _ = decode(data, source)
        text = strip_markdown(text) if markdown else text
        title, body = split_title(text)
        if title is not None and not body:
            doc = Document(source, text, ("the text is only a headline; it is summarised as it is",), url=url)
        else:
            doc = Document(source, body, title=title, url=url)
    if len(doc.text) > max_chars:
        raise _too_long(source, f"has {group_digits(len(doc.text))} characters", max_chars)
    return replace(doc, warnings=(*doc.warnings, *_language_warnings(doc.text)))


def _url_name(url: str) -> PurePath:
    """A page's name for --output-dir: host and path, as folders and a file."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    *folders, last = [p for p in parts.path.split("/") if p] or ["index"]
    return PurePath(parts.netloc, *folders, last.rsplit(".", 1)[0] or "index")


def read_inputs(item: Input, max_chars: int, fields: Fields) -> Iterator[tuple[Input, Document | Failure]]:
    """What one input holds: one article, or for a dataset (.jsonl, .csv, .parquet) one per
    record, streamed. What cannot be read is a Failure in its place, never an exception."""
    from summarize.corpus import read_dataset

    if not _is_dataset(item):
        try:
            yield item, read_input(item, max_chars)
        except SummarizeError as e:
            yield item, Failure(item.source, str(e))
        return
    try:
        for record in read_dataset(item.location, fields, max_chars):
            name = PurePath(item.name.stem) / _record_name(record.id)
            found = Input(record.source, None, name, id=record.id)
            yield found, record if isinstance(record, Document) else Failure(record.source, f"{record.source}: {record.error}")
    except SummarizeError as e:
        yield item, Failure(item.source, str(e))


def _is_dataset(item: Input) -> bool:
    from summarize.corpus import is_dataset

    return item.location is not None and not item.error and is_dataset(item.location)


def _record_name(record_id: str) -> str:
    """A record's id as one file name (--output-dir): no folders, nothing hidden."""
    return record_id.replace("/", "_").replace("\\", "_").lstrip(".") or "_"


def read_input(item: Input, max_chars: int = MAX_INPUT_CHARS, stdin: BinaryIO | None = None) -> Document:
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
    return _document(item.source, data, max_chars, html=kind in HTML_SUFFIXES, markdown=kind in MARKDOWN_SUFFIXES)


def _language_warnings(text: str) -> list[str]:
    """The models are trained on Russian: say when a text is not (mostly Latin, or another Cyrillic language)."""
    share = cyrillic_share(text)
    if share < MIN_CYRILLIC_SHARE:
        return [f"only {share:.0%} of the letters are Cyrillic; the models are trained on Russian, expect a poor summary"]
    other = other_cyrillic_language(text)
    if other:
        return [f"the text looks {other}, not Russian; the models are trained on Russian, expect a poor summary"]
    return []


def _too_long(source: str, size: str, max_chars: int) -> SummarizeError:
    return SummarizeError(
        f"{source}: is over the limit of {group_digits(max_chars)} characters: it {size}; "
        "split it into articles, or raise --max-input-chars"
    )


def decode(data: bytes, source: str) -> tuple[str, str]:
    """Bytes → normalised text and the encoding used; rejects empty and binary data."""
    if not data.strip():
        raise SummarizeError(f"{source}: is empty; nothing to summarise")
    has_bom = data.startswith(BOMS)
    if b"\x00" in data and not has_bom:
        raise SummarizeError(f"{source}: looks like binary data, not text; give a plain-text file")
    text, encoding = _detect(data)
    if text is None:
        raise SummarizeError(
            f"{source}: cannot tell its text encoding (binary data?); save it as UTF-8 text and try again"
        )
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t\f\v")
    if controls > max(2, len(text) // 100):
        raise SummarizeError(f"{source}: looks like binary data, not text; give a plain-text file")
    if not text.strip():
        raise SummarizeError(f"{source}: is empty; nothing to summarise")
    return text, encoding


def _detect(data: bytes) -> tuple[str | None, str]:
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    general = from_bytes(data)
    best = general.best()
    if best is not None and best.bom:
        return str(best), best.encoding
    # charset-normalizer ranks by how coherent each decoding looks; short KOI8-R text can lose to a
    # CJK page, and CP1251 to Mac Cyrillic (capitals become Ѕ, Ј…). Russian input makes the first
    # candidate whose Cyrillic is all Russian the likeliest; otherwise trust the detector's best.
    for match in [*from_bytes(data, cp_isolation=CYRILLIC_CODEPAGES), *general]:
        text = str(match)
        if cyrillic_share(text) >= MIN_CYRILLIC_SHARE and not NON_RUSSIAN_CYRILLIC.search(text):
            return text, match.encoding
    return (str(best), best.encoding) if best is not None else (None, "")


def cyrillic_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if "\u0400" <= c <= "\u04ff") / len(letters)

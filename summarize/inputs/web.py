"""URLs and HTML pages → Documents: fetch with httpx under our own hard limits, extract with trafilatura.

httpx, trafilatura and asyncio are imported inside the functions that use them, so importing this
module (every text input is sniffed for HTML) costs nothing until a page is actually read.
"""

from __future__ import annotations

import codecs
import html
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from summarize.documents import Document
from summarize.errors import SummarizeError

if TYPE_CHECKING:  # imported where used: a thread pool's module at start-up costs every run
    import concurrent.futures

PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
# Per the HTML spec a <meta charset> must sit in the first 1024 bytes; real pages put scripts first.
META_SCAN_BYTES = 16 * 1024
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# The WHATWG MIME-sniffing list of tags that make a resource HTML, plus <meta> and <?xml … <html.
HTML_START = re.compile(
    rb"<(!doctype\s+html|html|head|body|script|iframe|h1|div|font|table|a|style|title|b|br|p|meta|!--)[\s>/]",
    re.IGNORECASE,
)
TAG = re.compile(rb"<[^>]*>")
SITE_SEPARATORS = "—–-|·•:"
TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
MIN_ARTICLE_WORDS = 8
SENTENCE_END = re.compile(r"[.!?…]")
ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


@dataclass(frozen=True)
class FetchLimits:
    """Hard limits on one download; tests shrink them."""

    connect_timeout: float = 5.0
    read_timeout: float = 20.0  # between two packets
    deadline: float = 30.0  # the whole download, redirects included: a slow drip can't stretch it
    max_redirects: int = 5
    max_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class Fetched:
    """One downloaded page, body decompressed, not decoded yet."""

    url: str  # as asked
    final_url: str  # after redirects
    status: int
    content_type: str | None  # the header as sent, charset included
    data: bytes


@dataclass(frozen=True)
class Article:
    """What trafilatura found in a page (its site name only cleans the title: results have no field for it)."""

    text: str  # body paragraphs, one a line, without the title
    title: str | None
    date: str | None  # ISO 8601 (YYYY-MM-DD)
    sitename: str | None


def looks_like_html(data: bytes) -> bool:
    """Content sniffing: an input whose first bytes open an HTML document is a page, whatever its name."""
    head = data[:1024]
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            head = head[len(bom) :].decode(codec, "ignore").encode("utf-8")
    head = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if XML_ENCODING.match(head) or head.lower().startswith(b"<?xml"):
        return b"<html" in head.lower()
    return HTML_START.match(head) is not None


def decode_page(data: bytes, content_type: str | None = None) -> str:
    """Bytes → text as a browser would: BOM, then the header's charset, then <meta>, then detection.

    Old stacks ignored <meta charset> and guessed, reading windows-1251 as MacCyrillic.
    """
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, "replace")
    for label in (_header_charset(content_type), _declared_charset(data)):
        codec = _codec(label)
        if codec:
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                continue  # a wrong declaration: the next source of truth decides
    return data.decode(_detect_charset(data), "replace")


def _header_charset(content_type: str | None) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else None


def _declared_charset(data: bytes) -> str | None:
    head = data[:META_SCAN_BYTES]
    match = XML_ENCODING.match(head) or META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # A page that reached us as bytes in an ASCII-compatible form can't really be UTF-16 (HTML spec).
    return "utf-8" if name.startswith("utf-16") else name


def _detect_charset(data: bytes) -> str:
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    # Detect on the text between the tags: markup is ASCII and only dilutes the evidence.
    best = from_bytes(TAG.sub(b" ", data)).best()
    if best is None:
        return "utf-8"
    # CP1251 and Mac Cyrillic share most lowercase letters; Mac Cyrillic pages barely exist.
    return "cp1251" if best.encoding == "mac_cyrillic" else best.encoding


def extract_page(data: bytes, *, source: str, url: str | None = None, content_type: str | None = None) -> Document:
    """A web page's bytes → a Document with its article text, title, url and date."""
    article = extract_article(decode_page(data, content_type), url=url)
    if article is None:
        raise SummarizeError(
            f"{source}: no article text found in the page; it may be a front page or need JavaScript "
            "— open it in a browser and save the article's text as a .txt file"
        )
    return Document(source=source, text=article.text, title=article.title, url=url, date=article.date)


def extract_article(page: str, *, url: str | None = None) -> Article | None:
    """trafilatura's article and metadata, without comments, tables or links; None when it finds no text."""
    from trafilatura import bare_extraction

    found = bare_extraction(
        page,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,  # on news pages tables are mostly lists of links and scores
        include_images=False,
        include_links=False,
        favor_precision=True,  # rather lose a caption than keep a "read also" block
        date_extraction_params={"original_date": True, "extensive_search": False},
    )
    if found is None or not found.text:
        return None
    title = _title(found.title, found.sitename, page)
    lines = [" ".join(line.split()) for line in found.text.splitlines()]
    lines = [line for line in lines if line]
    if lines and title and lines[0] == title:
        lines = lines[1:]
    text = "\n".join(lines)
    if ENTITY.search(text):
        text = html.unescape(text)  # double-escaped by the site's CMS: the reader would see «, not &laquo;
    # On a page without an article trafilatura may still return a menu ("Политика Экономика Спорт").
    if len(text.split()) < MIN_ARTICLE_WORDS or not SENTENCE_END.search(text):
        return None
    return Article(text=text, title=title, date=found.date, sitename=found.sitename)


def _title(found: str | None, sitename: str | None, page: str) -> str | None:
    """The headline: trafilatura's, unless that is the site's name; without the " — Site" suffix."""
    title = " ".join((found or "").split())
    if not title or (sitename and title.casefold() == sitename.casefold()):
        # trafilatura splits "Headline. More — Site" at the dash and skips the half with a dot in it
        tag = TITLE_TAG.search(page)
        title = " ".join(html.unescape(tag.group(1)).split()) if tag else title
    return _strip_site_suffix(title, sitename) or None


def _strip_site_suffix(title: str, sitename: str | None) -> str:
    """ "Headline — РИА Новости" → "Headline"."""
    if sitename:
        for separator in SITE_SEPARATORS:
            suffix = f" {separator} {sitename}"
            if title.endswith(suffix) and len(title) > len(suffix):
                return title[: -len(suffix)].rstrip()
    return title


def user_agent() -> str:
    """Names the tool, its version and (once the package declares one) its home page, for site operators."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        about = metadata("summarize")
    except PackageNotFoundError:
        return "summarize/dev (Russian news summariser; python-httpx)"
    homes = [entry.split(",", 1)[-1].strip() for entry in about.get_all("Project-URL") or []]
    where = f"+{homes[0]}" if homes else "Russian news summariser"
    return f"summarize/{about['Version']} ({where}; python-httpx)"


def fetch_all(urls: Iterable[str], *, ahead: int = 8, per_host: int = 2, limits: FetchLimits = FetchLimits()) -> Iterator[tuple[str, Fetched | SummarizeError]]:
    """Download pages in input order, up to `ahead` at once and `per_host` per site, while the caller works.

    `urls` is read lazily, `ahead` at a time, so a huge list streams. Each failure is that URL's
    one-line SummarizeError, yielded in its place. Closing the iterator early cancels the downloads
    still running and stops the fetching thread at once: use `with contextlib.closing(fetch_all(…))`
    so that a break or Ctrl-C in the caller's loop closes it there and then, not at garbage collection.
    A response without a Content-Type is passed on: sniff it with looks_like_html.
    """
    if ahead < 1 or per_host < 1:
        raise ValueError("ahead and per_host must be at least 1")
    return _fetch_in_order(iter(urls), ahead, per_host, limits)


def _fetch_in_order(todo: Iterator[str], ahead: int, per_host: int, limits: FetchLimits) -> Iterator[tuple[str, Fetched | SummarizeError]]:
    fetcher = _Fetcher(ahead=ahead, per_host=per_host, limits=limits)
    pending: deque[tuple[str, concurrent.futures.Future]] = deque()
    try:
        _fill(pending, todo, fetcher, ahead)
        while pending:
            url, future = pending.popleft()
            _fill(pending, todo, fetcher, ahead)
            yield url, future.result()
    finally:
        for _, future in pending:
            future.cancel()
        fetcher.close()


def _fill(pending: deque, todo: Iterator[str], fetcher: _Fetcher, ahead: int) -> None:
    while len(pending) < ahead:
        url = next(todo, _DONE)
        if url is _DONE:
            return
        pending.append((url, fetcher.submit(url)))


_DONE = object()


class _Fetcher:
    """An asyncio loop in a daemon thread, owning one httpx.AsyncClient.

    asyncio rather than a thread pool because a blocking read can't be interrupted from outside:
    here a whole-download deadline holds exactly (trafilatura #621: timeouts that don't) and
    closing cancels the downloads in flight at once instead of waiting out their timeouts.
    """

    def __init__(self, *, ahead: int, per_host: int, limits: FetchLimits) -> None:
        import asyncio
        import threading

        import httpx

        self.limits = limits
        self.per_host = per_host
        self.hosts: dict[tuple[str, str, int | None], asyncio.Semaphore] = {}
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(
            follow_redirects=True,
            max_redirects=limits.max_redirects,
            timeout=httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout, pool=limits.deadline),
            limits=httpx.Limits(max_connections=ahead, max_keepalive_connections=ahead),
            headers={
                "User-Agent": user_agent(),
                "Accept": "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8",
                "Accept-Encoding": "gzip, deflate",
                "Accept-Language": "ru,en;q=0.5",
            },
        )
        self.thread = threading.Thread(target=self.loop.run_forever, name="summarize-fetch", daemon=True)
        self.thread.start()

    def submit(self, url: str) -> concurrent.futures.Future:
        import asyncio

        return asyncio.run_coroutine_threadsafe(self._fetch(url), self.loop)

    def close(self) -> None:
        """Cancel what is still running, close the client, stop the loop; bounded, never hangs."""
        import asyncio
        import concurrent.futures

        if not self.thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(timeout=5)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass  # the thread is a daemon: it cannot keep the process alive
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()

    async def _shutdown(self) -> None:
        import asyncio

        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.client.aclose()

    async def _fetch(self, url: str) -> Fetched | SummarizeError:
        import asyncio

        import httpx

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return SummarizeError(f"{url}: not an http(s) URL; give an address starting with http:// or https://")
        try:
            origin = (parts.scheme, parts.hostname, parts.port)
        except ValueError:
            return SummarizeError(f"{url}: not a valid URL (bad port); check the address")
        host = self.hosts.setdefault(origin, asyncio.Semaphore(self.per_host))
        async with host:
            try:
                async with asyncio.timeout(self.limits.deadline):
                    return await self._download(url)
            except TimeoutError:
                return SummarizeError(
                    f"{url}: the download took over {self.limits.deadline:g} s; try again later, or save the page from a browser and summarise the file"
                )
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                return SummarizeError(f"{url}: {_describe(error, parts.hostname, self.limits)}")

    async def _download(self, url: str) -> Fetched | SummarizeError:
        async with self.client.stream("GET", url) as response:
            problem = _refuse(response, self.limits)
            if problem:
                return SummarizeError(f"{url}: {problem}")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.limits.max_bytes:
                    return SummarizeError(f"{url}: {_too_big(self.limits)}")
                chunks.append(chunk)
            content_type = response.headers.get("content-type")
            return Fetched(url, str(response.url), response.status_code, content_type, b"".join(chunks))


def _refuse(response, limits: FetchLimits) -> str | None:
    """Why this response's body is not worth reading, or None."""
    import httpx

    status = response.status_code
    if not 200 <= status < 300:
        reason = httpx.codes.get_reason_phrase(status)
        if status in (401, 403):
            advice = "the site refuses automatic downloads; save the page from a browser and summarise the file"
        elif status == 429 or status >= 500:
            advice = "the site is busy or failing; try again later"
        else:
            advice = "check the address"
        return f"the server answered {status} {reason}; {advice}"
    content_type = response.headers.get("content-type")
    mime = content_type.split(";")[0].strip().lower() if content_type else None
    if mime is not None and mime not in PAGE_TYPES:
        return f"the server sent {mime}, not a web page; save the article's text as a .txt file and summarise that"
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > limits.max_bytes:
        return _too_big(limits)
    return None


def _too_big(limits: FetchLimits) -> str:
    n = limits.max_bytes
    size = f"{n // 2**20} MB" if n % 2**20 == 0 else f"{n} bytes"
    return f"the page is larger than {size}, past the download limit; save the article's text as a .txt file and summarise that"


def _describe(error: Exception, host: str, limits: FetchLimits) -> str:
    """An httpx failure as the rest of a one-line message: what happened and what to do."""
    import httpx

    detail = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, httpx.ConnectTimeout):
        return f"no connection to {host} within {limits.connect_timeout:g} s; check the address or try again later"
    if isinstance(error, httpx.ReadTimeout):
        return f"{host} sent nothing for {limits.read_timeout:g} s; try again later"
    if isinstance(error, httpx.TimeoutException):
        return f"timed out talking to {host} ({detail}); try again later"
    if isinstance(error, httpx.ConnectError):
        detail = _os_reason(error) or detail
        if re.search(r"name or service|nodename|getaddrinfo|name resolution|no address", detail, re.IGNORECASE):
            return f"cannot find the host {host} ({detail}); check the address and that this machine is online"
        return f"cannot connect to {host} ({detail}); check the address and that this machine is online"
    if isinstance(error, httpx.TooManyRedirects):
        return f"more than {limits.max_redirects} redirects; open it in a browser and give the address it ends at"
    if isinstance(error, httpx.UnsupportedProtocol):
        return f"redirected to an address that is not http(s) ({detail}); open it in a browser instead"
    if isinstance(error, httpx.DecodingError):
        return f"the server sent a broken compressed body ({detail}); try again later"
    if isinstance(error, httpx.InvalidURL):
        return f"not a valid URL ({detail}); check the address"
    return f"the download failed ({detail}); try again later"


def _os_reason(error: BaseException) -> str | None:
    """The errno text under anyio's "All connection attempts failed": "Connection refused"…"""
    import socket

    reason = None
    while error is not None:
        if isinstance(error, socket.gaierror):
            reason = error.strerror  # "Name or service not known"
        elif isinstance(error, OSError) and error.errno:
            reason = os.strerror(error.errno)  # asyncio's own strerror is "Connect call failed (…)"
        error = error.__cause__ or error.__context__
    return reason

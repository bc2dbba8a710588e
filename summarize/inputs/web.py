"""URLs → pages: fetched with httpx under our own hard limits, several ahead while earlier inputs are
summarised (what a page holds is pages.py's to extract).

httpx and asyncio are imported inside the functions that use them, so importing this module costs
nothing until a page is actually fetched.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from summarize.errors import SummarizeError
from summarize.inputs import addresses
from summarize.storage import redact

if TYPE_CHECKING:  # imported where used: a thread pool's module at start-up costs every run
    import concurrent.futures

PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
# Sent by servers that do not know what a file is: passed on and sniffed, as a local file is.
UNKNOWN_TYPES = ("application/octet-stream", "binary/octet-stream")


@dataclass(frozen=True)
class FetchLimits:
    """Hard limits on one download; tests shrink them."""

    connect_timeout: float = 5.0
    read_timeout: float = 20.0  # between two packets
    deadline: float = 30.0  # the whole download, redirects included: a slow drip can't stretch it
    max_redirects: int = 5
    max_bytes: int = 10 * 1024 * 1024
    # False on a server: refuse hosts that resolve to loopback, private, link-local… addresses (addresses.py),
    # judged on the address actually connected to, for the first URL and every redirect. The CLI keeps True:
    # its user may summarise intranet pages.
    allow_private: bool = True


@dataclass(frozen=True)
class Fetched:
    """One downloaded page, body decompressed, not decoded yet."""

    url: str  # as asked
    final_url: str  # after redirects
    status: int
    content_type: str | None  # the header as sent, charset included
    data: bytes


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
    A response without a Content-Type, or with application/octet-stream, is passed on: sniff it with
    looks_like_html. Messages show each URL redacted (storage.redact): no password or token in them.
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
            transport=None if limits.allow_private else _guarded_transport(ahead),
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

        shown = redact(url)
        parts = urlsplit(url)  # the scheme comes back lower-case: HTTP:// is http://
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return SummarizeError(f"{shown}: not an http(s) URL; give an address starting with http:// or https://")
        try:
            origin = (parts.scheme, parts.hostname, parts.port)
        except ValueError:
            return SummarizeError(f"{shown}: not a valid URL (bad port); check the address")
        host = self.hosts.setdefault(origin, asyncio.Semaphore(self.per_host))
        async with host:
            try:
                async with asyncio.timeout(self.limits.deadline):
                    return await self._download(url)
            except TimeoutError:
                return SummarizeError(
                    f"{shown}: the download took over {self.limits.deadline:g} s; try again later, or save the page from a browser and summarise the file"
                )
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                return SummarizeError(f"{shown}: {redact(_describe(error, parts.hostname, self.limits))}")
            except _Refused as refused:
                return SummarizeError(f"{shown}: refused: {refused.describe(httpx.URL(url).raw_host.decode('ascii'))}")

    async def _download(self, url: str) -> Fetched | SummarizeError:
        async with self.client.stream("GET", url) as response:
            problem = _refuse(response, self.limits)
            if problem:
                return SummarizeError(f"{redact(url)}: {problem}")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.limits.max_bytes:
                    return SummarizeError(f"{redact(url)}: {_too_big(self.limits)}")
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
    if mime is not None and mime not in PAGE_TYPES + UNKNOWN_TYPES:
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


class _Refused(Exception):
    """A host that resolves to an address a server must not fetch from (FetchLimits.allow_private False)."""

    def __init__(self, host: str, address: str | None, kind: str) -> None:
        super().__init__(host, address, kind)
        self.host, self.address, self.kind = host, address, kind

    def describe(self, asked: str) -> str:
        """The rest of the one-line message; `asked` is the URL's own host, as httpx spells it."""
        article = "an" if self.kind[0] in "aeiou" else "a"
        if self.address is None:
            what = f"is {article} {self.kind} host"
        elif self.address == self.host:
            what = f"is {article} {self.kind} address"
        else:
            what = f"resolves to {article} {self.kind} address"  # never which: a caller must not map the server's network
        subject = self.host if self.host == asked else f"redirected to {self.host}, which"
        return f"{subject} {what}; the server fetches public pages only (start it with --allow-private-urls to allow private addresses)"


class _GuardedBackend:
    """httpcore's network backend, guarded: resolves a host once, refuses it unless every address is public,
    then connects to those very addresses. What was checked is what is connected to, so DNS that answers
    differently the second time (rebinding) gains nothing; redirects open their connections here too.
    TLS still verifies and sends the host name: httpcore starts it on top, with the URL's host."""

    def __init__(self) -> None:
        import httpcore

        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None, socket_options=None):
        import httpcore

        if addresses.is_metadata_host(host):
            raise _Refused(host, None, "cloud metadata")
        found = await self._resolve(host, port, timeout)
        for address in found:
            kind = addresses.private_kind(address)
            if kind is not None:
                raise _Refused(host, address, kind)
        failure = None
        for address in found:
            try:
                return await self.inner.connect_tcp(address, port, timeout=timeout, local_address=local_address, socket_options=socket_options)
            except httpcore.ConnectError as error:
                failure = error
        raise failure

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[str]:
        """Every address the host has, in the resolver's order, once each; failures as httpcore's."""
        import asyncio
        import socket

        import httpcore

        try:
            async with asyncio.timeout(timeout):
                found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as error:
            raise httpcore.ConnectTimeout(f"no address for {host} within {timeout:g} s") from error
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error
        if not found:
            raise httpcore.ConnectError(f"no address for {host}")
        return list(dict.fromkeys(sockaddr[0] for *_, sockaddr in found))

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise _Refused(path, None, "local socket")  # httpcore only asks for one when given uds=, which we never give

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def _guarded_transport(connections: int):
    """httpx's transport over _GuardedBackend. Passing a transport also turns off proxies from the
    environment: through a proxy the address connected to would be the proxy's, not the page's."""
    import httpcore
    import httpx

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    transport = httpx.AsyncHTTPTransport(limits=limits)
    # httpx (0.29) takes no network backend, but its transport's pool is httpcore's, which does.
    if not isinstance(getattr(transport, "_pool", None), httpcore.AsyncConnectionPool):
        raise RuntimeError("this httpx keeps its connection pool elsewhere: the private-address guard cannot be installed")
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_GuardedBackend(),
    )
    return transport

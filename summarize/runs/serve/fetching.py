"""The server's URL fetches on threads of their own: a slow site holds only these (--fetchers of
them), never the threads that read text and HTML requests, and the fetches waiting for a thread
are bounded (--max-batch), a request's urls let in all or none; past that, 503."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

T = TypeVar("T")


class FetchersBusy(Exception):
    """No room for a request's urls: the client should come back later (503)."""


class Fetchers:
    """A pool of `threads` fetch threads, with `threads + waiting` urls let in at once."""

    def __init__(self, threads: int, waiting: int) -> None:
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="summarize-fetch")
        self.capacity, self.taken = threads + waiting, 0
        self.lock = threading.Lock()

    def admit(self, urls: int) -> AbstractContextManager[None]:
        """Room for `urls` fetches, held for the block (FetchersBusy at once when there is none): a
        request holds its room while it reads its documents; fetches it gave up are cancelled if not started."""
        with self.lock:
            if urls and self.taken + urls > self.capacity:
                raise FetchersBusy(f"the server is busy fetching urls ({self.taken} fetched or waiting); try again shortly")
            self.taken += urls
        return self._held(urls)

    @contextmanager
    def _held(self, urls: int) -> Iterator[None]:
        try:
            yield
        finally:
            with self.lock:
                self.taken -= urls

    async def run(self, fetch: Callable[[], T]) -> T:
        return await asyncio.wrap_future(self.executor.submit(fetch))

    def close(self) -> None:
        """Fetches not started are dropped; those running are left to end (by their deadline, or the process's exit)."""
        self.executor.shutdown(wait=False, cancel_futures=True)

    def threads(self) -> list[threading.Thread]:
        return list(self.executor._threads)  # noqa: SLF001 - the process must not wait at exit for a slow site

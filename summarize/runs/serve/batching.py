"""Documents from concurrent requests, run together: one worker thread takes the oldest waiting
document and every other one with the same options, up to a group, after waiting a few
milliseconds for more, and runs them in one go. A thread, since the pipeline blocks; one, since
the models are shared and a second group would only wait for the first."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any


class QueueFull(Exception):
    """No room for the request's documents: the client should come back later."""


class DeadlinePassed(Exception):
    """The request's deadline came before its documents' turn."""


@dataclass
class Job:
    key: Hashable  # jobs with equal keys may run in one group
    context: Any  # what the group runs with (the first job's, for the whole group)
    payload: Any
    deadline: float  # time.monotonic()
    queued: float = field(default_factory=time.monotonic)
    future: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)


class Watcher:
    """What the batcher tells (metrics.ServeMetrics implements it)."""

    def depth(self, waiting: int) -> None: ...
    def grouped(self, size: int, waits: list[float]) -> None: ...
    def dropped(self, reason: str) -> None: ...
    def ran(self, seconds: float) -> None: ...


class Batcher:
    """A bounded queue of jobs and the worker that runs them in groups through `run(context, payloads)`,
    which returns one result per payload, in order."""

    def __init__(
        self, run: Callable[[Any, list[Any]], list[Any]], limit: Callable[[Any], int], capacity: int, wait: float, watcher: Watcher = Watcher()
    ) -> None:
        self.run, self.limit, self.capacity, self.wait, self.watcher = run, limit, capacity, wait, watcher
        self.waiting: deque[Job] = deque()
        self.changed = threading.Condition()
        self.closed = False
        self.draining = False
        self.worker = threading.Thread(target=self._work, name="summarize-batcher", daemon=True)

    def start(self) -> None:
        self.worker.start()

    def submit(self, entries: list[tuple[Hashable, Any, Any]], deadline: float) -> list[concurrent.futures.Future]:
        """Queue (key, context, payload) entries together, or none of them (QueueFull); each gets its future."""
        jobs = [Job(key, context, payload, deadline) for key, context, payload in entries]
        with self.changed:
            if self.closed or len(self.waiting) + len(jobs) > self.capacity:
                raise QueueFull
            self.waiting.extend(jobs)
            self.watcher.depth(len(self.waiting))
            self.changed.notify_all()
        return [job.future for job in jobs]

    def close(self) -> None:
        """Stop after the group in progress; what still waits is cancelled."""
        with self.changed:
            self.closed = True
            for job in self.waiting:
                job.future.cancel()
            self.waiting.clear()
            self.watcher.depth(0)
            self.changed.notify_all()

    def drain(self) -> None:
        """The server is stopping: run what waits now, without waiting for groups to fill."""
        with self.changed:
            self.draining = True
            self.changed.notify_all()

    def withdraw(self, futures: list[concurrent.futures.Future], reason: str) -> None:
        """A request gave up (its client went away: "client_gone"; its deadline passed: "deadline"):
        its jobs still waiting leave the queue now, their slots free for the next request even while
        a group runs, each counted under `reason`; those running or done are left to finish."""
        gone = set(futures)
        with self.changed:
            kept = deque(job for job in self.waiting if job.future not in gone)
            for job in self.waiting:
                if job.future in gone and job.future.cancel():
                    self.watcher.dropped(reason)
            if len(kept) != len(self.waiting):
                self.waiting = kept
                self.watcher.depth(len(kept))
            self.changed.notify_all()

    def _work(self) -> None:
        while (group := self._next_group()) is not None:
            if group:
                self._run(group)

    def _next_group(self) -> list[Job] | None:
        """The oldest job's group, once it is full, or once the oldest job has waited `wait` (or
        reached its deadline); None when closed."""
        with self.changed:
            while True:
                self._drop_gone()
                if self.closed:
                    return None
                if not self.waiting:
                    self.changed.wait()
                    continue
                first = self.waiting[0]
                limit = max(1, self.limit(first.context))
                left = min(first.queued + self.wait, first.deadline) - time.monotonic()
                if self.draining or left <= 0 or sum(job.key == first.key for job in self.waiting) >= limit:
                    return self._take(first.key, limit)
                self.changed.wait(left)

    def _drop_gone(self) -> None:
        """Leave out the jobs whose client went away (a cancelled future) and those past their deadline."""
        now, kept = time.monotonic(), deque()
        for job in self.waiting:
            if job.future.cancelled():
                self.watcher.dropped("client_gone")
            elif job.deadline <= now:
                if job.future.set_running_or_notify_cancel():
                    job.future.set_exception(DeadlinePassed())
                self.watcher.dropped("deadline")
            else:
                kept.append(job)
        if len(kept) != len(self.waiting):
            self.waiting = kept
            self.watcher.depth(len(kept))

    def _take(self, key: Hashable, limit: int) -> list[Job]:
        """Up to `limit` waiting jobs with this key, oldest first, each marked running."""
        group, kept = [], deque()
        for job in self.waiting:
            if len(group) >= limit or job.key != key:
                kept.append(job)
            elif job.future.set_running_or_notify_cancel():
                group.append(job)
            else:  # cancelled since _drop_gone
                self.watcher.dropped("client_gone")
        self.waiting = kept
        self.watcher.depth(len(kept))
        return group

    def _run(self, group: list[Job]) -> None:
        started = time.monotonic()
        self.watcher.grouped(len(group), [started - job.queued for job in group])
        try:
            results = self.run(group[0].context, [job.payload for job in group])
        except Exception as e:  # noqa: BLE001 - each waiting request answers it; the worker goes on
            for job in group:
                job.future.set_exception(e)
            return
        finally:
            self.watcher.ran(time.monotonic() - started)
        for job, result in zip(group, results, strict=True):
            job.future.set_result(result)

"""SIGINT and SIGTERM, the same way in every run mode: the first one is remembered (it picks the exit
code, 130 or 143) and what is finished is kept. How a run reacts is its own: on a first Ctrl-C the
local run finishes the model call in progress (an interactive user loses nothing), on SIGTERM (what
`timeout`, systemd and Kubernetes send before they kill) or a second Ctrl-C it gives that call up and
stops at once; a Ray driver, which only waits on Ray, stops at once on any; summarize check, whose
records take a tenth of a second each, gives up the record in progress on either, never a write
unless a second signal comes."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from summarize.errors import EXIT_INTERRUPTED


class Stopped(Exception):
    """A signal arrived while the run was waiting, not computing: stop there."""


class Signalled(BaseException):
    """A signal in a Ray driver. A BaseException, as KeyboardInterrupt is, so that Ray's `except
    Exception` handlers neither log it as Ray's own failure nor wrap it, while its executor still
    shuts down on it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signal = signal.Signals(signum)


class SignalTrap:
    """While entered, SIGINT and SIGTERM go to react(); `received` is the first that came. Off the
    main thread (a library caller) signals are left alone. `waiting` is true inside
    `interruptible()`: a wait (for input, the server, a download) that a signal may end at once."""

    waiting = False

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        self.waiting = True
        try:
            yield
        finally:
            self.waiting = False

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> SignalTrap:
        try:
            self.previous = {s: signal.getsignal(s) for s in EXIT_INTERRUPTED}
            self.arm()
        except ValueError:
            self.previous = {}
        return self

    def arm(self) -> None:
        """(Again:) a library may have set its own handler since (ray.init does)."""
        for s in EXIT_INTERRUPTED if self.previous else ():
            signal.signal(s, self._handle)

    def __exit__(self, *exc: object) -> None:
        for s, handler in self.previous.items():
            signal.signal(s, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        again = self.received is not None
        self.received = self.received or signal.Signals(signum)
        self.react(signum, again)

    def react(self, signum: int, again: bool) -> None:
        raise NotImplementedError


class StopAfterCurrent(SignalTrap):
    """The local run, whose main thread only waits on its worker (runs.local): Stopped is raised
    there on SIGTERM, on a second SIGINT, or on a first one while the worker waits inside
    `interruptible()` (for input, a download, a conversion); a first SIGINT during a model call
    only asks the worker to stop after it. Once the run has ended, signals are only recorded."""

    ended = False

    def react(self, signum: int, again: bool) -> None:
        if not self.ended and (signum == signal.SIGTERM or again or self.waiting):
            self.ended = True
            raise Stopped


class StopOutsideWrites(SignalTrap):
    """A run in the main thread whose steps are short (summarize check: a tenth of a second a
    record): a signal inside `interruptible()` (checking a record, reading the next) raises Stopped
    there, that step given up; anywhere else (a write to the outputs) it is only recorded, and the
    run stops once the write is done (`stop_if_received`). A second one stops the run at once, even
    in a write that does not end (a pipe nobody reads): a journal's cut row is redone on resume.
    Once the run has ended (`ended`: committing), signals are only recorded."""

    ended = False

    def react(self, signum: int, again: bool) -> None:
        if not self.ended and (self.waiting or again):
            self.ended = True  # once: what handles Stopped is never cut short by another
            raise Stopped

    def stop_if_received(self) -> None:
        if self.received is not None:
            raise Stopped


class StopAtOnce(SignalTrap):
    """A Ray driver: every signal ends the wait at once; a second Ctrl-C during Ray's shutdown too."""

    def react(self, signum: int, again: bool) -> None:
        raise Signalled(signum)

"""Run-wide signal handling: SIGINT and SIGTERM stop a run with what is finished kept."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_INTERRUPTED = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Stopped(Exception):
    """A signal arrived while the run was waiting, not computing: stop there."""


class _Stop:
    """The first SIGINT/SIGTERM is remembered and the current model call finishes; inside
    `interruptible()` (waiting for input, a download, a conversion) it stops the wait at once.
    A second SIGINT stops at once anywhere."""

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None
        self.waiting = False

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        self.waiting = True
        try:
            yield
        finally:
            self.waiting = False

    def handle(self, signum, frame) -> None:
        again = self.signal is not None and signum == signal.SIGINT
        self.signal = self.signal or signal.Signals(signum)
        if again or self.waiting:
            self.waiting = False
            raise Stopped


@contextmanager
def _stop_on_signals(stop: _Stop) -> Iterator[None]:
    try:
        previous = {s: signal.signal(s, stop.handle) for s in EXIT_INTERRUPTED}
    except ValueError:  # not the main thread (a library caller): leave signals alone
        yield
        return
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)

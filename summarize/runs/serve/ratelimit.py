"""--requests-per-minute: a token bucket per client (a key, or a client address without a token),
so a client may send N at once and then one every 60/N seconds. The memory is bounded: a client
whose bucket has filled up again is as good as one never seen and is forgotten, and past MOST_CLIENTS
the least recently seen are forgotten first."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

MOST_CLIENTS = 100_000  # buckets kept at once: a few MB whatever the number of addresses


class RateLimit:
    """take(client): 0 when the request may go in now, else the seconds until it may."""

    def __init__(self, per_minute: int, most_clients: int = MOST_CLIENTS, clock: Callable[[], float] = time.monotonic):
        self.per_minute, self.rate, self.most, self.clock = per_minute, per_minute / 60, most_clients, clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client → (tokens, when), least recently seen first

    def take(self, client: str) -> float:
        now = self.clock()
        tokens, when = self.buckets.pop(client, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - when) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self.buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
        self._forget(now)
        return wait

    def _forget(self, now: float) -> None:
        while self.buckets:
            tokens, when = next(iter(self.buckets.values()))
            if len(self.buckets) <= self.most and tokens + (now - when) * self.rate < self.per_minute:
                return
            self.buckets.popitem(last=False)

"""Who may call the API, and how often: the request's key (keys.py: --token, --tokens-file) and the
rate limit (ratelimit.py: --requests-per-minute), as Guard asks them of every request before it
reaches a route; the requests each key made, as a metric of their own (by name, never by token)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi.responses import Response

from summarize.flags import ServeFlags
from summarize.runs.serve.error_shape import error
from summarize.runs.serve.keys import ACCESS_LOG_FILTER, KEY, Keys
from summarize.runs.serve.ratelimit import RateLimit

if TYPE_CHECKING:
    from summarize.runs.serve.metrics import ServeMetrics

PROTECTED = ("/v1/", "/metrics")  # what needs a key; /healthz, the page and the API docs stay open
LIMITED = "/v1/"  # what the rate limit counts: the API (not /metrics, which a scraper polls)
TOO_MANY = 429


class Access:
    def __init__(self, flags: ServeFlags, metrics: ServeMetrics, notify: Callable[[str], None]):
        self.keys = Keys(flags.token, flags.tokens_file, notify) if flags.token or flags.tokens_file else None
        self.limit = RateLimit(flags.requests_per_minute) if flags.requests_per_minute else None
        self.counted = None
        if self.keys is not None:
            from prometheus_client import Counter

            self.keys.reload_on_sighup()
            self.counted = Counter("summarize_key_requests", "HTTP requests by key (its name) and status.", ["key", "status"], registry=metrics.registry)
            logging.getLogger("uvicorn.access").addFilter(ACCESS_LOG_FILTER)

    def check(self, scope: dict, headers: dict[str, str]) -> Response | None:
        """The answer to a request without a known key (401) or over its rate (429), or None; the
        request's key is KEY from here on (for the log line and answered())."""
        KEY.set(None)
        path = scope["path"]
        name = None
        if self.keys is not None and path.startswith(PROTECTED):
            given = headers.get("authorization", "")
            scheme, _, credentials = given.partition(" ")
            name = self.keys.who(credentials.strip()) if scheme.lower() == "bearer" else None
            if name is None:
                what = "a wrong token" if given else "no token"
                return error(401, f"{what}: send 'Authorization: Bearer TOKEN' with the server's token", {"WWW-Authenticate": "Bearer"})
            KEY.set(name)
        if self.limit is not None and path.startswith(LIMITED):
            client = f"key {name}" if name else f"address {(scope.get('client') or ('unknown',))[0]}"
            wait = self.limit.take(client)
            if wait:
                seconds = max(1, math.ceil(wait))
                whose = f"key {name}" if name else "this address"
                message = f"over this server's limit of {self.limit.per_minute} requests a minute for {whose}; try again in {seconds} s"
                return error(TOO_MANY, message, {"Retry-After": str(seconds)})
        return None

    def answered(self, status: int) -> None:
        name = KEY.get()
        if name is not None and self.counted is not None:
            self.counted.labels(name, str(status)).inc()

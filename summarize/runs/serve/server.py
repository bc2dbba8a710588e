"""What `summarize serve` runs: the host checked, the port taken, uvicorn started while the models
load (/healthz answers 503 until they have), and a clean stop on SIGTERM or Ctrl-C: no new
connections, the requests in progress finished within --grace, exit 0."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from summarize.config import load_config
from summarize.engines.protocol import Notify
from summarize.errors import EXIT_OK, SummarizeError, first_line
from summarize.flags import ServeFlags
from summarize.options import Choices
from summarize.runs.serve.keys import check_access_flags
from summarize.runs.serve.listen import bind, check_listening


def serve(flags: ServeFlags, choices: Choices, config: Path | None, notify: Notify, debug: bool = False) -> int:
    """Serve with uvicorn in this process until a signal (--ray is ray_serve.serve_on_ray); the exit code. A SummarizeError (a bad host, a port in use, a model
    that cannot load with --strict) is the caller's to show as one line."""
    flags = check_listening(flags, notify)
    check_access_flags(flags)
    if flags.ray_address or flags.replicas != 1:
        raise SummarizeError(f"{'--ray-address' if flags.ray_address else '--replicas'} is for --ray; add --ray, or leave it out")
    with _Stops() as stops:
        try:
            service, stops.server, listening = _prepare(flags, choices, config, notify, debug)
        except _StoppedEarly:
            pass
        except Exception:  # what a library made of our _StoppedEarly (an import half done fails as another error)
            if stops.early is None:
                raise
        if stops.early is not None:  # (its exception may have been swallowed where it was raised: a library's finaliser)
            notify(f"{stops.early.name}: stopped before serving")
            return EXIT_OK
        server = stops.server
        failed: list[SummarizeError] = []
        loader = threading.Thread(target=_load, args=(service, server, listening, notify, failed), name="summarize-load", daemon=True)
        loader.start()
        server.run(sockets=[listening])
    if failed:
        raise failed[0]
    _leave_busy_threads([loader, service.batcher.worker, *service.fetchers.threads()], notify)
    notify("stopped")
    return EXIT_OK


def _prepare(flags: ServeFlags, choices: Choices, config: Path | None, notify: Notify, debug: bool):
    """The Service (its models not loaded yet), uvicorn over its app, and the listening socket."""
    from summarize.runs.serve.app import make_app
    from summarize.runs.serve.metrics import ServeMetrics
    from summarize.runs.serve.service import Service

    metrics = ServeMetrics()
    service = Service(load_config(config), choices, flags, notify, metrics)  # the presets checked before the port is taken
    listening = bind(flags.host, flags.port)

    def stopping(sig: signal.Signals) -> None:
        notify(f"{sig.name}: stopping; the requests in progress get up to {flags.grace:g} s (--grace) to finish")
        service.batcher.drain()

    return service, _uvicorn(make_app(service, flags, metrics, notify, debug), flags, stopping), listening


def _leave_busy_threads(threads: list[threading.Thread], notify: Notify) -> None:
    """A model call still running past --grace (or models still loading) would hold up, or crash,
    the interpreter's shutdown: the process ends at once instead, with exit 0 all the same."""
    started = [t for t in threads if t.ident is not None]
    until = time.monotonic() + 1  # one second for all: the batcher's worker ends as soon as it sees the queue closed
    for thread in started:
        thread.join(max(0.0, until - time.monotonic()))
    if not any(t.is_alive() for t in started):
        return
    notify("stopped; what still ran (the models loading, a model call, a url fetch) was given up")
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(EXIT_OK)


def _load(service, server, listening: socket.socket, notify: Notify, failed: list[SummarizeError]) -> None:
    """Load the models while uvicorn answers /healthz with 503; then say where it serves. A model
    that cannot load stops the server (its reason said by the caller)."""
    try:
        service.load()
    except SummarizeError as e:
        failed.append(e)
    except Exception as e:  # noqa: BLE001 - one line, as any other start-up error
        failed.append(SummarizeError(f"the models failed to load ({type(e).__name__}: {first_line(e)}); run with --debug for the traceback"))
    if failed:
        server.should_exit = True
        return
    while not server.started and not server.should_exit:
        time.sleep(0.01)
    if server.should_exit:  # stopped while the models loaded
        return
    host, port = listening.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    notify(f"serving on http://{shown}:{port} ({service.describe()}); Ctrl-C stops")


def _uvicorn(app, flags: ServeFlags, on_stop: Callable[[signal.Signals], None]):
    import uvicorn

    from summarize.runs.serve.connections import default_max_connections, limited_protocol

    class Server(uvicorn.Server):
        """uvicorn's server, which also tells `on_stop` of the first SIGTERM or Ctrl-C."""

        def handle_exit(self, sig: int, frame: Any) -> None:
            if not self.should_exit:
                on_stop(signal.Signals(sig))
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        _answer_when_cut(app, flags.grace),
        http=limited_protocol(flags.read_timeout, flags.max_connections or default_max_connections()),
        log_config=LOG_CONFIG,
        access_log=flags.access_log,
        timeout_graceful_shutdown=flags.grace,
        lifespan="on",
        ws="none",  # no route speaks WebSocket: an upgrade is a plain request, through Guard (uvicorn answered an empty 403 past it)
        server_header=False,
        proxy_headers=False,  # the client address logged is the peer's, never a header's claim
    )
    return Server(config)


def _answer_when_cut(app, grace: float):
    """The app, whose requests still running when --grace ends (uvicorn cancels them) are answered
    503 in our error shape, and logged by the access log alone: not uvicorn's text/plain 500 and its
    traceback for each."""
    import asyncio

    from summarize.runs.serve.error_shape import UNAVAILABLE, error

    async def cut(scope, receive, send) -> None:
        started = False

        async def sending(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, receive, sending)
        except asyncio.CancelledError:
            if scope["type"] != "http":
                raise
            if not started:
                stopped = f"the server stopped before this request finished (its --grace of {grace:g} s ran out); send it again"
                await error(UNAVAILABLE, stopped, {"Connection": "close"})(scope, receive, send)

    return cut


class _Printable(logging.Filter):
    """uvicorn's lines as ours: one line, no control characters (a path may hold a decoded %0a)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from summarize.outputs.printable import one_line

        record.msg, record.args = one_line(record.getMessage()), ()
        return True


# uvicorn's own notices only from warnings up (the ready line is ours); its access log, one line per
# request (method, path, status: never a header, so never the token), when --access-log.
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"printable": {"()": _Printable}},
    "formatters": {"plain": {"format": "summarize: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["printable"], "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "uvicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


class _StoppedEarly(BaseException):
    """A signal before uvicorn was there to stop (while the server imports and checks its presets).
    A BaseException, as KeyboardInterrupt is, so that no library's `except Exception` takes it."""


class _Stops:
    """SIGINT and SIGTERM for the whole of serve(): before there is a server (`server` unset) one
    stops at once with a line (_StoppedEarly); after, they stop uvicorn, whether it has taken the
    signals over yet or not (it does while it serves), and once it has stopped (uvicorn raises them
    again so that default handlers run) a stop we asked for is a clean one: those are caught here."""

    def __init__(self) -> None:
        self.server: Any = None
        self.early: signal.Signals | None = None  # the signal that came before the server

    def __enter__(self) -> _Stops:
        self.previous = {s: signal.signal(s, self._stop) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def _stop(self, sig: int, frame: Any) -> None:
        if self.server is None:
            if self.early is None:  # a second signal while the first one unwinds: already stopping, no second raise
                self.early = signal.Signals(sig)
                raise _StoppedEarly(sig)
            return
        if not self.server.should_exit:
            self.server.handle_exit(sig, frame)

    def __exit__(self, *exc: object) -> None:
        for s, handler in self.previous.items():
            signal.signal(s, handler)

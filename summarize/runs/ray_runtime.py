"""Ray for one run: a local cluster started and shut down, or a running one joined; SIGINT and
SIGTERM while Ray runs; and Ray's own reports of failures this run reports itself kept off the terminal."""

from __future__ import annotations

import functools
import os
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from typing import Any

from summarize.errors import SummarizeError, first_line
from summarize.runs.signals import Signalled, StopAtOnce

INSTALL_RAY = "pip install 'summarize[ray]'"


# Ray streams actors' output to the driver by polling their log files (new files every 0.5 s, lines
# every 0.1 s): shutting down at once can lose an actor's last notices (a fallback to the extractive
# engine, say), so a finished run waits this long first.
LOG_GRACE_S = 1.0


CONNECT_TIMEOUT_S = 5.0  # a cluster address that does not answer is an error within this


@contextmanager
def ray_cluster(address: str | None, signals: StopAtOnce, debug: bool = False) -> Iterator[Any]:
    """Ray for this run: a local one with this machine's cores (shut down after), or the cluster at
    `address`. A Ray this process already started (a notebook, the tests) is used as it is.

    SIGINT and SIGTERM end the body at once (the driver only waits on Ray): the local Ray is shut
    down, the shards written stay, and signals.received says which signal came. Ray's own reports
    of what the run reports itself are kept off the terminal, unless `debug`."""
    try:
        import ray
    except ImportError:
        raise SummarizeError(f"--ray needs Ray; install it with {INSTALL_RAY}") from None
    if address and address != "auto":
        _check_reachable(address)
    quiet = nullcontext() if debug else _ray_reports_left_to_us()
    with signals, nullcontext() if debug else _native_errors_left_to_ray(), quiet, suppress(Signalled):
        if ray.is_initialized():
            yield ray
            return
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        try:
            try:
                # ERROR: Ray's own warnings (token authentication enabled, say) stay in its logs, not on our stderr.
                level = "INFO" if debug else "ERROR"
                ray.init(address=address, num_cpus=None if address else cores, include_dashboard=False, logging_level=level, configure_logging=True)
            except (ConnectionError, TimeoutError, RuntimeError, ValueError) as e:
                where = f"--ray-address {address}" if address else "a local Ray"
                raise SummarizeError(
                    f"{where}: could not start or join Ray ({first_line(e)}); "
                    "check the address (`ray status` on the head node), or leave out --ray-address to run on this machine"
                ) from None
            signals.arm()  # again: ray.init set its own SIGTERM handler (sys.exit(15)), and Ray's core a stack dump on it
            yield ray
        finally:
            ray.shutdown()  # also after a failed or interrupted start: what it started goes


@contextmanager
def _ray_reports_left_to_us() -> Iterator[None]:
    """What Ray would print about a failure this run reports itself (a model that cannot load in
    an actor, a signal) stays out of the terminal: Ray's error dumps, the actors' tracebacks
    streamed to the driver. It stays in Ray's logs (its session folder), as does Ray Data's INFO
    chatter. From the actors only our own `summarize: …` notices are streamed; Ray's progress is untouched. Ray has no public
    hook for this (log_to_driver is all or nothing, and does not cover the error messages), so its
    printer is wrapped where it exists."""
    import logging

    import ray._private.worker as driver
    import ray.data  # noqa: F401 - sets up the "ray.data" loggers that the filter goes on

    consoles = [h for h in logging.getLogger("ray.data").handlers if isinstance(h, logging.StreamHandler)]
    quiet, printing = _NotOurFailure(), getattr(driver, "print_worker_logs", None)
    levels = [handler.level for handler in consoles]
    for handler in consoles:
        handler.addFilter(quiet)
        handler.setLevel(max(handler.level, logging.WARNING))  # the plan, "execution finished": Ray's log file has them
    if printing:
        driver.print_worker_logs = functools.partial(_print_worker_lines, printing)
    try:
        yield
    finally:
        if printing:
            driver.print_worker_logs = printing
        for handler, level in zip(consoles, levels):
            handler.removeFilter(quiet)
            handler.setLevel(level)


# How Ray's C++ core logs a line (glog): "[2026-12-04 19:38:05,520 E 10977 10977] core_worker.cc:2465: …".
NATIVE_LOG_LINE = re.compile(rb"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [IWEF] \d+ \d+\] ")


@contextmanager
def _native_errors_left_to_ray() -> Iterator[None]:
    """Ray's C++ core in this process logs to its session folder, and its errors to fd 2 as well,
    past Python (the core_worker.cc line about an actor's constructor arguments, on every run):
    while Ray runs, fd 2 goes through a pipe that leaves those lines out. Only when stderr is not a
    terminal: a pipe in its place would turn Ray Data's progress bars off on one."""
    if os.isatty(2):
        yield
        return
    sys.stderr.flush()
    original = os.dup(2)
    read, write = os.pipe()
    os.dup2(write, 2)
    os.close(write)
    forwarder = threading.Thread(target=_forward, args=(read, original), name="summarize-stderr", daemon=True)
    forwarder.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(original, 2)  # the pipe's last write end goes: the forwarder reads to its end and stops
        forwarder.join(timeout=STDERR_DRAIN_S)
        os.close(original)


STDERR_DRAIN_S = 2.0  # the most the end of a run waits for the last lines through the pipe (it takes microseconds)


def _forward(read: int, to: int) -> None:
    with os.fdopen(read, "rb") as lines, open(to, "wb", buffering=0, closefd=False) as stderr:
        for line in lines:
            if not NATIVE_LOG_LINE.match(line):
                with suppress(OSError):  # a reader gone (a closed pipe) takes nothing more
                    stderr.write(line)


def _print_worker_lines(printing: Callable[..., None], data: dict[str, Any], print_file: Any, *args: Any, **kwargs: Any) -> None:
    """In place of Ray's worker-log printer (the actors' output and the cluster's messages both pass
    through it): our own `summarize:` notices from the actors, as they are, and the cluster's messages
    (a retried task, say) as `summarize: ray: …`, less what _ray_reports_left_to_us keeps out; all of
    it to stderr, without Ray's coloured `(MapWorker… pid=…)` prefixes."""
    from ray._private.worker import filter_autoscaler_events

    from_ray = data.get("pid") in ("raylet", "autoscaler")  # the cluster's own messages, not a worker's output
    if from_ray:
        said = data.get("lines", ()) if data.get("pid") == "raylet" else filter_autoscaler_events(data.get("lines", []))  # as Ray would
        lines = [f"summarize: ray: {_plain(line)}" for line in said if not any(word in line for word in NOT_FOR_THE_USER) and _plain(line)]
    else:
        lines = [line for line in data.get("lines", ()) if line.startswith("summarize:")]
    for line in lines:
        print(line, file=sys.stderr, flush=True)


def _plain(line: str) -> str:
    """A line of Ray's without its colours or other control characters."""
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]", "", line).strip()


SUMMARIZE_ERROR = f"{SummarizeError.__module__}.{SummarizeError.__qualname__}"  # how Ray's dumps name our error
# The cluster's messages left in Ray's logs: a dump of our own error (said once, by us), the
# raylet's note that many workers started at once (the read and write tasks take no CPU, by design),
# and Ray Serve's controller "failing" the shutdown call that ends it (`summarize serve --ray`).
NOT_FOR_THE_USER = (SUMMARIZE_ERROR, "PYTHON worker processes have been started", "ServeController.graceful_shutdown failed")


class _NotOurFailure:
    """A logging filter: no record logged while a failure that this run reports itself is being
    raised or handled (Ray Data logs inside its `except` blocks, so sys.exc_info() is it)."""

    def filter(self, record: Any) -> bool:
        error = record.exc_info[1] if record.exc_info else sys.exc_info()[1]
        return error is None or not (isinstance(error, Signalled) or summarize_error(error) is not None)


def _check_reachable(address: str) -> None:
    """Fail fast: Ray itself waits a long time for a cluster that is not there."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise SummarizeError(f"--ray-address {address}: not HOST:PORT, ray://HOST:PORT or auto")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as e:
        raise SummarizeError(
            f"--ray-address {address}: no Ray cluster answers there ({e.strerror or e}); start one with "
            "`ray start --head` on that machine, or leave out --ray-address to run on this machine"
        ) from None


def summarize_error(error: BaseException) -> str | None:
    """The message of a SummarizeError raised inside Ray (an actor's constructor), if that was it:
    Ray hands it back wrapped (ActorDiedError → RayTaskError → its `cause`)."""
    pending, seen = [error], set()
    while pending:
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, SummarizeError):
            return str(error.args[0]) if error.args else str(error)
        nested = [getattr(error, "cause", None), error.__cause__, error.__context__, *error.args]
        pending += [e for e in nested if isinstance(e, BaseException)]
    return None

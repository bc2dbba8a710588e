"""The one error type users see, and how a run ends: its exit codes and the program's version."""

import signal

# 0 all done · 1 some input failed (or, for check, something flagged) · 2 usage, configuration or model
# error · 130/143 stopped by SIGINT/SIGTERM · 141 stdout closed early (128 + SIGPIPE, as a shell says it)
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = {signal.SIGINT: 130, signal.SIGTERM: 143}
EXIT_CLOSED_PIPE = 141


class SummarizeError(Exception):
    """A problem the user can fix: the message names the input or setting and says what to do.

    The CLI prints it as one line on stderr, without a traceback (unless --debug).
    """


class BackendUnavailable(SummarizeError):
    """A backend that cannot run on this machine at all (CTranslate2 without its CUDA libraries):
    the run goes on with torch, saying so, rather than failing every input one by one."""


class ModelNotAvailable(SummarizeError):
    """The model's files are not on this machine and cannot be fetched now.

    Unlike a broken model, this one may be replaced by the extractive engine (unless --strict).
    """


def first_line(error: BaseException, limit: int = 300) -> str:
    """An exception's gist for a one-line message: backends and storage clients can put kilobytes in
    one (a pybind signature dump, a cloud SDK's retry report); past `limit` it ends in '…'. The
    whole of it is for --debug."""
    line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def version() -> str:
    """The installed package's version (the CLI's --version, the server's /openapi.json and /v1/info)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("summarize")
    except PackageNotFoundError:
        return "unknown"

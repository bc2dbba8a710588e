"""The one error type users see."""


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

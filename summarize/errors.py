"""The one error type users see."""


class SummarizeError(Exception):
    """A problem the user can fix: the message names the input or setting and says what to do.

    The CLI prints it as one line on stderr, without a traceback (unless --debug).
    """

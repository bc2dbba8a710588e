"""Text that may reach a terminal: control characters shown as escapes, never acting (an escape
sequence in a file name, a line break in an id). A leaf, so that stderr's notices need no formatter."""

from __future__ import annotations

import unicodedata


def printable(text: str) -> str:
    """Text safe for a terminal: control characters (an escape sequence in a file name, say) are
    shown as \\x1b-style escapes instead of acting; new lines and tabs stay."""
    return "".join(c if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf") else repr(c)[1:-1] for c in text)


def one_line(text: str) -> str:
    """A name for a header, which is one line: printable, with line breaks and tabs shown as \\n, \\t."""
    return printable(text).replace("\n", "\\n").replace("\t", "\\t")

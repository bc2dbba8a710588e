"""stdout: results (or summarize check's records) written and flushed as each finishes."""

from __future__ import annotations

import sys

from summarize.documents import CheckedSummaries, Input, Result
from summarize.outputs.render import SHOWS_ERRORS, Format, format_row, json_document


class StdoutSink:
    """Results to stdout, each written and flushed as it finishes; json gathers them into one
    document (an object for a single input, an array for several) written at close()."""

    def __init__(self, fmt: Format, many: bool = False, warnings: bool = True):
        from rich.console import Console

        self.fmt, self.many, self.warnings = fmt, many, warnings
        self.stream = sys.stdout
        self.at_terminal = self.stream.isatty()
        terminal = Console(file=self.stream)  # a rich panel takes the terminal's width and colours
        self.width, self.color_system = terminal.width, terminal.color_system
        self.gathered: list[dict] = []

    def done(self, item: Input) -> bool:
        return False  # stdout keeps nothing between runs

    def write(self, item: Input, result: Result | CheckedSummaries) -> None:
        if self.fmt is Format.json:
            self.gathered.append(result.to_dict())
        elif result.error is None or self.fmt in SHOWS_ERRORS:
            self._put(format_row(self.fmt, result, self.many, self.width, self.color_system, self.warnings))

    def close(self, ok: bool) -> None:
        if ok and self.fmt is Format.json:
            data = self.gathered if self.many or len(self.gathered) != 1 else self.gathered[0]
            self._put(json_document(data))

    def _put(self, text: str) -> None:
        # At a terminal, a progress bar may hold sys.stdout (rich's proxy prints above the bar): ask for it now.
        stream = sys.stdout if self.at_terminal else self.stream
        stream.write(text)
        stream.flush()

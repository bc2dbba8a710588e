"""stdout: results written and flushed as each finishes."""

from __future__ import annotations

from typing import TextIO

from summarize.documents import Result
from summarize.outputs.render import SHOWS_ERRORS, Format, format_result, json_document


class StdoutWriter:
    """Results to a stream, each written and flushed as it finishes; json gathers them into one
    document (an object for a single input, an array for several) written at close()."""

    def __init__(self, fmt: Format, stream: TextIO, many: bool = False, warnings: bool = True):
        from rich.console import Console

        self.fmt, self.stream, self.many, self.warnings = fmt, stream, many, warnings
        terminal = Console(file=stream)  # a rich panel takes the terminal's width and colours
        self.width, self.color_system = terminal.width, terminal.color_system
        self.gathered: list[dict] = []

    def write(self, result: Result) -> None:
        if self.fmt is Format.json:
            self.gathered.append(result.to_dict())
        elif result.error is None or self.fmt in SHOWS_ERRORS:
            self.stream.write(format_result(self.fmt, result, self.many, self.width, self.color_system, self.warnings))
            self.stream.flush()

    def close(self) -> None:
        if self.fmt is Format.json:
            data = self.gathered if self.many or len(self.gathered) != 1 else self.gathered[0]
            self.stream.write(json_document(data))
            self.stream.flush()

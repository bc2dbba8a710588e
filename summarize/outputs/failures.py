"""--errors FILE: every failed input with its reason, one JSON object a line, so a rerun can pick them out."""

from __future__ import annotations

import json
from pathlib import Path

from summarize.documents import Input, Result
from summarize.outputs.files import write_atomically


class FailuresFile:
    """A Sink of the failed results alone, written whole at close (also after Ctrl-C)."""

    def __init__(self, path: Path):
        self.path = path
        self.lines: list[str] = []

    def done(self, item: Input) -> bool:
        return False

    def write(self, item: Input, result: Result) -> None:
        if result.error is not None:
            self.lines.append(json.dumps({"source": result.source, "error": result.error}, ensure_ascii=False) + "\n")

    def close(self, ok: bool) -> None:
        if ok:
            write_atomically(self.path, "".join(self.lines))

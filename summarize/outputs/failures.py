"""--errors FILE: every failed input with its reason, one JSON object a line, so a rerun can pick them out."""

from __future__ import annotations

import json
from pathlib import Path

from summarize.documents import Input, Result
from summarize.errors import SummarizeError
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
        if not ok:
            return
        try:
            write_atomically(self.path, "".join(self.lines))
        except OSError as e:  # checked before any work, yet the disk may have filled up since
            raise SummarizeError(f"--errors {self.path}: cannot write it ({e.strerror or e}); the failed inputs are on stderr above") from None

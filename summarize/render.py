"""Writers: one small class per output format, sharing a base that owns the stream; output-dir naming.

Render never runs a model: it only turns Results into text.
"""

from __future__ import annotations

import errno
import io
import json
import os
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import TextIO

from summarize.documents import Result
from summarize.text import group_digits

def footer(result: Result) -> str:
    """Input tokens, truncation or chunking, models and time, in one line."""
    parts = []
    if result.input_tokens is not None:
        if result.truncated:
            parts.append(f"summarised {group_digits(result.used_tokens or 0)} of {group_digits(result.input_tokens)} tokens (truncated)")
        else:
            parts.append(f"{group_digits(result.input_tokens)} tokens")
    if result.chunks > 1:
        parts.append(f"{result.chunks} chunks, map-reduce")
    summariser = result.model or {"extractive": "extractive (LexRank)", "lead": "lead sentences"}.get(result.engine or "")
    if result.model and result.backend:
        summariser += f" ({result.backend})"
    parts.append(" → ".join(m for m in (summariser, result.translator) if m))
    parts.append(f"{result.seconds:.1f} s")
    return " · ".join(p for p in parts if p)


class Writer:
    """Base writer: formats each result as it finishes and writes it to one stream."""

    extension = ".txt"

    def __init__(self, stream: TextIO, many: bool = False):
        self.stream = stream
        self.many = many

    def write(self, result: Result) -> None:
        if result.error is None or self.shows_errors:
            self.stream.write(self.format(result))
            self.stream.flush()

    def close(self) -> None:
        """Called once after the last result."""

    shows_errors = False  # text formats leave failures to stderr; machine formats record them

    def format(self, result: Result) -> str:
        raise NotImplementedError


class PlainWriter(Writer):
    def format(self, result: Result) -> str:
        head = f"==> {result.source} <==\n" if self.many else ""
        body = result.summary_ru or ""
        if result.summary_en is not None:
            body += "\n\n" + result.summary_en
        return f"{head}{body}\n" + ("\n" if self.many else "")


class MarkdownWriter(Writer):
    extension = ".md"

    def format(self, result: Result) -> str:
        lines = [f"## {result.source}", "", "**Русский**", "", result.summary_ru or "", ""]
        if result.summary_en is not None:
            lines += ["**English**", "", result.summary_en, ""]
        lines += [f"<sub>{footer(result)}</sub>", ""]
        lines += [f"> ⚠ {w}" for w in result.warnings] + ([""] if result.warnings else [])
        return "\n".join(lines) + "\n"


class RichWriter(Writer):
    """Panels for people at a terminal; in a file the same layout without colour."""

    def __init__(self, stream: TextIO, many: bool = False, width: int | None = None):
        super().__init__(stream, many)
        from rich.console import Console

        self.console = Console(file=stream, width=width, soft_wrap=False, highlight=False)

    def write(self, result: Result) -> None:
        if result.error is None:
            self.console.print(self.panel(result))

    def format(self, result: Result) -> str:
        from rich.console import Console

        buffer = io.StringIO()
        Console(file=buffer, width=100, color_system=None, highlight=False).print(self.panel(result))
        return buffer.getvalue()

    @staticmethod
    def panel(result: Result):
        from rich.console import Group
        from rich.panel import Panel
        from rich.text import Text

        parts = [Text("Русский", style="bold cyan"), Text(result.summary_ru or "")]
        if result.summary_en is not None:
            parts += [Text(""), Text("English", style="bold green"), Text(result.summary_en)]
        parts += [Text(""), Text(footer(result), style="dim")]
        parts += [Text(f"⚠ {w}", style="yellow") for w in result.warnings]
        return Panel(Group(*parts), title=Text(result.source, style="bold"), title_align="left")


class JsonWriter(Writer):
    """One object for a single input, an array for several, written when the run ends."""

    extension = ".json"
    shows_errors = True

    def __init__(self, stream: TextIO, many: bool = False):
        super().__init__(stream, many)
        self.results: list[dict] = []

    def write(self, result: Result) -> None:
        self.results.append(result.to_dict())

    def close(self) -> None:
        data = self.results if self.many or len(self.results) != 1 else self.results[0]
        self.stream.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        self.stream.flush()

    def format(self, result: Result) -> str:
        return json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n"


class JsonlWriter(Writer):
    """One object per line, written and flushed as each input finishes."""

    extension = ".jsonl"
    shows_errors = True

    def format(self, result: Result) -> str:
        return json.dumps(result.to_dict(), ensure_ascii=False) + "\n"


WRITERS: dict[str, type[Writer]] = {
    "rich": RichWriter,
    "plain": PlainWriter,
    "markdown": MarkdownWriter,
    "json": JsonWriter,
    "jsonl": JsonlWriter,
}


def get_writer(fmt: str, stream: TextIO, many: bool) -> Writer:
    return WRITERS[fmt](stream, many)


def write_atomically(path: Path, text: str) -> None:
    """Write a whole file or nothing: an interrupted run never leaves half a file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class OutputDir:
    """One file per input under a folder: relative names kept, extension by format, no two inputs
    in one file, no input overwritten, nothing written outside the folder."""

    def __init__(self, root: Path, fmt: str, reserved: Iterable[Path] = ()):
        self.root = root
        self.formatter = WRITERS[fmt](io.StringIO())
        # Keys fold case and Unicode normalisation: on macOS and Windows "А.txt"/"а.txt" are one file.
        self.taken = {_key(p) for p in reserved}

    def default_path(self, name: PurePath) -> Path:
        parts = [_safe_part(p) for p in name.parts if p not in ("", ".", "..", "/")] or ["stdin"]
        return self.root.joinpath(*parts).with_suffix(self.formatter.extension)

    def path_for(self, name: PurePath) -> Path:
        """The default path, or with -2, -3… when an input or an earlier output of this run has it."""
        stem = path = self.default_path(name)
        n = 1
        while _key(path) in self.taken:
            n += 1
            path = stem.with_name(f"{stem.stem}-{n}{stem.suffix}")
        self.taken.add(_key(path))
        return path

    def is_complete(self, path: Path) -> bool:
        """A finished output of an earlier run: JSON formats must parse, text must not be empty."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        if self.formatter.extension not in (".json", ".jsonl"):
            return bool(text.strip())
        documents = text.splitlines() if self.formatter.extension == ".jsonl" else [text]
        try:
            return bool(documents) and all(json.loads(d)["error"] is None for d in documents)
        except (ValueError, KeyError, TypeError):
            return False

    def write(self, path: Path, result: Result) -> None:
        self._check_inside(path.parent)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._check_inside(path.parent)
        write_atomically(path, self.formatter.format(result))

    def _check_inside(self, folder: Path) -> None:
        """Names cannot climb out (see default_path); a symlinked subfolder must not lead out either."""
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        inside = folder.absolute().is_relative_to(self.root.absolute())
        if inside and not folder.resolve().is_relative_to(self.root.resolve()):
            raise OSError(errno.EXDEV, f"a symlink inside {self.root} leads outside it")


def _safe_part(part: str) -> str:
    """Control characters out, Unicode in NFC: a file name that any file system and terminal can show."""
    cleaned = "".join("_" if unicodedata.category(c) in ("Cc", "Cf") else c for c in part)
    return unicodedata.normalize("NFC", cleaned) or "_"


def _key(path: Path) -> str:
    return unicodedata.normalize("NFC", str(path.absolute())).casefold()

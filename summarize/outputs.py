"""Where results go: stdout as they finish, one file per input under --output-dir, and the
atomic writes that make every file whole or absent. Formatting is render.py's job."""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import TextIO

from summarize.documents import Result
from summarize.errors import SummarizeError
from summarize.render import EXTENSIONS, SHOWS_ERRORS, Format, format_result, json_document

RESULT_MARK = ".summary"  # before the extension of results written into an input folder


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


def write_atomically(path: Path, text: str) -> None:
    """Write a whole file or nothing: an interrupted run never leaves half a file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = create_temp(path)
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def create_temp(path: Path) -> Path:
    """An empty file beside path: new files get the umask's mode (not mkstemp's 0600), a replaced file keeps its own."""
    while True:
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o7777)
        return temp


def check_output_file(path: Path, option: str, inputs: Iterable[Path]) -> None:
    """Before any work: an output file must be writable where it is and must not be an input of
    the run (through a symlink or a hard link either), which writing it would destroy."""
    _check_local(path, option)
    if path.is_dir():
        raise SummarizeError(f"{option} {path}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise SummarizeError(f"{option} {path}: the folder {path.parent} does not exist; create it first")
    if path.exists() and any(same_file(path, given) for given in inputs):
        raise SummarizeError(f"{option} {path}: is an input of this run and would be overwritten; choose another file")


def check_output_dir(path: Path) -> None:
    _check_local(path, "--output-dir")
    if path.exists() and not path.is_dir():
        raise SummarizeError(f"--output-dir {path}: exists and is not a folder; give a folder")


def _check_local(path: Path, option: str) -> None:
    """A storage URI (s3://…, which Path folds to s3:/…) is not a local output: it would become a folder named 's3:'."""
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:/", str(path)):
        raise SummarizeError(f"{option} {path}: is a storage URI; this run writes to this machine's disk, so give a local path "
                             "(--ray --output takes s3://, gs:// and other URIs)")


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: through symlinks, hard links, `..` and case-folding file systems."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare where they would be
        return Path(a).resolve() == Path(b).resolve()


class OutputDir:
    """One file per input under a folder: relative names kept, extension by format, no two inputs
    in one file, no input overwritten, nothing written outside the folder."""

    def __init__(self, root: Path, fmt: Format, reserved: Iterable[Path] = (), beside_inputs: bool = False):
        self.root = root
        self.fmt = fmt
        # In an input folder, results are named a.summary.txt: never taken for articles by a rerun.
        self.extension = (RESULT_MARK if beside_inputs else "") + EXTENSIONS[fmt]
        # Keys fold case and Unicode normalisation: on macOS and Windows "А.txt"/"а.txt" are one file.
        self.taken = {_key(p) for p in reserved}

    def default_path(self, name: PurePath) -> Path:
        parts = [_safe_part(p) for p in name.parts if p not in ("", ".", "..", "/")] or ["stdin"]
        path = self.root.joinpath(*parts)
        return path.with_name(path.stem + self.extension)

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
        if self.fmt not in (Format.json, Format.jsonl):
            return bool(text.strip())
        documents = text.splitlines() if self.fmt is Format.jsonl else [text]
        try:
            return bool(documents) and all(json.loads(d)["error"] is None for d in documents)
        except (ValueError, KeyError, TypeError):
            return False

    def write(self, path: Path, result: Result) -> None:
        self._check_inside(path.parent)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._check_inside(path.parent)
        write_atomically(path, format_result(self.fmt, result))

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

"""--output-dir: one file per input, named after it."""

from __future__ import annotations

import errno
import json
import unicodedata
from collections.abc import Iterable
from pathlib import Path, PurePath

from summarize.documents import Input, Result
from summarize.errors import SummarizeError
from summarize.outputs.files import STOPPING_ERRNOS, OutputLost, check_output_dir, create_temp, write_atomically
from summarize.outputs.render import EXTENSIONS, Format, format_result
from summarize.storage import RESULT_MARK


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


def _probe(root: Path) -> None:
    """Before any work, also where the folder is still to be made: a read-only or full disk costs no model time."""
    existing = next(folder for folder in (root.absolute(), *root.absolute().parents) if folder.exists())
    where = "there" if existing == root.absolute() else f"in {existing}"
    if not existing.is_dir():
        raise SummarizeError(f"--output-dir {root}: {existing} is a file, so the folder cannot be made; give another folder")
    try:
        create_temp(existing / "summarize").unlink()
    except OSError as e:
        raise SummarizeError(f"--output-dir {root}: cannot write {where} ({e.strerror or e}); check the folder's permissions and free space") from None


def _safe_part(part: str) -> str:
    """Control characters out, Unicode in NFC: a file name that any file system and terminal can show."""
    cleaned = "".join("_" if unicodedata.category(c) in ("Cc", "Cf") else c for c in part)
    return unicodedata.normalize("NFC", cleaned) or "_"


def _key(path: Path) -> str:
    return unicodedata.normalize("NFC", str(path.absolute())).casefold()


class FolderSink:
    """--output-dir as a Sink: each input's path is reserved when `done` is asked (in input order, so
    that names do not depend on which finishes first) and written whole when its result comes."""

    def __init__(self, out: OutputDir, resume: bool, notify):
        self.out, self.resume, self.notify = out, resume, notify
        self.paths: dict[Input, list[Path]] = {}

    @classmethod
    def open(cls, root: Path, fmt: Format, reserved: tuple[Path, ...], resume: bool, notify) -> FolderSink:
        check_output_dir(root)
        beside_inputs = root.is_dir() and any(root.resolve() in path.resolve().parents for path in reserved)
        _probe(root)
        return cls(OutputDir(root, fmt, reserved, beside_inputs), resume, notify)

    def done(self, item: Input) -> bool:
        path = self.out.path_for(item.name)
        self.paths.setdefault(item, []).append(path)
        return self.resume and not item.is_stdin and self.out.is_complete(path)

    def write(self, item: Input, result: Result) -> None:
        reserved = self.paths.get(item)
        path = reserved.pop(0) if reserved else self.out.path_for(item.name)
        if result.error is not None:
            return
        default = self.out.default_path(item.name)
        if path != default:
            warning = f"{default} is an input or another output of this run; written to {path}"
            result.warnings.append(warning)
            self.notify(f"warning: {result.source}: {warning}")
        try:
            self.out.write(path, result)
        except OSError as e:
            message = f"{item.source}: cannot write {path} ({e.strerror or e}); check the output folder"
            raise (OutputLost if e.errno in STOPPING_ERRNOS else SummarizeError)(message) from None

    def close(self, ok: bool) -> None:
        pass  # every file was written whole as its result came

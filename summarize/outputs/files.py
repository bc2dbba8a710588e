"""The file handling every sink shares: atomic writes that make every file whole or absent, and the
checks an output path passes before any work."""

from __future__ import annotations

import errno
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from summarize.errors import SummarizeError

# What ends a run's writing for good: every later input's result would be lost too.
STOPPING_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


class OutputLost(SummarizeError):
    """A destination that can take nothing more (a full or read-only disk): the run stops at once
    instead of summarising inputs whose results cannot be kept."""


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
    if path.exists() and not path.is_file():
        # A file is written whole and renamed over the old one: that would replace /dev/null (as root) or a FIFO.
        raise SummarizeError(f"{option} {path}: is not a regular file (a device, FIFO or socket); give the name of a file to write")
    if path.exists() and any(same_file(path, given) for given in inputs):
        raise SummarizeError(f"{option} {path}: is an input of this run and would be overwritten; choose another file")


def check_writable(path: Path, option: str) -> None:
    """Before any work: a file can be created beside path (a read-only folder or a full disk would
    otherwise fail the run only at its end, after all the model time)."""
    try:
        create_temp(path).unlink()
    except OSError as e:
        raise SummarizeError(f"{option} {path}: cannot write there ({e.strerror or e}); check the folder's permissions and free space") from None


def check_output_dir(path: Path) -> None:
    _check_local(path, "--output-dir")
    if path.exists() and not path.is_dir():
        raise SummarizeError(f"--output-dir {path}: exists and is not a folder; give a folder")


def _check_local(path: Path, option: str) -> None:
    """A storage URI (s3://…, which Path folds to s3:/…) is not a local output: it would become a folder named 's3:'."""
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:/", str(path)):
        raise SummarizeError(
            f"{option} {path}: is a storage URI; this run writes to this machine's disk, so give a local path "
            "(--ray --output takes s3://, gs:// and other URIs)"
        )


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: through symlinks, hard links, `..` and case-folding file systems."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare where they would be
        return Path(a).resolve() == Path(b).resolve()

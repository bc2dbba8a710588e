"""--output FILE: one dataset of every result (JSONL, CSV or Parquet by extension), a row per input
or record, keyed by id.

Progress is durable as it goes: each finished row is appended to a journal beside the output
(`.NAME.progress.jsonl`, flushed a row at a time and fsynced every SYNC_ROWS rows), and close()
merges the old rows (resume) and the journal into a temporary file that is renamed over the output,
so the file at the output path is always whole: the old one, or the new one. A Ctrl-C commits what
is finished; a hard kill (SIGKILL, power loss) leaves the old file as it was and the journal, which
the next --skip-existing run merges in first (a row cut off by the kill is redone). A write that
fails (disk full) or a run that could not start leaves the old file exactly as it was.
"""

from __future__ import annotations

import json
import os
import re
import typing
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

from summarize.documents import Checked, CheckedSummaries, Input, Result, row_fields
from summarize.errors import SummarizeError
from summarize.outputs.files import OutputLost, check_output_file, create_temp
from summarize.outputs.tables import FORMATS as _FORMATS
from summarize.storage import DATASET_SUFFIXES

SYNC_ROWS = 64  # journal rows between fsyncs: a kill loses none (each row is flushed), a power loss at most this many


def journal_path(path: Path) -> Path:
    """Where a run's finished rows wait for the commit: hidden, beside the output's real file."""
    target = Path(os.path.realpath(path))
    return target.with_name(f".{target.name}.progress.jsonl")


class DatasetWriter:
    """One row per result, the id column first, in the format the path's extension names.

    resume=True keeps the rows of an existing file that have no error (their ids are done_ids, to
    be skipped), after merging in the journal of a run that was killed; rows with an error are
    dropped when this run writes their id again, and kept otherwise. Use it as a context manager,
    or call close() in a `finally`: see the module's docstring for what an interrupted run keeps.
    `row` is the dataclass whose fields are the columns: Result, or summarize check's Checked.
    """

    def __init__(self, path: Path, resume: bool = False, redo: frozenset[str] = frozenset(), row: type[Result] | type[Checked] = Result) -> None:
        if path.suffix.lower() not in _FORMATS:
            raise SummarizeError(f"{path}: an output dataset must end in {', '.join(DATASET_SUFFIXES)}")
        if path.is_dir():
            raise SummarizeError(f"{path}: is a folder; give a file name for the output dataset")
        self.path = path
        self._redo = redo  # ids whose old rows are replaced whatever they hold (stdin: new text each run)
        self._target = Path(os.path.realpath(path))  # a symlinked output: its target is replaced, the link stays
        self._journal_path = journal_path(path)
        self.columns = [f.name for f in row_fields(row)]  # the first field is the id
        self._format = _FORMATS[path.suffix.lower()](path, self.columns, row)
        self._done: set[str] = set()  # ids of the kept rows
        self._written: set[str] = set()  # ids written by this run
        self._journal: typing.TextIO | None = None
        self._unsynced = 0
        self._closed = self._broken = False
        try:
            self._target.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale_temps(self._target)
            create_temp(self._target).unlink()  # a read-only folder is said now, not after the work
        except OSError as e:
            raise SummarizeError(f"cannot write {path} ({e.strerror}); check the folder and its permissions") from None
        if resume and self._journal_path.exists():
            self._recover()
        self._resume = resume and path.exists()
        if self._resume:
            self._done = self._old_done_ids()

    def _recover(self) -> None:
        """A killed run's journal: its rows are committed before this run starts (none: it goes)."""
        killed = _journal_ids(self._journal_path)
        if killed:
            self._merge(killed)
        else:
            self._journal_path.unlink(missing_ok=True)

    @property
    def broken(self) -> bool:
        """A write failed (a full disk): nothing more can be written to this output."""
        return self._broken

    @property
    def done_ids(self) -> set[str]:
        """Ids the file already held with no error (resume=True): their records need no new run."""
        return self._done

    def write(self, result: Result | Checked, id: str) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: write() after close()")
        if self._broken:
            raise SummarizeError(f"cannot write {self.path}: an earlier write failed; it is left as it was")
        if id in self._written or id in self._done:
            raise SummarizeError(f"{self.path}: already holds a row with id {id!r}; ids must be unique (pick a column of unique ids with --id-field)")
        row = {**result.to_dict(), "id": id}
        self._format.encode(row)  # a value that cannot be written in this format raises before any byte is written
        try:
            self._append(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
        except BaseException as e:  # the journal may now end in half a row: nothing more goes after it
            self._broken = True
            if isinstance(e, OSError):
                raise SummarizeError(
                    f"cannot write {self.path} ({e.strerror or e}); it is left as it was, and the rows before wait beside it for --skip-existing"
                ) from None
            raise
        self._written.add(id)

    def _append(self, line: str) -> None:
        if self._journal is None:
            self._journal = open(self._journal_path, "w", encoding="utf-8", newline="\n")
            _fsync_folder(self._journal_path.parent)
        self._journal.write(line)
        self._journal.flush()  # in the kernel's hands: a killed process loses nothing
        self._unsynced += 1
        if self._unsynced >= SYNC_ROWS:
            os.fsync(self._journal.fileno())
            self._unsynced = 0

    def close(self) -> None:
        """Commit: the old rows and this run's replace the file in one rename. Safe to call again."""
        if self._closed:
            return
        self._closed = True
        journal = self._close_journal()
        if self._broken:
            return  # the file stays as it was; the journal's whole rows wait for --skip-existing
        if journal or not self._resume or not self._target.exists():
            self._merge(self._written if journal else set(), keep_old=self._resume)

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        """Commit what is done, also on Ctrl-C; a SummarizeError (the run could not start: a
        model that cannot load) leaves the file exactly as it was."""
        if kind is not None and issubclass(kind, SummarizeError):
            self.discard()
        else:
            self.close()

    def discard(self) -> None:
        """Leave the file exactly as it was (the run could not start)."""
        if not self._closed:
            self._closed = True
            if self._close_journal():
                self._journal_path.unlink(missing_ok=True)

    def _close_journal(self) -> bool:
        """Whether this run wrote a journal (closed now)."""
        if self._journal is None:
            return False
        with suppress(OSError):
            self._journal.close()
        return True

    def _old_done_ids(self) -> set[str]:
        """The old file's ids without an error, each row checked to fit this version's columns (before any work).
        A row without the column of one of this run's --to targets (written by a run with another --to) is
        not done: skipped, it would lack that translation and nothing would say so."""
        targets = [name for name in self.columns if name.startswith("summary_") and name not in ("summary_ru", "summary_en")]
        done = set()
        for number, row in self._format.rows(self.path, self.columns):
            try:
                self._format.encode({name: row.get(name) for name in self.columns})
            except (TypeError, ValueError, OverflowError) as e:
                raise SummarizeError(f"{self.path}: row {number} does not fit the columns this version writes ({e}); write to a new file") from None
            if not row.get("error") and str(row["id"]) not in self._redo and all(name in row for name in targets):
                done.add(str(row["id"]))
        return done

    def _merge(self, written: set[str], keep_old: bool = True) -> None:
        """The output made whole: the old rows without an error, the journal's, then the old errors
        not redone (an old row whose id the journal holds gives way to it), renamed over the file."""
        keep_old = keep_old and self.path.exists()
        try:
            temp = create_temp(self._target)
        except OSError as e:
            raise SummarizeError(f"cannot write {self.path} ({e.strerror or e}); it is left as it was") from None
        writer = self._format.open(temp)
        try:
            if keep_old:
                self._copy_old(writer, written, with_error=False)
            if written:
                for row in _journal_rows(self._journal_path):
                    writer.write(self._format.encode(row))
            if keep_old:
                self._copy_old(writer, written, with_error=True)
            writer.close()
            os.replace(temp, self._target)
        except BaseException as e:
            with suppress(Exception):
                writer.abandon()
            temp.unlink(missing_ok=True)
            if isinstance(e, OSError):
                kept = "; this run's rows wait beside it for --skip-existing" if written else ""
                raise SummarizeError(f"cannot write {self.path} ({e.strerror or e}); it is left as it was{kept}") from None
            raise
        _fsync_folder(self._target.parent)
        self._journal_path.unlink(missing_ok=True)

    def _copy_old(self, writer: Any, written: set[str], with_error: bool) -> None:
        for number, row in self._format.rows(self.path, self.columns):
            rid, failed = str(row["id"]), bool(row.get("error"))
            if failed != with_error or rid in written:
                continue
            try:  # every column, in this version's order: an older file may lack the newer ones
                encoded = self._format.encode({name: row.get(name) for name in self.columns})
            except (TypeError, ValueError, OverflowError) as e:
                raise SummarizeError(f"{self.path}: row {number} does not fit the columns this version writes ({e}); write to a new file") from None
            writer.write(encoded)


def _remove_stale_temps(target: Path) -> None:
    """A commit that a kill cut off leaves `.NAME.xxxxxxxx.part` (files.create_temp): never whole, never needed."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[0-9a-f]{{8}}\.part")
    for stale in target.parent.glob(f".{target.name}.*.part"):
        if pattern.fullmatch(stale.name):
            stale.unlink(missing_ok=True)


def _journal_rows(journal: Path) -> Iterator[dict]:
    """The journal's whole rows; a last line cut off by a kill is left out (its record is redone)."""
    with open(journal, encoding="utf-8") as f:
        previous: str | None = None
        for number, line in enumerate(f, 1):
            if previous is not None:
                yield _journal_row(journal, number - 1, previous, last=False)
            previous = line
        if previous is not None:
            row = _journal_row(journal, number, previous, last=True)
            if row is not None:
                yield row


def _journal_row(journal: Path, number: int, line: str, last: bool) -> dict | None:
    try:
        row = json.loads(line) if line.endswith("\n") or last else None
    except ValueError:
        row = None
    if isinstance(row, dict) and "id" in row:
        return row
    if last:
        return None
    raise SummarizeError(f"{journal}: line {number} is damaged; delete the file to redo its records, or rerun with --overwrite")


def _journal_ids(journal: Path) -> set[str]:
    return {str(row["id"]) for row in _journal_rows(journal)}


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); not possible, nor needed, everywhere."""
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class DatasetSink:
    """--output FILE as a Sink: rows by id, resumed by id, committed at close (see DatasetWriter)."""

    def __init__(self, writer: DatasetWriter, resume: bool):
        self.writer, self.resume = writer, resume

    @classmethod
    def open(cls, path: Path, reserved: tuple[Path, ...], resume: bool, overwrite: bool = False, row: type[Result] | type[Checked] = Result) -> DatasetSink:
        check_output_file(path, "--output", reserved)
        if not (resume or overwrite):
            if path.exists():
                raise SummarizeError(f"--output {path}: already exists; add --skip-existing to resume it, or --overwrite to replace it")
            if journal_path(path).exists():
                raise SummarizeError(
                    f"--output {path}: rows of an interrupted run wait beside it ({journal_path(path).name}); "
                    "add --skip-existing to resume that run, or --overwrite to start afresh"
                )
        return cls(DatasetWriter(path, resume=resume, redo=frozenset({"stdin"}), row=row), resume)

    def done(self, item: Input) -> bool:
        return self.resume and not item.is_stdin and item.key in self.writer.done_ids

    def write(self, item: Input, result: Result | CheckedSummaries) -> None:
        try:
            self.writer.write(result, item.key)
        except (OSError, SummarizeError) as e:
            if self.writer.broken:
                raise OutputLost(f"{item.source}: {e}") from None
            raise SummarizeError(f"{item.source}: not written to {self.writer.path} ({getattr(e, 'strerror', None) or e})") from None

    def close(self, ok: bool) -> None:
        if ok:
            self.writer.close()
        else:
            self.writer.discard()

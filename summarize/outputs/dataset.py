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

import csv
import dataclasses
import json
import os
import re
import types
import typing
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

from summarize.documents import Input, Result
from summarize.errors import SummarizeError, first_line
from summarize.outputs.files import OutputLost, check_output_file, create_temp
from summarize.storage import BATCH_ROWS, DATASET_SUFFIXES, import_pyarrow

ROW_GROUP_ROWS = 256  # Parquet rows written per row group: readers can stream the output too
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
    """

    def __init__(self, path: Path, resume: bool = False, redo: frozenset[str] = frozenset()) -> None:
        if path.suffix.lower() not in _FORMATS:
            raise SummarizeError(f"{path}: an output dataset must end in {', '.join(DATASET_SUFFIXES)}")
        if path.is_dir():
            raise SummarizeError(f"{path}: is a folder; give a file name for the output dataset")
        self.path = path
        self._redo = redo  # ids whose old rows are replaced whatever they hold (stdin: new text each run)
        self._target = Path(os.path.realpath(path))  # a symlinked output: its target is replaced, the link stays
        self._journal_path = journal_path(path)
        self.columns = [f.name for f in dataclasses.fields(Result)]  # Result's first field is its id
        self._format = _FORMATS[path.suffix.lower()](path, self.columns)
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
            self._merge(_journal_ids(self._journal_path))  # a killed run's rows: committed before this run starts
        self._resume = resume and path.exists()
        if self._resume:
            self._done = self._old_done_ids()

    @property
    def broken(self) -> bool:
        """A write failed (a full disk): nothing more can be written to this output."""
        return self._broken

    @property
    def done_ids(self) -> set[str]:
        """Ids the file already held with no error (resume=True): their records need no new run."""
        return self._done

    def write(self, result: Result, id: str) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: write() after close()")
        if self._broken:
            raise SummarizeError(f"cannot write {self.path}: an earlier write failed; it is left as it was")
        if id in self._written or id in self._done:
            raise SummarizeError(f"{self.path}: already holds a row with id {id!r}; ids must be unique (pick a column of unique ids with --id-field)")
        row = {**result.to_dict(), "id": id}
        self._format.encode(row)  # a value that cannot be written in this format raises before any byte is written
        line = json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n"
        try:
            if self._journal is None:
                self._journal = open(self._journal_path, "w", encoding="utf-8", newline="\n")
                _fsync_folder(self._journal_path.parent)
            self._journal.write(line)
            self._journal.flush()  # in the kernel's hands: a killed process loses nothing
            self._unsynced += 1
            if self._unsynced >= SYNC_ROWS:
                os.fsync(self._journal.fileno())
                self._unsynced = 0
        except OSError as e:
            self._broken = True
            raise SummarizeError(
                f"cannot write {self.path} ({e.strerror or e}); it is left as it was, and the rows before wait beside it for --skip-existing"
            ) from None
        self._written.add(id)

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
        """The old file's ids without an error, each row checked to fit this version's columns (before any work)."""
        done = set()
        for number, row in self._format.rows(self.path, self.columns):
            try:
                self._format.encode({name: row.get(name) for name in self.columns})
            except (TypeError, ValueError, OverflowError) as e:
                raise SummarizeError(f"{self.path}: row {number} does not fit the columns this version writes ({e}); write to a new file") from None
            if not row.get("error") and str(row["id"]) not in self._redo:
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


def _check_old_columns(path: Path, number: int, names: typing.Iterable[str], columns: list[str]) -> None:
    names = list(names)
    if "id" not in names:
        raise SummarizeError(f"{path}: row {number} has no 'id'; it is not an output of summarize, give another --output")
    unknown = [n for n in names if n not in columns]
    if unknown:
        raise SummarizeError(f"{path}: has columns this version does not write ({', '.join(unknown)}); give another --output to keep them")


class _JsonlFormat:
    """One JSON object a line."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path, self.columns = path, columns

    def encode(self, row: dict) -> str:
        return json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n"

    def open(self, temp: Path) -> _TextWriter:
        file = open(temp, "w", encoding="utf-8", newline="\n")
        return _TextWriter(file, file.write)

    @staticmethod
    def rows(path: Path, columns: list[str]) -> Iterator[tuple[int, dict]]:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    row = None
                if not isinstance(row, dict):
                    raise SummarizeError(f"{path}: line {number} is not a JSON object; fix it, or give another --output")
                _check_old_columns(path, number, row, columns)
                yield number, row


class _TextWriter:
    """A text file written at commit: put() each encoded row, close() makes it durable."""

    def __init__(self, file: typing.TextIO, put: typing.Callable[[Any], object]) -> None:
        self.file, self.put = file, put

    def write(self, encoded: Any) -> None:
        self.put(encoded)

    def close(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()

    def abandon(self) -> None:
        self.file.close()


class _CsvFormat:
    """A header, then one row per result; lists as JSON, nulls as empty cells."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path, self.columns = path, columns

    def encode(self, row: dict) -> list:
        return [_csv_cell(row.get(name)) for name in self.columns]

    def open(self, temp: Path) -> _TextWriter:
        file = open(temp, "w", encoding="utf-8", newline="")
        writer = csv.writer(file)
        writer.writerow(self.columns)
        return _TextWriter(file, writer.writerow)

    @staticmethod
    def rows(path: Path, columns: list[str]) -> Iterator[tuple[int, dict]]:
        csv.field_size_limit(max(2**31 - 1, csv.field_size_limit()))  # our own file: any size it holds
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            _check_old_columns(path, 1, reader.fieldnames or [], columns)
            for number, row in enumerate(reader, 1):
                yield number, row


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


class _ParquetFormat:
    """A fixed schema from Result's field types, rows buffered into row groups of ROW_GROUP_ROWS."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.pa, self.pq = import_pyarrow(path)
        self.schema = result_schema(self.pa)

    def encode(self, row: dict) -> Any:
        # One row at a time, against the schema: a bad value fails its own write, not a row group.
        try:
            return self.pa.Table.from_pylist([row], schema=self.schema)
        except self.pa.ArrowException as e:
            raise ValueError(first_line(e)) from None

    def open(self, temp: Path) -> _ParquetWriter:
        return _ParquetWriter(self.pa, self.pq.ParquetWriter(temp, self.schema), temp)

    @staticmethod
    def rows(path: Path, columns: list[str]) -> Iterator[tuple[int, dict]]:
        pa, pq = import_pyarrow(path)
        try:
            with pq.ParquetFile(path) as parquet:
                _check_old_columns(path, 1, parquet.schema_arrow.names, columns)
                number = 0
                for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
                    for row in batch.to_pylist():
                        number += 1
                        yield number, row
        except pa.ArrowException as e:
            raise SummarizeError(f"{path}: cannot read it as Parquet ({first_line(e)}); give another --output") from None


class _ParquetWriter:
    def __init__(self, pa: Any, writer: Any, temp: Path) -> None:
        self.pa, self.writer, self.temp = pa, writer, temp
        self.pending: list = []

    def write(self, table: Any) -> None:
        self.pending.append(table)
        if len(self.pending) >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.writer.write_table(self.pa.concat_tables(self.pending).combine_chunks())
            self.pending = []

    def close(self) -> None:
        self._flush()
        self.writer.close()
        fd = os.open(self.temp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def abandon(self) -> None:
        self.writer.close()


_FORMATS = {".jsonl": _JsonlFormat, ".csv": _CsvFormat, ".parquet": _ParquetFormat}


_ARROW_TYPES = {str: "string", int: "int64", float: "float64", bool: "bool_"}


def result_schema(pa: Any) -> Any:
    """The Parquet schema of an output: id, then every Result field, typed from its annotation.

    Fixed, not inferred from the rows: a column that is all null (error, in a run without failures)
    keeps its type, and a later row group always matches the first.
    """
    hints = typing.get_type_hints(Result)
    columns = []
    for field in dataclasses.fields(Result):
        # Every row has its id (the sinks set it): not nullable, as in the outputs of earlier versions.
        columns.append(pa.field(field.name, _arrow_type(pa, hints[field.name], field.name), nullable=field.name != "id"))
    return pa.schema(columns)


def _arrow_type(pa: Any, hint: Any, name: str) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(kinds) == 1:
            return _arrow_type(pa, kinds[0], name)
    elif typing.get_origin(hint) is list:
        return pa.list_(_arrow_type(pa, typing.get_args(hint)[0], name))
    elif hint in _ARROW_TYPES:
        return getattr(pa, _ARROW_TYPES[hint])()
    raise TypeError(f"Result.{name}: no Parquet type for {hint}; add one to outputs.dataset._ARROW_TYPES")


class DatasetSink:
    """--output FILE as a Sink: rows by id, resumed by id, committed at close (see DatasetWriter)."""

    def __init__(self, writer: DatasetWriter, resume: bool):
        self.writer, self.resume = writer, resume

    @classmethod
    def open(cls, path: Path, reserved: tuple[Path, ...], resume: bool, overwrite: bool = False) -> DatasetSink:
        check_output_file(path, "--output", reserved)
        if not (resume or overwrite):
            if path.exists():
                raise SummarizeError(f"--output {path}: already exists; add --skip-existing to resume it, or --overwrite to replace it")
            if journal_path(path).exists():
                raise SummarizeError(
                    f"--output {path}: rows of an interrupted run wait beside it ({journal_path(path).name}); "
                    "add --skip-existing to resume that run, or --overwrite to start afresh"
                )
        return cls(DatasetWriter(path, resume=resume, redo=frozenset({"stdin"})), resume)

    def done(self, item: Input) -> bool:
        return self.resume and not item.is_stdin and item.key in self.writer.done_ids

    def write(self, item: Input, result: Result) -> None:
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

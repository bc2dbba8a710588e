"""--output FILE: one dataset of every result (JSONL, CSV or Parquet by extension), a row per input
or record, keyed by id.

An output is written to a temporary file beside it and renamed over it on close(), so the file at
the output path is always whole: the old one, or the new one. A Ctrl-C (or any exception) between
two writes still ends in close() — the caller's `finally`, or the `with` block — which commits the
rows finished so far; with resume=True they come after the old rows it kept, so nothing is lost and
the next run resumes from there. Only a failure inside a write (disk full, or a KeyboardInterrupt that
lands in one — the local run's first Ctrl-C only sets a flag, so it does not) leaves the temporary
file in an unknown state: then close() deletes it and the old file stays exactly as it was. A hard
kill (SIGKILL, power loss) leaves the old file intact and an orphan `.NAME.*.part` file beside it.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import types
import typing
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

from summarize.documents import Input, Result
from summarize.errors import SummarizeError, first_line
from summarize.outputs.files import check_output_file, create_temp
from summarize.storage import BATCH_ROWS, DATASET_SUFFIXES, import_pyarrow

ROW_GROUP_ROWS = 256  # Parquet rows written per row group: readers can stream the output too


class DatasetWriter:
    """One row per result, the id column first, in the format the path's extension names.

    resume=True keeps the rows of an existing file that have no error (their ids are done_ids, to
    be skipped); rows with an error are dropped when this run writes their id again, and kept
    otherwise. Use it as a context manager, or call close() in a `finally`: see the module's
    docstring for what an interrupted run keeps.
    """

    def __init__(self, path: Path, resume: bool = False, redo: frozenset[str] = frozenset()) -> None:
        if path.suffix.lower() not in _SINKS:
            raise SummarizeError(f"{path}: an output dataset must end in {', '.join(DATASET_SUFFIXES)}")
        if path.is_dir():
            raise SummarizeError(f"{path}: is a folder; give a file name for the output dataset")
        self.path = path
        self._redo = redo  # ids whose old rows are replaced whatever they hold (stdin: new text each run)
        self._target = Path(os.path.realpath(path))  # a symlinked output: its target is replaced, the link stays
        self.columns = ["id", *(f.name for f in dataclasses.fields(Result))]
        self._sink_type = _SINKS[path.suffix.lower()]
        self._resume = resume and path.exists()
        self._done: set[str] = set()  # ids of the kept rows
        self._written: set[str] = set()  # ids written by this run
        self._closed = self._broken = False
        try:
            self._target.parent.mkdir(parents=True, exist_ok=True)
            self._temp = create_temp(self._target)
        except OSError as e:
            raise SummarizeError(f"cannot write {path} ({e.strerror}); check the folder and its permissions") from None
        try:
            self._sink = self._sink_type(self.path, self._temp, self.columns)
            if self._resume:
                self._copy_old(with_error=False)
        except BaseException:
            self._discard()
            raise

    @property
    def done_ids(self) -> set[str]:
        """Ids the file already held with no error (resume=True): their records need no new run."""
        return self._done

    def write(self, result: Result, id: str) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: write() after close()")
        if id in self._written or id in self._done:
            raise SummarizeError(f"{self.path}: already holds a row with id {id!r}; ids must be unique (pick a column of unique ids with --id-field)")
        self._put(self._sink.encode({"id": id, **result.to_dict()}))  # a value that cannot be encoded raises before any byte is written
        self._written.add(id)

    def close(self) -> None:
        """Commit: the finished rows replace the file in one rename. Safe to call again."""
        if self._closed:
            return
        self._closed = True
        if self._broken:
            self._discard()
            return
        try:
            if self._resume:
                self._copy_old(with_error=True)
            self._sink.close()
            os.replace(self._temp, self._target)
        except BaseException as e:
            self._discard()
            if isinstance(e, OSError):
                raise SummarizeError(f"cannot write {self.path} ({e.strerror or e}); it is left as it was") from None
            raise
        _fsync_folder(self._target.parent)

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
            self._discard()

    def _copy_old(self, with_error: bool) -> None:
        """Stream the old file's rows in: first those without an error, at close those with one not redone."""
        for number, row in self._sink_type.rows(self.path, self.columns):
            rid, failed = str(row["id"]), bool(row.get("error"))
            if failed != with_error or (failed and rid in self._written) or rid in self._redo:
                continue
            try:  # every column, in this version's order: an older file may lack the newer ones
                encoded = self._sink.encode({name: row.get(name) for name in self.columns})
            except (TypeError, ValueError, OverflowError) as e:
                raise SummarizeError(f"{self.path}: row {number} does not fit the columns this version writes ({e}); write to a new file") from None
            self._put(encoded)
            if not failed:
                self._done.add(rid)

    def _put(self, encoded: Any) -> None:
        try:
            self._sink.write(encoded)
        except BaseException as e:  # the temp file may now end in half a row: it is never renamed
            self._broken = True
            if isinstance(e, OSError):
                raise SummarizeError(f"cannot write {self.path} ({e.strerror or e}); it is left as it was") from None
            raise

    def _discard(self) -> None:
        with suppress(Exception):
            self._sink.abandon()
        self._temp.unlink(missing_ok=True)


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


class _JsonlSink:
    """One JSON object a line."""

    def __init__(self, path: Path, temp: Path, columns: list[str]) -> None:
        self.file = open(temp, "w", encoding="utf-8", newline="\n")

    def encode(self, row: dict) -> str:
        return json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n"

    def write(self, line: str) -> None:
        self.file.write(line)

    def close(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()

    def abandon(self) -> None:
        self.file.close()

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


class _CsvSink:
    """A header, then one row per result; lists as JSON, nulls as empty cells."""

    def __init__(self, path: Path, temp: Path, columns: list[str]) -> None:
        self.columns = columns
        self.file = open(temp, "w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.file)
        self.writer.writerow(columns)

    def encode(self, row: dict) -> list:
        return [_csv_cell(row.get(name)) for name in self.columns]

    def write(self, cells: list) -> None:
        self.writer.writerow(cells)

    close = _JsonlSink.close
    abandon = _JsonlSink.abandon

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


class _ParquetSink:
    """A fixed schema from Result's field types, rows buffered into row groups of ROW_GROUP_ROWS."""

    def __init__(self, path: Path, temp: Path, columns: list[str]) -> None:
        self.pa, pq = import_pyarrow(path)
        self.schema = result_schema(self.pa)
        self.temp = temp
        self.writer = pq.ParquetWriter(temp, self.schema)
        self.pending: list = []

    def encode(self, row: dict) -> Any:
        # One row at a time, against the schema: a bad value fails its own write, not a row group.
        try:
            return self.pa.Table.from_pylist([row], schema=self.schema)
        except self.pa.ArrowException as e:
            raise ValueError(first_line(e)) from None

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


_SINKS = {".jsonl": _JsonlSink, ".csv": _CsvSink, ".parquet": _ParquetSink}


_ARROW_TYPES = {str: "string", int: "int64", float: "float64", bool: "bool_"}


def result_schema(pa: Any) -> Any:
    """The Parquet schema of an output: id, then every Result field, typed from its annotation.

    Fixed, not inferred from the rows: a column that is all null (error, in a run without failures)
    keeps its type, and a later row group always matches the first.
    """
    hints = typing.get_type_hints(Result)
    columns = [pa.field("id", pa.string(), nullable=False)]
    for field in dataclasses.fields(Result):
        columns.append(pa.field(field.name, _arrow_type(pa, hints[field.name], field.name)))
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
    def open(cls, path: Path, reserved: tuple[Path, ...], resume: bool) -> DatasetSink:
        check_output_file(path, "--output", reserved)
        return cls(DatasetWriter(path, resume=resume, redo=frozenset({"stdin"})), resume)

    def done(self, item: Input) -> bool:
        return self.resume and not item.is_stdin and item.key in self.writer.done_ids

    def write(self, item: Input, result: Result) -> None:
        try:
            self.writer.write(result, item.key)
        except (OSError, SummarizeError) as e:
            raise SummarizeError(f"{item.source}: not written to {self.writer.path} ({getattr(e, 'strerror', None) or e})") from None

    def close(self, ok: bool) -> None:
        if ok:
            self.writer.close()
        else:
            self.writer.discard()

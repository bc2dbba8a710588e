"""The three dataset file formats of --output (JSONL, CSV, Parquet): a row encoded (a value that does
not fit fails there, before any byte is written), a file written at commit, an old file read back."""

from __future__ import annotations

import csv
import json
import os
import types
import typing
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

from summarize.documents import Result, row_fields
from summarize.errors import SummarizeError, first_line
from summarize.outputs.files import create_temp
from summarize.storage import BATCH_ROWS, import_pyarrow

ROW_GROUP_ROWS = 256  # Parquet rows written per row group: readers can stream the output too


def _check_old_columns(path: Path, number: int, names: typing.Iterable[str], columns: list[str]) -> None:
    names = list(names)
    if "id" not in names:
        raise SummarizeError(f"{path}: row {number} has no 'id'; it is not an output of summarize, give another --output")
    unknown = [n for n in names if n not in columns]
    if unknown and all(n.startswith("summary_") for n in unknown):
        codes = ",".join(n.removeprefix("summary_") for n in unknown)
        raise SummarizeError(
            f"{path}: was written with --to {codes} too ({', '.join(unknown)}); resume it with those targets in --to, or give another --output"
        )
    if unknown:
        raise SummarizeError(f"{path}: has columns this version does not write ({', '.join(unknown)}); give another --output to keep them")


class _JsonlFormat:
    """One JSON object a line."""

    def __init__(self, path: Path, columns: list[str], row_type: type = Result) -> None:
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

    def __init__(self, path: Path, columns: list[str], row_type: type = Result) -> None:
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
    """A fixed schema from the row type's fields (Result's, or summarize check's Checked), rows
    buffered into row groups of ROW_GROUP_ROWS."""

    def __init__(self, path: Path, columns: list[str], row_type: type = Result) -> None:
        self.pa, self.pq = import_pyarrow(path)
        self.schema = table_schema(self.pa, row_type)

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


FORMATS = {".jsonl": _JsonlFormat, ".csv": _CsvFormat, ".parquet": _ParquetFormat}


class TableFile:
    """A dataset file of one row type, written whole (summarize eval's --save-predictions, through outputs.rows): rows go to a
    temporary file beside `path`, renamed over it at commit(); abandon() leaves what was there."""

    def __init__(self, path: Path, row_type: type, suffix: str | None = None) -> None:
        """suffix: the format's, when path is a symlink's target (the format is the name the user gave)."""
        self.path = path
        self.format = FORMATS[(suffix or path.suffix).lower()](path, [f.name for f in row_fields(row_type)], row_type)
        self.temp = create_temp(path)
        try:
            self.writer = self.format.open(self.temp)
        except BaseException:
            self.temp.unlink(missing_ok=True)
            raise

    def write(self, row: dict) -> None:
        try:
            self.writer.write(self.format.encode(row))
        except OSError as e:  # a full disk
            raise SummarizeError(f"cannot write {self.path} ({e.strerror or e}); it is left as it was") from None

    def commit(self) -> None:
        try:
            self.writer.close()
            os.replace(self.temp, self.path)
        except BaseException as e:
            self.temp.unlink(missing_ok=True)
            if isinstance(e, OSError):
                raise SummarizeError(f"cannot write {self.path} ({e.strerror or e}); it is left as it was") from None
            raise

    def abandon(self) -> None:
        with suppress(Exception):
            self.writer.abandon()
        self.temp.unlink(missing_ok=True)


_ARROW_TYPES = {str: "string", int: "int64", float: "float64", bool: "bool_"}


def result_schema(pa: Any, row_type: type = Result) -> Any:
    """The Parquet schema of an output: id, then every Result field, typed from its annotation.

    Fixed, not inferred from the rows: a column that is all null (error, in a run without failures)
    keeps its type, and a later row group always matches the first. `row_type`: a run's columns
    (documents.result_row: a summary_<code> for each --to target).
    """
    return table_schema(pa, row_type)


def table_schema(pa: Any, row_type: type) -> Any:
    """The Parquet schema of a dataclass's rows, each column typed from its field's annotation."""
    hints = typing.get_type_hints(row_type)
    columns = []
    for field in row_fields(row_type):
        # Every row has its id (the sinks set it): not nullable, as in the outputs of earlier versions.
        kind = _arrow_type(pa, hints[field.name], f"{row_type.__name__}.{field.name}")
        columns.append(pa.field(field.name, kind, nullable=field.name != "id"))
    return pa.schema(columns)


def _arrow_type(pa: Any, hint: Any, name: str) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(kinds) == 1:
            return _arrow_type(pa, kinds[0], name)
    elif typing.get_origin(hint) is list:
        return pa.list_(_arrow_type(pa, typing.get_args(hint)[0], name))
    elif typing.is_typeddict(hint):  # a list of these is a Parquet list<struct<…>>, e.g. Result.unsupported
        return pa.struct([pa.field(key, _arrow_type(pa, kind, f"{name}.{key}")) for key, kind in typing.get_type_hints(hint).items()])
    elif hint in _ARROW_TYPES:
        return getattr(pa, _ARROW_TYPES[hint])()
    raise TypeError(f"{name}: no Parquet type for {hint}; add one to outputs.tables._ARROW_TYPES")

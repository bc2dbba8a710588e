"""Datasets: JSONL, CSV and Parquet files → one Document per record, streamed; and dataset outputs.

Reading never holds more than one line (JSONL), one row (CSV) or one batch of BATCH_ROWS rows
(Parquet) at a time, so a 5 GB corpus costs no more memory than a small one. Ids are not checked for
duplicates while reading (that would grow with the file); DatasetWriter refuses a second row with
an id it already holds, which is where a duplicate would do harm (resume goes by id).

An output is written to a temporary file beside it and renamed over it on close(), so the file at
the output path is always whole: the old one, or the new one. A Ctrl-C (or any exception) between
two writes still ends in close() — the caller's `finally`, or the `with` block — which commits the
rows finished so far; with resume=True they come after the old rows it kept, so nothing is lost and
the next run resumes from there. Only a failure inside a write (disk full, or a KeyboardInterrupt that
lands in one — batch.py's first Ctrl-C only sets a flag, so it does not) leaves the temporary file in
an unknown state: then close() deletes it and the old file stays exactly as it was. A hard kill
(SIGKILL, power loss) leaves the old file intact and an orphan `.NAME.*.part` file beside it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import dataclasses
import types
import typing
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from summarize.documents import Document, Result
from summarize.errors import SummarizeError, first_line
from summarize.outputs import create_temp
from summarize.storage import arrow_location, open_input, suffix

DATASET_SUFFIXES = (".jsonl", ".csv", ".parquet")
BATCH_ROWS = 256  # Parquet rows read at once: a few MB of articles, whatever the row groups' size
ROW_GROUP_ROWS = 256  # Parquet rows written per row group: readers can stream the output too
INSTALL_PYARROW = "pip install 'summarize[corpus]'"


def is_dataset(path: Path | str) -> bool:
    return suffix(path) in DATASET_SUFFIXES


@dataclass(frozen=True)
class Fields:
    """Which field of a record holds what (--text-field, --id-field, --title-field)."""

    text: str = "text"
    id: str = "id"  # absent from a record: its record number (the line number in JSONL) is its id
    title: str | None = None  # None: "title" when the record has it, else no title


@dataclass(frozen=True)
class BadRecord:
    """A record that cannot be summarised; the others go on."""

    source: str
    id: str
    error: str


def read_dataset(path: Path | str, fields: Fields, max_chars: int) -> Iterator[Document | BadRecord]:
    """Every record of a .jsonl, .csv or .parquet file in order, streamed; a Document's source is "PATH#ID".

    Raises SummarizeError (naming the file and the fix) for a problem with the whole file, possibly
    after some records were yielded (a JSONL that stops being UTF-8 half-way).
    """
    readers = {".jsonl": _jsonl_records, ".csv": _csv_records, ".parquet": _parquet_records}
    kind = suffix(path)
    if kind not in readers:
        raise SummarizeError(f"{path}: not a dataset; datasets end in {', '.join(DATASET_SUFFIXES)}")
    # A record whose id cannot be known is named by where it is, in words that no id looks like.
    place = "line" if kind == ".jsonl" else "record"
    try:
        for number, record in readers[kind](path, fields, max_chars):
            yield _to_document(path, f"{place} {number}", number, record, fields, max_chars)
    except FileNotFoundError:
        raise SummarizeError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise SummarizeError(f"{path}: is a folder, not a dataset file") from None
    except PermissionError:
        raise SummarizeError(f"{path}: cannot read it (permission denied); check its permissions") from None


def _jsonl_records(path: Path | str, fields: Fields, max_chars: int) -> Iterator[tuple[int, dict | BadRecord]]:
    # A text of max_chars is at most 6 bytes a character (\uXXXX escapes); other fields get a MiB.
    limit = 6 * max_chars + 2**20
    with open_input(path) as f:
        for number, line in _lines(f, limit):
            if line is None:
                yield number, _bad(path, f"line {number}", f"longer than {_digits(limit)} bytes, over --max-input-chars (is the file one JSON document rather than JSON Lines?)")
                continue
            try:
                text = line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise SummarizeError(
                    f"{path}: line {number} is not UTF-8; JSONL must be UTF-8 (convert it, e.g. iconv -f cp1251 -t utf-8)"
                ) from None
            if not text.strip():
                continue  # blank lines (a trailing newline too) are no records
            try:
                record = json.loads(text.rstrip("\r\n"))
            except ValueError as e:
                reason = f"{e.msg}: column {e.colno}" if isinstance(e, json.JSONDecodeError) else str(e)
                yield number, _bad(path, f"line {number}", f"not valid JSON ({reason})")
                continue
            if not isinstance(record, dict):
                yield number, _bad(path, f"line {number}", f"{_a(record)}, not a JSON object")
                continue
            yield number, record


def _lines(f: BinaryIO, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """Numbered lines; one over limit bytes is None, skipped without ever being held whole."""
    number = 0
    while line := f.readline(limit + 1):
        number += 1
        if len(line) <= limit:
            yield number, line
            continue
        while line and not line.endswith(b"\n"):
            line = f.readline(2**16)
        yield number, None


def _csv_records(path: Path | str, fields: Fields, max_chars: int) -> Iterator[tuple[int, dict]]:
    # The field limit stops an unclosed quote from reading the rest of a huge file into one field;
    # it must still let through a text just over max_chars, so that it is reported as too long.
    limit = min(max(max_chars + 1, 131_072), 2**31 - 1)
    csv.field_size_limit(max(limit, csv.field_size_limit()))
    with io.TextIOWrapper(open_input(path), encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f, strict=True)  # a stray quote is an error, not records run together
        number = 0
        try:
            columns = reader.fieldnames
            if not columns:
                raise SummarizeError(f"{path}: is empty; a CSV dataset needs a header row naming its columns")
            _check_columns(path, columns, fields)
            for number, row in enumerate(reader, 1):
                yield number, row
        except UnicodeDecodeError:
            raise SummarizeError(f"{path}: is not UTF-8 (after record {number}); save it as UTF-8 and try again") from None
        except csv.Error as e:
            raise SummarizeError(
                f"{path}: cannot read record {number + 1} as CSV ({e}); an unclosed quote? "
                "(a field longer than --max-input-chars is refused too)"
            ) from None


def _parquet_records(path: Path | str, fields: Fields, max_chars: int) -> Iterator[tuple[int, dict]]:
    pa, pq = _import_pyarrow(path)
    filesystem, where = arrow_location(path)
    try:
        parquet = pq.ParquetFile(where, filesystem=filesystem)
    except (pa.ArrowException, OSError) as e:
        if isinstance(e, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise SummarizeError(
            f"{path}: is not a Parquet file or is damaged ({first_line(e)}); check the path, or get an undamaged copy"
        ) from None
    with parquet:
        schema = parquet.schema_arrow
        _check_columns(path, schema.names, fields)
        text_type = schema.field(fields.text).type
        if not (pa.types.is_string(text_type) or pa.types.is_large_string(text_type)):
            raise SummarizeError(
                f"{path}: column {fields.text!r} holds {text_type}, not text; use --text-field to pick the article's column"
            )
        wanted = {fields.text, fields.id, fields.title or "title", "url", "date"}
        columns = [name for name in schema.names if name in wanted]  # only these are read from disk
        number = 0
        try:
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns):
                for row in batch.to_pylist():
                    number += 1
                    yield number, row
        except (pa.ArrowException, OSError) as e:
            raise SummarizeError(
                f"{path}: is damaged after record {number} ({first_line(e)}); get an undamaged copy"
            ) from None


def _check_columns(path: Path | str, columns: list[str], fields: Fields) -> None:
    for name, option in ((fields.text, "--text-field"), (fields.title, "--title-field")):
        if name is not None and name not in columns:
            raise SummarizeError(
                f"{path}: no column {name!r}; columns are: {', '.join(columns)}; use {option} to pick one"
            )


def _to_document(
    path: Path | str, place: str, number: int, record: dict | BadRecord, fields: Fields, max_chars: int
) -> Document | BadRecord:
    """One record → its Document, or the reason it cannot be summarised (with its id, or its place)."""
    if isinstance(record, BadRecord):
        return record
    rid = record.get(fields.id) if fields.id in record else number
    if isinstance(rid, bool) or not isinstance(rid, (str, int)) or rid == "":
        shown = "empty" if rid in (None, "") else f"{_a(rid)}, not a string or whole number"
        return _bad(path, place, f"field {fields.id!r} is {shown}; use --id-field to pick a column of unique ids")
    rid = str(rid)
    text = record.get(fields.text)
    if not isinstance(text, str):
        shown = "missing" if fields.text not in record else "null" if text is None else f"{_a(text)}, not text"
        return _bad(path, rid, f"field {fields.text!r} is {shown}; use --text-field to pick the article's field")
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return _bad(path, rid, f"field {fields.text!r} is empty; nothing to summarise")
    if len(text) > max_chars:
        return _bad(
            path, rid,
            f"text is {_digits(len(text))} characters long, over the limit of {_digits(max_chars)}; "
            "split it into articles, or raise --max-input-chars",
        )
    warnings: list[str] = []
    title = _optional_text(record, fields.title or "title", warnings)
    url, when = _optional_text(record, "url", warnings), _optional_text(record, "date", warnings)
    return Document(f"{path}#{rid}", text, tuple(warnings), title=title, url=url, date=when, id=rid)


def _optional_text(record: dict, name: str, warnings: list[str]) -> str | None:
    """A title, url or date when the record has one as text (a Parquet date as ISO 8601)."""
    value = record.get(name)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if value is not None and not isinstance(value, str):
        warnings.append(f"field {name!r} is {_a(value)}, not text; it is left out")
        return None
    return (value or "").strip() or None


def _a(value: Any) -> str:
    """What a value is, in the words of JSON (what most datasets are written in)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    kinds = {list: "a list", dict: "an object", str: "a string"}
    return next((word for kind, word in kinds.items() if isinstance(value, kind)), f"a {type(value).__name__}")


def _digits(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _bad(path: Path | str, rid: str, error: str) -> BadRecord:
    return BadRecord(f"{path}#{rid}", rid, error)


def _import_pyarrow(path: Path | str) -> tuple[Any, Any]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise SummarizeError(f"{path}: Parquet needs pyarrow; install it with {INSTALL_PYARROW}") from None
    return pyarrow, pyarrow.parquet


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
            raise SummarizeError(
                f"{self.path}: already holds a row with id {id!r}; ids must be unique (pick a column of unique ids with --id-field)"
            )
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
        if kind is not None and issubclass(kind, SummarizeError) and not self._closed:
            self._closed = True
            self._discard()
        else:
            self.close()

    def _copy_old(self, with_error: bool) -> None:
        """Stream the old file's rows in: first those without an error, at close those with one not redone."""
        for number, row in self._sink_type.rows(self.path, self.columns):
            rid, failed = str(row["id"]), bool(row.get("error"))
            if failed != with_error or (failed and rid in self._written) or rid in self._redo:
                continue
            try:  # every column, in this version's order: an older file may lack the newer ones
                encoded = self._sink.encode({name: row.get(name) for name in self.columns})
            except (TypeError, ValueError, OverflowError) as e:
                raise SummarizeError(
                    f"{self.path}: row {number} does not fit the columns this version writes ({e}); write to a new file"
                ) from None
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
        raise SummarizeError(
            f"{path}: has columns this version does not write ({', '.join(unknown)}); give another --output to keep them"
        )


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
        self.pa, pq = _import_pyarrow(path)
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
        pa, pq = _import_pyarrow(path)
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
    raise TypeError(f"Result.{name}: no Parquet type for {hint}; add one to corpus._ARROW_TYPES")

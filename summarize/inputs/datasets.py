"""Datasets: JSONL, CSV and Parquet files → one Document per record, streamed.

Reading never holds more than one line (JSONL), one row (CSV) or one batch of BATCH_ROWS rows
(Parquet) at a time, so a 5 GB corpus costs no more memory than a small one. A repeated id is the
caller's to catch (inputs.reading.SeenIds), across all the datasets of a run.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from summarize.documents import Document
from summarize.errors import SummarizeError, first_line
from summarize.storage import BATCH_ROWS, DATASET_SUFFIXES, URL_SCHEMES, arrow_location, import_pyarrow, open_input, redact, storage_errors, suffix


@dataclass(frozen=True)
class Fields:
    """Which field of a record holds what (--text-field, --id-field, --title-field)."""

    text: str = "text"
    id: str = "id"  # absent from a record: its record number (the line number in JSONL) is its id
    title: str | None = None  # None: "title" when the record has it, else no title
    # What `text` holds and the option naming it, for messages (summarize check reads summaries as the text too).
    role: str = "article"
    flag: str = "--text-field"
    # An empty text is a Document too, not a BadRecord (summarize eval's predictions: a model that said nothing scores 0).
    empty_ok: bool = False


@dataclass(frozen=True)
class BadRecord:
    """A record that cannot be summarised; the others go on."""

    source: str
    id: str
    error: str
    absent: str | None = None  # the field the record does not have at all (not null, not empty): a JSONL's first record tells a misspelt field


def read_dataset(path: Path | str, fields: Fields, max_chars: int) -> Iterator[tuple[str, Document | BadRecord]]:
    """Every record of a .jsonl, .csv or .parquet file in order, streamed, with its id; a Document's
    source is "PATH#ID".

    Raises SummarizeError (naming the file and the fix) for a problem with the whole file, possibly
    after some records were yielded (a JSONL that stops being UTF-8 half-way). A URI is shown redacted
    (storage.redact: no password or token in sources and messages).
    """
    for rid, (found,) in read_dataset_fields(path, (fields,), max_chars):
        yield rid, found


def read_dataset_fields(path: Path | str, each: Sequence[Fields], max_chars: int) -> Iterator[tuple[str, tuple[Document | BadRecord, ...]]]:
    """As read_dataset, with each record read as one Document per Fields (`summarize check`: the
    article, its summary, a translation), the file read once; the id is the first Fields'."""
    secret = redact(str(path)) != str(path)
    try:
        for rid, found in _records(path, each, max_chars):
            yield rid, tuple(replace(one, source=redact(one.source)) for one in found) if secret else found
    except SummarizeError as e:
        raise SummarizeError(redact(str(e))) if secret else e from None


def _records(path: Path | str, each: Sequence[Fields], max_chars: int) -> Iterator[tuple[str, tuple[Document | BadRecord, ...]]]:
    readers = {".jsonl": _jsonl_records, ".csv": _csv_records, ".parquet": _parquet_records}
    if str(path) == "-" or str(path).lower().startswith(URL_SCHEMES):  # summarize reads these as text and pages before here
        where = "stdin" if str(path) == "-" else "a web address"
        raise SummarizeError(f"{path}: a dataset is read from a file or a storage URI (s3://, gs://…), not from {where}; save it to a file first")
    kind = suffix(path)
    if kind not in readers:
        raise SummarizeError(f"{path}: not a dataset; datasets end in {', '.join(DATASET_SUFFIXES)}")
    # A record whose id cannot be known is named by where it is, in words that no id looks like.
    place = "line" if kind == ".jsonl" else "record"
    try:
        for number, record in readers[kind](path, each, max_chars):
            found = [_to_document(path, f"{place} {number}", number, record, fields, max_chars) for fields in each]
            rid = found[0].id if isinstance(found[0], BadRecord) else found[0][0]
            yield rid, tuple(one if isinstance(one, BadRecord) else one[1] for one in found)
    except FileNotFoundError:
        raise SummarizeError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise SummarizeError(f"{path}: is a folder, not a dataset file") from None
    except PermissionError:
        raise SummarizeError(f"{path}: cannot read it (permission denied); check its permissions") from None
    except storage_errors() as e:  # a storage stream that fails half-way
        raise SummarizeError(f"{path}: cannot read it ({first_line(e)}); check the path or URI and your credentials") from None


def _jsonl_records(path: Path | str, each: Sequence[Fields], max_chars: int) -> Iterator[tuple[int, dict | BadRecord]]:
    # A text of max_chars is at most 6 bytes a character (\uXXXX escapes); other fields get a MiB.
    limit = 6 * max_chars + 2**20
    with open_input(path) as f:
        for number, line in _lines(f, limit):
            if line is None:
                yield (
                    number,
                    _bad(
                        path,
                        f"line {number}",
                        f"longer than {_digits(limit)} bytes, over --max-input-chars (is the file one JSON document rather than JSON Lines?)",
                    ),
                )
                continue
            try:
                text = line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise SummarizeError(f"{path}: line {number} is not UTF-8; JSONL must be UTF-8 (convert it, e.g. iconv -f cp1251 -t utf-8)") from None
            if not text.strip():
                continue  # blank lines (a trailing newline too) are no records
            try:
                record = json.loads(text.rstrip("\r\n"))
            except ValueError as e:
                reason = f"{e.msg}: column {e.colno}" if isinstance(e, json.JSONDecodeError) else str(e)
                yield number, _bad(path, f"line {number}", f"not valid JSON ({reason})")
                continue
            if not isinstance(record, dict):
                yield number, _bad(path, f"line {number}", f"{_kind_of(record)}, not a JSON object")
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


def _csv_records(path: Path | str, each: Sequence[Fields], max_chars: int) -> Iterator[tuple[int, dict]]:
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
            for fields in each:
                _check_columns(path, columns, fields)
            for number, row in enumerate(reader, 1):
                yield number, row
        except UnicodeDecodeError:
            raise SummarizeError(f"{path}: is not UTF-8 (after record {number}); save it as UTF-8 and try again") from None
        except csv.Error as e:
            raise SummarizeError(
                f"{path}: cannot read record {number + 1} as CSV ({e}); an unclosed quote? (a field longer than --max-input-chars is refused too)"
            ) from None


def _parquet_records(path: Path | str, each: Sequence[Fields], max_chars: int) -> Iterator[tuple[int, dict]]:
    pa, pq = import_pyarrow(path)
    filesystem, where = arrow_location(path)
    try:
        parquet = pq.ParquetFile(where, filesystem=filesystem)
    except (pa.ArrowException, OSError) as e:
        if isinstance(e, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise SummarizeError(f"{path}: is not a Parquet file or is damaged ({first_line(e)}); check the path, or get an undamaged copy") from None
    with parquet:
        schema = parquet.schema_arrow
        for fields in each:
            _check_columns(path, schema.names, fields)
            text_type = schema.field(fields.text).type
            if not _is_text(pa, text_type):
                raise SummarizeError(
                    f"{path}: column {fields.text!r} holds {_arrow_kind(pa, text_type)}, not text; use {fields.flag} to pick the {fields.role}'s column"
                )
        wanted = {"url", "date"} | {name for fields in each for name in (fields.text, fields.id, fields.title or "title")}
        columns = [name for name in schema.names if name in wanted]  # only these are read from disk
        number = 0
        try:
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns):
                for row in batch.to_pylist():
                    number += 1
                    yield number, row
        except (pa.ArrowException, OSError) as e:
            raise SummarizeError(f"{path}: is damaged after record {number} ({first_line(e)}); get an undamaged copy") from None


def _is_text(pa: Any, kind: Any) -> bool:
    """Strings, also dictionary-encoded ones (a pandas 'category' column): each row is read as its text."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or getattr(pa.types, "is_string_view", lambda _: False)(kind)


def _arrow_kind(pa: Any, kind: Any) -> str:
    """An Arrow column type in the words of JSON that the other messages use ("numbers", "dates"…)."""
    if pa.types.is_dictionary(kind):
        return _arrow_kind(pa, kind.value_type)
    checks = [
        ("booleans", pa.types.is_boolean),
        ("numbers", lambda t: pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)),
        ("dates", lambda t: pa.types.is_date(t) or pa.types.is_timestamp(t)),
        ("times", lambda t: pa.types.is_time(t) or pa.types.is_duration(t)),
        ("bytes (binary data)", lambda t: pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t)),
        ("lists", lambda t: pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)),
        ("objects", lambda t: pa.types.is_struct(t) or pa.types.is_map(t)),
        ("only nulls", pa.types.is_null),
    ]
    return next((words for words, check in checks if check(kind)), "values that are not text")


def _check_columns(path: Path | str, columns: list[str], fields: Fields) -> None:
    for name, option in ((fields.text, fields.flag), (fields.title, "--title-field")):
        if name is not None and name not in columns:
            hint = _delimiter_hint(columns) if suffix(path) == ".csv" else ""
            raise SummarizeError(f"{path}: no column {name!r}; columns are: {', '.join(columns)}; use {option} to pick one{hint}")


def _delimiter_hint(columns: list[str]) -> str:
    """A CSV read with commas whose header is one column holding ';' or tabs: say how it is separated."""
    if len(columns) != 1:
        return ""
    try:
        delimiter = csv.Sniffer().sniff(columns[0], delimiters=";\t|").delimiter
    except csv.Error:
        return ""
    shown = {"\t": "tabs", ";": "semicolons", "|": "'|'"}[delimiter]
    return f" (the header is separated by {shown}: a CSV dataset must be comma-separated; save it with commas)"


def _to_document(path: Path | str, place: str, number: int, record: dict | BadRecord, fields: Fields, max_chars: int) -> tuple[str, Document] | BadRecord:
    """One record → its id and Document, or the reason it cannot be summarised (with its id, or its place)."""
    if isinstance(record, BadRecord):
        return record
    rid = record.get(fields.id) if fields.id in record else number
    if isinstance(rid, bool) or not isinstance(rid, (str, int)) or rid == "":
        shown = "empty" if rid in (None, "") else f"{_kind_of(rid)}, not a string or whole number"
        return _bad(path, place, f"field {fields.id!r} is {shown}; use --id-field to pick a column of unique ids")
    rid = str(rid)
    text = record.get(fields.text)
    if not isinstance(text, str):
        shown = "missing" if fields.text not in record else "null" if text is None else f"{_kind_of(text)}, not text"
        bad = _bad(path, rid, f"field {fields.text!r} is {shown}; use {fields.flag} to pick the {fields.role}'s field")
        return replace(bad, absent=fields.text) if fields.text not in record else bad
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip() and not fields.empty_ok:
        return _bad(path, rid, f"field {fields.text!r} is empty; " + ("nothing to summarise" if fields.role == "article" else f"no {fields.role} in it"))
    if len(text) > max_chars:
        return _bad(
            path,
            rid,
            f"text is {_digits(len(text))} characters long, over the limit of {_digits(max_chars)}; split it into articles, or raise --max-input-chars",
        )
    warnings: list[str] = []
    title = _optional_text(record, fields.title or "title", warnings)
    url, when = _optional_text(record, "url", warnings), _optional_text(record, "date", warnings)
    return rid, Document(f"{path}#{rid}", text, tuple(warnings), title=title, url=url, date=when)


def _optional_text(record: dict, name: str, warnings: list[str]) -> str | None:
    """A title, url or date when the record has one as text (a Parquet date as ISO 8601)."""
    value = record.get(name)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if value is not None and not isinstance(value, str):
        warnings.append(f"field {name!r} is {_kind_of(value)}, not text; it is left out")
        return None
    return (value or "").strip() or None


def _kind_of(value: Any) -> str:
    """What a value is, in the words of JSON (what most datasets are written in)."""
    from datetime import time, timedelta
    from decimal import Decimal

    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    kinds = {(int, float, Decimal): "a number", list: "a list", dict: "an object", str: "a string", (bytes, bytearray): "bytes (binary data)"}
    kinds[(time, timedelta)] = "a time"
    return next((word for kind, word in kinds.items() if isinstance(value, kind)), "a value that is not text")


def _digits(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _bad(path: Path | str, rid: str, error: str) -> BadRecord:
    return BadRecord(f"{path}#{rid}", rid, error)

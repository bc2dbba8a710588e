"""The files `summarize eval` scores: JSON lines of articles and references, and predictions to score
instead of a model's."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from summarize.config import Task
from summarize.errors import SummarizeError


@dataclass(frozen=True)
class Record:
    """One example: the source text and its reference (summary or English translation).

    `line` is where it sits in its file, so that errors about it can point there.
    """

    id: str
    text: str
    reference: str
    line: int = 0


_FIELDS: dict[Task, tuple[str, str]] = {Task.summarize: ("text", "summary"), Task.translate: ("ru", "en")}


def read_records(path: str | Path, task: Task) -> list[Record]:
    """Records of a JSONL data file: {"id","text","summary"} to summarize, {"id","ru","en"} to
    translate. Blank lines are skipped; every problem is a SummarizeError naming file and line."""
    source, target = _FIELDS[Task(task)]
    fields = ("id", source, target)
    records: list[Record] = []
    first_line: dict[str, int] = {}
    for line, row in _read_jsonl(path, fields):
        record_id = _unique_id(path, line, row["id"], first_line)
        records.append(Record(record_id, row[source], row[target], line))
    if not records:
        raise SummarizeError(f"{path}: no records; write one JSON object per line with {_shape(fields)}")
    return records


def read_predictions(path: str | Path, records: Sequence[Record], field: str = "summary", known: set[str] | None = None) -> list[str]:
    """Predictions from a JSONL file of {"id", field} objects, in the order of `records`.

    Every record needs exactly one prediction and every prediction a record of the data file
    (`known`: all its ids, when `records` is only the first of them), matched by id; for
    translations pass field="en".
    """
    fields = ("id", field)
    known = known or {record.id for record in records}
    found: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for line, row in _read_jsonl(path, fields):
        prediction_id = _unique_id(path, line, row["id"], first_line)
        if prediction_id not in known:
            raise SummarizeError(f"{path}, line {line}: id {prediction_id!r} is not in the data file; score predictions against the data they were made from")
        found[prediction_id] = row[field]
    records = list(records)
    missing = [record for record in records if record.id not in found]
    if missing:
        first = missing[0]
        raise SummarizeError(
            f"{path}: no prediction for {len(missing)} of {len(records)} records, the first "
            f"id {first.id!r} (line {first.line} of the data file); predict every record"
        )
    return [found[record.id] for record in records]


def _read_jsonl(path: str | Path, fields: Sequence[str]):
    """(line number, object) for each non-blank line, each object checked to hold `fields`:
    "id" a string or integer, the others strings."""
    shape = _shape(fields)
    try:
        with open(path, encoding="utf-8-sig") as handle:
            lines = list(handle)
    except FileNotFoundError:
        raise SummarizeError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise SummarizeError(f"{path}: is a directory; give the path of a JSONL file") from None
    except UnicodeDecodeError as error:
        raise SummarizeError(f"{path}: not UTF-8 text ({error.reason}); save it as UTF-8") from None
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as error:
            raise SummarizeError(
                f"{path}, line {number}: invalid JSON ({error.msg}, column {error.colno}); write one JSON object per line, like {shape}"
            ) from None
        if not isinstance(row, dict):
            raise SummarizeError(f"{path}, line {number}: expected a JSON object like {shape}")
        for field in fields:
            if field not in row:
                raise SummarizeError(f"{path}, line {number}: missing field {field!r}; every line needs {shape}")
            value = row[field]
            valid = isinstance(value, str) or (field == "id" and type(value) is int)
            if not valid:
                kind = "a string or integer" if field == "id" else "a string"
                raise SummarizeError(f"{path}, line {number}: field {field!r} must be {kind}")
        yield number, row


def _unique_id(path: str | Path, line: int, value: str | int, first_line: dict[str, int]) -> str:
    """The id as a string, recorded in `first_line`; a repeat is an error naming both lines."""
    record_id = str(value)
    if record_id in first_line:
        raise SummarizeError(f"{path}, line {line}: duplicate id {record_id!r} (first on line {first_line[record_id]}); give every line its own id")
    first_line[record_id] = line
    return record_id


def _shape(fields: Sequence[str]) -> str:
    return "{" + ", ".join(f'"{field}": ...' for field in fields) + "}"


def strip_html(text: str) -> str:
    """Text content of HTML-marked data (RIA's `<p>…&nbsp;…`), paragraphs kept as lines."""
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag in ("p", "br", "div", "li", "h1", "h2", "h3", "tr"):
                self.parts.append("\n")

        def handle_data(self, data):
            self.parts.append(data)

    parser = _Text()
    parser.feed(text)
    parser.close()
    lines = ("".join(parser.parts).replace("\xa0", " ")).splitlines()
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())

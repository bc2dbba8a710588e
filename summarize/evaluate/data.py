"""The data `summarize eval` scores: articles and their references (or Russian and English), and
predictions to score instead of a model's, read as every dataset is (inputs.datasets: JSONL, CSV,
Parquet, storage URIs). Scores need complete data, so one bad record is an error naming it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, make_dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from summarize.config import Task
from summarize.errors import SummarizeError
from summarize.inputs.datasets import BadRecord, Fields, read_dataset_fields
from summarize.storage import redact

if TYPE_CHECKING:
    from summarize.flags import EvalJob

# The fields of a task's data when --text-field and --summary-field are not given; the second is
# also the predictions' field (--prediction-field) and the one --save-predictions writes.
TASK_FIELDS: dict[Task, tuple[str, str]] = {Task.summarize: ("text", "summary"), Task.translate: ("ru", "en")}
_ROLES: dict[Task, tuple[str, str]] = {Task.summarize: ("article", "reference summary"), Task.translate: ("source", "reference translation")}


@dataclass(frozen=True)
class Record:
    """One example: the source text and its reference (summary or English translation)."""

    id: str
    text: str
    reference: str


@dataclass(frozen=True)
class SummaryPrediction:
    """A row of --save-predictions for summaries."""

    id: str
    summary: str


@dataclass(frozen=True)
class TranslationPrediction:
    """A row of --save-predictions for translations."""

    id: str
    en: str


PREDICTION_ROWS: dict[Task, type] = {Task.summarize: SummaryPrediction, Task.translate: TranslationPrediction}


def prediction_row(task: Task, target: str = "en") -> type:
    """A --save-predictions row: {id, summary}, or {id, <the --to code>} for translations ({id, en} into English)."""
    if task is Task.summarize or target == "en":
        return PREDICTION_ROWS[task]
    return make_dataclass("TranslationPrediction", [("id", str), (target, str)], frozen=True)


@dataclass(frozen=True)
class EvalFields:
    """Which fields hold what, the task's defaults filled in: the data's source and reference, and the predictions'."""

    text: Fields
    reference: Fields
    prediction: Fields

    @classmethod
    def of(cls, job: EvalJob, target: str = "en") -> EvalFields:
        """`target`: the --to language of a translation, whose code names the reference field by default."""
        task = Task(job.task)
        text, reference = TASK_FIELDS[task]
        reference = target if task is Task.translate else reference
        text_role, reference_role = _ROLES[task]
        return cls(
            Fields(job.text_field or text, job.id_field, role=text_role),
            Fields(job.summary_field or reference, job.id_field, role=reference_role, flag="--summary-field"),
            # Predictions are keyed "id", as --save-predictions writes them, whatever the data's --id-field.
            Fields(job.prediction_field or reference, "id", role="prediction", flag="--prediction-field", empty_ok=True),
        )


def read_records(location: str | Path, fields: EvalFields, max_chars: int, limit: int | None = None) -> tuple[list[Record], set[str]]:
    """The first `limit` records (all without it) and the ids of all: the whole file is read and
    checked (a bad record or a repeated id anywhere is a SummarizeError naming it), but only the
    records scored are kept."""
    records: list[Record] = []
    ids: set[str] = set()
    for rid, text, reference in _read(location, (fields.text, fields.reference), max_chars, "give every record its own id, or use --id-field"):
        ids.add(rid)
        if limit is None or len(records) < limit:
            records.append(Record(rid, text.text, reference.text))
    if not ids:
        shape = ", ".join(repr(f) for f in (fields.text.id, fields.text.text, fields.reference.text))
        raise SummarizeError(f"{redact(str(location))}: has no records; give a dataset whose records have the fields {shape}")
    return records, ids


def read_predictions(location: str | Path, records: Sequence[Record], fields: EvalFields, max_chars: int, known: set[str] | None = None) -> list[str]:
    """Predictions in the order of `records`, matched by id. Every record needs exactly one and
    every prediction a record of the data file (`known`: all its ids, when `records` are only the
    first of them)."""
    known = known if known is not None else {record.id for record in records}
    found: dict[str, str] = {}
    for rid, prediction in _read(location, (fields.prediction,), max_chars, "give every prediction its own id"):
        if rid not in known:
            raise SummarizeError(f"{prediction.source}: id {rid!r} is not in the data file; score predictions against the data they were made from")
        found[rid] = prediction.text
    missing = [record for record in records if record.id not in found]
    if missing:
        raise SummarizeError(
            f"{redact(str(location))}: no prediction for {len(missing)} of {len(records)} records, the first id {missing[0].id!r}; predict every record"
        )
    return [found[record.id] for record in records]


def _read(location: str | Path, each: Sequence[Fields], max_chars: int, fix: str) -> Iterator[tuple]:
    """(id, Document per Fields) of every record; a bad record or a repeated id is a SummarizeError naming it."""
    first: dict[str, int] = {}
    for number, (rid, found) in enumerate(read_dataset_fields(location, each, max_chars), start=1):
        bad = next((one for one in found if isinstance(one, BadRecord)), None)
        if bad is not None:
            raise SummarizeError(f"{bad.source}: {bad.error} (eval scores whole data: fix the record or remove it)")
        if rid in first:
            raise SummarizeError(f"{found[0].source}: duplicate id {rid!r} (records {first[rid]} and {number}); {fix}")
        first[rid] = number
        yield rid, *found

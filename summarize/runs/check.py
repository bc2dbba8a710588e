"""`summarize check DATA`: summaries made by anything (another model, a person, an earlier run),
checked record by record against their articles for the names, numbers and dates the articles lack
(summarize.checks); the verdicts to stdout, optionally to a dataset, and the exit code."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from summarize.documents import Checked, Document
from summarize.errors import EXIT_FAILED, EXIT_OK, SummarizeError, first_line
from summarize.flags import CheckJob
from summarize.inputs.datasets import BadRecord, Fields, read_dataset_fields
from summarize.outputs.render import SHOWS_ERRORS, Format, format_checked, json_document
from summarize.storage import DATASET_SUFFIXES, is_uri


@dataclass
class CheckTally:
    checked: int = 0
    flagged: int = 0
    failed: int = 0

    def line(self) -> str:
        return f"{self.checked} records: {self.flagged} with spans their articles lack, {self.failed} failed"

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if self.flagged or self.failed else EXIT_OK


def run_check(job: CheckJob, notify: Callable[[str], None], debug: bool = False) -> CheckTally:
    """Check every record of job.data in order; a record that cannot be checked is its own error,
    never the run's. --output is written whole at the end, or not at all."""
    from rich.console import Console

    from summarize.checks.checker import Checker

    output = _open_output(job)
    terminal = Console(file=sys.stdout)
    fmt = job.fmt or (Format.rich if sys.stdout.isatty() else Format.plain)
    tally, gathered = CheckTally(), []
    try:
        checker = Checker()  # natasha loads on the first check
        for checked, summary_ru, summary_en in _checked(job, checker, debug):
            tally.checked += 1
            tally.flagged += bool(checked.unsupported)
            if checked.error:
                tally.failed += 1
                notify(f"error: {checked.error}")
            if output is not None:
                output.write(checked.to_dict())
            if fmt is Format.json:
                gathered.append(checked.to_dict())
            elif checked.error is None or fmt in SHOWS_ERRORS:
                _put(format_checked(fmt, checked, summary_ru, summary_en, terminal.width, terminal.color_system))
        if not tally.checked:
            raise SummarizeError(f"{job.data}: has no records; nothing to check")
        if fmt is Format.json:
            _put(json_document(gathered))
        if output is not None:
            output.commit()
    except BaseException:
        if output is not None:
            output.abandon()
        raise
    return tally


def _open_output(job: CheckJob):
    """--output checked before any work: a dataset name, not an input, not there unless --overwrite."""
    from summarize.outputs.files import check_output_file
    from summarize.outputs.tables import FORMATS, TableFile

    if job.output is None:
        if job.overwrite:
            raise SummarizeError("--overwrite is for --output FILE; without --output nothing is written to a file")
        return None
    if job.output.suffix.lower() not in FORMATS:
        raise SummarizeError(f"--output {job.output}: a dataset must end in {', '.join(DATASET_SUFFIXES)}")
    check_output_file(job.output, "--output", [] if is_uri(job.data) else [Path(job.data)])
    if job.output.exists() and not job.overwrite:
        raise SummarizeError(f"--output {job.output}: already exists; add --overwrite to replace it, or give another file")
    try:
        return TableFile(job.output, Checked)
    except OSError as e:
        raise SummarizeError(f"--output {job.output}: cannot write there ({e.strerror or e}); check the folder's permissions and free space") from None


def _cannot_load(error: Exception) -> SummarizeError:
    return SummarizeError(f"the check cannot load natasha ({type(error).__name__}: {first_line(error, 200)}); install natasha and pymorphy3")


def _checked(job: CheckJob, checker, debug: bool) -> Iterator[tuple[Checked, str | None, str | None]]:
    """Each record's verdict with the summary and translation it is about (for the rich panels)."""
    from summarize.checks.checker import LOAD_ERRORS

    for rid, article, summary, translation in _records(job):
        bad = next((found for found in (article, summary, translation) if isinstance(found, BadRecord)), None)
        if bad is not None:
            yield Checked(rid, error=f"{bad.source}: {bad.error}"), None, None
            continue
        english = translation.text if isinstance(translation, Document) else None
        try:
            flags = checker.check(article.text, summary.text, english)
        except LOAD_ERRORS as e:
            raise _cannot_load(e) from None
        except Exception as e:  # noqa: BLE001 - one record the check fails on is that record's error
            if debug:
                raise
            yield Checked(rid, error=f"{article.source}: the check failed on it ({type(e).__name__}: {first_line(e, 200)})"), None, None
            continue
        yield Checked(rid, [flag.to_dict() for flag in flags]), summary.text, english


def _records(job: CheckJob) -> Iterator[tuple[str, Document | BadRecord, Document | BadRecord, Document | BadRecord | None]]:
    """(id, article, summary, translation) of each record: the dataset read once, each field as a
    Document of its own, so each field's problems are found and named as a run's --text-field's are."""
    each = [Fields(job.text_field, job.id_field), Fields(job.summary_field, job.id_field, role="summary", flag="--summary-field")]
    if job.translation_field:
        each.append(Fields(job.translation_field, job.id_field, role="translation", flag="--translation-field"))
    for rid, found in read_dataset_fields(job.data, each, job.max_input_chars):
        yield rid, found[0], found[1], found[2] if len(found) > 2 else None


def _put(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()

"""`summarize check DATA`: summaries made by anything (another model, a person, an earlier run),
checked record by record against their articles for the names, numbers and dates the articles lack
(summarize.checks); the verdicts through the sinks `summarize` uses (stdout, and an --output dataset
with its journal, resume by id and refusals, every destination checked before natasha loads), and
the exit code.

The run stays in the main thread, as each record takes a tenth of a second: SIGINT or SIGTERM
gives up the record in progress (runs.signals.StopOutsideWrites), not a write unless a second
signal comes, and what is finished is committed, to be resumed with --skip-existing."""

from __future__ import annotations

import itertools
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePath

from summarize.config import Format
from summarize.documents import Checked, CheckedSummaries, Document, Input
from summarize.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, SummarizeError, first_line
from summarize.flags import CheckJob
from summarize.inputs.datasets import BadRecord, Fields, read_dataset_fields
from summarize.outputs.printable import one_line
from summarize.outputs.sink import Destinations, Sinks, open_sink
from summarize.runs.signals import StopOutsideWrites, Stopped
from summarize.storage import is_uri


@dataclass
class CheckTally:
    checked: int = 0
    flagged: int = 0
    failed: int = 0
    skipped: int = 0  # already in --output (--skip-existing)
    stopped_by: signal.Signals | None = None
    last: str | None = None  # the id of the last record checked or skipped: a stopped run's rest comes after it
    rest: str = ""  # what a stopped run left, in words: the records after `last`, and how to resume
    unread: str = ""  # reading stopped part-way (a line that is not UTF-8): the records after `last`, in words

    def line(self) -> str:
        text = f"{self.checked} record{'' if self.checked == 1 else 's'}: {self.flagged} with spans their articles lack, {self.failed} failed"
        text += f", {self.skipped} skipped (already written)" if self.skipped else ""
        text += f"; {self.unread}" if self.unread else ""
        return f"stopped by {self.stopped_by.name}: {text}; {self.rest}" if self.stopped_by else text

    @property
    def exit_code(self) -> int:
        if self.stopped_by:
            return EXIT_INTERRUPTED[self.stopped_by]
        return EXIT_FAILED if self.flagged or self.failed or self.unread else EXIT_OK


def run_check(job: CheckJob, notify: Callable[[str], None], debug: bool = False) -> CheckTally:
    """Check every record of job.data in order into the sinks; a record that cannot be checked is
    its own error, never the run's. Every output is checked and opened before natasha loads."""
    from summarize.checks.checker import Checker

    tally = CheckTally()
    with StopOutsideWrites() as stop, open_sink(_destinations(job), notify) as sinks:
        try:
            try:
                _check_all(_verdicts(job, Checker(), sinks.done, debug), sinks, stop, tally, notify)  # natasha loads on the first check
            finally:
                stop.ended = True  # committing: a signal now is only recorded
        except Stopped:  # also one raised in the `finally` above, before `ended` was set
            tally.stopped_by = stop.received
            tally.rest = _rest(job, tally.last)
        except Unreadable as e:  # part-way: what is checked is kept (and committed), the error said once
            if not (tally.checked or tally.skipped):
                raise SummarizeError(str(e)) from None
            notify(f"error: {one_line(str(e))}")
            tally.unread = f"not checked: any records of {job.data} after {tally.last}, which cannot be read"
        if not (tally.checked or tally.skipped or tally.stopped_by):
            raise SummarizeError(f"{job.data}: has no records; nothing to check")
    return tally


def _destinations(job: CheckJob) -> Destinations:
    """Where the verdicts go: stdout always, and --output as summarize writes one (by id, resumable)."""
    if job.skip_existing and job.overwrite:
        raise SummarizeError("--skip-existing and --overwrite: choose one (resume the existing output, or replace it)")
    if job.output is None and (job.overwrite or job.skip_existing):
        flag = "--overwrite" if job.overwrite else "--skip-existing"
        raise SummarizeError(f"{flag} is for --output FILE; without --output nothing is written to a file")
    return Destinations(
        fmt=job.fmt or (Format.rich if sys.stdout.isatty() else Format.plain),
        many=True,  # json: an array, whatever the number of records
        output=str(job.output) if job.output is not None else None,
        resume=job.skip_existing,
        overwrite=job.overwrite,
        reserved=tuple(Path(given) for given in (job.data, job.articles) if given is not None and not is_uri(given)),
        row=Checked,
        also_stdout=True,
    )


def _check_all(verdicts: Iterator, sinks: Sinks, stop: StopOutsideWrites, tally: CheckTally, notify: Callable[[str], None]) -> None:
    """Each verdict into the sinks as it comes. Reading and checking are interruptible (a signal
    gives up the record in progress); a write is not, and the run stops after it."""
    try:
        while True:
            with stop.interruptible():
                stop.stop_if_received()
                found = next(verdicts, None)
            if found is None:
                return
            item, checked = found
            tally.last = item.key
            if checked is None:
                tally.skipped += 1
                continue
            sinks.write(item, checked)
            _count(checked, tally, notify)
            if sinks.lost:
                notify("error: stopped: the output takes nothing more, so no more records are checked")
                return
    finally:
        verdicts.close()


def _count(checked: Checked, tally: CheckTally, notify: Callable[[str], None]) -> None:
    tally.checked += 1
    tally.flagged += bool(checked.unsupported)
    if checked.error:
        tally.failed += 1
        notify(f"error: {one_line(checked.error)}")  # an id may hold a line break


def _rest(job: CheckJob, last: str | None) -> str:
    rest = f"not checked: any records of {job.data}" + (f" after {last}" if last is not None else "")
    return rest + ("; run the same command with --skip-existing to resume" if job.output is not None else "")


def _cannot_load(error: Exception) -> SummarizeError:
    from summarize.checks.checker import load_error

    # Missing or damaged alike: no record can be checked, so the run ends here, once, not with an error per record.
    return SummarizeError(f"the check cannot load natasha ({load_error(error)}); install (or reinstall) natasha and pymorphy3")


def _verdicts(job: CheckJob, checker, done: Callable[[Input], bool], debug: bool) -> Iterator[tuple[Input, CheckedSummaries | None]]:
    """Each record as an Input keyed by its id, with its verdict; None for one that `done` says is
    in --output already (it is not checked again)."""
    from summarize.inputs.reading import SeenIds

    seen, records = SeenIds(), _records(job)  # a repeated id (an explicit one equal to another record's number too) is that record's error
    for number in itertools.count(1):
        try:
            found = next(records, None)
        except SummarizeError as e:
            raise Unreadable(str(e)) from None
        if found is None:
            return
        rid, *fields = found
        article, summary, translation = (_stripped(found) for found in fields) if job.strip_html else fields
        item = Input(article.source, None, PurePath(), id=rid)
        again = seen.again(item, f"record {number} of {job.data}")
        if again is not None:
            yield item, CheckedSummaries(rid, error=again.error)
        else:
            yield item, None if done(item) else _verdict(rid, article, summary, translation, checker, debug)


class Unreadable(SummarizeError):
    """The data cannot be read past a record (a line that is not UTF-8, a file gone): said once, the verdicts before it kept."""


def _verdict(
    rid: str, article: Document | BadRecord, summary: Document | BadRecord, translation: Document | BadRecord | None, checker, debug: bool
) -> CheckedSummaries:
    """One record's verdict, with the summary and translation it is about (for the rich panels)."""
    from summarize.checks.checker import LOAD_ERRORS

    bad = next((found for found in (article, summary) if isinstance(found, BadRecord)), None)
    if bad is not None:
        return CheckedSummaries(rid, error=f"{bad.source}: {bad.error}")
    english = translation.text if isinstance(translation, Document) else None
    try:
        flags = checker.check(article.text, summary.text, english)
    except Stopped:
        raise
    except LOAD_ERRORS as e:
        if isinstance(e.__cause__, Stopped):  # a signal while natasha loaded: the run stops; natasha is not broken
            raise e.__cause__ from None
        raise _cannot_load(e) from None
    except Exception as e:  # noqa: BLE001 - one record the check fails on is that record's error
        if debug:
            raise
        return CheckedSummaries(rid, error=f"{article.source}: the check failed on it ({type(e).__name__}: {first_line(e, 200)})")
    unsupported = [flag.to_dict() for flag in flags]
    if isinstance(translation, BadRecord):
        # Its Russian summary is checked all the same; the error says what was not, and what the Russian had (plain
        # and rich show a failed record on stderr only).
        said = checker.warning(flags) or "nothing unsupported"
        error = f"{translation.source}: {translation.error}; its translation is not checked, its Russian summary is: {said}"
        return CheckedSummaries(rid, unsupported, error=error, summary_ru=summary.text)
    return CheckedSummaries(rid, unsupported, summary_ru=summary.text, summary_en=english)


def _stripped(found: Document | BadRecord | None) -> Document | BadRecord | None:
    """--strip-html: a field's text without its tags and entities ("60&nbsp;тысяч" is "60 тысяч")."""
    from summarize.inputs.pages import strip_html

    return replace(found, text=strip_html(found.text)) if isinstance(found, Document) else found


def _records(job: CheckJob) -> Iterator[tuple[str, Document | BadRecord, Document | BadRecord, Document | BadRecord | None]]:
    """(id, article, summary, translation) of each record: the dataset read once, each field as a
    Document of its own, so each field's problems are found and named as a run's --text-field's are."""
    if job.articles is not None:
        yield from _joined(job)
        return
    each = [Fields(job.text_field, job.id_field), Fields(job.summary_field, job.id_field, role="summary", flag="--summary-field")]
    if job.translation_field:
        each.append(Fields(job.translation_field, job.id_field, role="translation", flag="--translation-field"))
    for number, (rid, found) in enumerate(read_dataset_fields(job.data, each, job.max_input_chars), 1):
        _header_check(job.data, number, found, each)
        yield rid, found[0], found[1], found[2] if len(found) > 2 else None


def _header_check(data: str, number: int, found: tuple, each: list[Fields]) -> None:
    """A field the first record lacks altogether is misspelt, as a CSV's missing column is: one line and exit 2 for
    every format, not an error per record (a JSONL has no header, so its first record stands for one). Not a
    translation: a record may lack one, and its Russian summary is checked all the same."""
    for one, fields in zip(found, each) if number == 1 else ():
        if fields.role == "translation":
            continue
        if isinstance(one, BadRecord) and one.absent is not None:
            raise SummarizeError(f"{data}: its first record has no field {one.absent!r}; use {fields.flag} to pick the {fields.role}'s field")


def _joined(job: CheckJob) -> Iterator[tuple[str, Document | BadRecord, Document | BadRecord, Document | BadRecord | None]]:
    """--articles CORPUS: each record of DATA (an earlier run's --output: keyed by `id`) with the
    article of the same id in CORPUS, read first and held in memory. An id CORPUS lacks, or holds
    twice, is that record's error."""
    articles: dict[str, Document | BadRecord] = {}
    corpus = [Fields(job.text_field, job.id_field)]
    for number, (rid, (article,)) in enumerate(read_dataset_fields(job.articles, corpus, job.max_input_chars), 1):
        _header_check(job.articles, number, (article,), corpus)
        twice = BadRecord(f"{job.articles}#{rid}", rid, f"id {rid!r} is in {job.articles} more than once; ids must be unique there")
        articles[rid] = twice if rid in articles else article
    each = [Fields(job.summary_field, role="summary", flag="--summary-field")]
    if job.translation_field:
        each.append(Fields(job.translation_field, role="translation", flag="--translation-field"))
    for number, (rid, found) in enumerate(read_dataset_fields(job.data, each, job.max_input_chars), 1):
        _header_check(job.data, number, found, each)
        missing = BadRecord(found[0].source, rid, f"no article with id {rid!r} in {job.articles}; check that both files come from the same corpus")
        article = articles.get(rid, missing)
        yield rid, article, found[0], found[1] if len(found) > 1 else None

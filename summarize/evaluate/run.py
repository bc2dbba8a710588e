"""The eval command's work: predict with the pipeline (or take given predictions), save them, score."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from summarize.config import Task, load_config
from summarize.errors import SummarizeError
from summarize.evaluate.data import EvalFields, Record, prediction_row, read_predictions, read_records
from summarize.evaluate.metrics import SourceScores, score_sources, score_summaries, score_translations
from summarize.flags import EvalJob
from summarize.inputs.pages import strip_html
from summarize.options import Choices, make_options
from summarize.outputs.printable import one_line
from summarize.outputs.rows import RowsSink
from summarize.storage import is_uri, redact


def predict_summaries(records: Sequence[Record], pipeline, advance=lambda: None) -> tuple[list[str], list[str]]:
    """The pipeline's summary of each record (no translation) and one line per record that failed.

    Records go through `Pipeline.run_all` as in the CLI; a record that fails scores as an empty
    prediction (leaving it out would flatter the model).
    """
    from summarize.documents import Document, Failure

    predictions, failures = [], []
    docs = (Document(r.id, r.text) if r.text.strip() else Failure(r.id, f"{r.id}: the text is empty") for r in records)
    for _, result in pipeline.run_all(docs):
        predictions.append(result.summary_ru or "")
        if result.error:
            failures.append(result.error)
        advance()
    return predictions, failures


def predict_translations(records: Sequence[Record], pipeline, advance=lambda: None) -> list[str]:
    """The translator's English for each record's Russian, sentence by sentence like the CLI,
    16 records' sentences to a padded batch."""
    predictions = []
    for start in range(0, len(records), 16):
        group = records[start : start + 16]
        predictions.extend(pipeline.translate_texts([r.text for r in group]))
        for _ in group:
            advance()
    return predictions


def load(job: EvalJob, target: str = "en") -> tuple[list[Record], list[str] | None]:
    """The records to score (limited, HTML stripped if asked) and the given predictions, if any."""
    fields = EvalFields.of(job, target)
    records, ids = read_records(job.data, fields, job.max_input_chars, job.limit)
    # Predictions saved from a --limit run score against the same limit: every id of the data is known.
    given = read_predictions(job.predictions, records, fields, job.max_input_chars, ids) if job.predictions else None
    if job.strip_html:
        records = [Record(r.id, strip_html(r.text), strip_html(r.reference)) for r in records]
    return records, given


def run(job: EvalJob, records: list[Record], given: list[str] | None, options, *, saved: RowsSink | None, notify, advance, debug: bool) -> dict:
    """Predict (unless given), save the predictions if asked, score: the report as one dict."""
    failures: list[str] = []
    if given is not None:
        outputs, who = given, {"predictions": redact(str(job.predictions))}
    elif job.task is Task.summarize:
        outputs, failures, who = _summarize(records, options, notify, advance, debug)
    else:
        outputs, who = _translate(records, options, notify, advance)
    for failure in failures:
        notify(f"error: {one_line(failure)} (scored as an empty summary)")  # an id may hold a line break
    if saved is not None:
        with saved:
            for record, output in zip(records, outputs):
                saved.write(saved.row_type(record.id, output))
    scores = score(job.task, records, outputs, check=options.check, notify=notify)
    return {"task": job.task.value, "data": redact(str(job.data)), **who, "failed": len(failures), **scores}


def _summarize(records: list[Record], options, notify, advance, debug: bool) -> tuple[list[str], list[str], dict]:
    from summarize.pipeline import Pipeline

    # The support of each summary is scored below, once, with one checker: not also per result.
    pipeline = Pipeline(replace(options, check=False), notify=notify, debug=debug)
    outputs, failures = predict_summaries(records, pipeline, advance)
    model = not options.engine.model_free
    who = {
        "engine": options.engine.value,
        "model": options.summarizer.name if model else None,
        "backend": pipeline.engines.summarizer.backend if model else None,
    }
    return outputs, failures, who


def _translate(records: list[Record], options, notify, advance) -> tuple[list[str], dict]:
    """The translator alone, loaded as the main command loads it (backend included)."""
    from summarize.pipeline import Pipeline

    pipeline = Pipeline(options, notify=notify)
    outputs = predict_translations(records, pipeline, advance)
    return outputs, {"translator": options.translator.name, "backend": pipeline.translator.backend}


def score(task: Task, records: Sequence[Record], outputs: Sequence[str], check: bool = True, notify=lambda line: None) -> dict:
    """The scores against the references, and for summaries their precision against the source
    articles (unless --no-check), rounded to two decimals."""
    references = [r.reference for r in records]
    if task is Task.summarize:
        scores = {**asdict(score_summaries(outputs, references)), **against_sources(records, outputs, check, notify)}
    else:
        scores = asdict(score_translations(outputs, references))
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in scores.items()}


def against_sources(records: Sequence[Record], outputs: Sequence[str], check: bool, notify) -> dict:
    """The precision figures and `source_check`, how they were measured: "on"; "off (--no-check)";
    or, natasha missing or damaged, a warning said once and null figures with the reason (the
    ROUGE of a long run is not thrown away for them)."""
    from summarize.checks.checker import LOAD_ERRORS, unchecked_notice

    if not check:
        return {**NOT_MEASURED, "source_check": "off (--no-check)"}
    try:
        return {**asdict(score_against_sources(records, outputs)), "source_check": "on"}
    except LOAD_ERRORS as e:
        notice = unchecked_notice(e)
        notify(f"warning: {notice}")
        return {**NOT_MEASURED, "source_check": f"not measured: {notice}"}


NOT_MEASURED = dict.fromkeys(("entity_precision", "number_precision", "entities", "numbers"))  # null: not measured, not "none found"


def score_against_sources(records: Sequence[Record], outputs: Sequence[str]) -> SourceScores:
    """Each summary's names (natasha's NER, loaded here) and numbers against its article."""
    from summarize.checks.checker import Checker

    checker = Checker()
    supports = [checker.support(r.text, output) for r, output in zip(records, outputs)]
    return score_sources([s.names for s in supports], [s.numbers for s in supports])


def evaluate(job: EvalJob, choices: Choices, config: Path | None, notify, progress, debug: bool = False) -> dict:
    """The eval command: checked (--save-predictions included), loaded, predicted (with a progress
    bar from `progress(total)`), saved, scored."""
    if job.predictions and (job.save_predictions or choices.engine or choices.model or choices.translator):
        raise SummarizeError("--predictions scores given predictions: --save-predictions, --engine, --model and --translator do not apply")
    if job.prediction_field and not job.predictions:
        raise SummarizeError("--prediction-field names the field of --predictions FILE; without --predictions it does not apply")
    # Scores must belong to the model named: never fall back to another engine here.
    options = make_options(load_config(config), choices, translate=job.task is Task.translate, strict=True)
    if job.task is Task.translate and len(options.targets) != 1:
        raise SummarizeError("eval --task translate measures one --to language at a time; give one code")
    target = options.targets[0].code if job.task is Task.translate else "en"
    saved = _open_saved(job, target)
    records, given = load(job, target)
    with progress(len(records) if given is None else 0) as advance:
        return run(job, records, given, options, saved=saved, notify=notify, advance=advance, debug=debug)


def _open_saved(job: EvalJob, target: str = "en") -> RowsSink | None:
    """--save-predictions checked before any work (never the data file, nor one there without --overwrite)."""
    if job.save_predictions is None:
        if job.overwrite:
            raise SummarizeError("--overwrite is for --save-predictions FILE; without it nothing is written to a file")
        return None
    reserved = [] if is_uri(job.data) else [Path(job.data)]
    return RowsSink.open(job.save_predictions, "--save-predictions", prediction_row(job.task, target), reserved, job.overwrite)

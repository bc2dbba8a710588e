"""Score summaries and translations as the published numbers were scored; read the files to score.

Summaries follow IlyaGusev/summarus, which produced every published Gazeta number:
`evaluate.py --language ru --tokenize-after --lower` (its `postprocess`) feeding
`summarus/util/metrics.py` (`calc_metrics`). Translations follow sacreBLEU's defaults, as the
published opus-mt numbers do.

Everything here is pure Python: no model is loaded. razdel and sacrebleu are imported where used.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from summarize.config import Choice
from summarize.errors import SummarizeError


class Task(Choice):
    summarize = "summarize"  # records {"id", "text", "summary"}
    translate = "translate"  # records {"id", "ru", "en"}


# summarus metrics.py computes duplicate n-gram rates for n = 1..4 and prints n = 1..3;
# 3 is the longest it reports (the published Gazeta models block repeated 4-grams while decoding).
DUP_NGRAM_N = 3

# summarus metrics.py: corpus_chrf(refs, hyps, beta=1.0) from NLTK: character 1..6-grams,
# whitespace removed, the F-score of each order averaged, then averaged over documents.
CHRF_BETA = 1
CHRF_CHAR_ORDER = 6


@dataclass(frozen=True)
class SummaryScores:
    """Percentages (0-100) like the published tables, except `length` (characters)."""

    n: int
    rouge1: float
    rouge2: float
    rougeL: float
    chrf: float
    length: float
    dup_ngrams: float


@dataclass(frozen=True)
class TranslationScores:
    """sacreBLEU corpus scores, 0-100."""

    n: int
    bleu: float
    chrf: float


@dataclass(frozen=True)
class Record:
    """One example: the source text and its reference (summary or English translation).

    `line` is where it sits in its file, so that errors about it can point there.
    """

    id: str
    text: str
    reference: str
    line: int = 0


# ---------------------------------------------------------------- tokens


def tokenize(text: str) -> list[str]:
    """Lowercased razdel tokens: summarus evaluate.py `postprocess` with --tokenize-after --lower
    (language "ru": razdel.tokenize, joined by spaces, then str.lower)."""
    from razdel import tokenize as razdel_tokenize

    return [token.text.lower() for token in razdel_tokenize(text.strip())]


def rouge_sentences(tokens: Sequence[str]) -> list[list[str]]:
    """Sentences as the ROUGE package summarus uses sees them.

    summarus scores with IlyaGusev/rouge (`true_rouge`, a fork of pltrdy/rouge 0.3.1) whose
    `Rouge.get_scores` splits the space-joined text on every "." and splits each piece on
    whitespace. So full stops are never scored, by ROUGE-1/2 either, and a token holding a dot
    ("3.5", "т.е.") is cut there. One deviation: a piece holding only spaces (from ". .") is
    dropped here, where that package turns it into an empty-string token.
    """
    return [piece.split() for piece in " ".join(tokens).split(".") if piece.strip()]


# ---------------------------------------------------------------- ROUGE


def f1(overlap: int, predicted: int, expected: int) -> float:
    """F1 of precision overlap/predicted and recall overlap/expected; 0 when either is empty."""
    if not overlap or not predicted or not expected:
        return 0.0
    precision, recall = overlap / predicted, overlap / expected
    return 2 * precision * recall / (precision + recall)


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def rouge_n(prediction: Sequence[str], reference: Sequence[str], n: int) -> float:
    """ROUGE-N F1 in 0..1 over whole token lists (n-grams may cross sentence boundaries, as in
    ROUGE-1.5.5 and pltrdy/rouge). Repeated n-grams count with clipping, as in ROUGE-1.5.5:
    a predicted n-gram matches at most as often as the reference has it."""
    predicted, expected = Counter(ngrams(prediction, n)), Counter(ngrams(reference, n))
    overlap = sum((predicted & expected).values())
    return f1(overlap, sum(predicted.values()), sum(expected.values()))


def lcs_positions(reference: Sequence[str], candidate: Sequence[str]) -> list[int]:
    """Positions in `reference` of one longest common subsequence with `candidate`.

    Ties are broken as in ROUGE-1.5.5 and google-research rouge-score (backtrack from the end,
    stepping back in the reference unless the candidate step keeps a longer match)."""
    rows, cols = len(reference), len(candidate)
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            if reference[i - 1] == candidate[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    positions: list[int] = []
    i, j = rows, cols
    while i and j:
        if reference[i - 1] == candidate[j - 1]:
            positions.append(i - 1)
            i, j = i - 1, j - 1
        elif table[i][j - 1] > table[i - 1][j]:
            j -= 1
        else:
            i -= 1
    return positions[::-1]


def rouge_l_summary(
    prediction_sentences: Sequence[Sequence[str]], reference_sentences: Sequence[Sequence[str]]
) -> float:
    """Summary-level ROUGE-L F1 in 0..1 (Lin 2004, section 3.2; pltrdy/rouge
    `rouge_l_summary_level`): for each reference sentence, the union of its LCS with every
    predicted sentence, summed over reference sentences. As in ROUGE-1.5.5, each token is
    credited at most as often as it occurs in both texts, so a union cannot count a word twice.
    """
    predicted_left = Counter(t for s in prediction_sentences for t in s)
    expected_left = Counter(t for s in reference_sentences for t in s)
    predicted_total, expected_total = sum(predicted_left.values()), sum(expected_left.values())
    hits = 0
    for sentence in reference_sentences:
        union = sorted(
            {p for candidate in prediction_sentences for p in lcs_positions(sentence, candidate)}
        )
        for token in (sentence[p] for p in union):
            if predicted_left[token] and expected_left[token]:
                hits += 1
                predicted_left[token] -= 1
                expected_left[token] -= 1
    return f1(hits, predicted_total, expected_total)


# ---------------------------------------------------------------- other summary metrics


def chrf(prediction: str, reference: str) -> float:
    """summarus chrF in 0..1: NLTK's chrF with beta=1 (character 1..6-grams, whitespace removed,
    per-order F averaged). sacreBLEU's CHRF with eps_smoothing=True is that same formula
    ("chrF++.py style EPS smoothing (also used by Moses and NLTK)" in its source)."""
    from sacrebleu.metrics import CHRF

    metric = CHRF(char_order=CHRF_CHAR_ORDER, word_order=0, beta=CHRF_BETA, eps_smoothing=True)
    return metric.sentence_score(prediction, [reference]).score / 100


def duplicate_ngram_rate(predictions: Sequence[Sequence[str]], n: int = DUP_NGRAM_N) -> float:
    """Share, in 0..1, of the predictions' n-grams that repeat an earlier n-gram of the same
    prediction, pooled over all predictions (summarus metrics.py `calc_duplicate_n_grams_rate`:
    sum of len(ngrams) - len(set(ngrams)) over sum of len(ngrams))."""
    total = duplicates = 0
    for tokens in predictions:
        grams = ngrams(tokens, n)
        total += len(grams)
        duplicates += len(grams) - len(set(grams))
    return duplicates / total if total else 0.0


def score_summaries(predictions: Sequence[str], references: Sequence[str]) -> SummaryScores:
    """Gazeta-comparable scores of predictions against references (same order).

    ROUGE-1/2/L F1 and chrF are computed per document and macro-averaged (summarus:
    `Rouge().get_scores(..., avg=True)`, NLTK `corpus_chrf`). `length` is the mean character
    length of the tokenized, lowercased prediction (summarus: `mean(len(h) for h in hyps)` after
    postprocess, so "мир." counts as "мир ." = 5). Unlike summarus, an empty prediction is scored
    0 rather than skipped, so a model cannot gain by returning nothing.
    """
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    if not predictions:
        raise ValueError("nothing to score")
    rouge1 = rouge2 = rouge_l = chrf_total = 0.0
    predicted_tokens: list[list[str]] = []
    for prediction, reference in zip(predictions, references):
        tokens, expected = tokenize(prediction), tokenize(reference)
        predicted_tokens.append(tokens)
        sentences, expected_sentences = rouge_sentences(tokens), rouge_sentences(expected)
        flat = [t for s in sentences for t in s]
        expected_flat = [t for s in expected_sentences for t in s]
        rouge1 += rouge_n(flat, expected_flat, 1)
        rouge2 += rouge_n(flat, expected_flat, 2)
        rouge_l += rouge_l_summary(sentences, expected_sentences)
        chrf_total += chrf(" ".join(tokens), " ".join(expected))
    count = len(predictions)
    return SummaryScores(
        n=count,
        rouge1=100 * rouge1 / count,
        rouge2=100 * rouge2 / count,
        rougeL=100 * rouge_l / count,
        chrf=100 * chrf_total / count,
        length=sum(len(" ".join(t)) for t in predicted_tokens) / count,
        dup_ngrams=100 * duplicate_ngram_rate(predicted_tokens),
    )


# ---------------------------------------------------------------- translation


def score_translations(hypotheses: Sequence[str], references: Sequence[str]) -> TranslationScores:
    """sacreBLEU corpus BLEU and chrF with default settings (BLEU: 13a tokenization, mixed case,
    exp smoothing; chrF: chrF2, character 6-grams), the settings behind published opus-mt
    numbers. opus-mt tables print chrF as 0-1; here it is 0-100 like BLEU."""
    from sacrebleu.metrics import BLEU, CHRF

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    if not hypotheses:
        raise ValueError("nothing to score")
    hypotheses, references = list(hypotheses), [list(references)]
    return TranslationScores(
        n=len(hypotheses),
        bleu=BLEU().corpus_score(hypotheses, references).score,
        chrf=CHRF().corpus_score(hypotheses, references).score,
    )


# ---------------------------------------------------------------- files

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
        raise SummarizeError(
            f"{path}: no records; write one JSON object per line with {_shape(fields)}"
        )
    return records


def read_predictions(
    path: str | Path, records: Sequence[Record], field: str = "summary", known: set[str] | None = None
) -> list[str]:
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
            raise SummarizeError(
                f"{path}, line {line}: id {prediction_id!r} is not in the data file; "
                "score predictions against the data they were made from"
            )
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
                f"{path}, line {number}: invalid JSON ({error.msg}, column {error.colno}); "
                f"write one JSON object per line, like {shape}"
            ) from None
        if not isinstance(row, dict):
            raise SummarizeError(f"{path}, line {number}: expected a JSON object like {shape}")
        for field in fields:
            if field not in row:
                raise SummarizeError(
                    f"{path}, line {number}: missing field {field!r}; every line needs {shape}"
                )
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
        raise SummarizeError(
            f"{path}, line {line}: duplicate id {record_id!r} (first on line "
            f"{first_line[record_id]}); give every line its own id"
        )
    first_line[record_id] = line
    return record_id


def _shape(fields: Sequence[str]) -> str:
    return "{" + ", ".join(f'"{field}": ...' for field in fields) + "}"


# ---------------------------------------------------------------- predictions


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


def predict_translations(records: Sequence[Record], translator, settings, advance=lambda: None) -> list[str]:
    """The translator's English for each record's Russian, sentence by sentence like the CLI,
    16 records' sentences to a padded batch."""
    from summarize.engines.translate import translate_many

    predictions = []
    for start in range(0, len(records), 16):
        group = records[start : start + 16]
        predictions.extend(english for english, _ in translate_many(translator, [r.text for r in group], settings))
        for _ in group:
            advance()
    return predictions


# ---------------------------------------------------------------- the eval command


@dataclass(frozen=True)
class Job:
    """What `summarize eval` was asked to do."""

    data: Path
    task: Task = Task.summarize
    predictions: Path | None = None  # score these instead of running a model
    save_predictions: Path | None = None
    limit: int | None = None
    strip_html: bool = False


def load(job: Job) -> tuple[list[Record], list[str] | None]:
    """The records to score (limited, HTML stripped if asked) and the given predictions, if any."""
    every = read_records(job.data, job.task)
    records = every[: job.limit]  # predictions saved from a --limit run score against the same limit
    field = _FIELDS[job.task][1]
    given = read_predictions(job.predictions, records, field, {r.id for r in every}) if job.predictions else None
    if job.strip_html:
        records = [Record(r.id, strip_html(r.text), strip_html(r.reference), r.line) for r in records]
    return records, given


def run(job: Job, records: list[Record], given: list[str] | None, options, notify, advance, debug: bool) -> dict:
    """Predict (unless given), save the predictions if asked, score: the report as one dict."""
    from summarize.engines import load_translator
    from summarize.outputs import write_atomically
    from summarize.pipeline import Pipeline

    failures: list[str] = []
    if given is not None:
        outputs, who = given, {"predictions": str(job.predictions)}
    elif job.task is Task.summarize:
        pipeline = Pipeline(options, notify=notify, debug=debug)
        outputs, failures = predict_summaries(records, pipeline, advance)
        model = options.engine == "abstractive"
        who = {
            "engine": options.engine.value,
            "model": options.summarizer.name if model else None,
            "backend": pipeline.engines.summarizer.description if model else None,
        }
    else:  # the translator alone, loaded as the main command loads it (backend included)
        translator, notices = load_translator(options, notify)
        for notice in notices:
            notify(f"warning: {notice}")
        outputs = predict_translations(records, translator, options.translator.generate, advance)
        who = {"translator": options.translator.name, "backend": translator.description}
    for failure in failures:
        notify(f"error: {failure} (scored as an empty summary)")
    if job.save_predictions and given is None:
        key = _FIELDS[job.task][1]
        lines = [json.dumps({"id": r.id, key: o}, ensure_ascii=False) for r, o in zip(records, outputs)]
        write_atomically(job.save_predictions, "".join(line + "\n" for line in lines))
    references = [r.reference for r in records]
    scores = score_summaries(outputs, references) if job.task is Task.summarize else score_translations(outputs, references)
    rounded = {k: round(v, 2) if isinstance(v, float) else v for k, v in asdict(scores).items()}
    return {"task": job.task.value, "data": str(job.data), **who, "failed": len(failures), **rounded}

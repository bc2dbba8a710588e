"""Score summaries and translations as the published numbers were scored; read the files to score.

Summaries follow IlyaGusev/summarus, which produced every published Gazeta number:
`evaluate.py --language ru --tokenize-after --lower` (its `postprocess`) feeding
`summarus/util/metrics.py` (`calc_metrics`). Translations follow sacreBLEU's defaults, as the
published opus-mt numbers do.

Everything here is pure Python: no model is loaded. razdel and sacrebleu are imported where used;
precision against the source is pooled here from counts the checks make.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

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
class SourceScores:
    """How much of what the summaries name and count their articles hold: precision against the
    source in percent (None when no summary had any), and how many names and numbers were checked."""

    entity_precision: float | None
    number_precision: float | None
    entities: int
    numbers: int


@dataclass(frozen=True)
class TranslationScores:
    """sacreBLEU corpus scores, 0-100."""

    n: int
    bleu: float
    chrf: float


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


def rouge_l_summary(prediction_sentences: Sequence[Sequence[str]], reference_sentences: Sequence[Sequence[str]]) -> float:
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
        union = sorted({p for candidate in prediction_sentences for p in lcs_positions(sentence, candidate)})
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


# ---------------------------------------------------------------- against the source


def pooled_precision(counts: Sequence[tuple[int, int]]) -> float | None:
    """Micro-averaged precision in percent: all found over all checked, so a summary with five
    names weighs five times one with one (macro would swing on summaries holding a single name,
    each 0 or 100). None when nothing was checked: no names is not 100%, nor 0%."""
    found, total = sum(f for f, _ in counts), sum(t for _, t in counts)
    return 100 * found / total if total else None


def score_sources(names: Sequence[tuple[int, int]], numbers: Sequence[tuple[int, int]]) -> SourceScores:
    """Entity and number precision from each summary's (found, total) against its article
    (checks.Checker.support counts them: names by lemma, numbers by value)."""
    return SourceScores(
        entity_precision=pooled_precision(names),
        number_precision=pooled_precision(numbers),
        entities=sum(t for _, t in names),
        numbers=sum(t for _, t in numbers),
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

"""Scoring conventions (summarus, ROUGE-1.5.5, sacreBLEU) on hand-computed examples; eval's data read as datasets, and its errors.

No model is loaded: everything here runs in well under a second.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sacrebleu
from helpers import write_dataset, write_jsonl

from summarize.config import MAX_INPUT_CHARS
from summarize.errors import SummarizeError
from summarize.evaluate.data import EvalFields, Record, read_predictions, read_records
from summarize.evaluate.metrics import (
    chrf,
    duplicate_ngram_rate,
    lcs_positions,
    pooled_precision,
    rouge_l_summary,
    rouge_n,
    rouge_sentences,
    score_sources,
    score_summaries,
    score_translations,
    tokenize,
)

# ---------------------------------------------------------------- tokens


def test_tokenize_is_lowercased_razdel():
    # summarus --tokenize-after --lower: razdel tokens, punctuation split off, then lowercased.
    assert tokenize("Кошка СИДИТ, на ковре.") == ["кошка", "сидит", ",", "на", "ковре", "."]


def test_rouge_sentences_split_on_every_dot_like_summarus():
    # The ROUGE package summarus uses splits the joined text on "." itself: the full stop is
    # dropped and "3.5" (one razdel token) is cut in two.
    assert rouge_sentences(tokenize("Цена 3.5 рубля. Итог")) == [
        ["цена", "3"],
        ["5", "рубля"],
        ["итог"],
    ]
    assert rouge_sentences(tokenize("")) == []


# ---------------------------------------------------------------- ROUGE


def test_rouge_on_cyrillic_is_not_zero_and_matches_hand_count():
    # prediction: кошка сидит на ковре (.)   reference: кошка лежит на ковре (.)
    # "." is not scored (split on it). Unigrams: 3 of 4 shared (кошка, на, ковре) → P = R = 3/4 → F1 75.
    # Bigrams: pred {кошка сидит, сидит на, на ковре}, ref {кошка лежит, лежит на, на ковре}
    #   → 1 of 3 → F1 33.33. LCS: кошка на ковре = 3 of 4 → 75.
    scores = score_summaries(["Кошка сидит на ковре."], ["Кошка лежит на ковре."])
    assert scores.n == 1
    assert scores.rouge1 == pytest.approx(75.0)
    assert scores.rouge2 == pytest.approx(100 / 3)
    assert scores.rougeL == pytest.approx(75.0)


def test_case_does_not_matter():
    upper = score_summaries(["КОШКА СИДИТ НА КОВРЕ"], ["кошка сидит на ковре"])
    assert upper.rouge1 == upper.rouge2 == upper.rougeL == pytest.approx(100.0)


def test_identical_texts_score_100():
    text = "Кошка сидит на ковре. Пёс спит у двери."
    scores = score_summaries([text], [text])
    assert (scores.rouge1, scores.rouge2, scores.rougeL, scores.chrf) == pytest.approx((100, 100, 100, 100))


def test_disjoint_texts_score_0():
    # No shared word; no shared character either (ё, ж vs к, и, т), so chrF is 0 too.
    scores = score_summaries(["ёж"], ["кит"])
    assert (scores.rouge1, scores.rouge2, scores.rougeL) == (0.0, 0.0, 0.0)
    assert scores.chrf == pytest.approx(0.0, abs=1e-9)


def test_rouge_n_clips_repeated_ngrams():
    # pred да да да, ref да: 3 predicted unigrams, 1 reference, overlap clipped to 1
    # → P = 1/3, R = 1 → F1 = 2 * 1/3 / (4/3) = 0.5 (a set-based count would give 1.0).
    assert rouge_n(["да", "да", "да"], ["да"], 1) == pytest.approx(0.5)
    # Repeats match as often as both texts have them: pred да да нет, ref да да → overlap 2
    # → P = 2/3, R = 1 → F1 = 0.8 (sets would give {да, нет} vs {да} → P = 1/2 → F1 = 2/3).
    assert rouge_n(["да", "да", "нет"], ["да", "да"], 1) == pytest.approx(0.8)
    assert rouge_n([], ["да"], 1) == 0.0


def test_summary_level_rouge_l_uses_union_lcs_over_sentences():
    # reference: one sentence  кот спит и пёс лает  (5 tokens)
    # prediction: two sentences  [пёс лает] [кот спит]  (4 tokens)
    # Union LCS: LCS with [пёс лает] = {пёс, лает}, with [кот спит] = {кот, спит} → 4 hits
    #   → R = 4/5, P = 4/4 → F1 = 2 * 0.8 / 1.8 = 8/9.
    # Plain LCS of the flattened prediction (пёс лает кот спит) is only 2 → R = 2/5, P = 2/4 → F1 = 4/9.
    prediction = [["пёс", "лает"], ["кот", "спит"]]
    reference = [["кот", "спит", "и", "пёс", "лает"]]
    assert rouge_l_summary(prediction, reference) == pytest.approx(8 / 9)
    assert rouge_l_summary([prediction[0] + prediction[1]], reference) == pytest.approx(4 / 9)
    # The same through the full pipeline, where sentences come from splitting on ".".
    assert score_summaries(["Пёс лает. Кот спит."], ["Кот спит и пёс лает."]).rougeL == pytest.approx(800 / 9)


def test_summary_level_rouge_l_credits_each_token_once():
    # Reference да. да. has two sentences whose LCS with the prediction [да] is the same token.
    # ROUGE-1.5.5 credits it once: hits 1 → R = 1/2, P = 1/1 → F1 = 2/3 (unclipped would give P = 2).
    assert rouge_l_summary([["да"]], [["да"], ["да"]]) == pytest.approx(2 / 3)


def test_summary_level_rouge_l_breaks_lcs_ties_as_rouge_score_does():
    # LCS("курс курс", "курс вырос") is one token, at either reference position. Backtracking from
    # the end steps back in the reference on a tie (rouge-score's _backtrack_norec), so it is
    # position 0, and with "курс" (position 1) the union is both: P = 2/3, R = 2/2, F = 0.8. The
    # other tie-break takes position 1 twice: P = 1/3, R = 1/2, F = 0.4.
    assert rouge_l_summary([["курс"], ["курс", "вырос"]], [["курс", "курс"]]) == pytest.approx(0.8)
    assert lcs_positions(["курс", "курс"], ["курс", "вырос"]) == [0]


def test_scores_are_macro_averaged_over_documents():
    # Document 1 identical (100), document 2 disjoint (0) → 50.
    scores = score_summaries(["кошка сидит", "кошка"], ["кошка сидит", "пёс"])
    assert scores.rouge1 == pytest.approx(50.0)


def test_empty_prediction_scores_zero_not_skipped():
    scores = score_summaries(["", "кошка сидит"], ["кошка сидит", "кошка сидит"])
    assert scores.n == 2
    assert scores.rouge1 == pytest.approx(50.0)


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        score_summaries(["a"], ["a", "b"])
    with pytest.raises(ValueError):
        score_summaries([], [])


# ---------------------------------------------------------------- chrF, length, duplicates


def test_chrf_hand_computed():
    # кот vs кит, characters: order 1: {к,о,т} vs {к,и,т} → 2/3 both ways → F = 2/3;
    # orders 2..6 share nothing or are empty → F ≈ 0. Mean over 6 orders: (2/3) / 6 = 1/9.
    assert chrf("кот", "кит") == pytest.approx(1 / 9)


def test_chrf_averages_f_per_order_like_nltk_in_summarus():
    # кот vs коты (beta = 1):
    #   order 1: P = 3/3, R = 3/4 → F = 6/7;  order 2: P = 2/2, R = 2/3 → F = 4/5;
    #   order 3: P = 1/1, R = 1/2 → F = 2/3;  orders 4..6: nothing predicted → 0.
    #   mean over 6 orders = (6/7 + 4/5 + 2/3) / 6 ≈ 0.3873.
    expected = (6 / 7 + 4 / 5 + 2 / 3) / 6
    assert chrf("кот", "коты") == pytest.approx(expected)
    own = sacrebleu.sentence_chrf("кот", ["коты"], beta=1, eps_smoothing=True).score / 100
    assert own == pytest.approx(expected)
    # sacreBLEU's default (chrF2, F of averaged P and R over effective orders) is another number.
    assert sacrebleu.sentence_chrf("кот", ["коты"]).score / 100 != pytest.approx(expected, abs=0.01)


def test_chrf_ignores_whitespace_and_case_through_score_summaries():
    # summarus scores chrF on tokenized, lowercased text; whitespace is removed before counting.
    scores = score_summaries(["Кошка сидит на ковре."], ["кошка  сидит на ковре ."])
    assert scores.chrf == pytest.approx(100.0)


def test_length_counts_characters_of_tokenized_text():
    # summarus: mean(len(h)) after postprocess, so "Привет, мир." is measured as "привет , мир ." = 14.
    assert score_summaries(["Привет, мир."], ["мир"]).length == 14.0


def test_duplicate_ngram_rate_hand_computed():
    # да да да да нет → trigrams (да да да), (да да да), (да да нет): 3, of which 1 repeats.
    # раз два три → 1 trigram, none repeat. Pooled: 1 / 4 = 25%.
    repetitive, plain = tokenize("да да да да нет"), tokenize("раз два три")
    assert duplicate_ngram_rate([repetitive]) == pytest.approx(1 / 3)
    assert duplicate_ngram_rate([repetitive, plain]) == pytest.approx(1 / 4)
    # Unigrams: 5 tokens, 2 distinct → 3 repeats of 5.
    assert duplicate_ngram_rate([repetitive], n=1) == pytest.approx(3 / 5)
    assert score_summaries(["да да да да нет", "раз два три"], ["да", "раз"]).dup_ngrams == pytest.approx(25.0)
    assert duplicate_ngram_rate([["да"]]) == 0.0


# ---------------------------------------------------------------- against the source


def test_precision_against_the_source_is_pooled_over_summaries():
    # (found, total) per summary: 1 of 1, 1 of 3, none checked. Pooled: 2 of 4 = 50%
    # (the mean of per-summary precisions would be (100 + 33.3) / 2 = 66.7).
    assert pooled_precision([(1, 1), (1, 3), (0, 0)]) == pytest.approx(50.0)
    assert pooled_precision([(0, 2)]) == 0.0


def test_no_names_at_all_is_no_precision_not_zero_or_a_hundred():
    assert pooled_precision([(0, 0), (0, 0)]) is None
    assert pooled_precision([]) is None


def test_source_scores_count_what_was_checked():
    scores = score_sources(names=[(2, 3), (0, 0)], numbers=[(0, 0), (0, 0)])
    assert (scores.entity_precision, scores.entities) == (pytest.approx(200 / 3), 3)
    assert (scores.number_precision, scores.numbers) == (None, 0)


# ---------------------------------------------------------------- translation


def test_translation_scores_are_sacrebleu_defaults():
    hypotheses = ["The cat sat on the mat.", "A dog barked at night."]
    references = ["The cat sat on a mat.", "The dog barked all night."]
    scores = score_translations(hypotheses, references)
    assert scores.n == 2
    assert scores.bleu == pytest.approx(sacrebleu.corpus_bleu(hypotheses, [references]).score)
    assert scores.chrf == pytest.approx(sacrebleu.corpus_chrf(hypotheses, [references]).score)
    assert 0 < scores.bleu < 100 and 0 < scores.chrf < 100


def test_identical_translations_score_100():
    scores = score_translations(["The cat sat on the mat."], ["The cat sat on the mat."])
    assert (scores.bleu, scores.chrf) == pytest.approx((100.0, 100.0))


def test_translation_scores_are_case_sensitive():
    # sacreBLEU's default (and opus-mt's published numbers) keep case: "the" ≠ "The".
    scores = score_translations(["the cat sat on the mat."], ["The cat sat on the mat."])
    assert scores.bleu < 100 and scores.chrf < 100


# ---------------------------------------------------------------- files


def fields(task: str = "summarize", **flags: str | None) -> EvalFields:
    """The fields eval reads, as its flags would name them (None: the task's default)."""
    given = {"text_field": None, "summary_field": None, "prediction_field": None, "id_field": "id", **flags}
    return EvalFields.of(SimpleNamespace(task=task, **given))


def read(path, task: str = "summarize", limit: int | None = None, **flags: str | None) -> list[Record]:
    return read_records(path, fields(task, **flags), MAX_INPUT_CHARS, limit)[0]


def test_read_records_for_both_tasks(tmp_path):
    data = write_jsonl(
        tmp_path / "gazeta.jsonl",
        [
            {"id": "a", "text": "Текст.", "summary": "Итог."},
            "",
            {"id": 7, "text": "Ещё.", "summary": "Да."},
        ],
    )
    assert read(data) == [Record("a", "Текст.", "Итог."), Record("7", "Ещё.", "Да.")]
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [{"id": "x", "ru": "Привет.", "en": "Hello."}])
    assert read(pairs, "translate") == [Record("x", "Привет.", "Hello.")]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_every_dataset_format_with_the_field_flags(tmp_path, suffix):
    rows = [{"key": "a", "body": "Текст.", "headline": "Итог."}, {"key": "b", "body": "Ещё.", "headline": "Да."}]
    data = write_dataset(tmp_path / f"d{suffix}", rows)
    records, ids = read_records(data, fields(text_field="body", summary_field="headline", id_field="key"), MAX_INPUT_CHARS, limit=1)
    assert records == [Record("a", "Текст.", "Итог.")] and ids == {"a", "b"}


def test_without_an_id_field_the_record_number_is_the_id(tmp_path):
    data = write_dataset(tmp_path / "d.csv", [{"text": "Текст.", "summary": "Итог."}, {"text": "Ещё.", "summary": "Да."}])
    assert [r.id for r in read(data)] == ["1", "2"]


def test_read_predictions_aligns_by_id(tmp_path):
    records = [Record("a", "t", "r"), Record("b", "t", "r")]
    predictions = write_jsonl(tmp_path / "pred.jsonl", [{"id": "b", "summary": "второй"}, {"id": "a", "summary": ""}])
    assert read_predictions(predictions, records, fields(), MAX_INPUT_CHARS) == ["", "второй"]  # an empty prediction scores 0, it is no error
    english = write_dataset(tmp_path / "en.parquet", [{"id": "a", "en": "one"}, {"id": "b", "en": "two"}])
    assert read_predictions(english, records, fields("translate"), MAX_INPUT_CHARS) == ["one", "two"]
    named = write_dataset(tmp_path / "named.csv", [{"id": "a", "pred": "x"}, {"id": "b", "pred": "y"}])
    assert read_predictions(named, records, fields(prediction_field="pred"), MAX_INPUT_CHARS) == ["x", "y"]


def test_missing_file(tmp_path):
    with pytest.raises(SummarizeError, match=r"nope\.jsonl: no such file"):
        read(tmp_path / "nope.jsonl")


def test_not_a_dataset(tmp_path):
    with pytest.raises(SummarizeError, match=r"d\.txt: not a dataset; datasets end in \.jsonl"):
        read(tmp_path / "d.txt")


def test_invalid_json_names_the_line(tmp_path):
    data = write_jsonl(tmp_path / "bad.jsonl", [{"id": "a", "text": "t", "summary": "s"}, '{"id": "b", "text": '])
    with pytest.raises(SummarizeError, match=r"bad\.jsonl#line 2: not valid JSON") as error:
        read(data)
    assert "\n" not in str(error.value)


def test_not_an_object(tmp_path):
    data = write_jsonl(tmp_path / "list.jsonl", ['["a", "t", "s"]'])
    with pytest.raises(SummarizeError, match=r"list\.jsonl#line 1: a list, not a JSON object"):
        read(data)


def test_missing_field_names_the_record_and_the_flag(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "text": "t", "summary": "s"}, {"id": "b", "text": "t"}])
    with pytest.raises(SummarizeError, match=r"d\.jsonl#b: field 'summary' is missing; use --summary-field"):
        read(data)
    with pytest.raises(SummarizeError, match=r"d\.jsonl#a: field 'ru' is missing; use --text-field"):
        read(data, "translate")
    columns = write_dataset(tmp_path / "d.csv", [{"id": "a", "text": "t"}])
    with pytest.raises(SummarizeError, match=r"d\.csv: no column 'summary'; columns are: id, text; use --summary-field"):
        read(columns)


def test_wrong_field_type(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "text": "t", "summary": None}])
    with pytest.raises(SummarizeError, match=r"d\.jsonl#a: field 'summary' is null"):
        read(data)


def test_empty_article_or_reference_is_an_error(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "text": "t", "summary": "s"}, {"id": "b", "text": " ", "summary": "s"}])
    with pytest.raises(SummarizeError, match=r"d\.jsonl#b: field 'text' is empty"):
        read(data)


def test_a_bad_record_after_the_limit_is_an_error_too(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "text": "t", "summary": "s"}, {"id": "b", "text": "t"}])
    with pytest.raises(SummarizeError, match=r"d\.jsonl#b: field 'summary' is missing"):
        read(data, limit=1)


def test_duplicate_id_names_both_records(tmp_path):
    data = write_jsonl(
        tmp_path / "d.jsonl",
        [{"id": "a", "text": "t", "summary": "s"}, {"id": "a", "text": "u", "summary": "v"}],
    )
    with pytest.raises(SummarizeError, match=r"d\.jsonl#a: duplicate id 'a' \(records 1 and 2\); give every record its own id"):
        read(data)
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "summary": "x"}, {"id": "a", "summary": "y"}])
    with pytest.raises(SummarizeError, match=r"p\.jsonl#a: duplicate id 'a' \(records 1 and 2\)"):
        read_predictions(predictions, [Record("a", "t", "s")], fields(), MAX_INPUT_CHARS)


def test_empty_data_file(tmp_path):
    data = write_jsonl(tmp_path / "empty.jsonl", [""])
    with pytest.raises(SummarizeError, match=r"empty\.jsonl: has no records; give a dataset whose records have the fields 'id', 'text', 'summary'"):
        read(data)


def test_prediction_for_unknown_id(tmp_path):
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "summary": "x"}, {"id": "zzz", "summary": "y"}])
    with pytest.raises(SummarizeError, match=r"p\.jsonl#zzz: id 'zzz' is not in the data file"):
        read_predictions(predictions, [Record("a", "t", "s")], fields(), MAX_INPUT_CHARS)


def test_record_without_prediction(tmp_path):
    records = [Record("a", "t", "s"), Record("b", "t", "s"), Record("c", "t", "s")]
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "summary": "x"}])
    with pytest.raises(SummarizeError, match=r"p\.jsonl: no prediction for 2 of 3 records, the first id 'b'; predict every record"):
        read_predictions(predictions, records, fields(), MAX_INPUT_CHARS)

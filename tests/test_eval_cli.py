"""`summarize eval`: scores from the CLI, from saved predictions or from a run of an engine."""

import json

import pytest
from helpers import invoke, parse_jsonl, write_jsonl

from summarize import cli

ARTICLES = [
    {
        "id": "a",
        "text": "<p>Москва, 3 марта.</p><p>Правительство утвердило программу ремонта дорог в регионах.&nbsp;Работы начнутся весной.</p>",
        "summary": "правительство утвердило программу ремонта дорог",
    },
    {"id": 2, "text": "Курс рубля снизился на торгах биржи. Аналитики ждут роста к лету. Банк России молчит.", "summary": "курс рубля снизился"},
]


def evaluate(*args):
    return invoke(cli.app, "eval", *args)


@pytest.fixture
def data(tmp_path):
    return write_jsonl(tmp_path / "data.jsonl", ARTICLES)


def test_scores_predictions_without_a_model(data, tmp_path):
    predictions = write_jsonl(
        tmp_path / "p.jsonl",
        [
            {"id": "2", "summary": "Курс рубля снизился"},  # identical after lowercasing: 100 everywhere
            {"id": "a", "summary": "кошка сидит на ковре"},  # nothing in common: 0
        ],
    )
    result = evaluate(data, "--predictions", predictions, "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n"] == 2 and report["predictions"] == str(predictions)
    assert (report["rouge1"], report["rouge2"], report["rougeL"]) == (50.0, 50.0, 50.0)
    assert report["length"] == (len("кошка сидит на ковре") + len("курс рубля снизился")) / 2


def test_lead_engine_run_saved_and_rescored_gives_the_same_numbers(data, tmp_path):
    saved = tmp_path / "saved.jsonl"
    first = evaluate(data, "--engine", "lead", "--length", "short", "--strip-html", "--save-predictions", saved, "-f", "json")
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["engine"], report["model"], report["failed"]) == ("lead", None, 0)
    assert set(report) >= {"n", "rouge1", "rouge2", "rougeL", "chrf", "length", "dup_ngrams"}
    lines = parse_jsonl(saved.read_text(encoding="utf-8"))
    assert lines[0] == {"id": "a", "summary": "Правительство утвердило программу ремонта дорог в регионах. Работы начнутся весной."}  # no dateline
    again = json.loads(evaluate(data, "--predictions", saved, "--strip-html", "-f", "json").stdout)
    assert {k: again[k] for k in ("rouge1", "rouge2", "rougeL", "chrf")} == {k: report[k] for k in ("rouge1", "rouge2", "rougeL", "chrf")}


def test_limit_takes_the_first_records(data, tmp_path):
    saved = tmp_path / "saved.jsonl"
    report = json.loads(evaluate(data, "--engine", "lead", "--limit", "1", "--save-predictions", saved, "-f", "json").stdout)
    assert report["n"] == 1 and [row["id"] for row in parse_jsonl(saved.read_text(encoding="utf-8"))] == ["a"]
    # The first record's prediction is perfect, the last one's shares nothing: only the first may be scored.
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "summary": ARTICLES[0]["summary"]}, {"id": "2", "summary": "кошка сидит на ковре"}])
    scored = json.loads(evaluate(data, "--predictions", predictions, "--limit", "1", "-f", "json").stdout)
    assert (scored["n"], scored["rouge1"], scored["rougeL"]) == (1, 100.0, 100.0)


NEWS = [
    {"id": "m", "text": "Москва, 3 марта. Мэр Москвы Сергей Собянин открыл пять станций метро. Их построили за 2 года.", "summary": "собянин открыл станции"},
    {"id": "r", "text": "Курс рубля снизился на торгах биржи. Аналитики ждут роста к лету.", "summary": "курс рубля снизился"},
]


def test_predictions_are_checked_against_their_articles(tmp_path):
    data = write_jsonl(tmp_path / "news.jsonl", NEWS)
    predictions = write_jsonl(
        tmp_path / "p.jsonl",
        [
            # Names: Москвы and Сергей Собянин are in the article, Казани is not; the number 7 is not either.
            {"id": "m", "summary": "Мэр Москвы Сергей Собянин открыл 7 станций метро в Казани."},
            {"id": "r", "summary": "Курс рубля снизился."},  # nothing to check: counts neither way
        ],
    )
    report = json.loads(evaluate(data, "--predictions", predictions, "-f", "json").stdout)
    assert (report["entity_precision"], report["entities"]) == (66.67, 3)
    assert (report["number_precision"], report["numbers"]) == (0.0, 1)


def test_summaries_without_names_or_numbers_have_no_precision(tmp_path):
    data = write_jsonl(tmp_path / "news.jsonl", NEWS)
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": "m", "summary": "станции открыты"}, {"id": "r", "summary": "курс снизился"}])
    report = json.loads(evaluate(data, "--predictions", predictions, "-f", "json").stdout)
    assert (report["entity_precision"], report["number_precision"], report["entities"], report["numbers"]) == (None, None, 0, 0)
    table = evaluate(data, "--predictions", predictions).stdout
    assert [line.split() for line in table.splitlines() if "precision" in line] == [
        ["│", "entity_precision", "│", "-", "│"],
        ["│", "number_precision", "│", "-", "│"],
    ]


def test_an_engine_run_is_checked_against_its_articles_too(tmp_path):
    # lead copies the article's sentences, so all it names and counts is there.
    data = write_jsonl(tmp_path / "news.jsonl", NEWS)
    report = json.loads(evaluate(data, "--engine", "lead", "--length", "medium", "-f", "json").stdout)
    assert (report["entity_precision"], report["number_precision"]) == (100.0, 100.0)
    assert report["entities"] >= 2 and report["numbers"] >= 1


MT = [
    {"id": 1, "ru": "Курс рубля снизился.", "en": "The rouble fell on Monday."},
    {"id": 2, "ru": "Правительство утвердило программу.", "en": "The government approved the programme."},
]


def sacrebleu_scores(hypotheses: list[str], references: list[str]) -> tuple[float, float]:
    """BLEU and chrF as sacreBLEU itself computes them (its defaults), rounded as the report is."""
    import sacrebleu

    return round(sacrebleu.corpus_bleu(hypotheses, [references]).score, 2), round(sacrebleu.corpus_chrf(hypotheses, [references]).score, 2)


def test_translation_task_with_the_tiny_translator(tmp_path, fast_config):
    data = write_jsonl(tmp_path / "mt.jsonl", MT)
    saved = tmp_path / "saved.jsonl"
    result = evaluate(data, "--task", "translate", "--config", fast_config, "--save-predictions", saved, "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["task"], report["translator"], report["n"]) == ("translate", "tiny-marian", 2)
    assert "entity_precision" not in report  # a translation has no article to check against
    hypotheses = [row["en"] for row in parse_jsonl(saved.read_text(encoding="utf-8"))]
    assert len(hypotheses) == 2 and all(hypotheses)
    assert (report["bleu"], report["chrf"]) == sacrebleu_scores(hypotheses, [row["en"] for row in MT])


def test_translation_predictions_score_as_sacrebleu_does(tmp_path):
    data = write_jsonl(tmp_path / "mt.jsonl", MT)
    hypotheses = ["The rouble fell on Tuesday.", "A government approved a programme."]
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": row["id"], "en": h} for row, h in zip(MT, hypotheses)])
    report = json.loads(evaluate(data, "--task", "translate", "--predictions", predictions, "-f", "json").stdout)
    bleu, chrf = sacrebleu_scores(hypotheses, [row["en"] for row in MT])
    assert (report["n"], report["bleu"], report["chrf"]) == (2, bleu, chrf) and 0 < bleu < 100 and 0 < chrf < 100


def test_table_is_the_default(data):
    out = evaluate(data, "--engine", "lead").stdout
    assert "rouge1" in out and "dup_ngrams" in out and "lead" in out


def test_a_missing_model_is_an_error_not_a_fallback(data, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[summarizers.ghost]\nmodel = "nobody/ghost"\nmax_input_tokens = 100\n', encoding="utf-8")
    result = evaluate(data, "--model", "ghost", "--config", config)
    assert result.exit_code == 2 and "nobody/ghost (preset ghost) is not in the local cache" in result.stderr


def test_broken_data_is_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "x"}\n', encoding="utf-8")
    result = evaluate(bad, "--engine", "lead")
    assert result.exit_code == 2
    assert result.stderr.strip() == f'summarize: error: {bad}, line 1: missing field \'summary\'; every line needs {{"id": ..., "text": ..., "summary": ...}}'

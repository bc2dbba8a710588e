"""`summarize eval`: scores from the CLI, from saved predictions or from a run of an engine."""

import json
import uuid
from pathlib import Path

import pytest
from helpers import invoke, parse_jsonl, read_output, unwritable_folder, write_dataset, write_jsonl

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


def test_the_table_shows_file_names_as_they_are_never_as_markup_or_raw_escapes(tmp_path, monkeypatch):
    # Rich reads "[red]" as a style and drops it from the name; an escape would reach the terminal raw.
    monkeypatch.chdir(tmp_path)  # short names: a table cell wraps a long path
    data = write_jsonl(Path("[red]news\x1b[31m.jsonl"), ARTICLES)
    predictions = write_jsonl(Path("[bold]p.jsonl"), [{"id": "a", "summary": "ремонт дорог"}, {"id": "2", "summary": "курс рубля"}])
    result = evaluate(data, "--predictions", predictions)
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert "[red]news\\x1b[31m.jsonl" in result.stdout and "[bold]p.jsonl" in result.stdout


def test_a_missing_model_is_an_error_not_a_fallback(data, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[summarizers.ghost]\nmodel = "nobody/ghost"\nmax_input_tokens = 100\n', encoding="utf-8")
    result = evaluate(data, "--model", "ghost", "--config", config)
    assert result.exit_code == 2 and "nobody/ghost (preset ghost) is not in the local cache" in result.stderr


def test_broken_data_is_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "x"}\n', encoding="utf-8")
    result = evaluate(bad, "--engine", "lead")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"summarize: error: {bad}#1: field 'summary' is missing; use --summary-field to pick the reference summary's field "
        "(eval scores whole data: fix the record or remove it)\n"
    )


# ---------------------------------------------------------------- every dataset format, field flags

RENAMED = [{"key": str(r["id"]), "body": r["text"], "headline": r["summary"]} for r in ARTICLES]
FIELD_FLAGS = ["--text-field", "body", "--summary-field", "headline", "--id-field", "key"]
SCORES = ("n", "rouge1", "rouge2", "rougeL", "chrf", "length", "dup_ngrams")


def scores(result) -> dict:
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    return {k: report[k] for k in SCORES}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_csv_and_parquet_data_with_the_field_flags_score_as_jsonl_does(data, tmp_path, suffix):
    other = write_dataset(tmp_path / f"renamed{suffix}", RENAMED)
    expected = scores(evaluate(data, "-e", "lead", "--strip-html", "-f", "json"))
    assert scores(evaluate(other, "-e", "lead", "--strip-html", "-f", "json", *FIELD_FLAGS)) == expected


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_csv_and_parquet_predictions_round_trip(data, tmp_path, suffix):
    saved = tmp_path / f"saved{suffix}"
    first = scores(evaluate(data, "-e", "lead", "--save-predictions", saved, "-f", "json"))
    columns, rows = read_output(saved)
    assert columns == ["id", "summary"] and [row["id"] for row in rows] == ["a", "2"] and all(row["summary"] for row in rows)
    assert scores(evaluate(data, "--predictions", saved, "-f", "json")) == first


def test_the_tiny_model_on_parquet_data_saves_predictions_that_rescore_the_same(tmp_path, fast_config):
    data = write_dataset(tmp_path / "news.parquet", RENAMED)
    saved = tmp_path / "saved.csv"
    first = evaluate(data, "--config", fast_config, "--save-predictions", saved, "-f", "json", *FIELD_FLAGS)
    report = json.loads(first.stdout)
    assert (report["engine"], report["model"], report["n"]) == ("abstractive", "tiny-t5", 2), first.stderr
    columns, rows = read_output(saved)
    assert columns == ["id", "summary"] and [row["id"] for row in rows] == ["a", "2"]
    assert scores(evaluate(data, "--predictions", saved, "-f", "json", *FIELD_FLAGS)) == scores(first)


def test_data_and_predictions_in_s3(s3, tmp_path):
    bucket = f"eval-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    local = write_dataset(tmp_path / "renamed.csv", RENAMED)
    s3.put_object(Bucket=bucket, Key="data/renamed.csv", Body=local.read_bytes())
    uri = f"s3://{bucket}/data/renamed.csv"
    saved = tmp_path / "saved.parquet"
    first = evaluate(uri, "-e", "lead", "--save-predictions", saved, "-f", "json", *FIELD_FLAGS)
    assert json.loads(first.stdout)["data"] == uri
    s3.put_object(Bucket=bucket, Key="p/saved.parquet", Body=saved.read_bytes())
    again = evaluate(uri, "--predictions", f"s3://{bucket}/p/saved.parquet", "-f", "json", *FIELD_FLAGS)
    assert scores(again) == scores(first)
    missing = evaluate(f"s3://{bucket}/data/none.csv", "-e", "lead")
    assert missing.exit_code == 2 and missing.stderr.count("\n") == 1 and "none.csv" in missing.stderr


def test_translation_data_takes_the_field_flags_too(tmp_path):
    data = write_dataset(tmp_path / "mt.csv", [{"id": row["id"], "source": row["ru"], "target": row["en"]} for row in MT])
    predictions = write_dataset(tmp_path / "p.parquet", [{"id": str(row["id"]), "hyp": row["en"]} for row in MT])
    flags = ["--text-field", "source", "--summary-field", "target", "--prediction-field", "hyp"]
    report = json.loads(evaluate(data, "--task", "translate", "--predictions", predictions, "-f", "json", *flags).stdout)
    assert (report["n"], report["bleu"], report["chrf"]) == (2, 100.0, 100.0)


# ---------------------------------------------------------------- --save-predictions checked first


def test_save_predictions_where_nothing_can_be_written_is_one_line_before_any_work(data, fast_config, monkeypatch):
    from summarize import pipeline

    def no_model(*args, **kwargs):
        raise AssertionError("a model was loaded before --save-predictions was checked")

    monkeypatch.setattr(pipeline.Pipeline, "__init__", no_model)
    saved = unwritable_folder() / "p.jsonl"
    result = evaluate(data, "--config", fast_config, "--save-predictions", saved, "-f", "json")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"summarize: error: --save-predictions {saved}: cannot write there (") and result.stderr.count("\n") == 1


def test_an_existing_predictions_file_is_replaced_only_with_overwrite(data, tmp_path):
    saved = tmp_path / "p.jsonl"
    saved.write_text("mine\n", encoding="utf-8")
    refused = evaluate(data, "-e", "lead", "--save-predictions", saved, "-f", "json")
    assert refused.exit_code == 2 and refused.stdout == "" and refused.stderr.count("\n") == 1
    assert "already exists; add --overwrite" in refused.stderr and saved.read_text(encoding="utf-8") == "mine\n"
    replaced = evaluate(data, "-e", "lead", "--save-predictions", saved, "--overwrite", "-f", "json")
    assert replaced.exit_code == 0, replaced.stderr
    assert [row["id"] for row in parse_jsonl(saved.read_text(encoding="utf-8"))] == ["a", "2"]


def test_a_symlinked_predictions_file_gets_its_target_replaced_and_the_link_stays(data, tmp_path):
    target = tmp_path / "kept" / "p.jsonl"
    target.parent.mkdir()
    target.write_text("mine\n", encoding="utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    replaced = evaluate(data, "-e", "lead", "--save-predictions", link, "--overwrite", "-f", "json")
    assert replaced.exit_code == 0, replaced.stderr
    assert link.is_symlink() and link.resolve() == target
    assert [row["id"] for row in parse_jsonl(target.read_text(encoding="utf-8"))] == ["a", "2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl", "kept", "link.jsonl"] and list(target.parent.iterdir()) == [target]
    bare = tmp_path / "kept" / "predictions"  # a target without a dataset's extension: the format is the link's name's
    bare.write_text("mine\n", encoding="utf-8")
    (tmp_path / "bare.csv").symlink_to(bare)
    again = evaluate(data, "-e", "lead", "--save-predictions", tmp_path / "bare.csv", "--overwrite", "-f", "json")
    assert again.exit_code == 0, again.stderr
    assert bare.read_text(encoding="utf-8").splitlines()[0] == "id,summary"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--overwrite"], "--overwrite is for --save-predictions FILE"),
        (["--save-predictions", "p.txt"], "--save-predictions p.txt: a dataset must end in .jsonl, .csv, .parquet"),
        (["--save-predictions", "no/such/folder/p.jsonl"], "the folder no/such/folder does not exist"),
        (["--prediction-field", "x"], "--prediction-field names the field of --predictions FILE"),
    ],
)
def test_what_cannot_be_saved_is_one_line(data, args, said):
    result = evaluate(data, "-e", "lead", *args)
    assert result.exit_code == 2 and result.stdout == "" and result.stderr.count("\n") == 1
    assert said in result.stderr, result.stderr


def test_a_run_that_fails_leaves_no_predictions_file_and_no_temporary_file(data, tmp_path, monkeypatch):
    from summarize.errors import SummarizeError
    from summarize.evaluate import run

    def failing(*args, **kwargs):
        raise SummarizeError("the model broke")

    monkeypatch.setattr(run, "predict_summaries", failing)
    out = tmp_path / "out"
    out.mkdir()
    result = evaluate(data, "-e", "lead", "--save-predictions", out / "p.parquet")
    assert result.exit_code == 2 and "the model broke" in result.stderr
    assert list(out.iterdir()) == []


def test_ctrl_c_says_nothing_was_scored_or_saved_and_exits_130(data, tmp_path, monkeypatch):
    from summarize.evaluate import run

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "predict_summaries", interrupted)
    out = tmp_path / "out"
    out.mkdir()
    result = evaluate(data, "-e", "lead", "--save-predictions", out / "p.csv")
    assert result.exit_code == 130 and result.stdout == ""
    assert result.stderr == f"summarize: stopped by SIGINT: nothing scored, nothing written to {out / 'p.csv'}\n"
    assert list(out.iterdir()) == []


def test_a_route_is_measured_on_the_users_data_with_to(tmp_path, fast_config, models):
    """--to de: the route into German (the tiny Marian big under opus-mt-tc-big-zle-de's id) against the data's `de` references."""
    data = write_jsonl(tmp_path / "de.jsonl", [{"id": row["id"], "ru": row["ru"], "de": f"Übersetzung {row['id']}."} for row in MT])
    saved = tmp_path / "saved.jsonl"
    result = evaluate(data, "--task", "translate", "--to", "de", "--config", fast_config, "--save-predictions", saved, "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["task"], report["translator"], report["n"]) == ("translate", "opus-mt-tc-big-zle-de", 2)
    hypotheses = [row["de"] for row in parse_jsonl(saved.read_text(encoding="utf-8"))]
    assert len(hypotheses) == 2 and all(hypotheses)
    assert (report["bleu"], report["chrf"]) == sacrebleu_scores(hypotheses, [f"Übersetzung {row['id']}." for row in MT])

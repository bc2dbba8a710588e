"""`summarize check DATA`: summaries made elsewhere, checked against their articles with natasha's
real NER and the number reader, on Russian news written for these tests."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import invoke, parse_jsonl, write_dataset, write_jsonl

from summarize import cli

ARTICLE = (
    "Правительство Татарстана выделило деньги на ремонт школ в Казани. Работы начнутся летом и закончатся к сентябрю. "
    "Министр образования республики Ильсур Хадиуллин сообщил, что обновят 37 зданий."
)
FAITHFUL = "Татарстан отремонтирует 37 школ в Казани, сообщил министр образования Ильсур Хадиуллин."
SWAPPED = "Министр образования Башкирии Ильсур Хадиуллин сообщил, что в Уфе обновят 37 школ."
CHANGED = "Татарстан отремонтирует 73 школы в Казани, сообщил министр образования Ильсур Хадиуллин."
SECOND = "В Новосибирске открылся новый мост через Обь длиной 1,5 километра. Движение по нему запустили в пятницу."
SECOND_SUMMARY = "В Новосибирске открыли мост через Обь длиной 1,5 километра."


def check(*args):
    return invoke(cli.app, "check", *args)


def records(*pairs: tuple[str, str]) -> list[dict]:
    return [{"id": f"r{i}", "text": text, "summary": summary} for i, (text, summary) in enumerate(pairs, 1)]


def flagged(row: dict) -> set[tuple[str, str, str]]:
    return {(flag["text"], flag["kind"], flag["field"]) for flag in row["unsupported"]}


def test_faithful_summaries_pass_with_exit_0(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", records((ARTICLE, FAITHFUL), (SECOND, SECOND_SUMMARY)))
    result = check(data, "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert parse_jsonl(result.stdout) == [{"id": "r1", "unsupported": [], "error": None}, {"id": "r2", "unsupported": [], "error": None}]
    assert result.stderr == "summarize: 2 records: 0 with spans their articles lack, 0 failed\n"


def test_a_swapped_name_and_a_changed_number_exit_1_and_are_named(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", records((ARTICLE, FAITHFUL), (ARTICLE, SWAPPED), (ARTICLE, CHANGED)))
    result = check(data, "-f", "jsonl")
    assert result.exit_code == 1, result.stderr
    faithful, swapped, changed = parse_jsonl(result.stdout)
    assert faithful["unsupported"] == []
    assert {"Башкирии", "Уфе"} <= {text for text, kind, _ in flagged(swapped) if kind == "name"}
    assert flagged(changed) == {("73", "number", "summary_ru")}
    assert result.stderr.endswith("summarize: 3 records: 2 with spans their articles lack, 0 failed\n")
    plain = check(data, "-f", "plain").stdout.splitlines()
    assert plain[0] == "r1: nothing unsupported" and plain[2] == 'r3: Not in the article: "73" (number)'


def test_a_translation_that_changed_a_number_is_flagged_in_its_field(tmp_path):
    row = {"id": "t", "text": ARTICLE, "summary": FAITHFUL, "en": "Tatarstan will renovate 73 schools in Kazan, said education minister Ilsur Khadiullin."}
    result = check(write_jsonl(tmp_path / "data.jsonl", [row]), "--translation-field", "en", "-f", "json")
    assert result.exit_code == 1, result.stderr
    (only,) = json.loads(result.stdout)
    assert ("73", "number", "summary_en") in flagged(only) and not any(field == "summary_ru" for _, _, field in flagged(only))


def test_a_record_without_its_translation_still_has_its_russian_summary_checked(tmp_path):
    rows = [{"id": "t", "text": ARTICLE, "summary": CHANGED}, {"id": "u", "text": ARTICLE, "summary": FAITHFUL, "en": ""}]
    result = check(write_jsonl(tmp_path / "data.jsonl", rows), "--translation-field", "en", "-f", "json")
    assert result.exit_code == 1, result.stderr
    missing, empty = json.loads(result.stdout)
    assert flagged(missing) == {("73", "number", "summary_ru")} and empty["unsupported"] == []
    assert "its translation is not checked, its Russian summary is" in missing["error"] and '"73"' in missing["error"]
    assert "its translation is not checked, its Russian summary is: nothing unsupported" in empty["error"]
    plain = check(write_jsonl(tmp_path / "data.jsonl", rows), "--translation-field", "en", "-f", "plain")
    assert '"73"' in plain.stderr and "summarize: 2 records: 1 with spans their articles lack, 2 failed" in plain.stderr


def test_rich_marks_the_spans_in_the_summary(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", records((ARTICLE, FAITHFUL), (ARTICLE, CHANGED)))
    shown = check(data, "-f", "rich").stdout
    assert "r1: nothing unsupported" in shown
    assert "─ r2 ─" in shown and "отремонтирует 73 школы" in shown and 'Not in the article: "73" (number)' in shown


def test_a_record_without_its_summary_is_its_own_error_and_the_others_are_checked(tmp_path):
    rows = [*records((ARTICLE, FAITHFUL)), {"id": "r2", "text": ARTICLE}, {"id": "r3", "text": ARTICLE, "summary": ""}]
    data = write_jsonl(tmp_path / "data.jsonl", rows)
    result = check(data, "-f", "jsonl")
    assert result.exit_code == 1
    assert [(row["id"], row["unsupported"]) for row in parse_jsonl(result.stdout)] == [("r1", []), ("r2", None), ("r3", None)]
    errors = [line for line in result.stderr.splitlines() if line.startswith("summarize: error:")]
    assert errors == [
        f"summarize: error: {data}#r2: field 'summary' is missing; use --summary-field to pick the summary's field",
        f"summarize: error: {data}#r3: field 'summary' is empty; no summary in it",
    ]
    assert check(data, "-f", "plain").stdout == "r1: nothing unsupported\n"  # text formats leave failures to stderr


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_missing_column_is_one_line_and_exit_2(tmp_path, suffix):
    data = write_dataset(tmp_path / f"data{suffix}", [{"id": "r1", "text": ARTICLE, "abstract": FAITHFUL}])
    result = check(data)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"summarize: error: {data}: no column 'summary'; columns are: id, text, abstract; use --summary-field to pick one\n"
    fixed = check(data, "--summary-field", "abstract", "-f", "jsonl")
    assert fixed.exit_code == 0 and parse_jsonl(fixed.stdout) == [{"id": "r1", "unsupported": [], "error": None}]


@pytest.mark.parametrize(("command", "given", "said"), [("check", "-", "not from stdin"), ("eval", "https://example.com/news.jsonl", "not from a web address")])
def test_stdin_or_a_web_address_as_data_is_one_line_saying_to_save_it_first(command, given, said):
    result = invoke(cli.app, command, given, *(["-e", "lead"] if command == "eval" else []))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"summarize: error: {given}: a dataset is read from a file or a storage URI (s3://, gs://…), {said}; save it to a file first\n"


def test_a_missing_file_is_one_line_and_exit_2(tmp_path):
    result = check(tmp_path / "nope.jsonl")
    assert result.exit_code == 2 and result.stderr == f"summarize: error: {tmp_path / 'nope.jsonl'}: no such file; check the path\n"


def test_output_writes_a_dataset_and_never_replaces_one_without_overwrite(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", records((ARTICLE, FAITHFUL), (ARTICLE, CHANGED)))
    out = tmp_path / "verdicts.parquet"
    assert check(data, "--output", out, "-f", "plain").exit_code == 1
    table = pq.read_table(out)
    assert table.schema.names == ["id", "unsupported", "error"]
    assert table.schema.field("unsupported").type == pa.list_(pa.struct([("text", pa.string()), ("kind", pa.string()), ("field", pa.string())]))
    assert table.to_pylist() == [
        {"id": "r1", "unsupported": [], "error": None},
        {"id": "r2", "unsupported": [{"text": "73", "kind": "number", "field": "summary_ru"}], "error": None},
    ]
    before = out.read_bytes()
    again = check(write_jsonl(tmp_path / "other.jsonl", records((ARTICLE, FAITHFUL))), "--output", out)
    assert again.exit_code == 2 and "already exists; add --skip-existing to resume it, or --overwrite to replace it" in again.stderr
    assert out.read_bytes() == before
    replaced = check(tmp_path / "other.jsonl", "--output", out, "--overwrite")
    assert replaced.exit_code == 0 and pq.read_table(out).to_pylist() == [{"id": "r1", "unsupported": [], "error": None}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl", "other.jsonl", "verdicts.parquet"]  # no temporary file left


def test_output_that_is_the_input_or_not_a_dataset_is_refused_before_any_work(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", records((ARTICLE, FAITHFUL)))
    same = check(data, "--output", data, "--overwrite")
    assert same.exit_code == 2 and "is an input of this run and would be overwritten" in same.stderr
    wrong = check(data, "--output", tmp_path / "out.txt")
    assert wrong.exit_code == 2 and wrong.stderr == f"summarize: error: {tmp_path / 'out.txt'}: an output dataset must end in .jsonl, .csv, .parquet\n"


def test_a_repeated_id_is_that_records_error_without_output_too_and_a_line_number_counts(tmp_path):
    # The second record has no id: its line number, 2, is its id, which the first record gave itself.
    rows = [{"id": "2", "text": ARTICLE, "summary": FAITHFUL}, {"text": ARTICLE, "summary": CHANGED}, {"id": "2", "text": SECOND, "summary": SECOND_SUMMARY}]
    result = check(write_jsonl(tmp_path / "data.jsonl", rows), "-f", "jsonl")
    assert result.exit_code == 1
    first, *again = parse_jsonl(result.stdout)
    assert first == {"id": "2", "unsupported": [], "error": None}
    assert [row["unsupported"] for row in again] == [None, None] and all("id '2' again (first at record 1 of" in row["error"] for row in again)
    assert result.stderr.count("ids must be unique") == 2 and result.stderr.endswith("3 records: 0 with spans their articles lack, 2 failed\n")


def test_an_earlier_runs_output_is_checked_with_its_articles_joined_by_id_from_the_corpus(tmp_path):
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [{"id": "a", "text": ARTICLE}, {"id": "b", "text": SECOND}, {"id": "c", "text": SECOND}])
    out = tmp_path / "out.jsonl"
    made = invoke(cli.app, corpus, "--engine", "lead", "--output", out)  # a real run's --output: no article text in it
    assert made.exit_code == 0, made.stderr
    rows = parse_jsonl(out.read_text(encoding="utf-8"))
    assert "text" not in rows[0]
    rows[1]["summary_ru"] = "В Новосибирске открыли мост через Обь длиной 2,5 километра."
    rows.append({**rows[0], "id": "z"})  # in no article of the corpus
    earlier = write_jsonl(tmp_path / "earlier.jsonl", list(reversed(rows)))  # joined by id, not by order
    result = check(earlier, "--articles", corpus, "--summary-field", "summary_ru", "-f", "jsonl")
    assert result.exit_code == 1, result.stderr
    by_id = {row["id"]: row for row in parse_jsonl(result.stdout)}
    assert by_id["a"]["unsupported"] == [] and by_id["c"]["unsupported"] == []
    assert flagged(by_id["b"]) == {("2,5", "number", "summary_ru")}
    assert by_id["z"]["unsupported"] is None and "no article with id 'z' in" in by_id["z"]["error"]


def test_strip_html_checks_the_text_a_reader_sees(tmp_path):
    article = "<p>Мэр Москвы <b>Сергей Собянин</b> сообщил, что на&nbsp;праздник пришли 60&nbsp;тысяч человек.</p>"
    row = {"id": "h", "text": article, "summary": "<p><b>Сергей Собянин</b>: на праздник пришли 60&nbsp;тысяч человек.</p>"}
    data = write_jsonl(tmp_path / "data.jsonl", [row])
    result = check(data, "--strip-html", "-f", "jsonl")
    assert result.exit_code == 0, result.stdout
    assert parse_jsonl(result.stdout) == [{"id": "h", "unsupported": [], "error": None}]
    assert result.stderr == "summarize: 1 record: 0 with spans their articles lack, 0 failed\n"  # one record, not "1 records"
    changed = write_jsonl(tmp_path / "changed.jsonl", [{**row, "summary": "<b>Сергей Лавров</b>: пришли 70&nbsp;тысяч человек."}])
    assert {text for text, _, _ in flagged(parse_jsonl(check(changed, "--strip-html", "-f", "jsonl").stdout)[0])} >= {"Сергей Лавров", "70 тысяч"}


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_a_misspelt_summary_field_is_one_line_and_exit_2_in_every_format(tmp_path, suffix):
    data = write_dataset(tmp_path / f"data{suffix}", records((ARTICLE, FAITHFUL), (SECOND, SECOND_SUMMARY)))
    result = check(data, "--summary-field", "summry", "-f", "jsonl")
    assert result.exit_code == 2 and result.stdout.strip() in ("", "[]")
    (line,) = result.stderr.splitlines()
    assert "'summry'" in line and "--summary-field" in line


def test_a_later_record_without_the_summary_field_is_only_its_own_error(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", [*records((ARTICLE, FAITHFUL)), {"id": "r2", "text": ARTICLE}])
    result = check(data, "-f", "jsonl")
    assert result.exit_code == 1 and [row["error"] is None for row in parse_jsonl(result.stdout)] == [True, False]

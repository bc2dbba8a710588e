"""Datasets in and out, on real JSONL, CSV and Parquet files: records, bad records, file errors,
resume, what an interrupted write leaves, file modes, and memory that stays flat as files grow."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import read_output, write_dataset

from summarize.documents import Document, Result
from summarize.errors import SummarizeError
from summarize.inputs.datasets import BadRecord, Fields, read_dataset
from summarize.outputs import dataset as dataset_output
from summarize.outputs import tables
from summarize.outputs.dataset import DatasetWriter
from summarize.outputs.files import same_file
from summarize.storage import is_dataset

FORMATS = [".jsonl", ".csv", ".parquet"]
# The columns of every output (id first, error last); older outputs, which lack the later ones, resume as they are.
COLUMNS = (
    "id source title url date summary_ru summary_en engine model translator translators language language_confidence source_translator backend input_tokens used_tokens truncated chunks seconds usage warnings unsupported error"
).split()
ARTICLE = "Правительство утвердило программу ремонта дорог. Работы начнутся весной."


@dataclasses.dataclass(frozen=True)
class Record(Document):
    """A Document as the dataset reader gives it, with its record's id beside it."""

    id: str = ""


def read(path: Path, fields: Fields = Fields(), max_chars: int = 10_000) -> list[Record | BadRecord]:
    return [found if isinstance(found, BadRecord) else Record(**vars(found), id=rid) for rid, found in read_dataset(path, fields, max_chars)]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


# Reading


def test_importing_the_module_does_not_import_pyarrow():
    code = "import sys, summarize.inputs.datasets, summarize.outputs.dataset; sys.exit('pyarrow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_is_dataset_goes_by_extension():
    assert is_dataset(Path("a.jsonl")) and is_dataset("b.CSV") and is_dataset(Path("c.parquet"))
    assert not is_dataset(Path("a.json")) and not is_dataset("a.txt") and not is_dataset("parquet")


@pytest.mark.parametrize("suffix", FORMATS)
def test_records_become_documents_with_id_title_and_source(tmp_path, suffix):
    path = write_dataset(
        tmp_path / f"news{suffix}",
        [
            {"id": "a1", "text": ARTICLE, "title": "Дороги", "url": "https://example.ru/1", "date": "2024-05-01"},
            {"id": "a2", "text": "Второй текст.\r\nНовая строка.", "title": "", "url": None, "date": None},
        ],
    )
    first, second = read(path)
    assert first == Record(f"{path}#a1", ARTICLE, title="Дороги", url="https://example.ru/1", date="2024-05-01", id="a1")
    assert second == Record(f"{path}#a2", "Второй текст.\nНовая строка.", id="a2")


@pytest.mark.parametrize("suffix", FORMATS)
def test_custom_text_id_and_title_fields(tmp_path, suffix):
    path = write_dataset(
        tmp_path / f"news{suffix}",
        [
            {"uid": "x", "body": ARTICLE, "headline": "Заголовок", "text": "не тот текст", "title": "не тот"},
        ],
    )
    [doc] = read(path, Fields(text="body", id="uid", title="headline"))
    assert (doc.id, doc.text, doc.title, doc.source) == ("x", ARTICLE, "Заголовок", f"{path}#x")


@pytest.mark.parametrize("suffix", FORMATS)
def test_without_an_id_field_records_are_numbered_from_one(tmp_path, suffix):
    path = write_dataset(tmp_path / f"news{suffix}", [{"text": f"{ARTICLE} {n}"} for n in range(3)])
    docs = read(path)
    assert [d.id for d in docs] == ["1", "2", "3"] and docs[2].source == f"{path}#3"
    assert all(d.title is None for d in docs)


def test_numeric_ids_become_strings(tmp_path):
    for suffix in (".jsonl", ".parquet"):
        path = write_dataset(tmp_path / f"news{suffix}", [{"id": 17, "text": ARTICLE}])
        assert [d.id for d in read(path)] == ["17"]


def test_jsonl_bad_records_are_errors_with_their_ids_and_the_others_go_on(tmp_path):
    path = tmp_path / "news.jsonl"
    lines = [
        {"id": 1, "text": ARTICLE},
        {"id": 2, "body": ARTICLE},
        {"id": 3, "text": "   "},
        {"id": 4, "text": 42},
        {"id": 5, "text": None},
        '{"id": 6, "text": "unterminated',
        "[1, 2]",
        "",
        {"id": 9, "text": "Я" * 101},
        {"id": [9], "text": ARTICLE},
        {"id": 11, "text": ARTICLE, "title": ["not", "text"]},
    ]
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    got = read(path, max_chars=100)
    errors = {r.id: r.error for r in got if isinstance(r, BadRecord)}
    assert [r.id for r in got if isinstance(r, Document)] == ["1", "11"]
    assert errors == {
        "2": "field 'text' is missing; use --text-field to pick the article's field",
        "3": "field 'text' is empty; nothing to summarise",
        "4": "field 'text' is a number, not text; use --text-field to pick the article's field",
        "5": "field 'text' is null; use --text-field to pick the article's field",
        "line 6": "not valid JSON (Unterminated string starting at: column 19)",
        "line 7": "a list, not a JSON object",
        "9": "text is 101 characters long, over the limit of 100; split it into articles, or raise --max-input-chars",
        "line 10": "field 'id' is a list, not a string or whole number; use --id-field to pick a column of unique ids",
    }
    assert next(r for r in got if r.id == "line 6").source == f"{path}#line 6"
    assert got[-1].warnings == ("field 'title' is a list, not text; it is left out",)


def test_a_jsonl_line_too_long_for_a_record_is_refused_without_holding_it(tmp_path):
    path = tmp_path / "array.jsonl"
    array = json.dumps([{"id": i, "text": ARTICLE} for i in range(60_000)], ensure_ascii=False)  # 10 MB, one line
    path.write_text(array + "\n" + json.dumps({"id": "next", "text": ARTICLE}) + "\n", encoding="utf-8")
    tracemalloc.start()
    try:
        first, second = read(path, max_chars=1_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert first == BadRecord(
        f"{path}#line 1",
        "line 1",
        "longer than 1 054 576 bytes, over --max-input-chars (is the file one JSON document rather than JSON Lines?)",
    )
    assert second.id == "next" and path.stat().st_size > 9 * 2**20 and peak < 3 * 2**20


def test_csv_bad_records_and_big_multiline_fields(tmp_path):
    big = "Абзац текста.\n" * 20_000  # 280 000 characters: over csv's default field limit of 131 072
    path = write_dataset(
        tmp_path / "news.csv",
        [
            {"id": "a", "text": big},
            {"id": "b", "text": ""},
            {"id": "", "text": ARTICLE},
            {"id": "d", "text": ARTICLE},
        ],
    )
    with open(path, "a", encoding="utf-8", newline="") as f:
        f.write("e\r\n")  # a short row: no text cell at all
    a, b, c, d, e = read(path, max_chars=300_000)
    assert isinstance(a, Document) and a.text == big and isinstance(d, Document)
    assert (b.id, b.error) == ("b", "field 'text' is empty; nothing to summarise")
    assert (c.id, c.error) == ("record 3", "field 'id' is empty; use --id-field to pick a column of unique ids")
    assert (e.id, e.error) == ("e", "field 'text' is null; use --text-field to pick the article's field")


def test_parquet_null_and_overlong_texts_are_bad_records(tmp_path):
    path = write_dataset(tmp_path / "news.parquet", [{"id": "a", "text": None}, {"id": "b", "text": "Я" * 81}, {"id": "c", "text": ARTICLE}])
    a, b, c = read(path, max_chars=80)
    assert isinstance(a, BadRecord) and "is null" in a.error
    assert isinstance(b, BadRecord) and "over the limit of 80" in b.error
    assert isinstance(c, Document)


def test_parquet_dates_become_iso_8601(tmp_path):
    import datetime

    path = write_dataset(tmp_path / "news.parquet", [{"text": ARTICLE, "date": datetime.datetime(2024, 5, 1, 12, 30)}])
    assert read(path)[0].date == "2024-05-01T12:30:00"


def one_line_error(path: Path, fields: Fields = Fields(), max_chars: int = 10_000) -> str:
    with pytest.raises(SummarizeError) as caught:
        read(path, fields, max_chars)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message.removeprefix(f"{path}: ")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_missing_text_column_names_the_columns_and_the_option(tmp_path, suffix):
    path = write_dataset(tmp_path / f"news{suffix}", [{"id": "1", "body": ARTICLE}])
    assert one_line_error(path) == "no column 'text'; columns are: id, body; use --text-field to pick one"
    assert one_line_error(path, Fields(text="body", title="headline")) == ("no column 'headline'; columns are: id, body; use --title-field to pick one")


def test_file_level_errors_are_one_line_naming_the_file_and_the_fix(tmp_path):
    cp1251 = tmp_path / "cp1251.jsonl"
    cp1251.write_bytes(json.dumps({"text": ARTICLE}, ensure_ascii=False).encode("cp1251"))
    assert one_line_error(cp1251) == "line 1 is not UTF-8; JSONL must be UTF-8 (convert it, e.g. iconv -f cp1251 -t utf-8)"
    cp1251_csv = tmp_path / "cp1251.csv"
    cp1251_csv.write_bytes(f"id,text\n1,{ARTICLE}\n".encode("cp1251"))
    assert "is not UTF-8" in one_line_error(cp1251_csv)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert one_line_error(empty) == "is empty; a CSV dataset needs a header row naming its columns"
    unclosed = tmp_path / "unclosed.csv"
    unclosed.write_text('id,text\n1,"' + "текст " * 100, encoding="utf-8")
    assert "cannot read record 1 as CSV" in one_line_error(unclosed, max_chars=100)
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(b"PAR1" + os.urandom(200))
    assert one_line_error(damaged).startswith("is not a Parquet file or is damaged (")
    numbers = write_dataset(tmp_path / "numbers.parquet", [{"text": 1}])
    assert one_line_error(numbers) == "column 'text' holds numbers, not text; use --text-field to pick the article's column"
    assert one_line_error(tmp_path / "missing.jsonl") == "no such file; check the path"
    (tmp_path / "folder.csv").mkdir()
    assert one_line_error(tmp_path / "folder.csv") == "is a folder, not a dataset file"


@pytest.mark.parametrize(
    "values, words",
    [
        (pa.array([1.5]), "numbers"),
        (pa.array([True]), "booleans"),
        (pa.array([datetime.date(2026, 1, 2)]), "dates"),
        (pa.array([b"x"]), "bytes (binary data)"),
        (pa.array([[1]]), "lists"),
        (pa.array([{"a": 1}]), "objects"),
        (pa.array([7]).dictionary_encode(), "numbers"),
    ],
)
def test_a_column_that_is_not_text_is_named_in_words_not_arrow_types(tmp_path, values, words):
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"text": values}), path)
    assert one_line_error(path) == f"column 'text' holds {words}, not text; use --text-field to pick the article's column"


@pytest.mark.parametrize("large", [False, True])
def test_dictionary_text_columns_are_read_as_text(tmp_path, large):
    # pandas writes a 'category' column as dictionary<values=string>
    kind = pa.large_string() if large else pa.string()
    texts = pa.array([ARTICLE, ARTICLE + " Ещё.", ARTICLE], type=kind).dictionary_encode()
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"id": ["a", "b", "c"], "text": texts, "title": pa.array(["Т", "Т", None]).dictionary_encode()}), path)
    got = read(path)
    assert [(r.id, r.text, r.title) for r in got] == [("a", ARTICLE, "Т"), ("b", ARTICLE + " Ещё.", "Т"), ("c", ARTICLE, None)]


@pytest.mark.parametrize("separator, words", [(";", "semicolons"), ("\t", "tabs")])
def test_a_csv_separated_otherwise_than_by_commas_gets_a_hint(tmp_path, separator, words):
    path = tmp_path / "news.csv"
    path.write_text(f"id{separator}text\n1{separator}{ARTICLE}\n", encoding="utf-8")
    assert one_line_error(path) == (
        f"no column 'text'; columns are: id{separator}text; use --text-field to pick one "
        f"(the header is separated by {words}: a CSV dataset must be comma-separated; save it with commas)"
    )


def test_a_parquet_file_damaged_half_way_is_an_error_after_the_records_before(tmp_path):
    import random

    path = write_dataset(tmp_path / "news.parquet", [{"text": f"{ARTICLE} {i}"} for i in range(2000)], row_group_size=100)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = random.Random(0).randbytes(2000)  # row groups hit, the footer intact
    path.write_bytes(bytes(data))
    got = []
    with pytest.raises(SummarizeError, match=r"is damaged after record \d+ \(") as caught:
        got.extend(read_dataset(path, Fields(), 10_000))
    assert 0 < len(got) < 2000 and f"after record {len(got)} " in str(caught.value)


def test_parquet_without_pyarrow_says_how_to_install_it(tmp_path, monkeypatch):
    path = write_dataset(tmp_path / "news.parquet", [{"text": ARTICLE}])
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # what Python does when pyarrow is not installed
    assert one_line_error(path) == "Parquet needs pyarrow; install it with pip install 'summarize[corpus]'"
    with pytest.raises(SummarizeError, match=r"pip install 'summarize\[corpus\]'"):
        DatasetWriter(tmp_path / "out.parquet")
    assert leftovers(tmp_path) == []


def test_reading_touches_only_the_needed_parquet_columns(tmp_path):
    path = write_dataset(tmp_path / "news.parquet", [{"id": "1", "text": ARTICLE, "huge": "x" * 100_000}])
    [doc] = read(path)  # "huge" is neither read nor passed on
    assert doc.id == "1" and doc.text == ARTICLE


# Writing


def results(n: int, failed: tuple[int, ...] = ()) -> list[tuple[Result, str]]:
    return [
        (
            Result(
                source=f"news.jsonl#{i}",
                summary_ru=f"Итог {i}",
                engine="extractive",
                chunks=0,
                seconds=0.5,
                warnings=[f"предупреждение {i}", "второе"],
                error="model failed" if i in failed else None,
            ),
            str(i),
        )
        for i in range(1, n + 1)
    ]


def write_results(path: Path, rows: list[tuple[Result, str]], resume: bool = False) -> set[str]:
    with DatasetWriter(path, resume) as writer:
        done = set(writer.done_ids)
        for result, rid in rows:
            if rid not in done:
                writer.write(result, rid)
    return done


@pytest.mark.parametrize("suffix", FORMATS)
def test_results_round_trip_with_the_id_first_then_every_result_field(tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    write_results(out, results(3))
    columns, rows = read_output(out)
    assert columns == COLUMNS
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["summary_ru"] == "Итог 1"
    warnings = rows[0]["warnings"] if suffix != ".csv" else json.loads(rows[0]["warnings"])
    assert warnings == ["предупреждение 1", "второе"]
    # An output is a dataset too: its summaries can be read back by id.
    assert [(d.id, d.text) for d in read(out, Fields(text="summary_ru"))] == [(str(i), f"Итог {i}") for i in (1, 2, 3)]
    assert leftovers(tmp_path) == []


def test_parquet_output_has_a_fixed_schema_and_row_groups(tmp_path):
    out = tmp_path / "out.parquet"
    write_results(out, results(tables.ROW_GROUP_ROWS * 2 + 5))  # no errors: the error column is all null
    parquet = pq.ParquetFile(out)
    schema = parquet.schema_arrow
    assert schema.field("error").type == pa.string() and schema.field("warnings").type == pa.list_(pa.string())
    assert schema.field("input_tokens").type == pa.int64() and schema.field("truncated").type == pa.bool_()
    assert schema.field("seconds").type == pa.float64()
    assert parquet.metadata.num_row_groups == 3
    assert pq.read_table(out).column("error").null_count == tables.ROW_GROUP_ROWS * 2 + 5


@pytest.mark.parametrize("suffix", FORMATS)
def test_an_empty_run_writes_a_valid_empty_dataset(tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    DatasetWriter(out).close()
    columns, rows = read_output(out)
    assert rows == [] and columns == ([] if suffix == ".jsonl" else COLUMNS)


@pytest.mark.parametrize("suffix", FORMATS)
def test_resume_skips_done_ids_redoes_errors_and_keeps_old_rows(tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    write_results(out, results(5, failed=(2, 5)))
    redone = [(dataclasses.replace(r, summary_ru=f"Заново {rid}", error=None), rid) for r, rid in results(6)]
    done = write_results(out, redone[:4] + redone[5:], resume=True)  # record 5 is not in this run
    assert done == {"1", "3", "4"}
    _, rows = read_output(out)
    by_id = {r["id"]: r for r in rows}
    assert [r["id"] for r in rows] == ["1", "3", "4", "2", "6", "5"]  # kept, new, then old errors not redone
    assert by_id["1"]["summary_ru"] == "Итог 1" and by_id["2"]["summary_ru"] == "Заново 2"
    assert not by_id["2"]["error"] and by_id["5"]["error"] == "model failed"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", FORMATS)
def test_resume_into_a_missing_file_starts_afresh(tmp_path, suffix):
    out = tmp_path / "new" / f"out{suffix}"
    assert write_results(out, results(2), resume=True) == set()
    assert [r["id"] for r in read_output(out)[1]] == ["1", "2"]


def test_without_resume_the_file_is_replaced(tmp_path):
    out = tmp_path / "out.jsonl"
    write_results(out, results(3))
    write_results(out, results(1))
    assert [r["id"] for r in read_output(out)[1]] == ["1"]


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_second_row_with_one_id_is_refused(tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    (first, _), (second, _) = results(2)
    with DatasetWriter(out) as writer:
        writer.write(first, "7")
        with pytest.raises(SummarizeError, match=r"already holds a row with id '7'; ids must be unique"):
            writer.write(second, "7")
    assert [r["id"] for r in read_output(out)[1]] == ["7"]


def test_resume_fills_the_columns_an_older_output_lacks(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "1", "summary_ru": "Итог", "error": null}\n', encoding="utf-8")
    assert write_results(out, results(2), resume=True) == {"1"}
    columns, rows = read_output(out)
    assert columns == COLUMNS and rows[0]["summary_ru"] == "Итог" and rows[0]["warnings"] is None


def test_resume_refuses_a_file_it_did_not_write(tmp_path):
    foreign = tmp_path / "out.jsonl"
    foreign.write_text('{"id": "1", "label": "x"}\n', encoding="utf-8")
    with pytest.raises(SummarizeError, match=r"has columns this version does not write \(label\); give another --output"):
        DatasetWriter(foreign, resume=True)
    broken = tmp_path / "broken.csv"
    broken.write_text("text\nx\n", encoding="utf-8")
    with pytest.raises(SummarizeError, match=r"has no 'id'; it is not an output of summarize"):
        DatasetWriter(broken, resume=True)
    assert foreign.read_text(encoding="utf-8") == '{"id": "1", "label": "x"}\n' and leftovers(tmp_path) == []


def test_an_output_must_be_a_dataset_file(tmp_path):
    with pytest.raises(SummarizeError, match=r"an output dataset must end in \.jsonl, \.csv, \.parquet"):
        DatasetWriter(tmp_path / "out.txt")
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(SummarizeError, match="is a folder"):
        DatasetWriter(tmp_path / "dir.jsonl")


# What an interrupted or failing write leaves


@pytest.mark.parametrize("suffix", FORMATS)
def test_ctrl_c_between_rows_keeps_the_old_rows_and_the_finished_ones(tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    write_results(out, results(2))
    with pytest.raises(KeyboardInterrupt):
        with DatasetWriter(out, resume=True) as writer:
            for result, rid in results(6)[2:]:
                if rid == "5":
                    raise KeyboardInterrupt  # as if pressed while the model worked on record 5
                writer.write(result, rid)
    assert [r["id"] for r in read_output(out)[1]] == ["1", "2", "3", "4"]
    assert leftovers(tmp_path) == []
    assert write_results(out, results(6), resume=True) == {"1", "2", "3", "4"}  # the next run goes on from there


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_value_that_cannot_be_written_fails_only_its_row(tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    (good, _), (bad, _) = results(2)
    bad.warnings = [object()]
    with DatasetWriter(out) as writer:
        writer.write(good, "1")
        with pytest.raises((TypeError, ValueError)):
            writer.write(bad, "2")
        writer.write(good, "3")
    assert [r["id"] for r in read_output(out)[1]] == ["1", "3"]


FILL_THE_DISK = """
import resource, signal, sys
from pathlib import Path
from summarize.outputs.dataset import DatasetWriter
from summarize.documents import Result
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, resource.RLIM_INFINITY))
with DatasetWriter(Path(sys.argv[1]), resume=sys.argv[2] == "resume") as writer:
    for i in range(100, 5_000):
        writer.write(Result(source=str(i), summary_ru="Итог " * 20), str(i))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="RLIMIT_FSIZE is POSIX")
@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("resume", ["resume", "replace"])
def test_a_write_that_fails_half_way_leaves_the_old_file_as_it_was(tmp_path, suffix, resume):
    out = tmp_path / f"out{suffix}"
    write_results(out, results(3, failed=(2,)))
    before = out.read_bytes()
    run = subprocess.run([sys.executable, "-c", FILL_THE_DISK, out, resume], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "summarize.errors.SummarizeError: cannot write" in run.stderr and "it is left as it was" in run.stderr
    assert out.read_bytes() == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_killed_runs_journal_is_merged_by_the_next_resume_and_stale_parts_go(tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    write_results(out, results(2, failed=(2,)))
    # What a SIGKILL leaves: the killed run's rows (2 redone, 3), the last one cut off mid-row, and a commit's temp file.
    rows = [json.dumps({**result.to_dict(), "id": rid}, ensure_ascii=False) + "\n" for result, rid in results(4)[1:]]
    journal = dataset_output.journal_path(out)
    journal.write_text(rows[0] + rows[1] + rows[2][:40], encoding="utf-8")
    (tmp_path / f".{out.name}.0123abcd.part").write_bytes(b"half a file")
    assert write_results(out, results(5), resume=True) == {"1", "2", "3"}  # row 4 was cut off: redone
    assert sorted(r["id"] for r in read_output(out)[1]) == ["1", "2", "3", "4", "5"]  # each once; 2's old error gone
    assert leftovers(tmp_path) == [] and not journal.exists()


def test_a_journal_damaged_before_its_last_row_is_one_line(tmp_path):
    out = tmp_path / "out.jsonl"
    journal = dataset_output.journal_path(out)
    journal.write_text('{"id": "1", "summ\n{"id": "2"}\n', encoding="utf-8")
    with pytest.raises(SummarizeError, match="line 1 is damaged; delete the file to redo its records, or rerun with --overwrite"):
        DatasetWriter(out, resume=True)
    assert not out.exists() and journal.exists()


def test_a_failure_while_committing_leaves_the_old_file_as_it_was(tmp_path, monkeypatch):
    out = tmp_path / "out.jsonl"
    write_results(out, results(2))
    before = out.read_bytes()

    def failing_fsync(fd):
        raise OSError(28, os.strerror(28))

    monkeypatch.setattr(dataset_output.os, "fsync", failing_fsync)
    writer = DatasetWriter(out, resume=True)
    writer.write(results(3)[2][0], "3")
    with pytest.raises(SummarizeError, match=f"cannot write {out} \\(No space left on device\\); it is left as it was"):
        writer.close()
    writer.close()  # again: nothing left to do, no error
    assert out.read_bytes() == before and leftovers(tmp_path) == []


# File modes and paths


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
@pytest.mark.parametrize("suffix", FORMATS)
def test_new_files_get_the_umask_mode_and_replaced_files_keep_theirs(tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    old = os.umask(0o027)
    try:
        write_results(out, results(1))
        assert out.stat().st_mode & 0o777 == 0o640  # not mkstemp's 0600
        out.chmod(0o604)
        write_results(out, results(2), resume=True)
        assert out.stat().st_mode & 0o777 == 0o604
    finally:
        os.umask(old)


def test_a_symlinked_output_keeps_its_link_and_its_target_gets_the_rows(tmp_path):
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "out.jsonl"
    write_results(target, results(1))
    link = tmp_path / "out.jsonl"
    link.symlink_to(target)
    write_results(link, results(2), resume=True)
    assert link.is_symlink() and [r["id"] for r in read_output(target)[1]] == ["1", "2"]
    assert leftovers(tmp_path) == leftovers(tmp_path / "store") == []


def test_same_file_sees_through_symlinks_hard_links_and_dots(tmp_path):
    data = write_dataset(tmp_path / "news.jsonl", [{"text": ARTICLE}])
    (tmp_path / "link.jsonl").symlink_to(data)
    os.link(data, tmp_path / "hard.jsonl")
    (tmp_path / "sub").mkdir()
    assert same_file(tmp_path / "link.jsonl", data)
    assert same_file(tmp_path / "hard.jsonl", data)
    assert same_file(tmp_path / "sub" / ".." / "news.jsonl", data)
    assert not same_file(tmp_path / "out.jsonl", data)  # not there yet
    assert same_file(tmp_path / "sub" / ".." / "out.jsonl", tmp_path / "out.jsonl")
    assert not same_file(write_dataset(tmp_path / "copy.jsonl", [{"text": ARTICLE}]), data)


# Memory: streamed, not loaded


def peak_bytes(path: Path) -> int:
    """Peak memory, Python's and Arrow's, while every record of a dataset is read."""
    pool = pa.proxy_memory_pool(pa.default_memory_pool())
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_dataset(path, Fields(), 100_000))
        python_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        pa.set_memory_pool(previous)
    assert count > 0
    return python_peak + pool.max_memory()


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_memory_stays_flat_as_the_file_grows(tmp_path, suffix):
    def corpus_of(n: int) -> Path:
        records = ({"id": f"r{i}", "title": f"Новость {i}", "text": f"{ARTICLE} {i}. " * 8} for i in range(n))
        path = tmp_path / f"{n}{suffix}"
        if suffix == ".jsonl":
            with open(path, "w", encoding="utf-8") as f:
                f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        else:
            with pq.ParquetWriter(path, pa.schema([("id", pa.string()), ("title", pa.string()), ("text", pa.string())])) as w:
                batch = []
                for r in records:
                    batch.append(r)
                    if len(batch) == 500:  # 40 row groups in the big file
                        w.write_table(pa.Table.from_pylist(batch, schema=w.schema))
                        batch = []
        return path

    small, big = corpus_of(1_000), corpus_of(20_000)
    assert big.stat().st_size > 15 * small.stat().st_size
    peak_bytes(small)  # once first, so that one-time allocations (caches, lazy imports) count for neither
    assert peak_bytes(big) <= 1.2 * peak_bytes(small)


def test_a_run_that_could_not_start_leaves_the_output_as_it_was(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"keep": "me"}\n', encoding="utf-8")
    with pytest.raises(SummarizeError):
        with DatasetWriter(out) as writer:
            writer.write(Result(source="a"), "a")
            raise SummarizeError("model x could not be loaded")
    assert out.read_text(encoding="utf-8") == '{"keep": "me"}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_a_title_that_is_not_text_is_named_in_words(tmp_path):
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"text": [ARTICLE], "title": pa.array([b"\x00\x01"])}), path)
    (got,) = read(path)
    assert got.warnings == ("field 'title' is bytes (binary data), not text; it is left out",)

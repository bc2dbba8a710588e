"""The summary check inside a run: every model summary gets `unsupported` (a list, empty when clean),
the model-free engines and --no-check get null; flags become a warning, a check that cannot load is
said once; every output format and dataset carries the column. The tiny models write gibberish, so
what is flagged is tested on a scripted summariser (at the engine seam) with natasha's real NER."""

import json
import sys
from pathlib import Path, PurePath

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import SHORT, parse_jsonl, read_output
from rich.color import ColorSystem
from rich.style import Style

from summarize.config import Preset
from summarize.documents import Document, Input, Result
from summarize.engines.protocol import Engines, Generated
from summarize.options import Options
from summarize.outputs.render import FLAG_STYLE, Format, format_result
from summarize.outputs.shards import ShardsSink
from summarize.outputs.tables import result_schema
from summarize.pipeline import Pipeline

FLAG_TYPE = pa.list_(pa.struct([("text", pa.string()), ("kind", pa.string()), ("field", pa.string())]))
ARTICLE = (
    "Мэр Москвы Сергей Собянин открыл в понедельник новую станцию метро «Нагатинский Затон». "
    "На церемонии были 300 человек. Станция примет первых пассажиров в среду."
)
FAITHFUL = "Сергей Собянин открыл станцию метро «Нагатинский Затон»; на церемонии были 300 человек."
INVENTED = "Сергей Собянин открыл станцию метро в Казани; на церемонии были 500 человек."


class ScriptedSummariser:
    """A ModelEngine double at the engine seam: its summary of each article is the one scripted for
    the article's first word, so what the check sees is known (the tiny models write gibberish)."""

    special_tokens, device, batch_tokens, backend = 0, "cpu", 10_000, "scripted"

    def __init__(self, summaries: dict[str, str]):
        self.preset = Preset(name="scripted", model="/nowhere/scripted", max_input_tokens=10_000)
        self.summaries = summaries

    def count_tokens(self, texts):
        return [len(t.split()) for t in texts]

    def input_length(self, text):
        return len(text.split())

    def generate(self, texts, settings, batch_size=8, hints=None, leg=None):
        return [Generated(self.summaries[text.split()[0]]) for text in texts]


def scripted_run(summaries: dict[str, str], articles: dict[str, str], notices: list[str]) -> list[Result]:
    summariser = ScriptedSummariser(summaries)
    options = Options(summarizer=summariser.preset, translator=None, summary_settings={})
    pipeline = Pipeline(options, Engines(summariser), notify=notices.append)
    return [result for _, result in pipeline.run_all([Document(source, text) for source, text in articles.items()])]


# Which results are checked


def test_a_model_summary_is_checked_and_its_key_sits_before_the_error(run, short_file):
    result = run(short_file, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data)[0] == "id" and list(data)[-2:] == ["unsupported", "error"]
    assert isinstance(data["unsupported"], list)  # gibberish may hold a "name": what it holds is the scripted tests'
    assert all(set(flag) == {"text", "kind", "field"} and flag["kind"] in ("name", "number", "date") for flag in data["unsupported"])
    assert all(flag["text"] in data[flag["field"]] or flag["field"] == "summary_en" for flag in data["unsupported"])


@pytest.mark.parametrize("args", [["--no-check"], ["--engine", "extractive"], ["--engine", "lead"]], ids=["no-check", "extractive", "lead"])
def test_unchecked_results_have_null(run, short_file, args):
    result = run(short_file, "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["summary_ru"] and data["unsupported"] is None


def test_a_failed_input_has_null(run, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text(" ", encoding="utf-8")
    result = run(empty, "--format", "json")
    assert result.exit_code == 1 and json.loads(result.stdout)["unsupported"] is None


def test_the_library_takes_check_too(fast_config):
    from summarize import Summarizer

    assert Summarizer(config=str(fast_config), check=False)(SHORT).unsupported is None
    assert isinstance(Summarizer(config=str(fast_config))(SHORT).unsupported, list)


# What a check finds, and what it says


def test_invented_spans_are_flagged_and_warned_once_each_and_a_faithful_summary_is_clean():
    notices: list[str] = []
    faithful, invented = scripted_run({"Мэр": FAITHFUL, "Мэра": INVENTED}, {"a.txt": ARTICLE, "b.txt": "Мэра " + ARTICLE}, notices)
    assert faithful.unsupported == [] and faithful.warnings == []
    assert {(flag["text"], flag["kind"], flag["field"]) for flag in invented.unsupported} == {("Казани", "name", "summary_ru"), ("500", "number", "summary_ru")}
    (warning,) = invented.warnings
    assert "Казани" in warning and "500" in warning
    assert notices == [f"warning: b.txt: {warning}"]


def test_a_check_that_cannot_load_is_said_once_and_the_run_goes_on(monkeypatch):
    monkeypatch.setitem(sys.modules, "natasha", None)  # as if natasha were not installed: importing it fails
    notices: list[str] = []
    results = scripted_run({"Мэр": INVENTED, "Мэра": INVENTED}, {"a.txt": ARTICLE, "b.txt": "Мэра " + ARTICLE}, notices)
    assert [r.summary_ru for r in results] == [INVENTED, INVENTED] and all(r.error is None and r.unsupported is None for r in results)
    (notice,) = notices
    assert notice.startswith(
        "warning: the summaries are not checked for names and numbers their articles lack: the check cannot load (ModuleNotFoundError: import of natasha"
    )
    assert notice.endswith("install natasha and pymorphy3, or add --no-check")
    assert all(r.warnings == [notice.removeprefix("warning: ")] for r in results)  # recorded in each, said once


# How each format shows them

FLAGGED = Result(
    "a.txt",
    summary_ru="В 2015 году в Казани построили 15 домов.",
    summary_en="In 2015, 2.5 houses were built in Kazan.",
    engine="abstractive",
    model="m",
    unsupported=[
        {"text": "Казани", "kind": "name", "field": "summary_ru"},
        {"text": "15", "kind": "number", "field": "summary_ru"},
        {"text": "2.5", "kind": "number", "field": "summary_en"},
        {"text": "15", "kind": "number", "field": "summary_en"},  # dropped by the translation: not in its text
    ],
)
RU_LINE = 'Not in the article: "Казани" (name), "15" (number)'
EN_LINE = 'Changed in the translation: "2.5" (number), "15" (number)'


def test_rich_marks_each_span_where_it_stands_as_a_whole_word_and_lists_them_after():
    shown = format_result(Format.rich, FLAGGED, color_system="standard")
    mark = lambda text: Style.parse(FLAG_STYLE).render(text, color_system=ColorSystem.STANDARD)  # noqa: E731
    assert shown.count(mark("Казани")) == 1 and shown.count(mark("15")) == 1 and shown.count(mark("2.5")) == 1
    assert "2015" in shown and mark("2015") not in shown  # the flagged "15" is not the 15 of 2015
    plain = format_result(Format.rich, FLAGGED)
    assert RU_LINE in plain and EN_LINE in plain
    assert plain.index("In 2015") < plain.index(RU_LINE) < plain.index(EN_LINE)


def test_markdown_and_plain_give_a_line_after_the_summaries_and_json_the_key():
    markdown = format_result(Format.markdown, FLAGGED)
    assert '**Not in the article:** "Казани" (name), "15" (number)' in markdown
    assert markdown.index("In 2015") < markdown.index("Not in the article") < markdown.index("Changed in the translation")
    plain = format_result(Format.plain, FLAGGED)
    assert plain.endswith(f"Kazan.\n\n{RU_LINE}\n{EN_LINE}\n")
    assert json.loads(format_result(Format.json, FLAGGED))["unsupported"] == FLAGGED.unsupported
    assert json.loads(format_result(Format.jsonl, FLAGGED))["unsupported"] == FLAGGED.unsupported
    clean = Result("b.txt", summary_ru="Итог.", unsupported=[])
    assert format_result(Format.plain, clean) == "Итог.\n" and "Not in" not in format_result(Format.markdown, clean)


def test_a_span_with_markup_or_control_characters_is_shown_as_text():
    hostile = Result("a.txt", summary_ru="Итог [bold]X[/bold].", unsupported=[{"text": "[bold]X[/bold]\x1b[2J", "kind": "name", "field": "summary_ru"}])
    for fmt in (Format.rich, Format.plain):
        shown = format_result(fmt, hostile)
        assert "\x1b" not in shown and '"[bold]X[/bold]\\x1b[2J" (name)' in shown
    assert r"\[bold\]X\[/bold\]\\x1b\[2J" in format_result(Format.markdown, hostile)


# Datasets and shards carry the column


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_dataset_outputs_carry_the_column(run, short_file, tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    lead = tmp_path / "lead.txt"
    lead.write_text(SHORT, encoding="utf-8")
    assert run(short_file, "--output", out).exit_code == 0
    assert run(lead, "--output", out, "--skip-existing", "--engine", "lead").exit_code == 0
    columns, rows = read_output(out)
    assert columns[-2:] == ["unsupported", "error"]
    checked, unchecked = rows
    if suffix == ".csv":  # a list as a JSON cell, null as an empty one
        assert isinstance(json.loads(checked["unsupported"]), list) and unchecked["unsupported"] == ""
    else:
        assert isinstance(checked["unsupported"], list) and unchecked["unsupported"] is None
    if suffix == ".parquet":
        assert pq.read_schema(out).field("unsupported").type == FLAG_TYPE


def test_an_output_from_before_the_check_resumes_with_its_rows_unchecked(run, short_file, tmp_path):
    out = tmp_path / "out.parquet"
    old = [{"id": "old", "source": "old.txt", "summary_ru": "Итог", "warnings": [], "error": None}]
    pq.write_table(pa.Table.from_pylist(old), out)  # no unsupported column: written before it existed
    result = run(short_file, "--output", out, "--skip-existing")
    assert result.exit_code == 0, result.stderr
    rows = {row["id"]: row for row in pq.read_table(out).to_pylist()}
    assert rows["old"]["unsupported"] is None and isinstance(rows[str(short_file)]["unsupported"], list)
    assert pq.read_schema(out).field("unsupported").type == FLAG_TYPE


def test_shards_carry_the_column(tmp_path):
    sink = ShardsSink.open(str(tmp_path / "out"), resume=False, notify=lambda line: None)
    sink.write(Input("a.txt", Path("a.txt"), PurePath("a.txt"), id="a"), FLAGGED)
    sink.write(Input("b.txt", Path("b.txt"), PurePath("b.txt"), id="b"), Result("b.txt", summary_ru="Итог"))
    sink.close(True)
    (shard,) = (tmp_path / "out").glob("*.parquet")
    table = pq.read_table(shard)
    assert table.schema.field("unsupported").type == FLAG_TYPE and table.schema == result_schema(pa)
    assert table.column("unsupported").to_pylist() == [FLAGGED.unsupported, None]


def test_jsonl_rows_of_a_batch_each_have_the_key(run, tmp_path):
    news = tmp_path / "news"
    news.mkdir()
    for i in range(2):
        (news / f"{i}.txt").write_text(f"{SHORT} Новость {i}.", encoding="utf-8")
    rows = parse_jsonl(run(news, "-f", "jsonl").stdout)
    assert len(rows) == 2 and all(isinstance(row["unsupported"], list) for row in rows)

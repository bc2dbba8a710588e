"""A check that cannot load (natasha missing, or damaged: a package that raises on import, a
truncated embedding file) is said once, by every command: `summarize` warns and goes on, `check`
ends with one line and exit 2, `eval` reports null precision with the reason. And `eval --no-check`
measures no precision at all."""

import json
import sys

import pytest
from helpers import invoke, parse_jsonl, write_jsonl

from summarize import cli

ARTICLE = "Мэр Москвы Сергей Собянин открыл пять станций метро. Их построили за 2 года."
SUMMARY = "Сергей Собянин открыл 7 станций метро в Казани."
ROWS = [{"id": "a", "text": ARTICLE, "summary": SUMMARY}, {"id": "b", "text": ARTICLE, "summary": SUMMARY}]


def _forget_natasha(monkeypatch):
    for name in [name for name in sys.modules if name == "natasha" or name.startswith("natasha.")]:
        monkeypatch.delitem(sys.modules, name)


@pytest.fixture(params=["missing", "raises on import", "truncated embedding"])
def broken_natasha(request, monkeypatch, tmp_path):
    """natasha as a broken install leaves it; the real import and load paths run."""
    if request.param == "missing":
        monkeypatch.setitem(sys.modules, "natasha", None)
    elif request.param == "raises on import":
        package = tmp_path / "site" / "natasha"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("raise RuntimeError('natasha is damaged: half an install')\n", encoding="utf-8")
        _forget_natasha(monkeypatch)
        monkeypatch.syspath_prepend(str(tmp_path / "site"))
    else:
        import natasha.emb

        whole = natasha.emb.NewsEmbedding.__init__.__defaults__[0]
        truncated = tmp_path / "navec_news.tar"
        with open(whole, "rb") as f:
            truncated.write_bytes(f.read(100_000))  # a download cut short
        monkeypatch.setattr(natasha.emb.NewsEmbedding.__init__, "__defaults__", (str(truncated),))
    return request.param


def test_check_cannot_load_is_one_line_and_exit_2_never_an_error_per_record(broken_natasha, tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", ROWS)
    result = invoke(cli.app, "check", data, "-f", "jsonl")
    assert result.exit_code == 2
    assert result.stdout.strip() in ("", "[]")
    (line,) = result.stderr.splitlines()
    assert line.startswith("summarize: error: the check cannot load natasha (") and "Traceback" not in result.stderr


def test_eval_with_a_check_that_cannot_load_warns_once_and_reports_null_precision(broken_natasha, tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", ROWS)
    result = invoke(cli.app, "eval", data, "--predictions", data, "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [report[k] for k in ("entity_precision", "number_precision", "entities", "numbers")] == [None] * 4
    assert report["source_check"].startswith("not measured: the summaries are not checked") and report["rouge1"] == 100.0
    (warning,) = result.stderr.splitlines()
    assert warning.startswith("summarize: warning: the summaries are not checked") and warning.endswith("or add --no-check")


def test_a_damaged_natasha_is_said_once_by_a_run_and_not_retried_per_summary(broken_natasha):
    from summarize.checks.checker import LOAD_ERRORS, Checker

    checker = Checker()
    with pytest.raises(LOAD_ERRORS) as first:
        checker.check(ARTICLE, SUMMARY, None)
    with pytest.raises(LOAD_ERRORS) as again:  # the same error, not a second load
        checker.check(ARTICLE, SUMMARY, None)
    assert str(first.value) == str(again.value) and (first.value.__cause__ or first.value) is (again.value.__cause__ or again.value)


def test_eval_no_check_measures_no_precision_and_loads_no_natasha(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "natasha", None)  # were it loaded, the run would warn
    data = write_jsonl(tmp_path / "data.jsonl", ROWS)
    result = invoke(cli.app, "eval", data, "--predictions", data, "--no-check", "-f", "json")
    assert result.exit_code == 0 and result.stderr == ""
    report = json.loads(result.stdout)
    assert [report[k] for k in ("entity_precision", "number_precision", "entities", "numbers")] == [None] * 4
    assert report["source_check"] == "off (--no-check)"


def test_eval_measures_precision_by_default_and_says_so(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", ROWS)
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "summary": ARTICLE}, {"id": "b", "summary": SUMMARY}])
    report = json.loads(invoke(cli.app, "eval", data, "--predictions", predictions, "-f", "json").stdout)
    assert report["source_check"] == "on" and report["entities"] > 0 and report["entity_precision"] < 100


def test_check_of_valid_records_still_writes_them(tmp_path):
    result = invoke(cli.app, "check", write_jsonl(tmp_path / "data.jsonl", ROWS[:1]), "-f", "jsonl")
    assert result.exit_code == 1 and [row["id"] for row in parse_jsonl(result.stdout)] == ["a"]

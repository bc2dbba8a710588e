"""Batch runs that survive faults: signals, resume, failures, disk errors, huge inputs, odd names."""

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from helpers import BIN, SHORT, clean_env, make_folder, parse_jsonl, slow_config, write_jsonl

from summarize.config import MAX_INPUT_CHARS, load_config
from summarize.inputs.listing import list_inputs
from summarize.inputs.reading import Reading
from summarize.options import make_options
from summarize.outputs.failures import FailuresFile
from summarize.outputs.sink import Sinks
from summarize.pipeline import Pipeline
from summarize.runs.local import run_local


def outputs(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_after_the_current_input_and_skip_existing_resumes(models, tmp_path, sig, code):
    news = make_folder(tmp_path / "news", 40)
    slow = slow_config(tmp_path / "slow.toml", models["t5"])
    out = tmp_path / "out"
    args = [BIN, news, "-o", out, "-f", "json", "--model", "slow", "--no-translate", "--config", slow]
    env = clean_env()
    process = subprocess.Popen(list(map(str, args)), stderr=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 600  # a bound for a stuck run only; the first output ends the wait
    while not any(p.suffix == ".json" for p in out.glob("*")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before the signal"
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=120)
    stderr = stderr.decode()
    assert process.returncode == code, stderr
    first = [p for p in outputs(out) if p.endswith(".json")]
    assert 0 < len(first) < 40
    assert f"stopped by {sig.name}: {len(first)} done, 0 failed, {40 - len(first)} left" in stderr
    assert not [p for p in outputs(out) if not p.endswith(".json")]  # no half-written temp files

    resumed = subprocess.run(list(map(str, args)) + ["--skip-existing"], capture_output=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert f"{40 - len(first)} done, 0 failed, {len(first)} skipped (already written)" in resumed.stderr.decode()
    assert outputs(out) == [f"{i:03d}.json" for i in range(40)]
    for i in range(40):
        data = json.loads((out / f"{i:03d}.json").read_text(encoding="utf-8"))
        assert data["source"] == str(news / f"{i:03d}.txt") and data["summary_ru"] and data["error"] is None


def test_skip_existing_redoes_an_incomplete_output(run, tmp_path):
    news = make_folder(tmp_path / "news", 2)
    out = tmp_path / "out"
    assert run(news, "-o", out, "-f", "json").exit_code == 0
    (out / "001.json").write_text('{"source": "trunc', encoding="utf-8")
    result = run(news, "-o", out, "-f", "json", "--skip-existing")
    assert result.exit_code == 0
    assert "1 done, 0 failed, 1 skipped" in result.stderr
    assert json.loads((out / "001.json").read_text(encoding="utf-8"))["error"] is None


def test_skip_existing_needs_an_output_dir(run, tmp_path):
    result = run(make_folder(tmp_path / "news", 1), "--skip-existing")
    assert result.exit_code == 2 and "--skip-existing needs --output-dir" in result.stderr


def test_file_deleted_between_listing_and_reading(fast_config, tmp_path):
    news = make_folder(tmp_path / "news", 3)
    inputs = list_inputs([str(news)])
    (news / "001.txt").unlink()
    messages = []
    options = make_options(load_config(fast_config), translate=False)
    tally = run_local(inputs, Pipeline(options), Sinks(FailuresFile(tmp_path / "errors.jsonl"), None), Reading(MAX_INPUT_CHARS), messages.append)
    assert tally.done == 2 and [s for s, _ in tally.failures] == [str(news / "001.txt")]
    assert "no such file (it may have been moved or deleted)" in tally.failures[0][1]


def test_fail_fast_stops_at_the_first_failure(run, tmp_path):
    news = make_folder(tmp_path / "news", 3)
    (news / "000.txt").write_bytes(b"")
    result = run(news, "--fail-fast", "-f", "jsonl")
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 1
    assert "0 done, 1 failed, 2 left" in result.stderr


def test_errors_file_lists_every_failure_with_its_reason(run, tmp_path):
    news = make_folder(tmp_path / "news", 3)
    (news / "000.txt").write_bytes(b"   ")
    (news / "002.txt").write_bytes(bytes(range(256)) * 4)
    errors = tmp_path / "errors.jsonl"
    result = run(news, "-f", "jsonl", "--errors", errors)
    assert result.exit_code == 1
    listed = parse_jsonl(errors.read_text(encoding="utf-8"))
    assert [e["source"] for e in listed] == [str(news / "000.txt"), str(news / "002.txt")]
    assert "is empty" in listed[0]["error"] and "binary" in listed[1]["error"]
    assert "failed inputs:\n" in result.stderr and f"  {news / '002.txt'}: " in result.stderr


def fail_second_fsync(monkeypatch, code: int) -> None:
    """The second file written fails after its bytes went to the temp file."""
    real_fsync = os.fsync
    calls = []

    def failing_fsync(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(code, os.strerror(code))
        real_fsync(fd)

    monkeypatch.setattr("summarize.outputs.files.os.fsync", failing_fsync)


def test_a_write_error_fails_that_input_and_leaves_no_partial_file(run, tmp_path, monkeypatch):
    news = make_folder(tmp_path / "news", 3)
    fail_second_fsync(monkeypatch, errno.EIO)
    out = tmp_path / "out"
    result = run(news, "-o", out, "-f", "json")
    assert result.exit_code == 1
    assert outputs(out) == ["000.json", "002.json"]
    assert f"cannot write {out / '001.json'} ({os.strerror(errno.EIO)})" in result.stderr
    assert "2 done, 1 failed" in result.stderr


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC])
def test_a_full_or_read_only_disk_stops_the_run_at_the_first_write_that_fails(run, tmp_path, monkeypatch, code):
    news = make_folder(tmp_path / "news", 3)
    fail_second_fsync(monkeypatch, code)
    out = tmp_path / "out"
    result = run(news, "-o", out, "-f", "json")
    assert result.exit_code == 1
    assert outputs(out) == ["000.json"]  # no partial file, and 002 never summarised into a disk that takes nothing
    said = [line for line in result.stderr.splitlines() if "stopped: the output takes nothing more" in line]
    assert len(said) == 1 and f"cannot write {out / '001.json'} ({os.strerror(code)})" in said[0]
    assert "1 done, 1 failed, 1 left" in result.stderr


def test_output_dir_that_cannot_be_made_is_one_line_before_any_work(run, tmp_path):
    (tmp_path / "file").write_text("x")
    news = make_folder(tmp_path / "news", 1)
    result = run(news / "000.txt", "-o", tmp_path / "file" / "out", "-f", "json")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"summarize: error: --output-dir {tmp_path / 'file' / 'out'}: {tmp_path / 'file'} is a file, so the folder cannot be made; give another folder\n"
    )


def test_huge_file_is_refused_without_reading_it_whole(run, tmp_path):
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:
        f.write(("Очень длинный текст без конца. " * 1_000_000).encode("utf-8"))  # ~58 MB
    result = run(huge, tmp_path / "none.txt", "--max-input-chars", "100000")
    assert result.exit_code == 1
    assert f"{huge}: is over the limit of 100 000 characters: it has more than 400 000 bytes" in result.stderr


def test_text_over_the_character_limit_is_refused(run, tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("Правительство утвердило программу. " * 3, encoding="cp1251")  # 105 bytes, 105 characters
    result = run(path, "--max-input-chars", "60")
    assert result.exit_code == 1 and "is over the limit of 60 characters: it has 105 characters" in result.stderr


def test_a_20000_word_line_without_punctuation_is_cut_and_reported(run):
    line = " ".join(["правительство утвердило программу ремонта дорог"] * 4000)
    result = run("-", "-f", "json", input=line)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["truncated"] and data["used_tokens"] == 64 and data["input_tokens"] > 20000
    assert "the first sentence alone is" in data["warnings"][0]


def test_a_long_line_without_punctuation_is_chunked_whole(run):
    line = " ".join(["правительство утвердило программу ремонта дорог"] * 100)
    result = run("-", "-f", "json", "--long", "chunk", "--no-translate", input=line)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert not data["truncated"] and data["chunks"] > 5 and data["used_tokens"] == data["input_tokens"]


def test_outputs_never_overwrite_inputs(run, tmp_path):
    news = make_folder(tmp_path / "news", 2)
    before = {p.name: p.read_bytes() for p in news.iterdir()}
    result = run(news / "000.txt", news / "001.txt", "-o", news, "-f", "plain")  # the files, not their folder
    assert result.exit_code == 0
    assert {p.name: p.read_bytes() for p in news.iterdir() if p.name in before} == before
    assert sorted(p.name for p in news.iterdir()) == ["000.summary.txt", "000.txt", "001.summary.txt", "001.txt"]


def test_results_written_into_the_input_folder_are_marked_and_never_read_back(run, tmp_path):
    news = make_folder(tmp_path / "news", 2)
    before = {p.name: p.read_bytes() for p in news.iterdir()}
    for _ in range(2):
        result = run(news, "-o", news, "-f", "plain")
        assert result.exit_code == 0 and "2 done, 0 failed" in result.stderr
        assert {p.name: p.read_bytes() for p in news.iterdir() if p.name in before} == before
        assert sorted(p.name for p in news.iterdir()) == ["000.summary.txt", "000.txt", "001.summary.txt", "001.txt"]


def test_results_left_in_an_input_folder_are_never_read_back_whatever_the_output(run, tmp_path):
    news = make_folder(tmp_path / "news", 2)
    assert run(news, "-o", news, "-f", "plain").exit_code == 0  # leaves 000.summary.txt, 001.summary.txt
    result = run(news, "-f", "jsonl")  # to stdout this time
    assert result.exit_code == 0 and "2 done, 0 failed" in result.stderr
    assert [row["source"] for row in parse_jsonl(result.stdout)] == [str(news / "000.txt"), str(news / "001.txt")]
    assert f"summarize: warning: {news}: left out 2 file(s) named *.summary.* (000.summary.txt…): results of an earlier run" in result.stderr
    named = run(news / "000.summary.txt", "-f", "jsonl")  # named, it is read like any file
    assert named.exit_code == 0 and parse_jsonl(named.stdout)[0]["source"] == str(news / "000.summary.txt")


def test_odd_names_stay_inside_the_output_dir(run, tmp_path):
    news = tmp_path / "news"
    news.mkdir()
    (news / "line\nbreak.txt").write_text(SHORT, encoding="utf-8")
    (news / "\u0415\u0308zh.txt").write_text(SHORT, encoding="utf-8")  # Е + combining diaeresis: NFC makes it Ё
    outside = tmp_path / "outside.txt"
    outside.write_text(SHORT, encoding="utf-8")
    linked = tmp_path / "linked.txt"  # another file than outside.txt: the same file twice is summarised once
    linked.write_text(SHORT, encoding="utf-8")
    (news / "link.txt").symlink_to(linked)
    out = tmp_path / "out"
    result = run(news, tmp_path / "news" / ".." / "outside.txt", "-o", out, "-f", "json")
    assert result.exit_code == 0, result.stderr
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert written == sorted(["line_break.json", "link.json", "outside.json", "\u0401zh.json"])
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))
    assert not (tmp_path / "outside.json").exists()


def test_a_symlink_in_the_output_dir_cannot_lead_outside(run, tmp_path):
    news = tmp_path / "news"
    (news / "sub").mkdir(parents=True)
    (news / "sub" / "a.txt").write_text(SHORT, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").symlink_to(elsewhere)
    result = run(news, "--recursive", "-o", out, "-f", "json")
    assert result.exit_code == 1
    assert "leads outside it" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_a_dataset_stopped_part_way_says_its_rest_was_not_read(run, tmp_path):
    rows = [{"id": "a", "text": SHORT}, {"id": "b"}, *({"id": f"c{n}", "text": SHORT} for n in range(5))]
    data = write_jsonl(tmp_path / "corpus.jsonl", rows)
    result = run(data, "--fail-fast", "-e", "lead", "--no-translate", "-f", "jsonl")
    assert result.exit_code == 1
    tally = result.stderr.strip().splitlines()[-1]
    # The bad record stops the run; records after the last one read are named, not counted as left.
    assert re.fullmatch(rf"summarize: 1 done, 1 failed(, \d left)? in [\d.]+ s; not read: any records of {re.escape(str(data))} after (b|c\d)", tally), tally


# ------------------------------------------------- repeated ids: the later record is its own error


def repeated_ids(folder) -> tuple:
    """a.jsonl holds id x at records 1 and 3; b.csv holds x again (the run's third) and y."""
    folder.mkdir()
    a = write_jsonl(folder / "a.jsonl", [{"id": "x", "text": SHORT}, {"id": "w", "text": SHORT + " Второе."}, {"id": "x", "text": SHORT + " Дубль."}])
    b = folder / "b.csv"
    b.write_text(f'id,text\nx,"{SHORT} Ещё."\ny,"{SHORT} Игрек."\n', encoding="utf-8")
    return a, b


def again_error(data, rid: str, first: str) -> str:
    return f"{data}#{rid}: id {rid!r} again (first at {first}); ids must be unique — pick a column of unique ids with --id-field"


@pytest.mark.parametrize("output", ["plain", "json", "jsonl", "markdown", "--output-dir", "--output"])
def test_a_repeated_id_is_the_later_records_error_naming_the_first_in_every_output(run, tmp_path, output):
    a, b = repeated_ids(tmp_path / "in")
    errors = tmp_path / "errors.jsonl"
    where = {"--output-dir": ["-o", tmp_path / "out"], "--output": ["--output", tmp_path / "out.jsonl"]}.get(output, ["-f", output])
    result = run(a, b, "-e", "lead", *where, "--errors", errors)
    assert result.exit_code == 1, result.stderr
    expected = [again_error(a, "x", f"record 1 of {a}"), again_error(b, "x", f"record 1 of {a}")]
    assert [row["error"] for row in parse_jsonl(errors.read_text(encoding="utf-8"))] == expected
    assert "3 done, 2 failed" in result.stderr and f"summarize: error: {expected[0]}" in result.stderr and f"summarize: error: {expected[1]}" in result.stderr
    if output == "json":
        assert [(r["source"], r["error"]) for r in json.loads(result.stdout)] == [
            (f"{a}#x", None),
            (f"{a}#w", None),
            (f"{a}#x", expected[0]),
            (f"{b}#x", expected[1]),
            (f"{b}#y", None),
        ]
    elif output == "--output":
        rows = parse_jsonl((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
        assert [(r["id"], r["error"]) for r in rows] == [("x", None), ("w", None), ("y", None)]  # the first x keeps its row
    elif output == "jsonl":
        assert [r["error"] for r in parse_jsonl(result.stdout)] == [None, None, *expected, None]
    # plain and markdown print what was summarised; a failure is on stderr (asserted above), as any other is


def test_a_repeated_id_stays_an_error_when_a_run_is_resumed(run, tmp_path):
    a, b = repeated_ids(tmp_path / "in")
    out = tmp_path / "out.jsonl"
    assert run(a, b, "-e", "lead", "--output", out).exit_code == 1
    again = run(a, b, "-e", "lead", "--output", out, "--skip-existing")
    assert again.exit_code == 1, again.stderr  # not skipped as "already written": the row with id x is the first record's
    assert "0 done, 2 failed, 3 skipped" in again.stderr
    assert again_error(a, "x", f"record 1 of {a}") in again.stderr


LONG_CALL = """
import sys
from pathlib import Path
import summarize.engines.ct2 as ct2
real = ct2.CT2Seq2Seq.generate
def generate(self, texts, settings, *args, **kwargs):  # a call on an article marked ЗАТЯНУТО decodes 30 000 tokens: minutes
    long = any("ЗАТЯНУТО" in text for text in texts)
    if long:
        settings = {**settings, "min_new_tokens": 30000, "max_new_tokens": 30000}
        Path(MARKS, "long call started").touch()
    out = real(self, texts, settings, *args, **kwargs)
    if long:
        Path(MARKS, "long call ended").touch()
    return out
ct2.CT2Seq2Seq.generate = generate
MARKS = sys.argv.pop()  # the folder for the marks, given last
from summarize.cli import main
sys.argv[0] = "summarize"
main()
"""


@pytest.mark.slow
def test_sigterm_ends_the_run_inside_a_model_call_and_commits_what_is_finished(models, tmp_path):
    news = make_folder(tmp_path / "news", 9)  # a CPU takes 8 at a time: the first 8 are one group, finished first
    (news / "008.txt").write_text(f"ЗАТЯНУТО {SHORT}", encoding="utf-8")
    marks = tmp_path / "marks"
    marks.mkdir()
    slow = slow_config(tmp_path / "slow.toml", models["t5"])
    out = tmp_path / "out.jsonl"
    args = [news, "--output", out, "--model", "slow", "--no-translate", "--backend", "ctranslate2", "--config", slow, marks]
    process = subprocess.Popen([sys.executable, "-c", LONG_CALL, *map(str, args)], stderr=subprocess.PIPE, stdout=subprocess.PIPE, env=clean_env(), text=True)
    started = marks / "long call started"
    deadline = time.monotonic() + 600  # a bound for a stuck run only; the mark ends the wait
    while not started.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists(), process.communicate()[1]
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=300)  # the call alone takes minutes; the run ends in well under a second
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("SIGTERM waited for the model call") from None
    assert process.returncode == 143, stderr
    assert not (marks / "long call ended").exists()  # it did not wait for the model call
    assert [line for line in stderr.splitlines() if "stopped by" in line] == [stderr.splitlines()[-1]]
    assert stderr.splitlines()[-1].startswith("summarize: stopped by SIGTERM: 8 done, 0 failed, 1 left in ")
    assert [row["id"] for row in parse_jsonl(out.read_text(encoding="utf-8"))] == [str(news / f"{i:03d}.txt") for i in range(8)]
    assert not list(tmp_path.glob(".*.part"))


# Six articles that the tiny T5 summarises differently (alone or batched: padding does not change its
# decode), given longest first: the pipeline sorts a batch by length, so each summary must
# be put back with its own article.
DISTINCT_ARTICLES = (  # 56, 43, 36, 30, 22 and 16 tokens: none cut to the preset's 64, so the length order is theirs
    "Дорог школа закон ремонт заявил правительство нефть программа.",
    "Закон выборы закон регион программа правительство.",
    "Закон регион суд газ регион суд москва.",
    "Министр программа весна весна страна суд.",
    "Нефть москва суд регион.",
    "Программа министр.",
)


def distinct_articles(folder) -> list:
    folder.mkdir()
    paths = [folder / f"{i}.txt" for i in range(len(DISTINCT_ARTICLES))]
    for path, text in zip(paths, DISTINCT_ARTICLES):
        path.write_text(text, encoding="utf-8")
    return paths


def summaries_alone(run, paths) -> dict:
    """Each article's summary when it is summarised alone: whose summary is whose."""
    alone = {}
    for path in paths:
        result = run(path, "--no-translate", "-f", "json")
        assert result.exit_code == 0, result.stderr
        alone[str(path)] = json.loads(result.stdout)["summary_ru"]
    assert len(set(alone.values())) > len(paths) // 2, alone  # else a mix-up could hardly be seen
    return alone


def test_each_article_gets_its_own_summary_in_a_batch(run, tmp_path):
    paths = distinct_articles(tmp_path / "news")
    together = run(tmp_path / "news", "--no-translate", "-f", "jsonl")
    assert together.exit_code == 0, together.stderr
    assert {row["source"]: row["summary_ru"] for row in parse_jsonl(together.stdout)} == summaries_alone(run, paths)

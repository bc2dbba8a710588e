"""Issue 9 (what a new user broke in an hour): one test per defect, each of which failed before the
fix. Model-free runs (-e lead) wherever the defect is not about a model, so the file stays fast.

Tests marked xfail(strict=True) are defects still there; their reason says what is wrong.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import clean_env
from typer.testing import CliRunner

from summarize import cli

BIN = Path(sys.executable).parent / "summarize"
LEAD = ["-e", "lead", "--no-translate"]
SHORT = "Москва, 3 марта. Правительство утвердило программу ремонта дорог. Работы начнутся весной."
OTHER = "Курс рубля снизился на торгах биржи. Аналитики ждут роста к лету. Банк России молчит."
ONE_LINE_ERROR = re.compile(r"summarize( eval)?: error: [^\n]+\n\Z")


def run(*args, input=None, app=None):
    """The main command (or `app`) in process; an exception is a test failure, not an exit code."""
    return CliRunner().invoke(app or cli.app, list(map(str, args)), input=input, catch_exceptions=False)


def evaluate(*args):
    return run("eval", *args)


def main(capsys, *args) -> tuple[int, str, str]:
    """`summarize ARGS` through summarize.cli.main, the installed program's entry point."""
    try:
        cli.main(list(map(str, args)))
        code = 0
    except SystemExit as e:
        code = e.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def spawn(*args, **settings) -> subprocess.Popen:
    environment = clean_env(**settings.pop("env", {}))
    return subprocess.Popen([str(BIN), *args], env=environment, **settings)


def write(path: Path, text: str = SHORT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def data(tmp_path) -> Path:
    return write_jsonl(
        tmp_path / "data.jsonl",
        [
            {"id": "a", "text": SHORT, "summary": "правительство утвердило программу ремонта дорог"},
            {"id": "b", "text": OTHER, "summary": "курс рубля снизился"},
        ],
    )


# ---------------------------------------------------------------- B. never destroy a user's file


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "in-folder"])
def test_errors_file_that_is_an_input_is_refused_before_any_work(tmp_path, how):
    article = write(tmp_path / "news" / "a.txt")
    given, errors = article, article
    if how == "symlink":
        errors = tmp_path / "link.jsonl"
        errors.symlink_to(article)
    elif how == "hardlink":
        errors = tmp_path / "hard.jsonl"
        os.link(article, errors)
    elif how == "in-folder":
        given = article.parent
    result = run(given, "--errors", errors, "-f", "jsonl", *LEAD)
    assert result.exit_code == 2
    assert ONE_LINE_ERROR.fullmatch(result.stderr) and "is an input of this run" in result.stderr
    assert result.stdout == ""  # refused before any summary was made
    assert article.read_text(encoding="utf-8") == SHORT


def test_errors_file_in_a_missing_folder_is_one_line_and_creates_nothing(tmp_path):
    article = write(tmp_path / "a.txt")
    result = run(article, "--errors", tmp_path / "nope" / "errors.jsonl", *LEAD)
    assert result.exit_code == 2
    assert ONE_LINE_ERROR.fullmatch(result.stderr) and "does not exist" in result.stderr
    assert result.stdout == "" and not (tmp_path / "nope").exists()


def test_errors_file_never_replaces_an_output_of_the_run(tmp_path):
    article = write(tmp_path / "a.txt")
    out = tmp_path / "out"
    out.mkdir()
    result = run(article, "-o", out, "-f", "json", "--errors", out / "a.json", *LEAD)
    assert result.exit_code == 2 and ONE_LINE_ERROR.fullmatch(result.stderr), result.stderr
    assert f"--errors {out / 'a.json'}: is inside --output-dir {out}, where the results go" in result.stderr
    assert result.stdout == "" and list(out.iterdir()) == []  # refused before any work: nothing written


def test_eval_save_predictions_naming_the_data_file_is_refused(data):
    before = data.read_bytes()
    try:
        result = evaluate(data, "-e", "lead", "--save-predictions", data, "-f", "json")
    finally:
        after = data.read_bytes()
    assert after == before
    assert result.exit_code == 2 and ONE_LINE_ERROR.fullmatch(result.stderr) and "is an input of this run" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("command", "option"),
    [("summarize", "--errors"), ("summarize", "--output"), ("check", "--output"), ("eval", "--save-predictions")],
)
def test_a_file_option_naming_a_fifo_or_device_is_refused_and_the_node_is_left_as_it_was(tmp_path, data, command, option):
    """A file is written whole and renamed over the old one: through a symlink named like a dataset,
    `--overwrite` would replace a FIFO, or (as root) /dev/null itself, with a regular file."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link.jsonl"
    link.symlink_to(fifo)
    given = {"summarize": [write(tmp_path / "a.txt"), *LEAD], "check": ["check", data], "eval": ["eval", data, "-e", "lead"]}[command]
    result = run(*given, option, link, *(["--overwrite"] if option != "--errors" else []))
    assert result.exit_code == 2 and ONE_LINE_ERROR.fullmatch(result.stderr), result.stderr
    assert f"{option} {link}: is not a regular file" in result.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode) and link.is_symlink() and result.stdout == ""


def test_eval_save_predictions_into_a_folder_is_one_line_before_any_work(data, tmp_path, capsys):
    (tmp_path / "adir").mkdir()
    code, out, err = main(capsys, "eval", data, "-e", "lead", "--save-predictions", tmp_path / "adir", "-f", "json")
    assert code == 2 and ONE_LINE_ERROR.fullmatch(err) and out == ""


def test_output_dir_inside_the_input_folder_is_never_read_as_input(tmp_path):
    news = tmp_path / "news"
    write(news / "a.txt")
    write(news / "sub" / "b.txt", OTHER)
    out = news / "out"
    for _ in range(2):  # a rerun must not take the first run's outputs as new inputs
        result = run(news, "-r", "-o", out, "-f", "plain", *LEAD)
        assert result.exit_code == 0, result.stderr
        assert "2 done, 0 failed" in result.stderr
        assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == ["a.txt", "sub/b.txt"]
    resumed = run(news, "-r", "-o", out, "-f", "plain", "--skip-existing", *LEAD)
    assert resumed.exit_code == 0 and "0 done, 0 failed, 2 skipped" in resumed.stderr


def test_output_dir_equal_to_the_input_folder_reruns_are_idempotent(tmp_path):
    news = tmp_path / "news"
    write(news / "a.txt")
    write(news / "b.txt", OTHER)
    listings = []
    for _ in range(2):
        assert run(news, "-o", news, "-f", "plain", *LEAD).exit_code == 0
        listings.append(sorted(p.name for p in news.iterdir()))
    assert listings[0] == listings[1]


def test_written_files_get_the_umask_mode_and_replaced_ones_keep_theirs(tmp_path):
    article = write(tmp_path / "news" / "a.txt")
    write(tmp_path / "news" / "empty.txt", "")
    out, errors = tmp_path / "out", tmp_path / "errors.jsonl"
    old = os.umask(0o022)
    try:
        assert run(article.parent, "-o", out, "-f", "json", "--errors", errors, *LEAD).exit_code == 1
        assert (out / "a.json").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
        assert errors.stat().st_mode & 0o777 == 0o644
        (out / "a.json").chmod(0o640)
        (out / "a.json").write_text("old", encoding="utf-8")
        assert run(article.parent, "-o", out, "-f", "json", *LEAD).exit_code == 1
    finally:
        os.umask(old)
    assert json.loads((out / "a.json").read_text(encoding="utf-8"))["summary_ru"]
    assert (out / "a.json").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("target", ["/dev/null", "file"])
def test_output_dir_that_is_not_a_folder_is_one_line(tmp_path, capsys, target):
    article = write(tmp_path / "a.txt")
    out = Path(target) if target == "/dev/null" else write(tmp_path / "existing.txt", "keep")
    code, stdout, stderr = main(capsys, article, "-o", out, *LEAD)
    assert code == 2 and ONE_LINE_ERROR.fullmatch(stderr), stderr
    assert stdout == ""
    if target == "file":
        assert out.read_text(encoding="utf-8") == "keep"


# ---------------------------------------------------------------- D. one-line usage errors, no tracebacks


@pytest.mark.parametrize("pattern", ["/etc/*", "", "../*"])
def test_bad_glob_is_one_line(tmp_path, capsys, pattern):
    write(tmp_path / "news" / "a.txt")
    code, out, err = main(capsys, tmp_path / "news", "--glob", pattern, *LEAD)
    assert code == 2 and ONE_LINE_ERROR.fullmatch(err), err
    assert "--glob" in err and out == ""


@pytest.mark.parametrize("args", [["--format", "xml", "x.txt"], ["--bogus"], ["eval"], ["eval", "d.jsonl", "--limit", "0"]])
def test_usage_errors_are_one_line(capsys, args):
    code, out, err = main(capsys, *args)
    assert code == 2 and ONE_LINE_ERROR.fullmatch(err), err
    assert out == ""


def test_version(capsys):
    code, out, err = main(capsys, "--version")
    assert code == 0 and re.fullmatch(r"summarize \d+\.\d+\S*\n", out), out


@pytest.mark.slow
def test_closed_pipe_is_a_quiet_exit(tmp_path):
    news = tmp_path / "news"
    sentence = "Правительство утвердило новую программу ремонта дорог в регионах страны " * 40 + "сегодня."
    for i in range(20):  # ~450 KB of JSON lines: far more than a pipe holds, so a write must meet EPIPE
        write(news / f"{i:02d}.txt", " ".join([sentence] * 4))
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as stderr:
        process = spawn(str(news), *LEAD, "-f", "jsonl", stdout=subprocess.PIPE, stderr=stderr)
        first = process.stdout.readline()
        process.stdout.close()
        code = process.wait(timeout=60)
    assert json.loads(first)["source"].endswith("00.txt")
    text = errors.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in text and "Exception" not in text, text[-2000:]
    assert code in (0, 141)


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[summarizers.rut5-gazeta]\ngenerate = { max_new_tokens = -5 }\n", "max_new_tokens"),
        ("[lengths]\nshort = { sentences = 0 }\n", "lengths.short.sentences"),
        ("[summarizers.lead]\ngenerate = { num_beams = 0 }\n", "num_beams"),
    ],
)
def test_bad_config_values_are_one_line_at_load(tmp_path, toml, key):
    config = write(tmp_path / "c.toml", toml)
    result = run(write(tmp_path / "a.txt"), "--config", config, "--length", "short", *LEAD)
    assert result.exit_code == 2
    assert ONE_LINE_ERROR.fullmatch(result.stderr) and key in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-m", "lexrank", "-e", "abstractive"], "preset lexrank has no model"),
        (["-m", "lead", "-e", "abstractive"], "preset lead has no model"),
        (["-e", "extractive", "--beams", "2"], "--beams is for a model"),
        (["-e", "lead", "--long", "chunk"], "--long chunk is for a model"),
    ],
)
def test_options_that_do_not_apply_to_the_engine_are_usage_errors(tmp_path, args, message):
    result = run(write(tmp_path / "a.txt"), *args, "--no-translate")
    assert result.exit_code == 2
    assert ONE_LINE_ERROR.fullmatch(result.stderr) and message in result.stderr, result.stderr
    assert result.stdout == ""


@pytest.mark.slow
def test_non_utf8_file_name_is_escaped_in_strict_utf8_json(tmp_path):
    name = os.fsencode(tmp_path) + b"/caf\xe9.txt"
    with open(name, "w", encoding="utf-8") as f:
        f.write(SHORT)
    process = spawn(name, *LEAD, "-f", "json", stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={"PYTHONIOENCODING": "utf-8:strict"})
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode(errors="replace")
    data = json.loads(out.decode("utf-8"))  # strict: no raw 0xE9 byte
    assert data["source"].endswith("caf\\xe9.txt") and data["summary_ru"]


# ---------------------------------------------------------------- E. nothing raw reaches the terminal

ESCAPED = "esc\x1b[31mred.txt"


@pytest.mark.parametrize("fmt", ["plain", "rich", "markdown"])
def test_control_characters_in_names_are_shown_escaped(tmp_path, monkeypatch, fmt):
    monkeypatch.chdir(tmp_path)  # short relative names: a rich title must not be cut
    write(tmp_path / "news" / ESCAPED)
    write(tmp_path / "news" / "bad\x1b[2J.txt", "")  # an error on stderr names it
    write(tmp_path / "news" / "bell\x07.txt", "")  # two failures: the failure list too
    result = run("news", f"news/{ESCAPED}", "-f", fmt, *LEAD)  # given twice: a warning names it
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert ("esc\\\\x1b\\[31mred" if fmt == "markdown" else "esc\\x1b[31mred") in result.stdout  # markdown escapes \\ and [
    assert "bad\\x1b[2J.txt" in result.stderr and "bell\\x07.txt" in result.stderr
    assert "given more than once" in result.stderr and "esc\\x1b[31mred.txt" in result.stderr


@pytest.mark.parametrize("command", ["summarize", "check", "eval"])
def test_a_line_break_in_an_id_never_starts_a_line_of_its_own_on_stderr(tmp_path, command):
    """An error names its record by id; an id holding "\\nsummarize: …" must not forge a line of ours."""
    forged = "x\nsummarize: 0 failed, all good"
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": forged, "text": "", "summary": "s"}, {"id": "y\nz", "text": "", "summary": "s"}])
    given = {"summarize": [data, "-f", "plain", *LEAD], "check": ["check", data, "-f", "plain"], "eval": ["eval", data, "-e", "lead"]}[command]
    result = run(*given)
    assert result.exit_code in (1, 2) and "x\\nsummarize: 0 failed, all good" in result.stderr
    assert all(line.startswith(("summarize: ", "  ")) for line in result.stderr.splitlines()), result.stderr
    assert not any(line.startswith("summarize: 0 failed") for line in result.stderr.splitlines())


def test_markdown_escapes_html_in_summaries_and_names(tmp_path):
    name = "x<img src=y onerror=alert(1)>.txt"
    text = "Правительство <script>alert(1)</script> утвердило программу ремонта дорог. " + OTHER
    result = run(write(tmp_path / name, text), "-f", "markdown", "--length", "short", *LEAD)
    assert result.exit_code == 0, result.stderr
    assert "<script>" not in result.stdout and "<img" not in result.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in result.stdout
    assert "&lt;img src=y onerror=alert(1)&gt;" in result.stdout


# ---------------------------------------------------------------- F. what a person sees


def test_folder_inputs_in_natural_order(tmp_path):
    for name in ["a10.txt", "b.txt", "a2.txt", "a1.txt"]:
        write(tmp_path / "news" / name)
    result = run(tmp_path / "news", "-f", "jsonl", *LEAD)
    assert result.exit_code == 0, result.stderr
    assert [Path(r["source"]).name for r in jsonl(result.stdout)] == ["a1.txt", "a2.txt", "a10.txt", "b.txt"]


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "stdin"])
def test_the_same_input_given_twice_is_summarised_once(tmp_path, how):
    article = write(tmp_path / "a.txt")
    again = tmp_path / "again.txt"
    if how == "symlink":
        again.symlink_to(article)
    elif how == "hardlink":
        os.link(article, again)
    args = {"same": [article, article], "symlink": [article, again], "hardlink": [article, again], "stdin": ["-", "-"]}[how]
    result = run(*args, "-f", "jsonl", *LEAD, input=SHORT if how == "stdin" else None)
    assert result.exit_code == 0, result.stderr
    records = jsonl(result.stdout)
    assert len(records) == 1 and records[0]["error"] is None
    assert "given more than once; summarised once" in result.stderr


def test_skip_existing_never_skips_stdin(tmp_path):
    out = tmp_path / "out"
    assert run("-", "-o", out, "-f", "json", *LEAD, input=SHORT).exit_code == 0
    result = run("-", "-o", out, "-f", "json", "--skip-existing", *LEAD, input=OTHER)
    assert result.exit_code == 0, result.stderr
    assert "skipped" not in result.stderr
    assert "рубля" in json.loads((out / "stdin.json").read_text(encoding="utf-8"))["summary_ru"]


def test_eval_limit_with_predictions_saved_by_a_limited_run(data, tmp_path):
    saved = tmp_path / "p.jsonl"
    first = evaluate(data, "-e", "lead", "--limit", "1", "--save-predictions", saved, "-f", "json")
    assert first.exit_code == 0, first.stderr
    rescored = evaluate(data, "--predictions", saved, "--limit", "1", "-f", "json")
    assert rescored.exit_code == 0, rescored.stderr
    assert json.loads(rescored.stdout)["n"] == 1
    assert json.loads(rescored.stdout)["rouge1"] == json.loads(first.stdout)["rouge1"]


def test_eval_report_names_the_backend_as_null_for_a_model_free_engine(data):
    result = evaluate(data, "-e", "lead", "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert "backend" in report and report["backend"] is None and report["engine"] == "lead"


@pytest.mark.slow
def test_eval_report_names_the_backend_of_the_model(data, fast_config):
    result = evaluate(data, "--config", fast_config, "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["engine"], report["model"], report["backend"]) == ("abstractive", "tiny-t5", "ctranslate2 int8")


@pytest.mark.parametrize("args", [["--model", "lead"], ["-e", "lead"], ["--translator", "opus-mt-ru-en"], ["--save-predictions", "s.jsonl"]])
def test_eval_predictions_with_options_that_would_be_ignored_is_a_usage_error(data, tmp_path, args):
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "summary": "x"}, {"id": "b", "summary": "y"}])
    result = evaluate(data, "--predictions", predictions, *args)
    assert result.exit_code == 2
    assert ONE_LINE_ERROR.fullmatch(result.stderr) and "--predictions" in result.stderr, result.stderr


def test_eval_record_with_empty_text_is_an_error_naming_it(tmp_path):
    """Scores need every record: an empty article is bad data, said before any work."""
    data = write_jsonl(
        tmp_path / "data.jsonl",
        [
            {"id": "empty", "text": "  ", "summary": "x"},
            {"id": "b", "text": OTHER, "summary": "курс рубля снизился"},
        ],
    )
    result = evaluate(data, "-e", "lead", "-f", "json")
    assert result.exit_code == 2 and ONE_LINE_ERROR.fullmatch(result.stderr) and result.stdout == ""
    assert f"{data}#empty: field 'text' is empty" in result.stderr


def test_eval_record_left_empty_by_strip_html_is_a_failure_scored_empty(tmp_path):
    data = write_jsonl(
        tmp_path / "data.jsonl",
        [
            {"id": "tags", "text": "<p> </p>", "summary": "x"},
            {"id": "b", "text": OTHER, "summary": "курс рубля снизился"},
        ],
    )
    result = evaluate(data, "-e", "lead", "--strip-html", "-f", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["failed"] == 1
    assert "tags: the text is empty" in result.stderr


def test_failure_list_names_each_source_once_a_line(tmp_path):
    news = tmp_path / "news"
    write(news / "a.txt")
    write(news / "empty1.txt", "")
    write(news / "empty2.txt", "")
    result = run(news, "-f", "jsonl", *LEAD)
    assert result.exit_code == 1
    listed = result.stderr.split("failed inputs:\n", 1)[1].splitlines()
    assert [line.count(str(news / name)) for line, name in zip(listed, ["empty1.txt", "empty2.txt"])] == [1, 1], listed


@pytest.mark.parametrize(
    ("limit", "size"),
    [(50, f"it has {len(SHORT)} characters"), (10, "it has more than 40 bytes")],  # bytes: refused before decoding
)
def test_too_long_input_says_what_was_over_what(tmp_path, limit, size):
    article = write(tmp_path / "a.txt")
    result = run(article, "--max-input-chars", limit, *LEAD)
    assert result.exit_code == 1
    assert f"{article}: is over the limit of {limit} characters: {size}" in result.stderr


# ---------------------------------------------------------------- A. signals stop a waiting run


def wait_until_blocked(process: subprocess.Popen, timeout: float = 60) -> None:
    """Until one of the process's threads waits in the kernel on a pipe or a FIFO: the run reads in
    a worker thread, its signal handlers set before that thread starts. /proc/PID/task/*/wchan names
    each thread's wait; the timeout only bounds a run that never gets there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if any(word in _waits(process.pid) for word in ("pipe", "fifo", "partner")):
            return
        time.sleep(0.05)
    raise AssertionError(f"the run never waited on its input (threads waiting in: {_waits(process.pid)!r})")


def _waits(pid: int) -> str:
    """What each thread of a process waits on in the kernel, one name a line."""
    names = []
    for wchan in Path(f"/proc/{pid}/task").glob("*/wchan"):
        try:
            names.append(wchan.read_text())
        except OSError:  # the thread ended meanwhile
            pass
    return "\n".join(names)


def stopped(process: subprocess.Popen, sig: signal.Signals) -> tuple[int | None, float]:
    wait_until_blocked(process)
    assert process.poll() is None, "exited before the signal"
    started = time.monotonic()
    process.send_signal(sig)
    try:
        return process.wait(timeout=60), time.monotonic() - started  # stops at once; 60 s bounds a stuck one
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None, time.monotonic() - started


@pytest.mark.slow
def test_sigterm_stops_a_run_waiting_on_stdin(tmp_path):
    process = spawn(*LEAD, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        code, seconds = stopped(process, signal.SIGTERM)  # nobody ever writes to its stdin
    finally:
        process.stdin.close()
    assert code == 143, (code, seconds)


@pytest.mark.slow
def test_sigint_stops_a_run_waiting_on_a_fifo(tmp_path):
    fifo = tmp_path / "news.txt"
    os.mkfifo(fifo)
    process = spawn(str(fifo), *LEAD, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    code, seconds = stopped(process, signal.SIGINT)
    assert code == 130, (code, seconds)

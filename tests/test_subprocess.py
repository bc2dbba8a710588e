"""The installed `summarize` as a real process: by-id loading through the hub cache, stdin,
subcommand dispatch, offline errors, a --help that imports neither torch nor transformers, and a
closed pipe."""

import json
import os
import subprocess
import sys

import pytest
from helpers import ARTICLE, BIN, SHORT, clean_env, parse_jsonl, write_jsonl

pytestmark = pytest.mark.slow


def summarize(*args, input=None, env=None, cwd=None):
    environment = clean_env(**(env or {}))
    return subprocess.run([str(BIN), *map(str, args)], input=input, capture_output=True, env=environment, cwd=cwd, timeout=300)


def imported_modules(*args):
    """Top-level modules a `python -m summarize ARGS` process imports (from -X importtime)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "summarize", *args], capture_output=True, text=True, timeout=60)
    names = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    return done, names


def test_article_by_hub_id_end_to_end(models):
    done = summarize(ARTICLE, "--format", "json", "--beams", "2", "--length", "short")
    assert done.returncode == 0, done.stderr.decode()
    data = json.loads(done.stdout)
    assert (data["model"], data["translator"]) == ("rut5-gazeta", "opus-mt-tc-big-zle-en")
    assert data["summary_ru"] and data["summary_en"]
    assert data["input_tokens"] > 600 and data["truncated"] is True  # the example is longer for the tiny vocabulary
    assert b"summarised the first" in done.stderr


def test_piped_stdin_and_subcommand_named_file(models, tmp_path):
    (tmp_path / "models").write_text(SHORT, encoding="utf-8")
    done = summarize("./models", "-", "--format", "jsonl", "--no-translate", "--beams", "1", input=SHORT.encode("koi8_r"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    assert [row["source"] for row in parse_jsonl(done.stdout.decode())] == ["./models", "stdin"]


def test_empty_cache_offline_falls_back_with_notices(tmp_path):
    done = summarize(ARTICLE, "--format", "json", env={"HF_HOME": str(tmp_path / "empty")})
    assert done.returncode == 0, done.stderr.decode()
    data = json.loads(done.stdout)
    assert (data["engine"], data["model"], data["summary_en"]) == ("extractive", None, None)
    assert data["summary_ru"].split()[0] in ARTICLE.read_text(encoding="utf-8")
    stderr = done.stderr.decode()
    assert "model IlyaGusev/rut5_base_sum_gazeta (preset rut5-gazeta) is not in the local cache" in stderr
    assert "summarised with the extractive engine instead" in stderr and "the translation is skipped" in stderr
    assert len(stderr.splitlines()) == 3  # a short line per missing model, one on how to get them
    assert "`summarize models download rut5-gazeta opus-mt-tc-big-zle-en` on a connected machine" in stderr.splitlines()[2]


def test_empty_cache_offline_strict_gives_one_line_and_exit_2(tmp_path):
    done = summarize(ARTICLE, "--strict", env={"HF_HOME": str(tmp_path / "empty")})
    assert done.returncode == 2
    stderr = done.stderr.decode()
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert "model IlyaGusev/rut5_base_sum_gazeta (preset rut5-gazeta) is not in the local cache" in stderr
    assert "summarize models download rut5-gazeta" in stderr
    assert done.stdout == b""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["models", "list"],
        ["--model", "nope", "-"],
        ["models", "--help"],
        ["--engine", "lead", "--no-translate", str(ARTICLE)],
        ["check", "--help"],
        ["check", "no-such-file.jsonl"],
    ],
)
def test_commands_without_a_model_import_neither_torch_nor_transformers(args):
    done, modules = imported_modules(*args)
    assert done.returncode in (0, 2), done.stderr[-2000:]
    assert "summarize" in modules
    assert not {"torch", "transformers", "httpx", "trafilatura", "pyarrow", "ray", "ctranslate2", "natasha", "pymorphy3"} & modules


@pytest.mark.parametrize("command", [[], ["eval"], ["check"], ["serve"], ["models", "list"]])
def test_help_imports_the_option_declarations_never_a_run_module(command):
    """--help builds each command from summarize.flags and options alone: no run mode, reader, engine or check."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "summarize", *command, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    ours = {name for line in done.stderr.splitlines() if "|" in line and (name := line.split("|")[-1].strip()).startswith("summarize")}
    assert "summarize.flags" in ours
    heavy = ("summarize.runs", "summarize.evaluate", "summarize.inputs", "summarize.engines", "summarize.checks", "summarize.pipeline", "summarize.hub")
    assert not [name for name in ours if name.startswith(heavy)]


def test_python_dash_m_is_the_same_program():
    done = subprocess.run([sys.executable, "-m", "summarize", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Usage: summarize" in done.stdout and "models list" in done.stdout


def test_model_free_engines_on_every_input_form_with_no_model_files(tmp_path):
    news = tmp_path / "news"
    news.mkdir()
    (news / "a.txt").write_text(ARTICLE.read_text(encoding="utf-8"), encoding="cp1251")
    (news / "b.txt").write_text(SHORT, encoding="koi8_r")
    empty = {"HF_HOME": str(tmp_path / "empty")}
    done = summarize(news, ARTICLE, "-", "--engine", "extractive", "-f", "jsonl", input=SHORT.encode(), env=empty)
    assert done.returncode == 0, done.stderr.decode()
    rows = parse_jsonl(done.stdout.decode())
    assert [r["source"] for r in rows] == [str(news / "a.txt"), str(news / "b.txt"), str(ARTICLE), "stdin"]
    assert all(r["engine"] == "extractive" and r["summary_ru"] and r["summary_en"] is None for r in rows)
    assert "the translation is skipped" in done.stderr.decode()
    lead = summarize("--engine", "lead", "--no-translate", "-f", "plain", input=SHORT.encode(), env=empty)
    assert lead.returncode == 0 and lead.stdout.decode().strip() == SHORT.removeprefix("Москва, 3 марта. ") and lead.stderr == b""


def test_at_a_terminal_results_print_above_the_bar_and_each_warning_once(models, tmp_path, fast_config):
    """What a person sees: stdout and stderr on one terminal (a pseudo-terminal here)."""
    import pty
    import re

    news = tmp_path / "news"
    news.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (news / name).write_text(SHORT + " " + name, encoding="utf-8")
    controller, terminal = pty.openpty()
    environment = clean_env(COLUMNS="120", TERM="xterm")
    process = subprocess.Popen([str(BIN), news, "--config", fast_config], stdout=terminal, stderr=terminal, env=environment)
    os.close(terminal)
    screen = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the program has ended and closed its side
            break
        if not chunk:
            break
        screen += chunk
    assert process.wait(timeout=120) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.decode("utf-8", "replace"))
    warnings = [line for line in text.splitlines() if "summarize: warning:" in line]
    assert warnings and len(warnings) == len(set(warnings))  # each said once, on stderr
    assert "⚠" not in text  # not repeated inside the panels
    assert text.count("╭─") == 3 and not re.search(
        r"\d+/3 \d+:\d\d:\d\d[ \t]*[╭=]", text
    )  # a result starts on a line of its own (after \r), never glued to the bar


# --- a reader that has gone (`summarize … | head -c1`): a quiet exit 141, as a shell reports SIGPIPE ---

EXIT_CLOSED_PIPE = 141


def into_closed_pipe(*args, cwd):
    """Run `python -m summarize ARGS` with stdout a pipe whose read end is closed before it starts,
    so that its first real write fails (no race with a reader)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        environment = clean_env(COLUMNS="400")  # wide: the help is written, not wrapped into nothing
        return subprocess.run(
            [sys.executable, "-m", "summarize", *map(str, args)], stdout=write_end, stderr=subprocess.PIPE, env=environment, cwd=cwd, timeout=120
        )
    finally:
        os.close(write_end)


@pytest.fixture
def eval_files(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", [{"id": "a", "text": SHORT, "summary": "правительство утвердило программу"}])
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "summary": "Правительство утвердило программу ремонта дорог"}])
    return data, predictions


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["models", "--help"],
        ["models", "list"],
        ["eval", "--help"],
        ["eval", "{data}", "--predictions", "{predictions}"],
        ["eval", "{data}", "--predictions", "{predictions}", "-f", "json"],
        ["{data}", "--model", "lead", "--no-translate", "-f", "json"],
    ],
    ids=lambda args: " ".join(args),
)
def test_every_command_exits_141_quietly(args, eval_files, tmp_path):
    data, predictions = eval_files
    done = into_closed_pipe(*(a.format(data=data, predictions=predictions) for a in args), cwd=tmp_path)
    assert (done.returncode, done.stderr.decode()) == (EXIT_CLOSED_PIPE, "")

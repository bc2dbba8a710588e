"""`summarize ARTICLE… --server URL`: the CLI as a client of a real `summarize serve` (a uvicorn
process on 127.0.0.1 with the tiny models). What it prints and writes is what a local run gives;
a server that does not answer, or refuses the token, is one line and exit 2; one bad input fails
alone."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import ARTICLE, ROOT, SHORT, clean_env, make_folder, parse_jsonl, read_output, slow_config, write_jsonl
from serving import serving

from summarize.documents import Result

pytestmark = pytest.mark.slow
MAX_CHARS = 400  # the server's --max-input-chars: the example article is over it, SHORT is not
TOKEN = "test-token-0123456789"


@pytest.fixture(scope="module")
def server(fast_config):
    """One server for the module, with a token (every test sends it unless it tests without) and a
    character limit lower than the client's, so that the server can refuse what the client read."""
    with serving(fast_config, "--max-input-chars", str(MAX_CHARS), token=TOKEN) as served:
        yield served.base


@pytest.fixture
def client(run, server, monkeypatch):
    """`summarize ARGS --server URL` in process, with the server's token."""
    monkeypatch.setenv("SUMMARIZE_TOKEN", TOKEN)

    def run_client(*args, input=None):
        return run(*args, "--server", server, input=input, config=None)

    return run_client


def free_port() -> int:
    """A port nothing listens on (bound and let go): a server that does not answer."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_json_output_has_the_local_runs_keys_ids_and_sources_in_order(run, client, tmp_path):
    news = make_folder(tmp_path / "news", 11)  # more than one request's worth, several requests in flight
    local, remote = run(news, "--format", "json"), client(news, "--format", "json")
    assert local.exit_code == 0 and remote.exit_code == 0, remote.stderr
    here, there = json.loads(local.stdout), json.loads(remote.stdout)
    assert [list(r) for r in there] == [list(r) for r in here]
    for key in ("id", "source", "title", "url", "date", "engine", "model", "translator", "backend", "error"):
        assert [r[key] for r in there] == [r[key] for r in here], key
    assert all(r["summary_ru"] and r["summary_en"] for r in there)
    assert "11 done, 0 failed" in remote.stderr


def test_output_dir_gets_the_same_files(run, client, tmp_path):
    news = make_folder(tmp_path / "news", 3)
    local, remote = run(news, "-o", tmp_path / "local", "--format", "json"), client(news, "-o", tmp_path / "remote", "--format", "json")
    assert local.exit_code == 0 and remote.exit_code == 0, remote.stderr
    names = sorted(p.name for p in (tmp_path / "remote").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "local").iterdir()) == ["000.json", "001.json", "002.json"]
    for name in names:
        assert json.loads((tmp_path / "remote" / name).read_text(encoding="utf-8"))["source"] == str(news / name.replace(".json", ".txt"))


def test_a_dataset_goes_to_an_output_dataset_keyed_by_its_ids(client, tmp_path):
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [{"id": f"n{i}", "title": f"Новость {i}", "text": f"{SHORT} Номер {i}."} for i in range(5)])
    done = client(corpus, "--output", tmp_path / "out.jsonl")
    assert done.exit_code == 0, done.stderr
    columns, rows = read_output(tmp_path / "out.jsonl")
    assert columns[0] == "id" and [r["id"] for r in rows] == [f"n{i}" for i in range(5)]
    assert [r["title"] for r in rows] == [f"Новость {i}" for i in range(5)] and all(r["summary_ru"] for r in rows)


def test_options_given_reach_the_server_and_others_stay_the_servers(client):
    article = f"{SHORT} Подрядчиков выберут на конкурсе. Итоги подведут в апреле."
    done = client("-", "--format", "json", "--no-translate", "--engine", "lead", "--length", "short", input=article)
    assert done.exit_code == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["source"], result["engine"], result["model"], result["translator"], result["summary_en"]) == ("stdin", "lead", None, None, None)
    assert result["summary_ru"] == "Правительство утвердило программу ремонта дорог. Работы начнутся весной."  # short: the first 2 sentences


def test_no_check_reaches_the_server(client):
    checked, unchecked = client("-", "--format", "json", input=SHORT), client("-", "--format", "json", "--no-check", input=SHORT)
    assert checked.exit_code == 0 and unchecked.exit_code == 0, unchecked.stderr
    assert isinstance(json.loads(checked.stdout)["unsupported"], list)  # the check ran on the model's summary
    assert json.loads(unchecked.stdout)["unsupported"] is None


def test_check_and_translate_asked_for_by_name_are_never_dropped_by_a_server_without_them(run, fast_config):
    """--check is the default here: given by name, it must still be sent, so that a server started
    with --no-check refuses it (one line for the whole run, exit 2) instead of answering with
    summaries nobody checked."""
    with serving(fast_config, "--no-check", "--no-translate") as served:
        plain = run("-", "--format", "json", "--server", served.base, input=SHORT, config=None)
        assert plain.exit_code == 0 and json.loads(plain.stdout)["unsupported"] is None, plain.stderr  # the server's own settings
        for flag, says in (("--check", "does not check summaries"), ("--translate", "does not translate")):
            asked = run("-", "--format", "json", flag, "--server", served.base, input=SHORT, config=None)
            assert asked.exit_code == 2 and says in asked.stderr and len(asked.stderr.splitlines()) == 1, (flag, asked.stderr)


def test_piped_stdin_prints_what_a_local_run_prints(run, client):
    local, remote = run("--format", "plain", input=SHORT), client("--format", "plain", input=SHORT)
    assert remote.exit_code == 0, remote.stderr
    assert remote.stdout.count("\n\n") == local.stdout.count("\n\n") == 1  # the Russian summary, a blank line, the English one
    assert remote.stdout.strip() and "==>" not in remote.stdout


def test_a_bad_input_among_good_ones_fails_alone(client, tmp_path):
    news = make_folder(tmp_path / "news", 2)
    (news / "empty.txt").write_bytes(b"")  # refused here, by the reader
    (news / "long.txt").write_text(ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")  # read here, refused by the server's limit
    done = client(news, "--format", "jsonl")
    assert done.exit_code == 1, done.stderr
    rows = {r["source"].rsplit("/", 1)[-1]: r for r in parse_jsonl(done.stdout)}
    assert list(rows) == ["000.txt", "001.txt", "empty.txt", "long.txt"]
    assert rows["000.txt"]["error"] is None and rows["001.txt"]["error"] is None
    assert rows["empty.txt"]["error"].startswith(str(news / "empty.txt"))
    long_error = rows["long.txt"]["error"]
    assert long_error.startswith(f"{news / 'long.txt'}: is over the limit of {MAX_CHARS} characters"), long_error
    assert "\n" not in long_error and "2 done, 2 failed" in done.stderr


def test_a_server_that_does_not_answer_is_one_line_and_exit_2(run, tmp_path):
    port = free_port()  # nothing listens there
    done = run("-", "--server", f"http://127.0.0.1:{port}", "-o", tmp_path / "out", input=SHORT, config=None)
    assert done.exit_code == 2
    assert one_line(done.stderr) == (f"summarize: error: server http://127.0.0.1:{port}: not answering (Connection refused); start it with summarize serve")
    assert done.stdout == "" and not (tmp_path / "out").exists()


def test_skip_existing_resumes_what_the_server_already_summarised(client, tmp_path):
    news = make_folder(tmp_path / "news", 3)
    first = client(news, "-o", tmp_path / "out", "--format", "json")
    (news / "003.txt").write_text(SHORT + " Новость номер 3.", encoding="utf-8")
    again = client(news, "-o", tmp_path / "out", "--format", "json", "--skip-existing")
    assert first.exit_code == 0 and again.exit_code == 0, again.stderr
    assert "1 done, 0 failed, 3 skipped (already written)" in again.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["000.json", "001.json", "002.json", "003.json"]


def test_a_server_that_dies_mid_run_leaves_what_is_written_and_says_so_in_one_line(run, fast_config, models, tmp_path, monkeypatch):
    """The server is killed once the first result is written: the finished files stay, the tally
    says how many are left, and the run ends with the not-answering line and exit 2."""
    news, out = make_folder(tmp_path / "news", 40), tmp_path / "out"
    with serving(slow_config(tmp_path / "slow.toml", models["t5"]), "--model", "slow", "--no-translate", "--max-group", "1") as served:
        killer = threading.Thread(target=_kill_at_first_file, args=(served.process, out), daemon=True)
        killer.start()
        done = run(news, "--server", served.base, "-o", out, "--format", "json", config=None)
        killer.join(5)
    assert done.exit_code == 2, done.stderr
    *before, last = done.stderr.strip().splitlines()
    assert last.startswith(f"summarize: error: server {served.base}: not answering (") and last.endswith("start it with summarize serve")
    written = sorted(out.iterdir())
    assert 1 <= len(written) < 40 and all(json.loads(p.read_text(encoding="utf-8"))["summary_ru"] for p in written)
    assert any(f"{len(written)} done, 0 failed, {40 - len(written)} left" in line for line in before), done.stderr


def _kill_at_first_file(process: subprocess.Popen, folder: Path) -> None:
    until = time.monotonic() + 120
    while time.monotonic() < until and not (folder.is_dir() and any(folder.iterdir())):
        time.sleep(0.01)
    process.kill()


@pytest.mark.parametrize("token", [None, "wrong"])
def test_a_missing_or_wrong_token_is_one_line_naming_the_variable(run, server, monkeypatch, token):
    if token:
        monkeypatch.setenv("SUMMARIZE_TOKEN", token)
    done = run("-", "--server", server, input=SHORT, config=None)
    assert done.exit_code == 2
    line = one_line(done.stderr)
    assert line.startswith(f"summarize: error: server {server}: refused (") and "set SUMMARIZE_TOKEN" in line and "--token" in line


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--ray", "--output", "out/"], "--server and --ray: choose one"),
        (["--model", "tiny-mbart"], "--model is the server's choice"),
        (["--backend", "torch"], "--backend is the server's choice"),
        (["--long", "chunk"], "--long is the server's choice"),
    ],
)
def test_choices_that_are_the_servers_are_refused_in_one_line(client, args, said):
    done = client("-", *args, input=SHORT)
    assert done.exit_code == 2
    assert said in one_line(done.stderr)


def test_the_server_address_comes_from_summarize_server_too(run, server, monkeypatch):
    monkeypatch.setenv("SUMMARIZE_TOKEN", TOKEN)
    monkeypatch.setenv("SUMMARIZE_SERVER", server)
    done = run("-", "--format", "json", input=SHORT, config=None)
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["source"] == "stdin"


def test_the_client_loads_no_model_library():
    """The client's start is imports: the readers and the standard library's HTTP client, never httpx (its import
    alone costs about what the whole client may), torch, transformers, the server's or the checks'."""
    code = "import sys, summarize.cli, summarize.runs.remote; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=clean_env(PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    modules = {name.split(".")[0] for name in done.stdout.split()}
    assert "http" in modules
    assert not {"httpx", "torch", "transformers", "ctranslate2", "fastapi", "uvicorn", "starlette", "natasha", "trafilatura", "pyarrow", "ray"} & modules
    assert "summarize.pipeline" not in done.stdout.split()


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("http://127.0.0.1:99999", "its port is not a number from 1 to 65535"),
        ("http://127.0.0.1:abc", "its port is not a number from 1 to 65535"),
        ("http://[::1", "it is not a URL"),
        ("http://reader:s3cr3t@127.0.0.1:8000", "a user or password in the address is not sent; put the server's token in SUMMARIZE_TOKEN"),
    ],
)
def test_a_bad_server_address_is_one_line_naming_it_without_its_password(run, address, said):
    done = run("-", "--server", address, input=SHORT, config=None)
    assert done.exit_code == 2
    line = one_line(done.stderr)
    assert line.startswith("summarize: error: --server '") and said in line and "s3cr3t" not in line


@pytest.mark.parametrize("where", ["flag", "environment"])
def test_an_empty_server_address_is_refused_not_a_local_run(run, monkeypatch, where):
    if where == "environment":
        monkeypatch.setenv("SUMMARIZE_SERVER", "")
    done = run("-", *(["--server", ""] if where == "flag" else []), input=SHORT)
    assert done.exit_code == 2
    assert "empty" in one_line(done.stderr) and done.stdout == ""


def test_beams_over_the_servers_limit_are_refused_before_anything_is_sent(client, tmp_path):
    done = client(make_folder(tmp_path / "news", 3), "--beams", "9", "-o", tmp_path / "out")
    assert done.exit_code == 2
    assert one_line(done.stderr) == "summarize: error: --beams 9 is over the server's limit of 8 (its --max-beams); ask for that many or fewer"
    assert not (tmp_path / "out").exists()


def test_options_the_server_refuses_are_one_line_and_exit_2_not_a_failure_per_file(client, tmp_path):
    done = client(make_folder(tmp_path / "news", 12), "--engine", "lead", "--beams", "2", "--format", "jsonl")
    assert done.exit_code == 2
    line = one_line(done.stderr)
    assert line.startswith("summarize: error: server ") and "refused the run's requests (422: " in line and "beams" in line
    assert done.stdout == ""


def test_each_result_comes_from_its_own_input_through_several_requests_in_flight(client, tmp_path):
    """Texts of different lengths, each with a first sentence of its own: the lead engine's summary can only come from its own input."""
    news = tmp_path / "news"
    news.mkdir()
    for i in range(30):
        body = " ".join(f"Абзац {j} о {i}." for j in range(1 + (i * 7) % 19))  # under the server's 400 characters
        (news / f"{i:03d}.txt").write_text(f"Новость {i} открывает заметку. {body}", encoding="utf-8")
    done = client(news, "--engine", "lead", "--length", "short", "--no-translate", "--format", "json")
    assert done.exit_code == 0, done.stderr
    results = json.loads(done.stdout)
    assert [r["source"] for r in results] == [str(news / f"{i:03d}.txt") for i in range(30)]
    for i, result in enumerate(results):
        assert result["summary_ru"] == f"Новость {i} открывает заметку. Абзац 0 о {i}.", i  # short: the first 2 sentences


def test_requests_fit_the_limits_the_server_says_and_a_rate_limit_is_waited_out_aloud(run, fast_config, tmp_path):
    """--max-batch 2 and a body limit: the client's requests fit them (no 413); an article too large for any request fails alone.
    Then a rate limit: the client says it waits, and a signal ends the wait."""
    news = make_folder(tmp_path / "news", 5)
    (news / "huge.txt").write_text(SHORT + " Длинно." * 800, encoding="utf-8")
    limits = ("--max-batch", "2", "--max-body", "4000", "--requests-per-minute", "5", "--no-translate")
    with serving(fast_config, *limits) as served:
        done = run(news, "--server", served.base, "--engine", "lead", "--format", "jsonl", config=None)
        assert done.exit_code == 1, done.stderr
        rows = {r["source"].rsplit("/", 1)[-1]: r for r in parse_jsonl(done.stdout)}
        assert [rows[f"{i:03d}.txt"]["error"] for i in range(5)] == [None] * 5
        assert "over the server's body limit of 4000 (its --max-body)" in rows["huge.txt"]["error"]
        assert served.metric("summarize_requests_total", endpoint="/v1/summarize/batch", status="200") == 3
        assert served.metric("summarize_requests_total", endpoint="/v1/summarize/batch", status="413") == 0
        waiting = subprocess.Popen(
            [sys.executable, "-m", "summarize", "-", "--server", served.base, "--engine", "lead"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(PYTHONPATH=str(ROOT)),
        )
        waiting.stdin.write(SHORT)
        waiting.stdin.close()
        line = waiting.stderr.readline()  # info is the 5th request of the minute, the summary the 6th
        waiting.send_signal(signal.SIGTERM)
        assert waiting.wait(60) == 143
    assert line.startswith(f"summarize: server {served.base}: rate limited (429: over this server's limit of 5 requests a minute"), line
    assert "retrying in" in line


class _Pretender(BaseHTTPRequestHandler):
    """A server that says it is a summarize serve and answers results of the wrong type (for a text
    with "ЛОМ" in it) or an endless answer (for "МНОГО")."""

    def do_GET(self):
        info = {"engine": "lead", "limits": {"max_batch": 8, "max_body": 1_000_000, "max_beams": 8, "deadline": 30}}
        self._answer(json.dumps(info if self.path == "/v1/info" else {"status": "ok"}).encode())

    def do_POST(self):
        asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        results = [Result("text", summary_ru=5 if "ЛОМ" in one["text"] else "Итог.", engine="lead").to_dict() for one in asked]
        body = json.dumps(results, ensure_ascii=False).encode()
        self._answer(body + b" " * (3 << 20) if any("МНОГО" in one["text"] for one in asked) else body)

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def pretender():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pretender)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_result_of_the_wrong_type_fails_its_input_and_an_endless_answer_stops_the_run(run, pretender, tmp_path):
    news = make_folder(tmp_path / "news", 2)
    (news / "001.txt").write_text(SHORT + " ЛОМ.", encoding="utf-8")
    done = run(news, "--server", pretender, "--format", "jsonl", config=None)
    assert done.exit_code == 1, done.stderr
    good, bad = parse_jsonl(done.stdout)
    assert good["error"] is None and good["summary_ru"] == "Итог."
    assert bad["summary_ru"] is None and bad["error"].startswith(f"{news / '001.txt'}: the server's result is not one (summary_ru is a JSON int)")
    endless = run("-", "--server", pretender, input=SHORT + " МНОГО.", config=None)
    assert endless.exit_code == 2
    assert f"server {pretender}: answered POST /v1/summarize/batch with more than " in one_line(endless.stderr)


def test_output_columns_follow_the_servers_targets_when_the_client_names_none(run, fast_config, tmp_path):
    import csv

    with serving(fast_config, "--to", "de,en") as served:
        short = tmp_path / "short.txt"
        short.write_text(SHORT, encoding="utf-8")
        result = run(short, "--server", served.base, "--output", tmp_path / "out.csv", config=None)
        only_en = run(short, "--server", served.base, "--to", "en", "--output", tmp_path / "en.csv", config=None)
    assert (result.exit_code, only_en.exit_code) == (0, 0), result.stderr + only_en.stderr
    with open(tmp_path / "out.csv", encoding="utf-8", newline="") as f:
        [row] = list(csv.DictReader(f))
    columns = list(row)
    assert columns.index("summary_en") + 1 == columns.index("summary_de") and row["summary_de"] and row["summary_en"]
    with open(tmp_path / "en.csv", encoding="utf-8", newline="") as f:
        assert "summary_de" not in next(csv.reader(f))


def test_an_article_the_server_read_into_russian_has_the_local_runs_warnings(run, client, tmp_path):
    """The client's reading warned 'looks Ukrainian: expect a poor summary'; the server read it into Russian first."""
    path = tmp_path / "uk.txt"
    path.write_text("Київ, 3 березня. Уряд затвердив програму ремонту доріг у дванадцяти областях. Роботи почнуться навесні.", encoding="utf-8")
    local, remote = run(path, "--format", "json"), client(path, "--format", "json")
    assert local.exit_code == 0 and remote.exit_code == 0, remote.stderr
    here, there = json.loads(local.stdout), json.loads(remote.stdout)
    assert there["source_translator"] == "opus-mt-tc-big-zle-zle" and there["warnings"] == here["warnings"]
    assert not any("expect a poor summary" in w for w in there["warnings"])

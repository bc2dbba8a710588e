"""`summarize serve` as clients see it: a real uvicorn on 127.0.0.1 with the tiny models. One result
has exactly the keys of `--format json`; a batch keeps its order and a failed document is a result;
every bad request is a 4xx with one line and the server goes on; concurrent requests share groups;
a full queue is a 503; the token, the host check, the port check; SIGTERM finishes what is in flight."""

from __future__ import annotations

import json
import select
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from helpers import SHORT, NewsServer
from serving import Served, environment, in_thread, sample, serve_command, serving, stop

pytestmark = pytest.mark.slow

PAGE = Path(__file__).parent / "pages" / "ria_style.html"
TOKEN = "s3cret-token-for-tests"
LEAD = {"engine": "lead", "translate": False}


@pytest.fixture(scope="module")
def server(fast_config) -> Served:
    """The tiny models, small limits; it may fetch pages from this machine (the tests' site)."""
    args = ("--max-input-chars", "2000", "--max-body", "100000", "--max-batch", "4", "--max-beams", "4", "--allow-private-urls")
    with serving(fast_config, *args) as served:
        yield served


@pytest.fixture(scope="module")
def busy(fast_config) -> Served:
    """No model, a token, and groups that only run full (of 4) or at their 5 s deadline: what waits
    is seen in /metrics, and a queue of 8 fills without racing the worker."""
    args = ("--engine", "lead", "--no-translate", "--queue", "8", "--max-group", "4", "--wait-ms", "600000", "--deadline", "5")
    with serving(fast_config, *args, token=TOKEN) as served:
        yield served


def one_line_error(response: httpx.Response) -> str:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"] and body["error"] and "\n" not in body["error"] and "Traceback" not in body["error"]
    return body["error"]


def still_serving(server: Served) -> None:
    """Healthy, and summarising: four documents, a full group on every server here."""
    assert server.get("/healthz").status_code == 200
    answer = server.post("/v1/summarize/batch", [{"text": SHORT, "options": LEAD}] * 4)
    assert answer.status_code == 200 and all(r["summary_ru"] for r in answer.json())


def test_healthz_and_one_result_with_exactly_the_keys_of_format_json(server, run):
    health = server.get("/healthz")
    assert health.status_code == 200 and "tiny-t5" in health.json()["serving"]
    answer = server.post("/v1/summarize", {"text": SHORT})
    assert answer.status_code == 200, answer.text
    local = run("-", "--format", "json", input=SHORT)
    assert local.exit_code == 0, local.stderr
    expected, got = json.loads(local.stdout), answer.json()
    assert list(got) == list(expected)
    assert (got["id"], got["source"], got["error"]) == ("text", "text", None)
    assert got["summary_ru"] and got["summary_en"] and got["seconds"] > 0
    assert [got[k] for k in ("engine", "model", "translator", "backend")] == [expected[k] for k in ("engine", "model", "translator", "backend")]


def test_request_options_apply_to_that_request_only(server, run):
    lead = server.post("/v1/summarize", {"text": SHORT, "id": "a-1", "options": {"engine": "lead", "translate": False, "length": "short"}}).json()
    local = json.loads(run("-", "--engine", "lead", "--no-translate", "--length", "short", "-f", "json", input=SHORT).stdout)
    assert (lead["id"], lead["engine"], lead["model"], lead["summary_en"]) == ("a-1", "lead", None, None)
    assert lead["summary_ru"] == local["summary_ru"]
    model = server.post("/v1/summarize", {"text": SHORT, "title": "Дороги", "options": {"beams": 1}}).json()
    assert (model["engine"], model["model"], model["title"]) == ("abstractive", "tiny-t5", "Дороги") and model["summary_en"]


def test_summaries_are_checked_as_locally_unless_a_request_says_check_false(server, run):
    text = "Москва, 3 марта. Министр Иванов сообщил, что работы начнутся весной."
    checked = server.post("/v1/summarize", {"text": text}).json()
    local = json.loads(run("-", "-f", "json", input=text).stdout)
    assert isinstance(checked["unsupported"], list) and checked["unsupported"] == local["unsupported"]
    unchecked = server.post("/v1/summarize", {"text": text, "options": {"check": False}}).json()
    assert unchecked["unsupported"] is None and unchecked["summary_ru"]


def test_batch_answers_in_order_and_a_failed_document_is_a_result(server):
    body = [
        {"text": SHORT, "id": "first"},
        {"text": "   ", "id": "empty"},
        {"html": PAGE.read_text(encoding="utf-8"), "options": LEAD},
        {"text": SHORT + " Вторая новость.", "options": {"engine": "extractive"}},
    ]
    answer = server.post("/v1/summarize/batch", body)
    assert answer.status_code == 200, answer.text
    results = answer.json()
    assert [r["id"] for r in results] == ["first", "empty", "html", "text"]
    assert [r["error"] is None for r in results] == [True, False, True, True]
    assert results[1]["error"] == "text: is empty; nothing to summarise" and results[1]["summary_ru"] is None
    assert results[2]["title"] and results[2]["engine"] == "lead" and results[3]["engine"] == "extractive"
    assert all(list(r) == list(results[0]) for r in results)


@pytest.fixture(scope="module")
def site():
    news = NewsServer()
    news.add("/news/1", PAGE.read_bytes())
    news.add("/gone", "not here", "text/plain", status=404)
    yield news
    news.stop()


def test_a_url_is_fetched_and_read_as_the_cli_reads_it(server, site, run):
    answer = server.post("/v1/summarize", {"url": site.url("/news/1"), "options": LEAD})
    assert answer.status_code == 200, answer.text
    local = json.loads(run(site.url("/news/1"), "--engine", "lead", "--no-translate", "-f", "json").stdout)
    got = answer.json()
    assert (got["source"], got["url"], got["title"], got["summary_ru"]) == (local["source"], local["url"], local["title"], local["summary_ru"])
    missing = server.post("/v1/summarize", {"url": site.url("/gone")})
    assert missing.status_code == 422 and "404" in one_line_error(missing)
    assert server.metric("summarize_stage_seconds_count", stage="fetch") >= 2


def test_a_url_on_this_machine_is_refused_by_default(busy, site):
    hits = sum(site.hits.values())
    for url in (site.url("/news/1"), site.url("/news/1").replace("127.0.0.1", "localhost"), "http://169.254.169.254/latest/meta-data/"):
        refused = busy.post("/v1/summarize", {"url": url})
        assert refused.status_code == 422 and "private address" in one_line_error(refused), refused.text
    in_batch = busy.post("/v1/summarize/batch", [{"url": site.url("/news/1")}] + [{"text": SHORT}] * 4).json()
    assert "private address" in in_batch[0]["error"] and all(r["error"] is None for r in in_batch[1:])
    assert sum(site.hits.values()) == hits  # nothing reached the site
    still_serving(busy)


BIG = "x" * 100_001


@pytest.mark.parametrize(
    ("name", "content", "content_type", "status", "says"),
    [
        ("empty text", {"text": ""}, None, 422, "is empty"),
        ("whitespace text", {"text": " \n\t "}, None, 422, "is empty"),
        ("invalid JSON", b'{"text": ', None, 400, "not valid JSON"),
        ("no body", b"", None, 400, "the body is empty"),
        ("a JSON array to the single endpoint", [{"text": SHORT}], None, 422, "valid dictionary"),
        ("wrong content type", {"text": SHORT}, "text/plain", 415, "application/json"),
        ("no content type", {"text": SHORT}, "", 415, "application/json"),
        ("huge body", {"text": BIG}, None, 413, "over this server's limit of 100000 bytes"),
        ("binary: NUL and control bytes", {"text": "ab\x00\x01\x02\x03\x04\x05"}, None, 400, "binary data"),
        ("binary: not UTF-8", b'{"text": "\xff\xfe\x00\x81"}', None, 400, "not UTF-8"),
        ("a lone surrogate", b'{"text": "\\ud800 \\u0434"}', None, 400, "lone surrogate"),
        ("over --max-input-chars", {"text": "д" * 2001}, None, 413, "over the limit of 2 000 characters"),
        ("unknown field", {"text": SHORT, "file": "/etc/passwd"}, None, 422, "unknown field 'file'"),
        ("unknown option", {"text": SHORT, "options": {"temperature": 2}}, None, 422, "unknown field 'options.temperature'"),
        ("no input", {"title": "Заголовок"}, None, 422, "give exactly one of text, url or html"),
        ("two inputs", {"text": SHORT, "html": "<p>x</p>"}, None, 422, "give exactly one of text, url or html"),
        ("beams 0", {"text": SHORT, "options": {"beams": 0}}, None, 422, "options.beams"),
        ("beams over the server's max", {"text": SHORT, "options": {"beams": 5}}, None, 422, "over this server's limit of 4"),
        ("beams for lead", {"text": SHORT, "options": {"beams": 2, "engine": "lead"}}, None, 422, "is for a model"),
        ("unknown length", {"text": SHORT, "options": {"length": "huge"}}, None, 422, "options.length"),
        ("unknown engine", {"text": SHORT, "options": {"engine": "gpt"}}, None, 422, "options.engine"),
        ("max_words for the model", {"text": SHORT, "options": {"max_words": 5}}, None, 422, "options.max_words is for options.engine extractive or lead"),
        ("text of the wrong type", {"text": 5}, None, 422, "text: Input should be a valid string"),
        ("a boolean for beams", {"text": SHORT, "options": {"beams": True}}, None, 422, "options.beams: Input should be a valid integer"),
        ("a string for beams", {"text": SHORT, "options": {"beams": "2"}}, None, 422, "options.beams: Input should be a valid integer"),
        ("a string for check", {"text": SHORT, "options": {"check": "no"}}, None, 422, "options.check: Input should be a valid boolean"),
        ("a number for translate", {"text": SHORT, "options": {"translate": 0}}, None, 422, "options.translate: Input should be a valid boolean"),
        ("a server-side option", {"text": SHORT, "options": {"model": "tiny-mbart"}}, None, 422, "options.model is this server's choice"),
        ("a server-side flag", {"text": SHORT, "options": {"long_mode": "chunk"}}, None, 422, "(summarize serve --long …); leave it out"),
    ],
)
def test_each_bad_request_is_a_4xx_with_one_line_and_the_server_goes_on(server, name, content, content_type, status, says):
    headers = {"Content-Type": "application/json" if content_type is None else content_type}
    raw = content if isinstance(content, bytes) else json.dumps(content, ensure_ascii=False).encode()
    answer = server.post("/v1/summarize", None, content=raw, headers=headers)
    assert answer.status_code == status, answer.text
    assert says in one_line_error(answer)
    still_serving(server)


def _read_answer(connection: socket.socket) -> str:
    """One HTTP answer off a raw socket, its body whole: the head and the body may come in separate
    packets, and the server may close the connection after them."""
    data = b""
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _content_length(data):
        try:
            more = connection.recv(65536)
        except ConnectionError:
            break
        if not more:
            break
        data += more
    return data.decode()


def _content_length(data: bytes) -> int:
    head = data.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
    return next((int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.startswith("content-length:")), 0)


def test_a_streamed_body_past_the_limit_is_refused_before_it_is_read_whole(server):
    """No Content-Length: the body is counted as it comes, and the 413 comes while the client is
    still sending (this client would send 100 MB; it stops at the answer)."""
    host, port = server.base.removeprefix("http://").split(":")
    chunk = b"2710\r\n" + b" " * 10_000 + b"\r\n"  # 10 000 bytes a chunk
    sent = 0
    with socket.create_connection((host, int(port)), timeout=60) as connection:
        connection.sendall(b"POST /v1/summarize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        while not select.select([connection], [], [], 0)[0]:
            assert sent < 10_000, "no answer after 100 MB"
            try:
                connection.sendall(chunk)
            except ConnectionError:  # the server answered and hung up between the check and the send
                break
            sent += 1
        answer = _read_answer(connection)
    assert answer.startswith("HTTP/1.1 413 ") and "over this server's limit of 100000 bytes" in answer
    assert sent < 1000
    still_serving(server)


def test_batch_limits_are_whole_request_errors(server):
    five = server.post("/v1/summarize/batch", [{"text": SHORT}] * 5)
    assert five.status_code == 413 and "the batch has more than 4 documents, this server's limit" in one_line_error(five)
    assert server.post("/v1/summarize/batch", []).status_code == 422
    bad_item = server.post("/v1/summarize/batch", [{"text": SHORT}, {"text": SHORT, "options": {"beams": 9}}])
    assert bad_item.status_code == 422 and one_line_error(bad_item).startswith("[1]: options.beams is over this server's limit of 4")
    assert server.post("/v1/summarize/batch", {"text": SHORT}).status_code == 422
    still_serving(server)


def test_unknown_paths_and_methods_are_json_errors(server):
    assert "no such page" in one_line_error(server.get("/v1/nope"))
    wrong = server.get("/v1/summarize")
    assert wrong.status_code == 405 and "method not allowed" in one_line_error(wrong)


def test_docs_and_openapi_are_served_without_a_cdn(server):
    spec = server.get("/openapi.json").json()
    assert {"/v1/summarize", "/v1/summarize/batch", "/healthz", "/metrics"} <= set(spec["paths"])
    page = server.get("/docs")
    assert page.status_code == 200 and "/v1/summarize/batch" in page.text
    assert "<script" not in page.text and "://" not in page.text  # nothing fetched from elsewhere


def test_metrics_count_requests_documents_and_stages(server):
    server.post("/v1/summarize", {"text": SHORT, "options": LEAD})
    server.post("/v1/summarize", {"text": ""})
    text = server.get("/metrics").text
    assert sample(text, "summarize_requests_total", endpoint="/v1/summarize", status="200") >= 1
    assert sample(text, "summarize_requests_total", endpoint="/v1/summarize", status="422") >= 1
    assert sample(text, "summarize_errors_total", reason="invalid") >= 1
    assert sample(text, "summarize_documents_total", outcome="ok") >= 1
    assert sample(text, "summarize_group_documents_count") >= 1
    assert sample(text, "summarize_stage_seconds_count", stage="pipeline") >= 1 and sample(text, "summarize_stage_seconds_count", stage="queue") >= 1
    assert "summarize_queue_depth" in text


def test_requests_need_the_token_but_healthz_does_not(busy):
    assert busy.get("/healthz", headers={}).status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN}):
        refused = busy.post("/v1/summarize", {"text": SHORT}, headers={"Content-Type": "application/json", **headers})
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer" in one_line_error(refused)
    assert busy.get("/metrics", headers={}).status_code == 401
    assert busy.get("/metrics").status_code == 200
    assert TOKEN not in busy.stderr()  # the access log has no headers
    still_serving(busy)


def post_in_background(server: Served, path: str, body) -> tuple[threading.Thread, list]:
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(server.post(path, body)), daemon=True)
    thread.start()
    return thread, answers


def wait_for(check, what: str) -> None:
    """Poll until check() holds (bounded: a test may fail, never hang)."""
    import time

    end = time.monotonic() + 60
    while not check():
        assert time.monotonic() < end, f"never: {what}"
        time.sleep(0.02)


def test_concurrent_requests_run_in_one_group_and_option_sets_apart(busy):
    groups = busy.metric("summarize_group_documents_count")
    documents = busy.metric("summarize_group_documents_sum")
    texts = [f"{SHORT} Новость номер {i}." for i in range(4)]
    background = [post_in_background(busy, "/v1/summarize", {"text": t, "id": str(i)}) for i, t in enumerate(texts)]
    for thread, _ in background:
        thread.join(60)
    assert [a[0].status_code for _, a in background] == [200] * 4
    assert [a[0].json()["id"] for _, a in background] == ["0", "1", "2", "3"]
    # the group runs only once it is full: the four requests made one group of four
    assert busy.metric("summarize_group_documents_count") == groups + 1
    assert busy.metric("summarize_group_documents_sum") == documents + 4
    mixed = [{"text": t, "options": {"engine": "extractive" if i % 2 else "lead"}} for i, t in enumerate(texts * 2)]
    answer = busy.post("/v1/summarize/batch", mixed)
    assert answer.status_code == 200 and [r["engine"] for r in answer.json()] == ["lead", "extractive"] * 4
    assert busy.metric("summarize_group_documents_count") == groups + 3  # two groups of four: one per option set
    assert busy.metric("summarize_group_documents_sum") == documents + 12


def test_a_full_queue_is_503_with_retry_after_and_waiting_past_the_deadline_is_504(busy):
    waiting = [{"text": SHORT, "options": {"length": length}} for length in ("short", "short", "medium", "medium", "long", "long")]
    thread, answers = post_in_background(busy, "/v1/summarize/batch", waiting)  # six documents in three groups short of four
    one, first = post_in_background(busy, "/v1/summarize", {"text": SHORT, "options": {"engine": "extractive"}})
    wait_for(lambda: busy.metric("summarize_queue_depth") == 7, "seven documents waiting")
    full = busy.post("/v1/summarize/batch", [{"text": SHORT}] * 2)
    assert full.status_code == 503 and full.headers["retry-after"] == "1"
    assert "busy" in one_line_error(full)
    thread.join(60)
    one.join(60)
    for answer in (answers[0], first[0]):
        assert answer.status_code == 504 and "deadline of 5 s" in one_line_error(answer)
    still_serving(busy)


def test_a_client_that_hangs_up_before_its_turn_is_dropped(busy):
    gone = busy.metric("summarize_dropped_documents_total", reason="client_gone")
    hung_up = busy.metric("summarize_requests_total", endpoint="/v1/summarize", status="499")
    with pytest.raises(httpx.ReadTimeout):  # its group of four never fills: it waits, and the client gives up
        httpx.post(busy.url("/v1/summarize"), json={"text": SHORT, "options": {"max_words": 7}}, headers=busy.headers(), timeout=0.5)
    wait_for(lambda: busy.metric("summarize_requests_total", endpoint="/v1/summarize", status="499") == hung_up + 1, "the hang-up seen")
    assert busy.metric("summarize_dropped_documents_total", reason="client_gone") == gone + 1
    assert busy.metric("summarize_queue_depth") == 0
    still_serving(busy)


def test_sigterm_finishes_the_request_in_flight_then_exits_0(fast_config):
    with serving(fast_config, "--engine", "lead", "--no-translate", "--max-group", "2", "--wait-ms", "600000", "--grace", "30") as server:
        thread, answers = post_in_background(server, "/v1/summarize", {"text": SHORT, "id": "in-flight"})
        wait_for(lambda: server.metric("summarize_queue_depth") == 1, "the request waiting for a group-mate")
        assert stop(server.process) == 0
        thread.join(60)
        assert answers[0].status_code == 200 and answers[0].json()["id"] == "in-flight"
        assert "SIGTERM: stopping" in server.stderr() and server.stderr().rstrip().endswith("summarize: stopped")


def test_another_host_without_a_token_refuses_to_start_before_loading_anything(fast_config):
    command = [sys.executable, "-X", "importtime", *serve_command(fast_config, "--host", "0.0.0.0")[1:]]
    done = subprocess.run(command, capture_output=True, text=True, env=environment(), timeout=120)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if "|" not in line]
    assert len(lines) == 1 and "--token" in lines[0] and lines[0].startswith("summarize: error: --host 0.0.0.0")
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert not {"torch", "transformers", "ctranslate2", "uvicorn", "fastapi"} & imported


def test_a_port_in_use_is_one_line_and_exit_2(fast_config):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        command = [*serve_command(fast_config, "--engine", "lead", "--no-translate")]
        command[command.index("0")] = str(taken.getsockname()[1])
        done = subprocess.run(command, capture_output=True, text=True, env=environment(), timeout=120)
    finally:
        taken.close()
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "cannot listen on 127.0.0.1 port" in done.stderr and "--port" in done.stderr


def test_a_model_missing_with_strict_stops_the_server_with_one_line_and_exit_2(tmp_path):
    done = subprocess.run(serve_command(None, "--strict"), capture_output=True, text=True, env=environment(HF_HOME=str(tmp_path)), timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("summarize: error: model IlyaGusev/rut5_base_sum_gazeta (preset rut5-gazeta) is not in the local cache")


def test_serve_help_imports_no_server_or_model_library():
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "summarize", "serve", "--help"], capture_output=True, text=True, env=environment(), timeout=60
    )
    assert done.returncode == 0 and "--token" in done.stdout
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert not {"fastapi", "uvicorn", "starlette", "prometheus_client", "torch", "transformers", "httpx"} & imported


# In this process: a server whose models are not loaded yet, and an error no request should meet


def lead_service(**flags):
    from summarize.config import load_config
    from summarize.flags import ServeFlags
    from summarize.options import Choices
    from summarize.runs.serve.metrics import ServeMetrics
    from summarize.runs.serve.service import Service

    metrics = ServeMetrics()
    settings = ServeFlags(translate=False, **flags)
    return Service(load_config(None), Choices(engine=_lead()), settings, lambda line: None, metrics), settings, metrics


def _lead():
    from summarize.config import Engine

    return Engine.lead


def test_healthz_is_503_until_the_models_are_loaded():
    from summarize.runs.serve.app import make_app

    service, flags, metrics = lead_service()
    with in_thread(make_app(service, flags, metrics, lambda line: None)) as base:
        health = httpx.get(f"{base}/healthz")
        assert health.status_code == 503 and health.headers["retry-after"] == "1" and "loading" in one_line_error(health)
        early = httpx.post(f"{base}/v1/summarize", json={"text": SHORT})
        assert early.status_code == 503 and "loading" in one_line_error(early)
        service.load()
        assert httpx.get(f"{base}/healthz").status_code == 200
        assert httpx.post(f"{base}/v1/summarize", json={"text": SHORT}).json()["engine"] == "lead"


def test_an_internal_error_is_one_line_to_the_client_and_one_line_in_the_log(monkeypatch):
    from summarize.runs.serve.app import make_app

    def broken(*args):
        raise RuntimeError("/srv/secret/path exploded\nsecond line")

    monkeypatch.setattr("summarize.runs.serve.app.read_given", broken)
    service, flags, metrics = lead_service()
    service.load()
    logged: list[str] = []
    with in_thread(make_app(service, flags, metrics, logged.append)) as base:
        answer = httpx.post(f"{base}/v1/summarize", json={"text": SHORT})
        assert answer.status_code == 500 and answer.json() == {"error": "internal error"}
        assert httpx.get(f"{base}/healthz").status_code == 200
    assert len(logged) == 1 and "\n" not in logged[0] and "Traceback" not in logged[0]
    assert logged[0].startswith("error: POST /v1/summarize: internal error (RuntimeError: /srv/secret/path exploded)")


def test_cors_only_for_the_origins_given():
    from summarize.runs.serve.app import make_app

    preflight = {"Origin": "https://news.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    for origins, allowed in ((None, None), (["https://news.example"], "https://news.example")):
        service, flags, metrics = lead_service(cors=origins)
        service.load()
        with in_thread(make_app(service, flags, metrics, lambda line: None)) as base:
            answer = httpx.options(f"{base}/v1/summarize", headers=preflight)
            assert answer.headers.get("access-control-allow-origin") == allowed
            posted = httpx.post(f"{base}/v1/summarize", json={"text": SHORT}, headers={"Origin": "https://news.example"})
            assert posted.status_code == 200 and posted.headers.get("access-control-allow-origin") == allowed
        service.close()


def test_sigint_stops_as_cleanly_as_sigterm(fast_config):
    with serving(fast_config, "--engine", "lead", "--no-translate") as server:
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(60) == 0

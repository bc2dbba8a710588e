"""`summarize serve`'s connections, scheduling and stop, against a real uvicorn on 127.0.0.1: a
connection with no whole request is answered 408 or closed (--read-timeout), idle sockets past
--max-connections make room for a real client, --deadline counts the upload, url fetches never hold
up text requests, a gone request's documents leave the queue at once (counted by why), requests cut
by --grace get 503 JSON and the stop is bounded, a signal at any moment stops cleanly, and each
result comes from its own input whatever the lengths."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time

import httpx
import pytest
from helpers import SHORT
from lifecycle import PAGE, WAIT_S, SlowSite, distinct_texts, own_results
from serving import Served, environment, in_thread, serve_command, serving, stop

pytestmark = pytest.mark.slow

LEAD = ("--engine", "lead", "--no-translate")


def connect(server: Served, data: bytes = b"") -> socket.socket:
    host, port = server.base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=WAIT_S)
    sock.sendall(data)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """What the server sends until it closes (bounded by the socket's timeout)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def json_answer(raw: bytes, status: int) -> str:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), raw
    assert b"content-type: application/json" in head.lower()
    (line,) = json.loads(body).values()
    return line


HEADERS_ONLY = b"POST /v1/summarize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"


def test_a_connection_without_a_whole_request_is_answered_408_or_closed(fast_config):
    with serving(fast_config, *LEAD, "--read-timeout", "1") as server:
        silent = connect(server)
        trickled_headers = connect(server, b"POST /v1/summarize HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        trickled_body = connect(server, HEADERS_ONLY + b'{"te')
        assert read_all(silent) == b""  # nothing sent, nothing to answer: closed
        assert "read timeout" in json_answer(read_all(trickled_headers), 408)
        assert "read timeout" in json_answer(read_all(trickled_body), 408)
        assert server.post("/v1/summarize", {"text": SHORT}).status_code == 200


def test_idle_sockets_past_the_cap_make_room_for_a_real_client(fast_config):
    with serving(fast_config, *LEAD, "--max-connections", "4", "--read-timeout", "600") as server:
        idle = [connect(server) for _ in range(10)]
        answer = httpx.post(server.url("/v1/summarize"), json={"text": SHORT}, timeout=WAIT_S)
        assert answer.status_code == 200
        assert read_all(idle[0]) == b""  # the oldest idle ones were closed to let the others in
        for sock in idle:
            sock.close()
        # four connections, each in the middle of a request: a fifth is told, not reset
        busy = [connect(server, HEADERS_ONLY + b"{") for _ in range(4)]
        for sock in busy:  # wait until all four are taken (the server reads what they sent)
            sock.settimeout(0.2)
            with pytest.raises(TimeoutError):
                sock.recv(1)
        newcomer = connect(server, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert "most connections (4)" in json_answer(read_all(newcomer), 503)
        for sock in busy:
            sock.close()


def test_the_deadline_counts_the_upload(fast_config):
    with serving(fast_config, *LEAD, "--deadline", "1", "--read-timeout", "600") as server:
        body = json.dumps({"text": SHORT}).encode()
        sock = connect(server, HEADERS_ONLY.replace(b"200", str(len(body)).encode()) + body[:5])
        time.sleep(1.5)  # past the deadline before the body is whole
        sock.sendall(body[5:])
        assert "deadline of 1 s" in json_answer(read_all(sock), 504)


@pytest.fixture
def slow_site():
    site = SlowSite()
    yield site
    site.close()


def post_in_background(server: Served, path: str, body) -> tuple[threading.Thread, list]:
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(server.post(path, body)), daemon=True)
    thread.start()
    return thread, answers


def test_slow_urls_never_hold_up_text_requests_and_their_pool_is_bounded(fast_config, slow_site):
    args = ("--allow-private-urls", "--max-batch", "40", "--fetchers", "4")  # 4 fetched at once, 40 more may wait
    with serving(fast_config, *LEAD, *args) as server:
        urls, answers = post_in_background(server, "/v1/summarize/batch", [{"url": slow_site.url(i)} for i in range(40)])
        # every fetch thread hangs on the slow site, 36 more urls wait for one: more than any shared pool of threads
        # (asyncio's default, at most 32) would have left to text requests
        slow_site.wait_for(4)
        text = httpx.post(server.url("/v1/summarize"), json={"text": SHORT}, timeout=WAIT_S)
        assert text.status_code == 200
        html = httpx.post(server.url("/v1/summarize"), json={"html": PAGE.read_text(encoding="utf-8")}, timeout=WAIT_S)
        assert html.status_code == 200
        busy = server.post("/v1/summarize/batch", [{"url": slow_site.url(i)} for i in range(40, 52)])
        assert busy.status_code == 503 and "fetching urls" in busy.json()["error"] and busy.headers["retry-after"] == "1"
        slow_site.release.set()
        urls.join(WAIT_S)
        assert answers[0].status_code == 200 and all(r["error"] is None for r in answers[0].json())


def test_sigterm_past_grace_answers_503_json_and_exits_without_waiting_for_a_fetch(fast_config, slow_site):
    with serving(fast_config, *LEAD, "--allow-private-urls", "--grace", "1") as server:
        thread, answers = post_in_background(server, "/v1/summarize", {"url": slow_site.url(1)})
        slow_site.wait_for(1)
        server.process.send_signal(15)
        # well under the 30 s a fetch may take (inputs.web's FetchLimits.deadline): the stop did not wait for it
        assert server.process.wait(20) == 0
        thread.join(WAIT_S)
        said = server.stderr()
    assert answers[0].status_code == 503 and "--grace of 1 s" in answers[0].json()["error"]
    assert "Traceback" not in said and "Exception in ASGI" not in said
    assert [line for line in said.splitlines() if "/v1/summarize" in line][0].endswith('"POST /v1/summarize HTTP/1.1" 503')  # its one line: the access log's
    assert len([line for line in said.splitlines() if "/v1/summarize" in line]) == 1
    assert said.rstrip().endswith("was given up")


def test_a_signal_while_importing_or_loading_stops_with_lines_and_no_traceback(fast_config, tmp_path):
    """SIGTERM as soon as the server imports its web framework, then as soon as the models load."""
    for module in ("fastapi", "ctranslate2"):
        log = tmp_path / f"{module}.txt"
        command = [serve_command(fast_config)[0], "-X", "importtime", *serve_command(fast_config)[1:]]
        with open(log, "wb") as stderr:
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=environment())
        try:
            end = time.monotonic() + WAIT_S * 3
            while not re.search(rf"\|\s+{module}$", log.read_text(errors="replace"), re.MULTILINE):
                assert process.poll() is None and time.monotonic() < end, log.read_text(errors="replace")
                time.sleep(0.01)
        finally:
            try:
                code = stop(process)
            except AssertionError as e:
                raise AssertionError(f"{e}:\n{log.read_text(errors='replace')[-3000:]}") from None
        said = [line for line in log.read_text(errors="replace").splitlines() if "|" not in line]
        assert code == 0 and "Traceback" not in "\n".join(said), said
        assert said[-1] in ("summarize: SIGTERM: stopped before serving", "summarize: stopped") or said[-1].endswith("was given up"), said


def test_each_result_comes_from_its_own_input_whatever_the_lengths(fast_config):
    with serving(fast_config, *LEAD, "--max-group", "4", "--wait-ms", "600000") as server:
        background = [post_in_background(server, "/v1/summarize", {"text": text, "id": str(i)}) for i, text in enumerate(distinct_texts())]
        for thread, _ in background:
            thread.join(WAIT_S)
        assert [answers[0].json()["id"] for _, answers in background] == ["0", "1", "2", "3"]  # one group of four: it ran full
        own_results([answers[0].json() for _, answers in background])
        batch = server.post("/v1/summarize/batch", [{"text": text} for text in reversed(distinct_texts())])
        own_results(list(reversed(batch.json())))


# In this process: a Service whose groups run only when the test lets them


def lead_service(**flags):
    from summarize.config import Engine, load_config
    from summarize.flags import ServeFlags
    from summarize.options import Choices
    from summarize.runs.serve.metrics import ServeMetrics
    from summarize.runs.serve.service import Service

    metrics = ServeMetrics()
    settings = ServeFlags(translate=False, **flags)
    service = Service(load_config(None), Choices(engine=Engine.lead), settings, lambda line: None, metrics)
    return service, settings, metrics


def dropped(metrics, reason: str) -> float:
    return metrics.dropped_documents.labels(reason)._value.get()


def test_gone_requests_leave_the_queue_at_once_counted_by_why():
    from summarize.runs.serve.app import make_app

    service, flags, metrics = lead_service(queue=4, max_group=1, wait_ms=0, deadline=2)
    service.load()
    running, release = threading.Event(), threading.Event()
    run = service.batcher.run

    def held(options, docs):
        running.set()
        release.wait(WAIT_S * 3)
        return run(options, docs)

    service.batcher.run = held
    with in_thread(make_app(service, flags, metrics, lambda line: None)) as base:
        try:
            first = threading.Thread(target=lambda: httpx.post(f"{base}/v1/summarize", json={"text": SHORT}, timeout=WAIT_S), daemon=True)
            first.start()
            assert running.wait(WAIT_S)  # a group runs, and holds the worker
            with pytest.raises(httpx.ReadTimeout):  # four documents fill the queue; their client gives up
                httpx.post(f"{base}/v1/summarize/batch", json=[{"text": SHORT}] * 4, timeout=0.5)
            end = time.monotonic() + WAIT_S
            while dropped(metrics, "client_gone") < 4:
                assert time.monotonic() < end, "the hang-up never seen"
                time.sleep(0.02)
            assert metrics.queue_depth._value.get() == 0  # their slots are free while the group still runs
            late = httpx.post(f"{base}/v1/summarize/batch", json=[{"text": SHORT}] * 4, timeout=WAIT_S)
            assert late.status_code == 504  # let in (not 503 "busy"), then past its 2 s deadline behind the held group
            assert dropped(metrics, "deadline") == 4 and dropped(metrics, "client_gone") == 4
        finally:
            release.set()
        first.join(WAIT_S)
    service.close()


# What the server is started with: each form a user may give, accepted or refused in one line


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        ({"host": "0.0.0.0", "token": "a"}, "the token has 1 characters; --host 0.0.0.0 lets other machines in, which needs at least 16"),
        ({"token": "токен-для-тестов-1"}, "no client can send"),
        ({"token": "two words and more"}, "no client can send"),
        ({"token": "\n"}, "the token is empty"),
        ({"host": "[::1"}, "--host '[::1' is neither an IP address nor a host name"),
        ({"host": "http://127.0.0.1:8000"}, "without a scheme or port"),
        ({"cors": ["not a url"]}, "--cors 'not a url' is not an origin"),
        ({"cors": ["https://news.example/app"]}, "is not an origin"),
        ({"cors": ["https://user@news.example"]}, "user name"),
    ],
)
def test_a_bad_host_token_or_origin_is_refused_in_one_line(flags, says):
    from summarize.errors import SummarizeError
    from summarize.flags import ServeFlags
    from summarize.runs.serve.listen import check_listening

    with pytest.raises(SummarizeError, match=re.escape(says)) as refused:
        check_listening(ServeFlags(**flags), lambda line: None)
    assert "\n" not in str(refused.value)


def test_valid_spellings_are_taken_as_the_server_uses_them():
    from summarize.flags import ServeFlags
    from summarize.runs.serve.listen import check_listening

    said: list[str] = []
    checked = check_listening(ServeFlags(host="[::1]", token="from-a-secret-file-0123\n", cors=["https://News.example/", "*"]), said.append)
    assert (checked.host, checked.token, checked.cors) == ("::1", "from-a-secret-file-0123", ["https://news.example", "*"])
    assert len(said) == 1 and "newline" in said[0]
    assert check_listening(ServeFlags(host="localhost."), said.append).host == "localhost"  # loopback: no token needed


def test_a_short_token_on_another_host_stops_the_start_with_one_line(fast_config):
    done = subprocess.run(serve_command(fast_config, "--host", "0.0.0.0"), capture_output=True, text=True, env=environment(SUMMARIZE_TOKEN="a"), timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "at least 16" in done.stderr

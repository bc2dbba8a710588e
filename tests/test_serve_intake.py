"""What `summarize serve` lets in, against a real uvicorn on 127.0.0.1 started with the command's own
defaults (CORS off, loopback): bodies whose size of structure no request has are refused before
anything validates them; a Host that is not loopback is refused (DNS rebinding); a body sent to a
route that takes none is never read; a refusal before the body is read lets the client finish
sending (urllib sees the 413, not a reset); types are not coerced; every answer is {"error": one line}.
Each result comes from its own input, whatever the lengths; a model-free engine works on a server
started with --long chunk."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import urllib.error
import urllib.request

import httpx
import pytest
from helpers import SHORT
from serving import Served, in_thread, serving

pytestmark = pytest.mark.slow

MAX_BODY = 100_000
LEAD = {"engine": "lead", "translate": False}


@pytest.fixture(scope="module")
def server(fast_config) -> Served:
    """The tiny models with --long chunk (a model's setting), small limits, everything else the command's defaults."""
    args = ("--long", "chunk", "--no-translate", "--max-batch", "4", "--max-body", str(MAX_BODY), "--max-input-chars", "2000")
    with serving(fast_config, *args) as served:
        yield served


def one_line_error(response) -> str:
    assert response.headers["content-type"] == "application/json", response.text
    body = response.json()
    assert list(body) == ["error"] and body["error"] and "\n" not in body["error"] and "Traceback" not in body["error"]
    return body["error"]


def post_raw(server: Served, path: str, raw: bytes) -> httpx.Response:
    return server.post(path, None, content=raw, headers={"Content-Type": "application/json"})


def test_bodies_no_request_has_are_refused_before_validation(server):
    """Without the bound, pydantic validated every item (and made an error of every key): a minute
    of a blocked server for a 4 MB batch. The messages here only the bound gives."""
    many_keys = ("{" + ",".join(f'"k{i:05d}":0' for i in range(7_000)) + "}").encode()
    answer = post_raw(server, "/v1/summarize", many_keys)
    assert answer.status_code == 422 and "the body has more than 16 fields" in one_line_error(answer)
    bomb = ("[" + ",".join(["{}"] * 30_000) + "]").encode()
    answer = post_raw(server, "/v1/summarize/batch", bomb)
    assert answer.status_code == 413 and "the batch has more than 4 documents" in one_line_error(answer)
    options = json.dumps({"text": SHORT, "options": {f"o{i}": 1 for i in range(5_000)}}).encode()
    answer = post_raw(server, "/v1/summarize", options)
    assert answer.status_code == 422 and "options has more than 16 fields" in one_line_error(answer)
    deep = b"[" * 20_000 + b"]" * 20_000
    answer = post_raw(server, "/v1/summarize", deep)
    assert answer.status_code == 422 and "nests deeper than any request does" in one_line_error(answer)
    five = server.post("/v1/summarize/batch", [{"text": SHORT, "options": LEAD}] * 5)
    assert five.status_code == 413 and "more than 4 documents" in one_line_error(five)
    assert server.post("/v1/summarize/batch", [{"text": SHORT, "options": LEAD}] * 4).status_code == 200


def test_a_field_given_twice_is_refused_not_last_one_wins(server):
    """Parsers differ on which of two equal keys wins: a proxy that reads the first would see another request."""
    twice = '{"text": "%s", "text": "Другая статья.", "options": {"engine": "lead"}}' % SHORT
    answer = post_raw(server, "/v1/summarize", twice.encode())
    assert answer.status_code == 422 and one_line_error(answer) == "text is given twice; give each field once"
    inner = '{"text": "%s", "options": {"engine": "lead", "engine": "extractive"}}' % SHORT
    assert "options.engine is given twice" in one_line_error(post_raw(server, "/v1/summarize", inner.encode()))


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"beams": "2"}, "options.beams"),
        ({"beams": True}, "options.beams"),
        ({"translate": "true"}, "options.translate"),
        ({"max_words": 2.0}, "options.max_words"),
    ],
)
def test_wrong_json_types_are_422_not_coerced(server, options, field):
    answer = server.post("/v1/summarize", {"text": SHORT, "options": options})
    assert answer.status_code == 422 and one_line_error(answer).startswith(field)


def test_the_id_and_title_must_be_strings(server):
    assert server.post("/v1/summarize", {"text": SHORT, "id": 5}).status_code == 422
    assert server.post("/v1/summarize", {"text": SHORT, "title": True}).status_code == 422


def test_a_model_free_engine_works_on_a_server_started_with_long_chunk(server):
    for engine in ("lead", "extractive"):
        answer = server.post("/v1/summarize", {"text": SHORT, "options": {"engine": engine}})
        assert answer.status_code == 200, answer.text
        assert answer.json()["engine"] == engine and answer.json()["summary_ru"]
    assert server.post("/v1/summarize", {"text": SHORT, "options": {"engine": "lead", "beams": 2}}).status_code == 422


def test_text_of_only_invisible_characters_is_empty(server):
    answer = server.post("/v1/summarize", {"text": "\u200b\u200c\u200d\ufeff\u2060 \u200e"})
    assert answer.status_code == 422 and "is empty" in one_line_error(answer)


def test_the_input_limit_is_413_for_text_and_html_alike(server):
    paragraphs = "".join(f"<p>{SHORT} Абзац номер {i} рассказывает о дорогах подробно и долго.</p>" for i in range(40))
    page = f"<html><head><title>Дороги</title></head><body><article><h1>Дороги</h1>{paragraphs}</article></body></html>"
    for body in ({"text": "д" * 2001}, {"html": page}):
        answer = server.post("/v1/summarize", body)
        assert answer.status_code == 413, answer.text
        said = one_line_error(answer)
        assert "over the limit of 2 000 characters" in said and "--max-input-chars" not in said


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1", "127.0.0.1:1", "[::1]:8000", "LOCALHOST.", "app.localhost:3000"])
def test_loopback_names_are_answered(server, host):
    assert server.get("/healthz", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.1.nip.io", "10.0.0.1", "[::2]:80", "localhost:x"])
def test_other_host_names_are_refused_against_dns_rebinding(server, host):
    answer = server.post("/v1/summarize", {"text": SHORT, "options": LEAD}, headers={"Host": host, "Content-Type": "application/json"})
    assert answer.status_code == 421 and "loopback names" in one_line_error(answer)
    assert server.get("/", headers={"Host": host}).status_code == 421


def _answer_of(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        more = connection.recv(65536)
        if not more:
            break
        data += more
    return data


@pytest.mark.parametrize("path", ["/", "/docs", "/nope"])
def test_a_body_to_a_route_that_takes_none_is_not_read(server, path):
    """The head says a body comes and none is sent: the answer comes all the same (it used to wait
    for the body, and read it whole)."""
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as connection:
        connection.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 90000\r\n\r\n".encode())
        head = _answer_of(connection).decode("latin-1")
    assert head.split(" ")[1] in ("404", "405"), head


@pytest.mark.parametrize("wrong", ["size", "token"])
def test_a_refusal_before_the_body_is_read_reaches_urllib_and_http_client(fast_config, server, wrong):
    """A 413 on Content-Length (and a 401) sent and the socket closed at once: the unread body made
    the kernel reset the connection, and Python's own clients saw that instead of the answer."""
    body = json.dumps({"text": "д" * (8 * MAX_BODY)}).encode() if wrong == "size" else json.dumps({"text": "д" * 60_000}).encode()
    if wrong == "size":
        request = urllib.request.Request(server.url("/v1/summarize"), data=body, headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=60)
        assert caught.value.code == 413 and "over this server's limit" in json.loads(caught.value.read())["error"]
        return
    with serving(fast_config, "--engine", "lead", "--no-translate", token="a-token-for-the-401-test") as guarded:
        host, port = guarded.base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.request("POST", "/v1/summarize", body=body * 8, headers={"Content-Type": "application/json"})
        answer = connection.getresponse()
        assert answer.status == 401 and "no token" in json.loads(answer.read())["error"]


def test_cors_is_off_with_the_commands_default(server):
    """The server here was started without --cors: no origin is let in, and the preflight's refusal is JSON."""
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    answer = httpx.options(server.url("/v1/summarize"), headers=preflight)
    assert "access-control-allow-origin" not in answer.headers and answer.status_code >= 400
    one_line_error(answer)
    posted = server.post("/v1/summarize", {"text": SHORT, "options": LEAD}, headers={"Origin": "https://evil.example", "Content-Type": "application/json"})
    assert posted.status_code == 200 and "access-control-allow-origin" not in posted.headers


def test_a_refused_cors_preflight_is_one_line_json():
    from test_serve_api import lead_service

    from summarize.runs.serve.app import make_app

    service, flags, metrics = lead_service(cors=["https://news.example"])
    service.load()
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    with in_thread(make_app(service, flags, metrics, lambda line: None)) as base:
        answer = httpx.options(f"{base}/v1/summarize", headers=preflight)
        assert answer.status_code == 400 and "origin" in one_line_error(answer)
        allowed = httpx.options(f"{base}/v1/summarize", headers=preflight | {"Origin": "https://news.example"})
        assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "https://news.example"
    service.close()


def test_the_page_has_security_headers_a_favicon_and_head(server):
    page = server.get("/")
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"] and "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["referrer-policy"] == "no-referrer"
    head = httpx.head(server.url("/"))
    assert head.status_code == 200 and head.content == b""
    assert server.get("/favicon.ico").status_code == 204
    assert server.post("/v1/summarize", {"text": ""}).headers["x-content-type-options"] == "nosniff"


def test_openapi_describes_the_server_as_it_answers(server):
    spec = server.get("/openapi.json").json()
    assert set(spec["paths"]) == {"/v1/summarize", "/v1/summarize/batch", "/v1/info", "/healthz", "/metrics"}
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and schemas["Error"]["required"] == ["error"]
    result = server.post("/v1/summarize", {"text": SHORT, "options": LEAD}).json()
    assert schemas["Result"]["required"] == list(result)
    for path, methods in spec["paths"].items():
        for operation in methods.values():
            for status, said in operation["responses"].items():
                if status != "200":
                    assert said["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (path, status)
    single = spec["paths"]["/v1/summarize"]["post"]["responses"]
    assert {"400", "413", "415", "421", "422", "429", "503", "504"} <= set(single)
    assert {"401", "429", "503"} <= set(spec["paths"]["/v1/info"]["get"]["responses"])


# Each result comes from its own input: texts of different lengths, the lead engine, whose summary
# is the text's own first sentence, so that an answer sent to the wrong request cannot pass.

OPENINGS = ["Мэрия закрыла мост на ремонт.", "Школы перешли на новое расписание.", "В парке высадили тысячу деревьев.", "Цены на бензин выросли."]


def texts() -> list[str]:
    filler = " Подробности сообщат позже."
    return [opening + filler * (1 + 6 * i) for i, opening in enumerate(OPENINGS)]


def test_batch_results_come_from_their_own_inputs(server):
    asked = [{"text": text, "id": f"n{i}", "options": LEAD} for i, text in enumerate(texts())]
    answer = server.post("/v1/summarize/batch", list(reversed(asked)))
    assert answer.status_code == 200, answer.text
    for one, result in zip(reversed(asked), answer.json()):
        assert result["id"] == one["id"] and result["summary_ru"].startswith(OPENINGS[int(one["id"][1:])]), result


def test_concurrent_requests_get_their_own_results(fast_config):
    """Groups that run only when full (4): the four requests are one group, whatever order they came in."""
    with serving(fast_config, "--engine", "lead", "--no-translate", "--max-group", "4", "--wait-ms", "600000", "--deadline", "60") as server:
        answers = _ask_together(server)
    assert sorted(answers) == list(range(len(OPENINGS)))
    for i, result in answers.items():
        assert result["summary_ru"].startswith(OPENINGS[i]), (i, result)


def _ask_together(server: Served) -> dict[int, dict]:
    answers: dict[int, dict] = {}
    start = threading.Barrier(len(OPENINGS))

    def ask(i: int, text: str) -> None:
        start.wait(30)
        answers[i] = server.post("/v1/summarize", {"text": text, "options": LEAD}).json()

    threads = [threading.Thread(target=ask, args=(i, text)) for i, text in enumerate(texts())]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


# Guard itself, called as uvicorn calls it: a body in many small messages


def test_guard_counts_the_body_limit_over_all_messages_not_each():
    from summarize.flags import ServeFlags
    from summarize.runs.serve.access import Access
    from summarize.runs.serve.guard import Guard
    from summarize.runs.serve.metrics import ServeMetrics

    reached: list[bytes] = []

    async def app(scope, receive, send) -> None:
        reached.append((await receive())["body"])

    metrics = ServeMetrics()
    guard = Guard(
        app,
        access=Access(ServeFlags(), metrics, lambda line: None),
        max_body=10_000,
        max_batch=4,
        host="127.0.0.1",
        metrics=metrics,
        notify=lambda line: None,
        debug=False,
    )
    messages = [{"type": "http.request", "body": b" " * 100, "more_body": True} for _ in range(200)]  # 20 000 bytes, 100 at a time
    messages.append({"type": "http.request", "body": b"{}", "more_body": False})
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/summarize", "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")]}
    asyncio.run(guard(scope, receive, send))
    assert not reached and sent[0]["status"] == 413
    assert "over this server's limit of 10000 bytes" in json.loads(b"".join(m.get("body", b"") for m in sent[1:]))["error"]


def test_a_model_free_summary_that_repeats_claims_no_model(server):
    said = "Дороги ремонтируют весной."
    result = server.post("/v1/summarize", {"text": f"{said} {said} {said} Работы закончат осенью.", "options": LEAD}).json()
    repeats = [line for line in result["warnings"] if "repeats" in line]
    assert repeats and not any("model" in line for line in repeats), result["warnings"]

"""What an operator sets on who may call `summarize serve` and how often, against a real server on
127.0.0.1: named keys (--tokens-file, re-read on SIGHUP; the log and the metrics name the key, never
the token), a rate limit (--requests-per-minute: 429 with Retry-After), and GET /v1/info, which says
the server's limits."""

from __future__ import annotations

import signal
import subprocess
import time

import httpx
import pytest
from serving import environment, sample, serve_command, serving

from summarize.errors import SummarizeError
from summarize.runs.serve.keys import read_tokens_file
from summarize.runs.serve.ratelimit import RateLimit

pytestmark = pytest.mark.slow
ALICE, BOB, CAROL, ROOT_TOKEN = "alice-0123456789", "bob-0123456789", "carol-0123456789", "root-0123456789"


def wait_for(server, text: str, after: int = 0) -> None:
    """Until the server's stderr says `text` (past its first `after` characters)."""
    for _ in range(1000):
        if text in server.stderr()[after:]:
            return
        time.sleep(0.05)
    raise AssertionError(f"the server never said {text!r}:\n{server.stderr()}")


def get(server, path: str, token: str | None) -> httpx.Response:
    return server.get(path, headers={"Authorization": f"Bearer {token}"} if token else {})


def test_named_keys_the_log_and_metrics_name_them_and_sighup_rereads_them(fast_config, tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# newsroom keys\nalice {ALICE}\n\nbob   {BOB}\n", encoding="utf-8")
    with serving(fast_config, "--tokens-file", keys, "--requests-per-minute", "2", token=ROOT_TOKEN) as server:
        assert [get(server, "/v1/info", token).status_code for token in (ALICE, BOB, ROOT_TOKEN, "nope", None)] == [200, 200, 200, 401, 401]
        limited = get(server, "/v1/info", ALICE), get(server, "/v1/info", ALICE)  # alice's third and fourth: over 2 a minute
        assert limited[0].status_code == 200 and limited[1].status_code == 429, limited[1].text
        assert int(limited[1].headers["Retry-After"]) >= 1 and "2 requests a minute for key alice" in limited[1].json()["error"]
        assert get(server, "/v1/info", BOB).status_code == 200  # a limit per key: bob has his own
        metrics, log = get(server, "/metrics", ROOT_TOKEN).text, server.stderr()
        assert sample(metrics, "summarize_key_requests_total", key="alice", status="429") == 1
        assert sample(metrics, "summarize_key_requests_total", key="token", status="200") == 1
        assert '"GET /v1/info HTTP/1.1" 200 key=alice' in log and '"GET /v1/info HTTP/1.1" 401' in log
        assert not any(secret in metrics + log for secret in (ALICE, BOB, ROOT_TOKEN))

        keys.write_text(f"alice {ALICE}\ncarol {CAROL}\n", encoding="utf-8")  # bob's key revoked, carol's added
        said = len(server.stderr())
        server.process.send_signal(signal.SIGHUP)
        wait_for(server, "SIGHUP: 3 keys now (alice, carol, token)", said)
        assert get(server, "/v1/info", CAROL).status_code == 200 and get(server, "/v1/info", BOB).status_code == 401

        keys.write_text(f"alice {ALICE}\ncarol {ALICE}\n", encoding="utf-8")  # a bad file: the keys in use stay
        said = len(server.stderr())
        server.process.send_signal(signal.SIGHUP)
        wait_for(server, "carol has the token of alice; give every key its own token; the 3 keys in use are kept", said)
        assert get(server, "/v1/info", CAROL).status_code == 200


def test_info_says_the_servers_limits(fast_config):
    with serving(fast_config, "--no-translate", "--max-batch", "3", "--max-body", "50000", "--max-beams", "2", "--deadline", "30") as server:
        info = server.get("/v1/info").json()
    assert info["limits"] == {
        "max_body": 50000,
        "max_batch": 3,
        "max_input_chars": 1_000_000,
        "max_beams": 2,
        "requests_per_minute": None,
        "deadline": 30.0,
        "queue": 256,
    }
    assert info["translator"] is None and set(info["engines"]) >= {"extractive", "lead"} and info["version"]


def test_the_rate_limit_without_a_token_is_per_client_address(fast_config):
    with serving(fast_config, "--requests-per-minute", "1") as server:
        first, second = server.get("/v1/info"), server.get("/v1/info")
        health = server.get("/healthz")  # probes are never limited
    assert first.status_code == 200 and health.status_code == 200
    assert second.status_code == 429 and second.headers["Retry-After"].isdigit()
    assert second.json() == {"error": second.json()["error"]} and "for this address" in second.json()["error"]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("alice\n", "line 1 is not 'NAME TOKEN'"),
        ("alice a b\n", "line 1 is not 'NAME TOKEN'"),
        ("al/ice secret\n", "line 1: a key's name is letters"),
        ("alice sécret\n", "line 1: the token of alice holds characters an HTTP header cannot carry"),
        ("alice one\nalice two\n", "line 2: the name alice is there twice"),
        ("alice same\nbob same\n", "line 2: bob has the token of alice"),
        ("# nothing\n\n", "has no keys"),
    ],
)
def test_a_bad_tokens_file_is_named_by_its_line(tmp_path, text, said):
    path = tmp_path / "keys.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SummarizeError, match=said) as refused:
        read_tokens_file(path)
    assert "same" not in str(refused.value) and "secret" not in str(refused.value)


def test_a_bad_tokens_file_stops_the_server_in_one_line(tmp_path):
    missing = tmp_path / "missing.txt"
    done = subprocess.run(serve_command(None, "--tokens-file", missing), capture_output=True, text=True, timeout=120, env=environment())
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"summarize: error: --tokens-file {missing}: cannot be read (no such file or directory); give a readable file of 'NAME TOKEN' lines"
    )


def test_the_rate_limit_forgets_idle_clients_and_keeps_at_most_its_number():
    now = [0.0]
    limit = RateLimit(60, most_clients=3, clock=lambda: now[0])
    assert [limit.take(f"client {i}") for i in range(5)] == [0.0] * 5
    assert len(limit.buckets) == 3  # the least recently seen forgotten
    now[0] += 61  # every bucket full again: as good as never seen
    limit.take("another")
    assert list(limit.buckets) == ["another"]
    assert [limit.take("burst") > 0 for _ in range(61)] == [False] * 60 + [True]


def test_keys_and_the_rate_limit_are_refused_with_ray_in_one_line(tmp_path):
    done = subprocess.run(serve_command(None, "--ray", "--requests-per-minute", "5"), capture_output=True, text=True, timeout=120, env=environment())
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "summarize: error: --requests-per-minute is not for --ray yet (each replica would keep its own); serve without --ray, or leave --requests-per-minute out"
    )

"""Every run mode on the llm engine, against the real local server (llama.cpp's, tests/llm_servers.py):
one article, a JSONL dataset with --output and its resume, `serve` and the `--server` client, and
`--ray` on a local Ray. The server answers every prompt with llm_servers.REPLY, whose "5 миллиардов"
no article here has: each result must carry it as the summary and the check's flag. The server's own
count of replies (/metrics) shows what each run really sent.
"""

from __future__ import annotations

import json

import pytest
from helpers import SHORT, invoke, parse_jsonl, write_jsonl
from llm_servers import REPLY, get_metric
from serving import serving

FLAGGED = [{"text": "5 миллиардов", "kind": "number", "field": "summary_ru"}]
REPLY_TOKENS = 11  # the planted reply's pieces and <|im_end|>: one reply's share of tokens_predicted_total


def llm_args(server) -> list[str]:
    return ["--engine", "llm", "--llm-url", server.url, "--llm-model", server.model, "--no-translate"]


def predicted(server) -> float:
    return get_metric(server, "llamacpp:tokens_predicted_total")


def replies_since(server, before: float) -> int:
    """The chat replies the server has given since `before` (predicted(server) then): each of this
    file's is the planted one, REPLY_TOKENS long (other tests on the session's server cut theirs)."""
    tokens = predicted(server) - before
    assert tokens % REPLY_TOKENS == 0, tokens
    return int(tokens) // REPLY_TOKENS


def records(count: int) -> list[dict]:
    return [{"id": f"r{n}", "text": f"{SHORT} Новость номер {n}.", "title": f"Заголовок {n}"} for n in range(1, count + 1)]


def assert_llm_result(row: dict, server) -> None:
    assert (row["error"], row["summary_ru"], row["summary_en"]) == (None, REPLY, None), row
    assert (row["engine"], row["model"], row["backend"]) == ("llm", server.model, server.root.removeprefix("http://"))
    assert row["usage"]["requests"] == 1 and row["usage"]["completion_tokens"] == REPLY_TOKENS and row["usage"]["prompt_tokens"] > 0
    assert row["unsupported"] == FLAGGED


def test_one_article_prints_the_servers_russian_summary_and_its_check(llm_server):
    from summarize import cli

    before = predicted(llm_server)
    done = invoke(cli.app, "-", *llm_args(llm_server), "--format", "json", input=SHORT)
    assert done.exit_code == 0, done.stderr
    assert_llm_result(json.loads(done.stdout), llm_server)
    assert 'the summary has what the article does not: number "5 миллиардов"' in done.stderr
    assert replies_since(llm_server, before) == 1


def test_a_jsonl_dataset_goes_to_its_output_and_a_rerun_sends_only_the_rest(llm_server, tmp_path):
    from summarize import cli

    out = tmp_path / "out.jsonl"
    first = write_jsonl(tmp_path / "first.jsonl", records(4))  # as a run stopped after its 4th record leaves it
    done = invoke(cli.app, first, *llm_args(llm_server), "--output", out)
    assert done.exit_code == 0 and "4 done, 0 failed" in done.stderr, done.stderr

    before = predicted(llm_server)
    again = invoke(cli.app, write_jsonl(tmp_path / "all.jsonl", records(10)), *llm_args(llm_server), "--output", out, "--skip-existing")
    assert again.exit_code == 0, again.stderr
    assert "6 done, 0 failed, 4 skipped" in again.stderr
    assert replies_since(llm_server, before) == 6  # nothing was asked again of the server
    rows = {row["id"]: row for row in parse_jsonl(out.read_text(encoding="utf-8"))}
    assert sorted(rows, key=lambda rid: int(rid[1:])) == [f"r{n}" for n in range(1, 11)]
    assert {rid for rid, row in rows.items() if row["source"].startswith(f"{first}#")} == {"r1", "r2", "r3", "r4"}
    for row in rows.values():
        assert_llm_result(row, llm_server)


@pytest.mark.slow
def test_serve_on_the_llm_engine_answers_and_the_server_client_gets_the_same(llm_server, tmp_path):
    from summarize import cli

    with serving(None, *llm_args(llm_server)) as served:
        before = predicted(llm_server)
        answer = served.post("/v1/summarize", {"text": SHORT, "id": "one"})
        assert answer.status_code == 200, answer.text
        assert_llm_result(answer.json(), llm_server)
        batch = served.post("/v1/summarize/batch", [{"text": r["text"], "id": r["id"]} for r in records(5)])
        assert batch.status_code == 200, batch.text
        assert [r["id"] for r in batch.json()] == [f"r{n}" for n in range(1, 6)]
        for row in batch.json():
            assert_llm_result(row, llm_server)
        assert replies_since(llm_server, before) == 6

        client = invoke(cli.app, "-", "--server", served.base, "--format", "json", input=SHORT)
        assert client.exit_code == 0, client.stderr
        assert_llm_result(json.loads(client.stdout), llm_server)
        assert replies_since(llm_server, before) == 7


@pytest.mark.ray
@pytest.mark.usefixtures("local_ray")
def test_ray_actors_each_call_the_endpoint(llm_server, tmp_path):
    import pyarrow.parquet as pq

    from summarize import cli

    before = predicted(llm_server)
    data = write_jsonl(tmp_path / "corpus.jsonl", records(8))
    done = invoke(cli.app, data, *llm_args(llm_server), "--ray", "--output", tmp_path / "out")
    assert done.exit_code == 0, done.stderr
    rows = [row for shard in sorted((tmp_path / "out").glob("*.parquet")) for row in pq.read_table(shard).to_pylist()]
    assert sorted(row["id"] for row in rows) == sorted(f"r{n}" for n in range(1, 9))
    for row in rows:
        row["usage"] = json.loads(row["usage"]) if isinstance(row["usage"], str) else row["usage"]
        row["unsupported"] = json.loads(row["unsupported"]) if isinstance(row["unsupported"], str) else row["unsupported"]
        assert_llm_result(row, llm_server)
    assert replies_since(llm_server, before) == 8

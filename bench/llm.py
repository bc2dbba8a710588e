"""LLM bench: `python -m bench llm` → bench/results/llm-latest.md (issue 26).

A real OpenAI-compatible server, llama.cpp's own (the xllamacpp wheel, started by the tests' code:
tests/llm_servers.py), on 127.0.0.1 with as many slots as the most concurrent run asks for and a
context that holds every bench article. Its model is the tests' tiny planted GGUF: whatever the
prompt, it answers the same eleven tokens, so every request does the same generation and what
varies is the prompt (the article), as with a real model and a summary length.

The same articles (bench/corpus.py: RIA and newstest texts, kept in memory only) go
(a) through a plain loop: one httpx.Client, one POST /chat/completions at a time, the article in
    the engine's own default prompt (summarize.engines.llm.SUMMARY_PROMPT, as a user copies it from
    the docs): the least any client can do per article, for the same work;
(b) through summarize's llm engine in this process, as a library user runs it:
    Pipeline(make_options(load_config(), Choices(engine=llm, llm_url=…, llm_model=…,
    llm_concurrency=N, check=False), translate=False)).run_all(documents), for each N in --concurrency.
    The check and the translation are off: this measures the engine, not natasha or a translator.
Engines load (and each side sends one request) before the clock starts. The sides run back to back
in --rounds rounds; the best round of each is kept. Reported: articles/s; the engine at concurrency
1 against the plain loop (goal ≥ 0.95×) and its overhead per request (wall difference / articles);
and the prompt and reply tokens per article of each side (the server's usage), to show the same work.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench import corpus
from bench.measure import machine_line

HELP = "summarize's llm engine on a local llama.cpp server (concurrency 1, 4, 16) against a plain loop of single requests: articles/s, overhead per request"
ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
GOAL = 0.95  # the engine at concurrency 1, as a share of the plain loop's articles/s
N_CTX = 16384  # per slot: the longest bench article with its prompt fits (RIA articles run to ~6,000 tokens of this vocabulary)
MAX_TOKENS = 120  # --length medium's max_new_tokens: what the engine asks for, and so the plain loop too
SENTENCES = 3  # --length medium's sentences, which the engine's prompt asks for
REQUEST_S = 300.0
WARM_UP = "Москва, 3 марта. Правительство утвердило программу ремонта дорог. Работы начнутся весной."


def _llm_servers():
    sys.path.insert(0, str(ROOT / "tests"))  # the tests' server and model: one definition for both
    import llm_servers

    return llm_servers


def plain_loop(server, texts: list[str]) -> dict:
    """(a) One request at a time with httpx (no proxy from the environment), as a short script would."""
    import httpx

    from summarize.engines.llm import NO_TITLE, SUMMARY_PROMPT

    with httpx.Client(timeout=REQUEST_S, trust_env=False) as client:

        def one(text: str) -> dict:
            prompt = SUMMARY_PROMPT.format(article=text, title="", sentences=SENTENCES).replace(NO_TITLE, "")  # the articles have no titles
            body = {"model": server.model, "messages": [{"role": "user", "content": prompt}], "temperature": 0}
            response = client.post(server.url + "/chat/completions", json=body | {"max_tokens": MAX_TOKENS})
            response.raise_for_status()
            return response.json()["usage"]

        one(WARM_UP)  # the connection opened before the clock starts, as the engine's probe opens its own
        started = time.perf_counter()
        usages = [one(text) for text in texts]
        wall = time.perf_counter() - started
    return _side("plain loop (httpx, one at a time)", wall, len(texts), usages)


def engine_runner(server, concurrency: int):
    """(b) A loaded Pipeline on the llm engine, and how to time it over the articles; None with the
    reason when this summarize has no llm engine."""
    from summarize.config import Engine, load_config
    from summarize.documents import Document
    from summarize.options import Choices, make_options
    from summarize.pipeline import Pipeline

    try:
        choices = Choices(engine=Engine.llm, llm_url=server.url, llm_model=server.model, llm_concurrency=concurrency, check=False)
    except (AttributeError, TypeError) as e:
        return None, f"not available ({e})"
    notices: list[str] = []
    pipeline = Pipeline(make_options(load_config(), choices, translate=False), notify=notices.append)

    def run(texts: list[str]) -> dict:
        documents = [Document(source=f"article-{i}", text=text) for i, text in enumerate(texts)]
        started = time.perf_counter()
        results = [result for _, result in pipeline.run_all(documents)]
        wall = time.perf_counter() - started
        failed = [r.error for r in results if r.error]
        if failed or len(results) != len(texts):
            raise SystemExit(f"bench llm: the engine at concurrency {concurrency} failed: {failed[:3]} ({len(results)} of {len(texts)} results)")
        return _side(f"summarize llm engine, --llm-concurrency {concurrency}", wall, len(texts), [r.usage for r in results])

    run([WARM_UP])  # loads the engine (its probe of /models) and sends one request
    return run, None


def _side(name: str, wall: float, articles: int, usages: list[dict]) -> dict:
    prompt = sum(u["prompt_tokens"] for u in usages) / articles
    reply = sum(u["completion_tokens"] for u in usages) / articles
    return {"name": name, "wall": wall, "articles": articles, "per_s": articles / wall, "prompt_tokens": prompt, "reply_tokens": reply}


def measure(server, texts: list[str], concurrency: list[int], rounds: int) -> tuple[dict, list[dict], dict[int, str]]:
    """The best of `rounds` rounds of each side, run back to back within each round."""
    runners, missing = {}, {}
    for n in concurrency:
        runner, why = engine_runner(server, n)
        if runner:
            runners[n] = runner
        else:
            missing[n] = why
    best: dict[str, dict] = {}
    for _ in range(rounds):
        for side in [plain_loop(server, texts), *(runners[n](texts) for n in runners)]:
            if side["name"] not in best or side["wall"] < best[side["name"]]["wall"]:
                best[side["name"]] = side
    plain = best.pop("plain loop (httpx, one at a time)")
    return plain, list(best.values()), missing


def report(plain: dict, engines: list[dict], missing: dict[int, str], server, args: argparse.Namespace) -> str:
    lines = [
        "# summarize's llm engine against a plain loop of requests",
        "",
        f"**Machine:** {machine_line('summarize', 'xllamacpp', 'httpx')}",
        "",
        f"**Run:** `{args.command}` · {plain['articles']} articles (RIA + newstest, bench/corpus.py) · llama.cpp's server (xllamacpp) on 127.0.0.1, "
        f"{server.parallel} slots of {server.n_ctx} tokens, the tests' tiny planted model (tests/llm_servers.py: 11 reply tokens to any prompt), "
        f"max_tokens {MAX_TOKENS} · best of {args.rounds} rounds · engine with --no-check, no translation",
        "",
        "| side | wall (s) | articles/s | × plain loop | prompt tokens / article | reply tokens / article |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for side in [plain, *engines]:
        lines.append(
            f"| {side['name']} | {side['wall']:.2f} | {side['per_s']:.1f} | {side['per_s'] / plain['per_s']:.2f} | "
            f"{side['prompt_tokens']:.0f} | {side['reply_tokens']:.1f} |"
        )
    lines += [f"| summarize llm engine, --llm-concurrency {n} | {why} | | | | |" for n, why in missing.items()]
    one = next((side for side in engines if side["name"].endswith("--llm-concurrency 1")), None)
    lines.append("")
    if one:
        ratio = one["per_s"] / plain["per_s"]
        overhead = (one["wall"] - plain["wall"]) / plain["articles"] * 1000
        lines += [
            f"Engine at concurrency 1: **{ratio:.2f}×** the plain loop (goal ≥ {GOAL}: {'met' if ratio >= GOAL else 'not met'}); "
            f"its overhead: **{overhead:+.1f} ms per request** over the plain loop's {plain['wall'] / plain['articles'] * 1000:.1f} ms.",
        ]
    lines += [
        "Both sides send the same prompt (the engine's default around the article): the prompt tokens must agree. The engine also asks "
        "the server's /tokenize for each article's length (to fit it to the context), which is part of its overhead. On a CPU server "
        "whose threads are all busy with one prompt at a time, concurrency cannot add throughput; it pays where the server has "
        "capacity to spare (a GPU, more cores than one request uses).",
        "",
    ]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--articles", type=int, default=48, help="articles per side and round (default 48)")
    parser.add_argument(
        "--concurrency", type=lambda s: [int(n) for n in s.split(",")], default=[1, 4, 16], help="the engine's --llm-concurrency values (default 1,4,16)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every side, the best kept (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="the server's CPU threads (default 1: steadier than 2 on a shared 2-core machine)")
    parser.add_argument("--eval-dir", type=Path, default=corpus.default_eval_dir(ROOT), help="the shared evaluation data (default ../shared/eval)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS, help="where llm-latest.md goes (default bench/results)")


def main(args: argparse.Namespace) -> int:
    texts = [article.text for article in corpus.batch_articles(args.eval_dir, args.articles)]
    servers = _llm_servers()
    with tempfile.TemporaryDirectory(prefix="summarize-llm-bench-") as folder:
        with servers.start_llm_server(Path(folder), n_ctx=N_CTX, parallel=max(args.concurrency), threads=args.threads, prompt_cache=False) as server:
            plain, engines, missing = measure(server, texts, args.concurrency, args.rounds)
            text = report(plain, engines, missing, server, args)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "llm-latest.md").write_text(text, encoding="utf-8")
    print(text)
    return 0 if not missing else 1

"""The benchmark (bench/) runs end to end at tiny size, so that it cannot rot unnoticed.

It is not a benchmark run: tiny models, two articles, one repeat. It checks that both sides ran,
did the same work, and that the report holds every number it promises; and that the one entry,
`python -m bench BENCH`, offers every bench.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from helpers import BIN, ROOT

sys.path.insert(0, str(ROOT))
from bench import corpus
from bench.run import NOT_AVAILABLE, OK, agreement, side_status

EVAL_DIR = corpus.default_eval_dir(ROOT)
needs_eval_data = pytest.mark.skipif(not (EVAL_DIR / corpus.RIA).is_file(), reason=f"the shared evaluation data is not at {EVAL_DIR}")


@pytest.mark.slow
@needs_eval_data
def test_the_benchmark_runs_end_to_end_at_tiny_size(tmp_path):
    results = tmp_path / "results"
    argv = [
        sys.executable,
        "-m",
        "bench",
        "cpu",
        "--size",
        "tiny",
        "--articles",
        "2",
        "--repeats",
        "1",
        "--variants",
        "fp32,ct2",
        "--threads",
        "1",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--results-dir",
        str(results),
    ]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)

    report = json.loads((results / "latest-tiny.json").read_text(encoding="utf-8"))
    (rut5,) = report["summarizers"]
    sides = {side["side"]: side for side in rut5["sides"]}
    # Every side runs here: ctranslate2 is installed with the test extra.
    assert {name: side["status"] for name, side in sides.items()} == {"baseline": OK, "torch fp32": OK, "ctranslate2": OK}, done.stderr
    assert done.returncode == 0, done.stderr

    baseline, project = sides["baseline"], sides["torch fp32"]
    for side in (baseline, project):
        assert side["batch_articles"] == 2
        for key in (
            "probe_s",
            "load_s",
            "one_article_s",
            "one_article_rss_mb",
            "batch_s",
            "batch_rss_mb",
            "articles_per_s",
            "summary_tokens_per_s",
            "generated_tokens_per_s",
        ):
            assert side[key] > 0, key
    # Same work: the baseline generated exactly the pinned summary length, which the project is given too.
    assert baseline["summary_tokens_per_s"] * baseline["batch_s"] == pytest.approx(2 * 60)
    assert baseline["mean_input_tokens"] == pytest.approx(project["mean_input_tokens"], rel=0.1)

    roofline = rut5["roofline"]
    assert roofline["steps"] == 60 and roofline["beams"] == 5 and roofline["input_tokens"] == 600
    assert roofline["copy_gb_s"] > 0 and roofline["gemm_gflop_s"] > 0
    assert roofline["step_over_bound"] > 0 and roofline["encoder_fraction_of_peak"] > 0

    # Agreement with fp32 on the batch outputs: fp32 is the reference, the baseline is not compared.
    agreement_keys = ("same_summary_ru", "char_agreement_ru", "same_summary_en", "char_agreement_en")
    assert project["agreement_reference"] and all(project[key] == 1.0 for key in agreement_keys)
    assert all(baseline[key] is None for key in agreement_keys)
    assert all(0.0 <= sides["ctranslate2"][key] <= 1.0 for key in agreement_keys)

    markdown = (results / "latest-tiny.md").read_text(encoding="utf-8")
    assert report["machine"]["cpu"] in markdown
    assert "| batch: articles/s ↑ |" in markdown and "decode step" in markdown
    for label in ("summary_ru identical", "summary_ru characters", "summary_en identical", "summary_en characters"):
        row = next(line for line in markdown.splitlines() if label in line)
        assert row.split("|")[2].strip() == "-" and row.split("|")[3].strip() == "1.00 (reference)", row
    assert not list(tmp_path.rglob("ria20-*.txt"))  # the RIA texts are not left behind


def test_one_entry_lists_every_bench_and_each_has_its_own_options():
    """`python -m bench --help` names every bench with a line on what it measures; `BENCH --help`
    shows that bench's options."""

    def bench(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)

    listing = bench("--help")
    assert listing.returncode == 0, listing.stderr
    own = {
        "cpu": "--variants",
        "gpu": "--device",
        "fetch": "--results-dir",
        "corpus": "--counts",
        "ray": "--workers",
        "serve": "--concurrency",
        "llm": "--rounds",
    }
    for name, option in own.items():
        assert re.search(rf"^    {name} +\w", listing.stdout, re.MULTILINE), listing.stdout
        done = bench(name, "--help")
        assert done.returncode == 0 and f"python -m bench {name}" in done.stdout and option in done.stdout, (name, done.stdout, done.stderr)
    wrong = bench("--device", "cuda")  # the old way into the GPU bench: a usage error naming the benches, not the CPU bench
    assert wrong.returncode == 2 and "cpu, gpu, fetch, corpus, ray" in wrong.stderr.replace("'", ""), wrong.stderr


def test_a_variant_whose_flag_the_cli_does_not_know_is_not_available(tmp_path):
    """The bench tells a missing feature from a broken one by the CLI's own usage error."""
    from bench.measure import run_process

    run = run_process([str(BIN), str(tmp_path), "--bench-flag-that-does-not-exist"])
    assert side_status(run, project=True) == NOT_AVAILABLE
    assert side_status(run, project=False).startswith("failed: exit code 2")


def test_agreement_is_the_share_of_character_positions_that_agree_up_to_the_longer_text():
    assert agreement("", "") == 1.0
    assert agreement("abcd", "abcd") == 1.0
    assert agreement("abcd", "abxd") == 0.75
    assert agreement("ab", "abcd") == 0.5
    assert agreement("", "ab") == 0.0


@pytest.mark.slow
@needs_eval_data
def test_the_gpu_bench_runs_end_to_end_on_a_cpu_at_tiny_size(tmp_path):
    """`python -m bench gpu` is run on a GPU machine; here its CPU smoke run keeps it working."""
    argv = [
        sys.executable,
        "-m",
        "bench",
        "gpu",
        "--device",
        "cpu",
        "--size",
        "tiny",
        "--articles",
        "2",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--results-dir",
        str(tmp_path / "results"),
    ]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    sides = {s["name"]: s for s in json.loads((tmp_path / "results" / "gpu-latest-tiny.json").read_text())}
    assert list(sides) == ["naive", "careful", "summarize --backend torch", "summarize --backend ctranslate2"]
    for side in sides.values():
        assert side["status"] == "ok" and side["articles"] == 2 and side["articles_per_s"] > 0
        assert side["generated_tokens_per_s"] > 0 and 0 < side["outside_generation_s"] < side["wall_s"]
    assert (sides["summarize --backend torch"]["backend"], sides["summarize --backend ctranslate2"]["backend"]) == ("torch fp32", "ctranslate2 int8")
    markdown = (tmp_path / "results" / "gpu-latest-tiny.md").read_text(encoding="utf-8")
    assert "| careful | - |" in markdown and "× careful" in markdown


@pytest.mark.slow
@needs_eval_data
def test_the_serve_bench_runs_at_tiny_size_and_prints_its_table(tmp_path):
    """`python -m bench serve` starts real servers and clients; here, a small run of every stage (no goal asserted)."""
    results = tmp_path / "results"
    argv = [
        sys.executable,
        "-m",
        "bench",
        "serve",
        "--size",
        "tiny",
        "--articles",
        "24",  # enough that 24 articles take the CLI clearly longer than one, however busy the machine
        "--requests",
        "40",
        "--concurrency",
        "8",
        "--repeats",
        "1",
        "--rounds",
        "1",
    ]
    argv += ["--cache-dir", str(tmp_path / "cache"), "--results-dir", str(results)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    table = (results / "serve-latest-tiny.md").read_text(encoding="utf-8")
    assert table.strip() in done.stdout
    rows = [line for line in table.splitlines() if line.startswith("| (")]
    labels = ("(a) 16 concurrent clients over 24 articles", "(a) batch CLI", "(a) server ÷ CLI", "(b) one article", "(c) --server client")
    labels += ("(c) ctranslate2:", "(c) torch:", "(d) 40 short requests, 8 clients", "(d) deliberate 503s", "(d) server RSS")
    labels += ("(e) one text request, p99 of 5, idle server", "(e) … under a 1 MB batch bomb", "(e) … under 100 idle sockets", "(e) … under 12 slow URLs")
    assert [label for label in labels if not any(row.startswith(f"| {label}") for row in rows)] == []
    assert all(re.search(r"\| [0-9.]+", row) for row in rows), rows  # every row has its number


@pytest.mark.slow
@needs_eval_data
def test_the_llm_bench_runs_at_tiny_size_against_a_real_local_server(tmp_path):
    """`python -m bench llm` starts llama.cpp's server and runs the plain loop and the engine at each
    concurrency over the same articles: every side answered every article with the same prompt."""
    results = tmp_path / "results"
    argv = [sys.executable, "-m", "bench", "llm", "--articles", "3", "--rounds", "1", "--concurrency", "1,2", "--results-dir", str(results)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    table = (results / "llm-latest.md").read_text(encoding="utf-8")
    assert table.strip() in done.stdout
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in table.splitlines() if line.startswith("| plain") or line.startswith("| summarize")]
    assert [row[0] for row in rows] == [
        "plain loop (httpx, one at a time)",
        "summarize llm engine, --llm-concurrency 1",
        "summarize llm engine, --llm-concurrency 2",
    ]
    assert all(float(row[2]) > 0 for row in rows), rows  # articles/s
    assert len({row[4] for row in rows}) == 1 and int(rows[0][4]) > 0, rows  # the same prompt tokens per article on every side
    assert {row[5] for row in rows} == {"11.0"}, rows  # the planted reply, on every side
    assert re.search(r"Engine at concurrency 1: \*\*[0-9.]+×\*\* the plain loop .*overhead: \*\*[+-][0-9.]+ ms per request", table), table

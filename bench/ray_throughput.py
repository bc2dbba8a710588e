"""Ray bench: `python -m bench ray` → bench/results/ray-throughput-latest.md (issue 12).

The same articles (bench/corpus.py: RIA and newstest texts, written to a temporary folder only) go
through the CLI as a user runs it: in one process (`summarize BATCH/ --backend ctranslate2 --output
out.jsonl`, CTranslate2 on every core) and on a local Ray (`summarize BATCH/ --ray --workers N
--output OUT/`) for each N asked for; the CLI picks actors × threads and says so on stderr. Each is
run on 1 article and on all: the 1-article wall is the fixed cost (process start, for Ray also the
local cluster's and the actors' start, model load, one article), and N-1 / (wall_N - wall_1) the
throughput once past it. Ray's cluster start alone (ray.init in a fresh process) is timed apart,
since a real cluster is started once for many jobs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from bench import corpus
from bench.measure import machine_line, run_process, summarize_argv
from bench.models import ensure_models

HELP = "the CLI in one process against the CLI on a local Ray (--ray --workers N): throughput and fixed cost"
ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
TARGET_RATIO, TARGET_FIXED_S = 0.9, 15.0
# The bench's pinned settings (bench/run.py): fixed output lengths, so every run does the same work.
SUMMARY = {"num_beams": 5, "no_repeat_ngram_size": 4, "max_new_tokens": 60, "min_new_tokens": 60}
TRANSLATION = {"num_beams": 4, "max_new_tokens": 40, "min_new_tokens": 40}
CLUSTER_START = (  # what the CLI does without --ray-address, timed in a fresh process
    "import os, time, ray; t = time.perf_counter(); "
    "ray.init(num_cpus=len(os.sched_getaffinity(0)), include_dashboard=False, logging_level='ERROR', log_to_driver=False); "
    "print(time.perf_counter() - t); ray.shutdown()"
)


def write_config(path: Path, models: dict) -> Path:
    def table(settings: dict) -> str:
        return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in settings.items()) + " }"

    path.write_text(
        "\n".join(
            [
                "[defaults]",
                'summarizer = "bench-rut5"',
                'translator = "bench-opus"',
                "",
                "[summarizers.bench-rut5]",
                f"model = {json.dumps(str(models['rut5']))}",
                "max_input_tokens = 600",
                f"generate = {table(SUMMARY)}",
                "",
                "[translators.bench-opus]",
                f"model = {json.dumps(str(models['opus']))}",
                "max_input_tokens = 512",
                f"generate = {table(TRANSLATION)}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return path


def cli(folder: Path, config: Path, out: Path, workers: int | None) -> tuple[float, str]:
    """One CLI run, on Ray when workers is given; its wall time and the shape it ran in."""
    argv = [*summarize_argv(), str(folder), "--config", str(config), "--backend", "ctranslate2", "--output", str(out)]
    if workers:
        argv += ["--ray", "--workers", str(workers)]
    run = run_process(argv)
    if run.returncode != 0:
        raise SystemExit(f"bench ray: {' '.join(argv[1:])} failed: {run.stderr[-2000:]}")
    shape = re.search(r"ray: (\d+ actors? × [^\n]+)", run.stderr)
    return run.wall_s, f"Ray, {shape.group(1)}" if shape else f"single process (CLI), {os.cpu_count()} threads"


def cluster_start() -> float:
    """ray.init of a local cluster in a fresh process, as the CLI starts one when given no --ray-address."""
    run = run_process([sys.executable, "-c", CLUSTER_START])
    if run.returncode != 0:
        raise SystemExit(f"bench ray: starting a local Ray failed: {run.stderr[-2000:]}")
    return float(run.stdout.split()[-1])


def measure(tmp: Path, config: Path, count: int, workers: list[int]) -> list[dict]:
    one, many = tmp / "one", tmp / "many"
    articles = corpus.batch_articles(corpus.default_eval_dir(ROOT), count)
    corpus.write_articles(articles[:1], one)
    corpus.write_articles(articles, many)
    cli(one, config, tmp / "warm-up.jsonl", None)  # untimed: the one-time CTranslate2 conversion, the file cache
    rows = []
    for n in [None, *workers]:  # None: the single process
        out = (lambda folder: tmp / f"ray-{n}-{folder.name}") if n else (lambda folder: tmp / f"cli-{folder.name}.jsonl")
        one_s, run = cli(one, config, out(one), n)
        many_s, _ = cli(many, config, out(many), n)
        rows.append({"run": run, "walls": [one_s, many_s], "overall": count / many_s, "steady": (count - 1) / (many_s - one_s)})
    return rows


def report(cluster: float, rows: list[dict], count: int, command: str) -> str:
    base = rows[0]["steady"]
    lines = [
        "# summarize on Ray: throughput and fixed cost",
        "",
        f"**Machine:** {machine_line('summarize', 'ray')}",
        "",
        f"**Run:** `{command}` · {count} articles (RIA + newstest, bench/corpus.py) · bench-size random-weight "
        "rut5-base + opus-mt (bench/models.py), CTranslate2 int8, output lengths pinned (60 + 40 tokens, beams 5/4)",
        "",
        "| run | 1 article (s): start + model load + 1 | all (s) | articles/s overall | articles/s past the fixed cost | × single process |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['run']} | {row['walls'][0]:.1f} | {row['walls'][1]:.1f} | {row['overall']:.2f} | {row['steady']:.2f} | {row['steady'] / base:.2f} |"
        )
    fixed = [row["walls"][0] for row in rows[1:]]
    best = max(row["steady"] / base for row in rows[1:])
    lines += [
        "",
        f"Local Ray cluster start (`ray.init` in a fresh process; the CLI does it once per run without --ray-address): **{cluster:.1f} s**.",
        f"Ray's fixed cost (the 1-article run: process and cluster start + actor start + model load + 1 article): {', '.join(f'{f:.1f} s' for f in fixed)} "
        f"(target ≤ {TARGET_FIXED_S:.0f} s: {'met' if max(fixed) <= TARGET_FIXED_S else 'not met'}).",
        f"Best Ray throughput past the fixed cost: {best:.2f}× the single process (target ≥ {TARGET_RATIO}: {'met' if best >= TARGET_RATIO else 'not met'}).",
        "",
    ]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--articles", type=int, default=32, help="articles in the long run (default 32)")
    parser.add_argument(
        "--workers", type=lambda s: [int(n) for n in s.split(",")], default=[2, 1], help="--workers for the Ray runs, comma-separated (default 2,1)"
    )
    parser.add_argument("--size", choices=["tiny", "full"], default="full", help="random-weight models: bench size (full) or tiny")
    parser.add_argument("--cache-dir", type=Path, default=Path(__file__).parent / ".cache", help="models and CTranslate2 conversions (default bench/.cache)")
    parser.add_argument("--models-dir", type=Path, help="folder with rut5/ and opus/ already built (default: build them in --cache-dir)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS, help="where ray-throughput-latest.md goes (default bench/results)")


def main(args: argparse.Namespace) -> int:
    cache = args.cache_dir.resolve()
    os.environ.update(HF_HUB_OFFLINE="1", HF_HOME=str(cache / "hf"), SUMMARIZE_CT2_CACHE=str(cache / "ct2"))  # the CLI and Ray's workers inherit them
    os.environ.pop("SUMMARIZE_CONFIG", None)
    if args.models_dir:
        models = {name: args.models_dir.resolve() / name for name in ("rut5", "opus")}
    else:
        lines = corpus.training_lines(corpus.default_eval_dir(ROOT))
        models = {name: m.path for name, m in ensure_models(["rut5", "opus"], args.size, cache, lines).items()}
    cluster = cluster_start()
    with tempfile.TemporaryDirectory(prefix="summarize-ray-bench-") as tmp:  # the RIA texts live only here
        config = write_config(Path(tmp) / "bench.toml", models)
        rows = measure(Path(tmp), config, args.articles, args.workers)
    text = report(cluster, rows, args.articles, args.command)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "ray-throughput-latest.md").write_text(text, encoding="utf-8")
    print(text)
    return 0

"""Ray bench: `python -m bench.ray_throughput` → bench/results/ray-throughput-latest.md (issue 12).

The same articles (bench/corpus.py: RIA and newstest texts, written to a temporary folder only) go
through the single-process CLI (`summarize BATCH/ --output out.jsonl`, CTranslate2 on every core)
and through `summarize.distributed` on a local Ray with 1 actor × 2 threads and 2 actors × 1 thread.
Each is run on 1 article and on N: the 1-article wall is the fixed cost (process or actor start,
model load, one article), and N-1 / (wall_N - wall_1) the throughput once past it. Ray's cluster
start is timed apart (ray.init), since a real cluster is started once for many jobs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench import corpus
from bench.measure import _cpu_model, _ram_bytes, _version, run_process
from bench.models import ensure_models

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
TARGET_RATIO, TARGET_FIXED_S = 0.9, 15.0
# The bench's pinned settings (bench/run.py): fixed output lengths, so every run does the same work.
SUMMARY = {"num_beams": 5, "no_repeat_ngram_size": 4, "max_new_tokens": 60, "min_new_tokens": 60}
TRANSLATION = {"num_beams": 4, "max_new_tokens": 40, "min_new_tokens": 40}
RAY_SHAPES = ((1, 2), (2, 1))  # (actors, threads)


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


def single_process(folder: Path, config: Path, out: Path) -> float:
    summarize = Path(sys.executable).parent / "summarize"
    run = run_process([str(summarize), str(folder), "--config", str(config), "--backend", "ctranslate2", "--output", str(out)])
    if run.returncode != 0:
        raise SystemExit(f"bench.ray_throughput: the CLI failed: {run.stderr[-2000:]}")
    return run.wall_s


def on_ray(folder: Path, config: Path, out: Path, actors: int, threads: int) -> float:
    from summarize.config import load_config
    from summarize.inputs.listing import list_inputs
    from summarize.options import make_options
    from summarize.runs.ray_plan import RayJob as Job
    from summarize.runs.ray_plan import run_distributed

    options = make_options(load_config(config), backend="ctranslate2")
    job = Job(tuple(list_inputs([str(folder)])), out, options, workers=actors * threads, threads=threads)
    started = time.perf_counter()
    tally = run_distributed(job, lambda message: None)
    if tally.failures:
        raise SystemExit(f"bench.ray_throughput: {len(tally.failures)} articles failed on Ray: {tally.failures[0]}")
    return time.perf_counter() - started


def measure(tmp: Path, config: Path, count: int) -> tuple[float, list[dict]]:
    one, many = tmp / "one", tmp / "many"
    articles = corpus.batch_articles(corpus.default_eval_dir(ROOT), count)
    corpus.write_articles(articles[:1], one)
    corpus.write_articles(articles, many)
    rows = []
    walls = [single_process(folder, config, tmp / f"cli-{folder.name}.jsonl") for folder in (one, many)]
    rows.append({"run": "single process (CLI), 2 threads", "walls": walls})
    import ray

    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    cluster = time.perf_counter() - started
    try:
        for actors, threads in RAY_SHAPES:
            walls = [on_ray(folder, config, tmp / f"ray-{actors}x{threads}-{folder.name}", actors, threads) for folder in (one, many)]
            rows.append({"run": f"Ray, {actors} actor{'s' * (actors > 1)} × {threads} thread{'s' * (threads > 1)}", "walls": walls})
    finally:
        ray.shutdown()
    for row in rows:
        one_s, many_s = row["walls"]
        row["overall"] = count / many_s
        row["steady"] = (count - 1) / (many_s - one_s)
    return cluster, rows


def report(cluster: float, rows: list[dict], count: int, command: str) -> str:
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    machine = f"{_cpu_model()}, {os.cpu_count()} cores, {_ram_bytes() / 2**30:.1f} GiB RAM · Python {platform.python_version()} · summarize {_version('summarize')} · ray {_version('ray')} · {now}"
    base = rows[0]["steady"]
    lines = [
        "# summarize on Ray: throughput and fixed cost",
        "",
        f"**Machine:** {machine}",
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
    fixed = [cluster + row["walls"][0] for row in rows[1:]]
    best = max(row["steady"] / base for row in rows[1:])
    lines += [
        "",
        f"Local Ray cluster start (`ray.init`, once per run without --ray-address): **{cluster:.1f} s**.",
        f"Ray's fixed cost (cluster start + actor start + model load + 1 article): {', '.join(f'{f:.1f} s' for f in fixed)} "
        f"(target ≤ {TARGET_FIXED_S:.0f} s: {'met' if max(fixed) <= TARGET_FIXED_S else 'not met'}).",
        f"Best Ray throughput past the fixed cost: {best:.2f}× the single process (target ≥ {TARGET_RATIO}: {'met' if best >= TARGET_RATIO else 'not met'}).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ray_throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=32)
    parser.add_argument("--size", choices=["tiny", "full"], default="full", help="random-weight models: bench size (full) or tiny")
    parser.add_argument("--cache-dir", type=Path, default=Path(__file__).parent / ".cache", help="models and CTranslate2 conversions (default bench/.cache)")
    parser.add_argument("--models-dir", type=Path, help="folder with rut5/ and opus/ already built (default: build them in --cache-dir)")
    args = parser.parse_args(argv)
    cache = args.cache_dir.resolve()
    os.environ.update(HF_HUB_OFFLINE="1", HF_HOME=str(cache / "hf"), SUMMARIZE_CT2_CACHE=str(cache / "ct2"))  # Ray's workers inherit them
    os.environ.pop("SUMMARIZE_CONFIG", None)
    if args.models_dir:
        models = {name: args.models_dir.resolve() / name for name in ("rut5", "opus")}
    else:
        lines = corpus.training_lines(corpus.default_eval_dir(ROOT))
        models = {name: m.path for name, m in ensure_models(["rut5", "opus"], args.size, cache, lines).items()}
    with tempfile.TemporaryDirectory(prefix="summarize-ray-bench-") as tmp:  # the RIA texts live only here
        config = write_config(Path(tmp) / "bench.toml", models)
        cluster, rows = measure(Path(tmp), config, args.articles)
    text = report(cluster, rows, args.articles, "python -m bench.ray_throughput " + " ".join(argv if argv is not None else sys.argv[1:]))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ray-throughput-latest.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

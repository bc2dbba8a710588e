"""Corpus bench: `python -m bench corpus` → bench/results/corpus-memory-latest.md.

A generated JSONL corpus of 1 000 and of 20 000 news-like records goes through the real CLI
(`summarize CORPUS.jsonl -e extractive --no-translate --output OUT.jsonl`), each in a fresh
process; the peak RSS of exactly that process (os.wait4's rusage) must stay flat as the corpus
grows (issue 10: ≤ 1.2×), because records are read, summarised and written a few at a time.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

from bench.measure import machine_line, run_process, summarize_argv

HELP = "peak RSS of the CLI over a 1 000 vs a 20 000 record JSONL corpus (it must stay flat)"
RESULTS = Path(__file__).parent / "results"
COUNTS = (1_000, 20_000)
TARGET = 1.2
WORDS = (
    "правительство регион жители город река мост дорога школа больница завод министр губернатор "
    "власти проект бюджет миллиардов рублей строительство ремонт весной осенью году неделе сообщили "
    "отметили заявил пресс-службе ведомства специалисты эксперты данным компании населения объекта"
).split()


def write_corpus(path: Path, count: int) -> int:
    """`count` distinct records of ~12 sentences (made up from WORDS, never from the shared texts)."""
    rng = random.Random(count)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(count):
            sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 18))).capitalize() + "." for _ in range(12)]
            f.write(json.dumps({"id": i, "title": f"Новость {i}", "text": " ".join(sentences)}, ensure_ascii=False) + "\n")
    return path.stat().st_size


def measure(count: int, folder: Path) -> dict:
    corpus = folder / f"corpus-{count}.jsonl"
    size = write_corpus(corpus, count)
    output = folder / f"out-{count}.jsonl"
    run = run_process([*summarize_argv(), str(corpus), "-e", "extractive", "--no-translate", "--output", str(output)])
    if run.returncode != 0:
        raise SystemExit(f"bench corpus: the {count}-record run failed: {run.stderr[-2000:]}")
    rows = sum(1 for _ in open(output, encoding="utf-8"))
    return {"records": count, "mb": size / 1e6, "rows": rows, "rss": run.peak_rss_mb, "wall": run.wall_s}


def report(runs: list[dict]) -> str:
    ratio = runs[-1]["rss"] / runs[0]["rss"]
    return "\n".join(
        [
            "# summarize corpus memory bench",
            "",
            f"**Machine:** {machine_line('summarize')}",
            "",
            "**Run:** `python -m bench corpus` · `summarize CORPUS.jsonl -e extractive --no-translate --output OUT.jsonl`, a fresh process each",
            "",
            "| records | corpus (MB) | rows written | peak RSS of the process (MB) | wall (s) |",
            "| ---: | ---: | ---: | ---: | ---: |",
            *(f"| {r['records']:,} | {r['mb']:.1f} | {r['rows']:,} | {r['rss']:.1f} | {r['wall']:.1f} |" for r in runs),
            "",
            f"Peak RSS {runs[-1]['records']:,} / {runs[0]['records']:,} records: **{ratio:.2f}×** (target ≤ {TARGET}×; flat is 1.0×).",
            "",
        ]
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--counts", default=",".join(map(str, COUNTS)), help="record counts to run, smallest first (default 1000,20000)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS, help="where corpus-memory-latest.md goes (default bench/results)")


def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as folder:
        runs = [measure(int(c), Path(folder)) for c in args.counts.split(",")]
    text = report(runs)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "corpus-memory-latest.md").write_text(text, encoding="utf-8")
    print(text)
    return 0

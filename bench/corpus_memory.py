"""Corpus bench: `python -m bench.corpus_memory` → bench/results/corpus-memory-latest.md.

A generated JSONL corpus of 1 000 and of 20 000 news-like records goes through the real CLI
(`summarize CORPUS.jsonl -e extractive --no-translate --output OUT.jsonl`), each in a fresh
process; the peak RSS of exactly that process (os.wait4's rusage) must stay flat as the corpus
grows (issue 10: ≤ 1.2×), because records are read, summarised and written a few at a time.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import sys
import tempfile
from pathlib import Path

from bench.measure import _cpu_model, _ram_bytes, _version, run_process

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
    summarize = Path(sys.executable).parent / "summarize"
    run = run_process([str(summarize), str(corpus), "-e", "extractive", "--no-translate", "--output", str(output)])
    if run.returncode != 0:
        raise SystemExit(f"bench.corpus_memory: the {count}-record run failed: {run.stderr[-2000:]}")
    rows = sum(1 for _ in open(output, encoding="utf-8"))
    return {"records": count, "mb": size / 1e6, "rows": rows, "rss": run.peak_rss_mb, "wall": run.wall_s}


def report(runs: list[dict]) -> str:
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    machine = f"{_cpu_model()}, {os.cpu_count()} cores, {_ram_bytes() / 2**30:.1f} GiB RAM · Python {platform.python_version()} · summarize {_version('summarize')} · {now}"
    ratio = runs[-1]["rss"] / runs[0]["rss"]
    return "\n".join(
        [
            "# summarize corpus memory bench",
            "",
            f"**Machine:** {machine}",
            "",
            "**Run:** `python -m bench.corpus_memory` · `summarize CORPUS.jsonl -e extractive --no-translate --output OUT.jsonl`, a fresh process each",
            "",
            "| records | corpus (MB) | rows written | peak RSS of the process (MB) | wall (s) |",
            "| ---: | ---: | ---: | ---: | ---: |",
            *(f"| {r['records']:,} | {r['mb']:.1f} | {r['rows']:,} | {r['rss']:.1f} | {r['wall']:.1f} |" for r in runs),
            "",
            f"Peak RSS {runs[-1]['records']:,} / {runs[0]['records']:,} records: **{ratio:.2f}×** (target ≤ {TARGET}×; flat is 1.0×).",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default=",".join(map(str, COUNTS)), help="record counts to run, smallest first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runs = [measure(int(c), Path(folder)) for c in args.counts.split(",")]
    text = report(runs)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "corpus-memory-latest.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()

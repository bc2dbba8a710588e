"""GPU bench: `python -m bench gpu` → bench/results/gpu-latest.md (and .json).

The same random-weight models at real size (rut5-base 244 M + opus-mt-ru-en 77 M), 48 articles
(RIA and newstest documents), summaries pinned at 60 tokens with 5 beams and translations at 40 with
4 beams, each side its own process, wall clock from start to exit:
  naive     bench/baseline.py: one article at a time, fp32, `model.to(device)`
  careful   bench/careful.py: half precision, sorted by length, padded batches of 16
  project   summarize --device DEVICE --backend torch (and ctranslate2) -f jsonl
Reported: articles/s, generated tokens/s, peak GPU memory of the process (nvidia-smi, the same way
for every side), and the time outside generation (imports, load, CUDA start-up). On a CPU
(`python -m bench gpu --device cpu --size tiny`) it runs end to end as a smoke test, without GPU figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import corpus
from bench.measure import describe_machine, records, sentences, summarize_argv
from bench.models import ensure_models_in_child
from bench.run import ROOT, Pair, make_pairs, sides_env, write_config

BENCH = Path(__file__).resolve().parent
HELP = "a naive and a careful transformers script against the CLI's torch and ctranslate2 backends on a GPU"


@dataclass
class Side:
    name: str
    wall_s: float = 0.0
    articles: int = 0
    articles_per_s: float = 0.0
    generated_tokens_per_s: float = 0.0
    gpu_peak_mb: float | None = None
    outside_generation_s: float | None = None
    backend: str | None = None
    status: str = "ok"
    notes: list[str] = field(default_factory=list)


def main(args: argparse.Namespace) -> int:
    eval_dir = args.eval_dir or corpus.default_eval_dir(ROOT)
    cache = args.cache_dir.resolve()
    models = ensure_models_in_child(["rut5", "opus"], args.size, cache, eval_dir)
    pair = make_pairs(models, args)[0]
    write_config(cache / "bench-gpu.toml", [pair], probe=False)
    env = sides_env(cache, threads=None)
    with tempfile.TemporaryDirectory(prefix="summarize-gpu-bench-") as tmp:  # the RIA texts live only here
        folder = Path(tmp) / "articles"
        corpus.write_articles(corpus.batch_articles(eval_dir, args.articles), folder)
        results = [measure(name, command, env, args) for name, command in side_commands(pair, folder, cache / "bench-gpu.toml", args).items()]
    report = render(results, args, describe_machine())
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stem = f"gpu-{'latest' if args.size == 'full' else 'latest-' + args.size}"
    (args.results_dir / f"{stem}.md").write_text(report, encoding="utf-8")
    (args.results_dir / f"{stem}.json").write_text(json.dumps([asdict(r) for r in results], indent=1), encoding="utf-8")
    print(report)
    return 0 if all(r.status == "ok" for r in results) else 1


def side_commands(pair: Pair, folder: Path, config: Path, args: argparse.Namespace) -> dict[str, list[str]]:
    """Each side's command line: the two scripts get the models and settings as flags, the CLI the bench's presets."""
    settings = {
        "--summarizer": str(pair.summarizer.path),
        "--translator": str(pair.translator.path),
        "--summary-settings": json.dumps(pair.summary_settings),
        "--translation-settings": json.dumps(pair.translation_settings),
        "--summary-max-input": str(pair.summary_max_input),
        "--translation-max-input": str(pair.translation_max_input),
        "--device": args.device,
    }
    scripts = [part for flag in settings.items() for part in flag]
    cli = [*summarize_argv(), str(folder), "--config", str(config), "-f", "jsonl", "--offline", "--device", args.device, "--model", pair.preset]
    return {
        "naive": [sys.executable, str(BENCH / "baseline.py"), str(folder), *scripts],
        "careful": [sys.executable, str(BENCH / "careful.py"), str(folder), *scripts],
        **{f"summarize --backend {b}": [*cli, "--backend", b] for b in args.backends},
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"), help="cuda; cpu with --size tiny is the smoke run (default cuda)")
    parser.add_argument("--size", choices=("full", "tiny"), default="full", help="real model sizes, or tiny ones for a smoke run")
    parser.add_argument("--articles", type=int, default=48, help="articles, one run per side (default 48)")
    parser.add_argument("--summary-tokens", type=int, default=60, help="summary length, fixed (default 60)")
    parser.add_argument("--translation-tokens", type=int, default=40, help="length of each translation, fixed (default 40)")
    parser.add_argument("--backends", type=lambda s: s.split(","), default=["torch", "ctranslate2"], help="the CLI's backends, comma-separated")
    parser.add_argument("--cache-dir", type=Path, default=BENCH / ".cache", help="models and configs (default bench/.cache)")
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results", help="where the report goes (default bench/results)")
    parser.add_argument("--eval-dir", type=Path, default=None, help="the shared evaluation data (default ../shared/eval)")


def measure(name: str, command: list[str], env: dict[str, str], args: argparse.Namespace) -> Side:
    side = Side(name)
    print(f"bench: {name} …", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=ROOT)
        peak = _GpuMemory(process.pid) if args.device == "cuda" else None
        code = process.wait()
        side.wall_s = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    rows = [r for r in records(stdout) if "source" in r]
    if code != 0 or len(rows) != args.articles or any(r.get("error") for r in rows):
        side.status = f"failed (exit {code}, {len(rows)} of {args.articles} results): {stderr.strip()[-300:]}"
        return side
    side.articles = len(rows)
    side.articles_per_s = side.articles / side.wall_s
    side.generated_tokens_per_s = _generated(rows, args) / side.wall_s
    timings = next((r for r in records(stdout) if "generation_seconds" in r), None)
    generation = timings["generation_seconds"] if timings else sum(r["seconds"] for r in rows)  # the project: its results' shares
    side.outside_generation_s = side.wall_s - generation
    side.gpu_peak_mb = peak.stop() if peak else None
    side.backend = rows[0].get("backend")
    side.notes = sorted({line for line in stderr.splitlines() if "warning:" in line and "using torch" in line})
    return side


def _generated(rows: list[dict], args: argparse.Namespace) -> int:
    """Scripts count their tokens; the project's lengths are pinned: each summary, and one
    translation per summary sentence (it translates sentence by sentence)."""
    if "summary_tokens" in rows[0]:
        return sum(r["summary_tokens"] + r["translation_tokens"] for r in rows)
    translated = sum(len(sentences(r["summary_ru"] or "")) for r in rows)
    return len(rows) * args.summary_tokens + translated * args.translation_tokens


class _GpuMemory:
    """The peak GPU memory nvidia-smi reports for one process, polled while it runs."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.done = pid, None, threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)
        if shutil.which("nvidia-smi"):
            self.thread.start()

    def poll(self) -> None:
        while not self.done.wait(0.25):
            try:
                lines = subprocess.run(
                    ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=5
                ).stdout.splitlines()
            except (OSError, subprocess.TimeoutExpired):
                return
            for line in lines:
                pid, _, used = line.partition(",")
                if pid.strip() == str(self.pid) and used.strip().isdigit():
                    self.peak = max(self.peak or 0, int(used) * 1.048576)  # MiB → MB

    def stop(self) -> float | None:
        self.done.set()
        if self.thread.is_alive():
            self.thread.join(timeout=10)
        return self.peak


def render(results: list[Side], args: argparse.Namespace, machine) -> str:
    by = {r.name: r for r in results}
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        "# summarize GPU bench",
        "",
        f"**Machine:** {machine.cpu}, {machine.cores} cores · device `{args.device}` {_gpu_name()} · torch {machine.torch} · transformers {machine.transformers} · {now}",
        "",
        f"**Run:** `{args.command}` · {args.articles} articles · "
        f"summaries {args.summary_tokens} tokens × 5 beams, translations {args.translation_tokens} tokens × 4 beams, lengths pinned",
        "",
        "| side | backend | wall (s) | articles/s | generated tokens/s | × careful | × naive | peak GPU memory (MB) | outside generation (s) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        if r.status != "ok":
            lines.append(f"| {r.name} | {r.status} | | | | | | | |")
            continue
        ratio = lambda other: f"{r.articles_per_s / by[other].articles_per_s:.2f}×" if other in by and by[other].articles_per_s else "-"  # noqa: E731
        gpu = f"{r.gpu_peak_mb:,.0f}" if r.gpu_peak_mb else "-"
        lines.append(
            f"| {r.name} | {r.backend or '-'} | {r.wall_s:.1f} | {r.articles_per_s:.2f} | {r.generated_tokens_per_s:,.0f} | "
            f"{ratio('careful')} | {ratio('naive')} | {gpu} | {r.outside_generation_s:.1f} |"
        )
    notes = [n for r in results for n in r.notes]
    lines += ["", "Targets (issue 11): ≥ 1.5× the careful script's articles/s and ≥ 4× the naive loop's on the same GPU.", *([""] + notes if notes else []), ""]
    return "\n".join(lines)


def _gpu_name() -> str:
    try:
        return (
            "(" + subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, timeout=10).stdout.strip() + ")"
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""

"""Fetch bench: `python -m bench fetch` → bench/results/fetch-latest.md.

Pages from local sites (127.0.0.1, one port per site) go through the real CLI as a user gives it
URLs: `summarize -i URLS.txt -e extractive --no-translate -f jsonl`, a fresh process each run.
1. Overlap: 40 pages that take 200 ms each; the fetch stage's wall time as the sites saw it (first
   request in to last response out) and the most requests any one site saw at once. Target ≤ 3 s
   (serially it would be 8 s).
2. Memory: 100, then 400 pages without latency; the peak RSS of the CLI's process (os.wait4's
   rusage of exactly that child) should stay flat (trafilatura #216: growth over pages).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.measure import ProcessRun, machine_line, records, run_process, summarize_argv

HELP = "fetching ahead (overlap on slow local sites) and peak RSS over 100 vs 400 pages, through the CLI"
RESULTS = Path(__file__).parent / "results"
LATENCY = 0.2
PAGES = 40
RSS_COUNTS = (100, 400)
WORDS = (
    "правительство регион жители город река мост дорога школа больница завод министр губернатор "
    "власти проект бюджет миллиардов рублей строительство ремонт весной осенью году неделе сообщили "
    "отметили заявил пресс-службе ведомства специалисты эксперты данным компании населения объекта"
).split()


def news_page(n: int) -> bytes:
    """A distinct ~30 KB news page: the article's words depend on n, the boilerplate is a real site's."""
    rng = random.Random(n)
    sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 22))).capitalize() + "." for _ in range(40)]
    body = "\n".join(f"<p>{' '.join(sentences[i : i + 4])}</p>" for i in range(0, 40, 4))
    links = "\n".join(f'<li><a href="/news/{n * 100 + i}.html">{sentences[i][:60]}</a></li>' for i in range(40))
    return f"""<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8">
<title>Новость номер {n} — Вестник Поволжья</title><meta property="og:title" content="Новость номер {n}">
<meta property="article:published_time" content="2024-04-03T09:15:00+04:00">
<script>window.dataLayer = []; {"var x = 1; " * 200}</script><style>{".a {{ color: red; }} " * 200}</style>
</head><body><div class="cookie">Мы используем файлы cookie.</div>
<nav><a href="/">Главная</a> <a href="/politics/">Политика</a> <a href="/economy/">Экономика</a></nav>
<article><h1>Новость номер {n}</h1>{body}</article>
<aside><h3>Читайте также</h3><ul>{links}</ul></aside>
<section class="comments"><h2>Комментарии</h2><p>Первый комментарий к новости {n}.</p></section>
<footer>© 2024 Вестник Поволжья</footer></body></html>""".encode()


class Site:
    """One local site: answers every page after `latency`; counts requests at once and times the
    span from the first request in to the last response out (the fetch stage, as the site sees it)."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.lock = threading.Lock()
        self.active = self.most_at_once = 0
        self.first = self.last = 0.0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                with site.lock:
                    site.active += 1
                    site.most_at_once = max(site.most_at_once, site.active)
                    site.first = site.first or time.perf_counter()
                try:
                    time.sleep(site.latency)
                    body = news_page(int(self.path.rsplit("/", 1)[-1].split(".")[0]))
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with site.lock:
                        site.active -= 1
                        site.last = time.perf_counter()

        return Handler

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/news/{n}.html"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass(frozen=True)
class Overlap:
    label: str
    sites: int
    seconds: float  # the fetch stage: first request in to last response out, over all sites
    wall_s: float  # the CLI's process, start to exit
    most_per_host: int
    failures: int


def run_cli(urls: list[str]) -> tuple[ProcessRun, list[dict]]:
    """The CLI on a list of URLs, with no model to load (extractive, no translation)."""
    env = {k: v for k, v in os.environ.items() if k != "SUMMARIZE_CONFIG"} | {"HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryDirectory(prefix="summarize-fetch-bench-") as tmp:
        listing = Path(tmp) / "urls.txt"
        listing.write_text("\n".join(urls) + "\n", encoding="utf-8")
        run = run_process([*summarize_argv(), "-i", str(listing), "-e", "extractive", "--no-translate", "-f", "jsonl"], env=env)
    if run.returncode not in (0, 1):  # 1: some page failed, which the rows count
        raise SystemExit(f"bench fetch: the CLI failed on {len(urls)} URLs: {run.failure()}")
    return run, [r for r in records(run.stdout) if "source" in r]


def measure_overlap(label: str, n_sites: int) -> Overlap:
    sites = [Site(LATENCY) for _ in range(n_sites)]
    try:
        run, rows = run_cli([sites[i % n_sites].url(i) for i in range(PAGES)])
        seconds = max(s.last for s in sites) - min(s.first for s in sites)
        failures = PAGES - sum(not r.get("error") for r in rows)
        return Overlap(label, n_sites, seconds, run.wall_s, max(s.most_at_once for s in sites), failures)
    finally:
        for site in sites:
            site.stop()


def measure_rss(count: int) -> tuple[float, int, float]:
    """Peak RSS of the CLI's process over `count` pages, the articles it got out of them (a summary
    without the cookie banner), and its wall time."""
    site = Site(0.0)
    try:
        run, rows = run_cli([site.url(i) for i in range(count)])
    finally:
        site.stop()
    extracted = sum(bool(r.get("summary_ru")) and "cookie" not in r["summary_ru"] for r in rows)
    return run.peak_rss_mb, extracted, run.wall_s


def report(overlaps: list[Overlap], rss: dict[int, tuple[float, int, float]]) -> str:
    small, big = (rss[c] for c in RSS_COUNTS)
    lines = [
        "# summarize fetch bench",
        "",
        f"**Machine:** {machine_line('summarize', 'httpx', 'trafilatura', 'lxml')}",
        "",
        f"**Run:** `python -m bench fetch` · `summarize -i URLS.txt -e extractive --no-translate -f jsonl` · local sites on 127.0.0.1 "
        f"(one port each) · {LATENCY * 1000:g} ms latency a page · ~{len(news_page(0)) // 1000} KB pages · the CLI fetches 8 pages ahead, 2 per site",
        "",
        f"## Fetch stage: {PAGES} pages (serially {PAGES * LATENCY:g} s; target ≤ 3 s)",
        "",
        "| sites | fetch stage (s): first request to last response | CLI process (s) | most requests at once on one site | failures |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(f"| {o.label} | {o.seconds:.2f} | {o.wall_s:.2f} | {o.most_per_host} | {o.failures} |" for o in overlaps),
        "",
        f"One site is bounded by politeness, not by the fetcher: {PAGES} pages / 2 at once × {LATENCY:g} s = {PAGES / 2 * LATENCY:g} s.",
        "",
        "## Peak RSS: the CLI on N pages (fetch, extract with trafilatura, extractive summary), a fresh process, no latency",
        "",
        "| pages | peak RSS (MB) | articles extracted | wall (s) |",
        "| ---: | ---: | ---: | ---: |",
        *(f"| {c} | {rss[c][0]:.1f} | {rss[c][1]} | {rss[c][2]:.2f} |" for c in RSS_COUNTS),
        "",
        f"Ratio {RSS_COUNTS[1]} / {RSS_COUNTS[0]} pages: **{big[0] / small[0]:.2f}×** (flat is 1.0×).",
        "",
    ]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results-dir", type=Path, default=RESULTS, help="where fetch-latest.md goes (default bench/results)")


def main(args: argparse.Namespace) -> int:
    overlaps = [measure_overlap("4 sites, 10 pages each", 4), measure_overlap("1 site", 1)]
    rss = {count: measure_rss(count) for count in RSS_COUNTS}
    text = report(overlaps, rss)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "fetch-latest.md").write_text(text, encoding="utf-8")
    print(text)
    return 0

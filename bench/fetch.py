"""Fetching bench: `python -m bench.fetch` → bench/results/fetch-latest.md.

1. Overlap: 40 pages from local sites (127.0.0.1, one port per site) that take 200 ms each, read
   with summarize.web.fetch_all's defaults; the wall time of the fetch stage and the most requests
   any one site saw at once. Target ≤ 3 s (serially it would be 8 s).
2. Memory: fetch and extract 100, then 400 pages, each in a fresh process; peak RSS of that process
   (os.wait4's rusage of exactly that child) should stay flat (trafilatura #216: growth over pages).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.measure import _cpu_model, _ram_bytes, _version, run_process

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
    """One local site: answers every page after `latency`, counts requests at once."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.lock = threading.Lock()
        self.active = self.most_at_once = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                with site.lock:
                    site.active += 1
                    site.most_at_once = max(site.most_at_once, site.active)
                try:
                    time.sleep(site.latency)
                    n = int(self.path.rsplit("/", 1)[-1].split(".")[0])
                    body = news_page(n)
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with site.lock:
                        site.active -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/news/{n}.html"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass(frozen=True)
class Overlap:
    label: str
    sites: int
    per_host: int
    seconds: float
    most_per_host: int
    failures: int


def measure_overlap(label: str, n_sites: int, per_host: int = 2) -> Overlap:
    from summarize.inputs.web import Fetched, fetch_all

    sites = [Site(LATENCY) for _ in range(n_sites)]
    try:
        urls = [sites[i % n_sites].url(i) for i in range(PAGES)]
        start = time.perf_counter()
        results = list(fetch_all(urls, per_host=per_host))
        seconds = time.perf_counter() - start
        failures = sum(not isinstance(got, Fetched) for _, got in results)
        return Overlap(label, n_sites, per_host, seconds, max(s.most_at_once for s in sites), failures)
    finally:
        for site in sites:
            site.stop()


def child(count: int) -> None:
    """Fetch and extract `count` pages in this process; the parent reads its peak RSS."""
    from summarize.inputs.pages import extract_page
    from summarize.inputs.web import fetch_all

    site = Site(0.0)
    extracted = 0
    start = time.perf_counter()
    for url, got in fetch_all(site.url(i) for i in range(count)):
        doc = extract_page(got.data, source=url, url=got.final_url, content_type=got.content_type)
        extracted += bool(doc.text) and "cookie" not in doc.text
    site.stop()
    print(extracted, f"{time.perf_counter() - start:.2f}")


def measure_rss(count: int) -> tuple[float, int, float]:
    run = run_process([sys.executable, "-m", "bench.fetch", "--child", str(count)], cwd=Path(__file__).parent.parent)
    if run.failure():
        raise SystemExit(f"bench.fetch: the {count}-page child failed: {run.failure()}")
    extracted, seconds = run.stdout.split()
    return run.peak_rss_mb, int(extracted), float(seconds)


def report(overlaps: list[Overlap], rss: dict[int, tuple[float, int, float]]) -> str:
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    machine = (
        f"{_cpu_model()}, {os.cpu_count()} cores, {_ram_bytes() / 2**30:.1f} GiB RAM · Python {platform.python_version()} · "
        f"httpx {_version('httpx')} · trafilatura {_version('trafilatura')} · lxml {_version('lxml')} · {now}"
    )
    lines = [
        "# summarize fetch bench",
        "",
        f"**Machine:** {machine}",
        "",
        f"**Run:** `python -m bench.fetch` · local sites on 127.0.0.1 (one port each) · {LATENCY * 1000:g} ms latency a page "
        f"· ~{len(news_page(0)) // 1000} KB pages · `fetch_all` defaults: ahead=8, per_host=2 unless said",
        "",
        f"## Fetch stage: {PAGES} pages (serially {PAGES * LATENCY:g} s; target ≤ 3 s)",
        "",
        "| sites | per_host | wall (s) | most requests at once on one site | failures |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for o in overlaps:
        lines.append(f"| {o.label} | {o.per_host} | {o.seconds:.2f} | {o.most_per_host} | {o.failures} |")
    small, big = (rss[c] for c in RSS_COUNTS)
    lines += [
        "",
        "One site with per_host=2 is bounded by politeness, not by the fetcher: 40 pages / 2 at once × 0.2 s = 4 s.",
        "",
        "## Peak RSS: fetch + extract (trafilatura) in a fresh process, no latency",
        "",
        "| pages | peak RSS (MB) | articles extracted | wall (s) |",
        "| ---: | ---: | ---: | ---: |",
        *(f"| {c} | {rss[c][0]:.1f} | {rss[c][1]} | {rss[c][2]:.2f} |" for c in RSS_COUNTS),
        "",
        f"Ratio {RSS_COUNTS[1]} / {RSS_COUNTS[0]} pages: **{big[0] / small[0]:.2f}×** (flat is 1.0×).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fetch", description=__doc__.splitlines()[0])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    overlaps = [
        measure_overlap("4 sites, 10 pages each", 4),
        measure_overlap("1 site", 1),
        measure_overlap("1 site", 1, per_host=4),
    ]
    rss = {count: measure_rss(count) for count in RSS_COUNTS}
    text = report(overlaps, rss)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fetch-latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
